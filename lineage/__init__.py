"""Lineage for Clearhouse: OpenLineage events, pluggable sinks and a store, emitted without failing tasks.

Two rules hold for everything in this package:

1. **Lineage never fails the data task.** :class:`LineageEmitter` and :func:`task_run` catch, count and
   log (as warnings, exception type only) every error of building or emitting an event.
2. **No personal data or key material reaches an event.** Events carry names, paths, schemas (column
   names and types), row counts, SHA-256 digests, small facts and redacted error messages
   (:mod:`lineage.redact`); cell values are never an input to an event.

Modules: :mod:`lineage.events` (building), :mod:`lineage.redact`, :mod:`lineage.emitter`,
:mod:`lineage.sinks` (registry + one sink per module), :mod:`lineage.store` (SQLAlchemy; imported on
demand so that importing :mod:`lineage` does not import SQLAlchemy).
"""

if __name__ != "clearhouse.lineage":  # one module, one name: the folder is installed as clearhouse.lineage
    raise ImportError("import clearhouse.lineage; the lineage/ folder is not a top-level package")

from clearhouse.lineage.emitter import LineageEmitter, TaskRun, task_run
from clearhouse.lineage.events import (
    DEFAULT_JOB_NAMESPACE,
    PRODUCER,
    DatasetRef,
    ParentRef,
    build_run_event,
    event_to_dict,
    event_to_json,
    new_run_id,
    run_id_for,
)
from clearhouse.lineage.redact import redact, redact_identifier
from clearhouse.lineage.sinks import available_sinks, create_sink, create_sinks, register_sink

__all__ = [
    "DEFAULT_JOB_NAMESPACE",
    "PRODUCER",
    "DatasetRef",
    "LineageEmitter",
    "ParentRef",
    "TaskRun",
    "available_sinks",
    "build_run_event",
    "create_sink",
    "create_sinks",
    "event_to_dict",
    "event_to_json",
    "new_run_id",
    "redact",
    "redact_identifier",
    "register_sink",
    "run_id_for",
    "task_run",
]

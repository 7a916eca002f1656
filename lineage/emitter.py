"""Emitting lineage without ever failing the data task.

:class:`LineageEmitter` sends each event to every sink; a sink that raises is logged as a warning
(exception *type* only: messages of database or HTTP errors can quote URLs, parameters or payloads)
and counted in :attr:`LineageEmitter.failures`, the way Airflow's OpenLineage provider
(``plugins/adapter.py``) catches and counts emit failures. Building an event from bad arguments is
caught and counted the same way.

:func:`task_run` wraps a task body::

    with task_run(emitter, job_name="survey.minimise", run_id=run_id_for("survey", 3, "minimise"),
                  inputs=[work_ref], parent=ParentRef("survey", dag_run_id)) as run:
        table = minimise(table, policy)
        run.outputs = [DatasetRef.from_arrow_schema(ns, out_path, table.schema, row_count=table.num_rows)]

It emits START, then COMPLETE with ``run.outputs`` (known only after the body), or FAIL with the
redacted error message, and re-raises the task's exception unchanged.

The emitter calls sinks directly instead of going through ``OpenLineageClient``: the client reads
``openlineage.yml`` and ``OPENLINEAGE_*`` variables (and may add environment facets); Clearhouse's
lineage depends only on its own configuration. Sinks still work as ``OpenLineageClient(transport=...)``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from clearhouse.lineage.events import (
    DEFAULT_JOB_NAMESPACE,
    DatasetRef,
    EventType,
    ParentRef,
    build_run_event,
    new_run_id,
)
from clearhouse.lineage.redact import redact, redact_identifier
from clearhouse.lineage.sinks.registry import create_sinks

if TYPE_CHECKING:
    from openlineage.client.client import Event
    from openlineage.client.transport.transport import Transport

__all__ = ["LineageEmitter", "TaskRun", "task_run"]

log = logging.getLogger(__name__)


def _label(sink: Transport) -> str:
    return sink.name or sink.kind or type(sink).__name__


def _describe(event: Any) -> str:
    event_type = getattr(getattr(event, "eventType", None), "value", None) or "event"
    job_name = getattr(getattr(event, "job", None), "name", None) or "?"
    return f"{event_type} event of job {redact_identifier(job_name, max_len=120)}"


class LineageEmitter:
    """Sends events to sinks; never raises. ``failures`` counts sink (and build) failures."""

    def __init__(self, sinks: Iterable[Transport] = (), *, job_namespace: str = DEFAULT_JOB_NAMESPACE) -> None:
        self.sinks: list[Transport] = list(sinks)
        self.job_namespace = job_namespace
        self.failures = 0
        self.emitted = 0
        self._lock = threading.Lock()

    @classmethod
    def from_specs(
        cls, specs: Iterable[Mapping[str, Any]], *, job_namespace: str = DEFAULT_JOB_NAMESPACE
    ) -> LineageEmitter:
        """Build from sink specs (``[{"type": "sql", "url": ...}, {"type": "file", "path": ...}]``).

        Raises :class:`~clearhouse.errors.LineageError` on an unknown sink or bad options: call it when
        loading configuration, so a typo fails early and loudly rather than silently losing lineage.
        """
        return cls(create_sinks(specs), job_namespace=job_namespace)

    def _count_failure(self) -> None:
        with self._lock:
            self.failures += 1

    def emit(self, event: Event) -> bool:
        """Send ``event`` to every sink. True if all accepted it; never raises."""
        ok = True
        for sink in self.sinks:
            try:
                sink.emit(event)
            except Exception as exc:
                ok = False
                self._count_failure()
                log.warning(
                    "lineage: sink %s failed to emit %s (%s); the task goes on",
                    _label(sink),
                    _describe(event),
                    type(exc).__name__,
                )
                log.debug("lineage: sink %s error detail: %s", _label(sink), redact(exc))
        if ok:
            with self._lock:
                self.emitted += 1
        return ok

    def emit_run(
        self,
        event_type: EventType,
        *,
        run_id: str,
        job_name: str,
        inputs: Iterable[DatasetRef] = (),
        outputs: Iterable[DatasetRef] = (),
        parent: ParentRef | None = None,
        error: str | None = None,
        job_description: str | None = None,
        job_owners: Sequence[str] = (),
    ) -> bool:
        """Build a run event (see :func:`lineage.events.build_run_event`) and emit it; never raises."""
        try:
            event = build_run_event(
                event_type,
                run_id=run_id,
                job_name=job_name,
                job_namespace=self.job_namespace,
                inputs=inputs,
                outputs=outputs,
                parent=parent,
                error=error,
                job_description=job_description,
                job_owners=job_owners,
            )
        except Exception as exc:
            self._count_failure()
            log.warning(
                "lineage: could not build %s event of job %s (%s: %s); the task goes on",
                event_type,
                redact_identifier(job_name, max_len=120),
                type(exc).__name__,
                redact(exc, max_len=200),
            )
            return False
        return self.emit(event)

    def close(self, timeout: float = 5.0) -> None:
        """Close every sink (flush, release connections); never raises."""
        for sink in self.sinks:
            try:
                sink.close(timeout)
            except Exception as exc:
                log.warning("lineage: closing sink %s failed (%s)", _label(sink), type(exc).__name__)


@dataclass
class TaskRun:
    """The handle :func:`task_run` yields: set ``outputs`` once the task knows what it wrote."""

    run_id: str
    job_name: str
    inputs: list[DatasetRef] = field(default_factory=list)
    outputs: list[DatasetRef] = field(default_factory=list)
    parent: ParentRef | None = None
    #: "RUNNING" inside the body, then "COMPLETE" or "FAIL"
    state: str = "RUNNING"
    #: set by :meth:`fail`: the run ends in FAIL with this message although the body returned
    failure: str | None = None

    def fail(self, message: str) -> None:
        """End the run in FAIL (with ``message``) when the body returns: the task did its work but its
        outcome is a failure (a quarantined release)."""
        self.failure = message


def _error_text(exc: BaseException) -> str:
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


@contextmanager
def task_run(
    emitter: LineageEmitter | None,
    *,
    job_name: str,
    run_id: str | None = None,
    inputs: Iterable[DatasetRef] = (),
    outputs: Iterable[DatasetRef] = (),
    outputs_factory: Callable[[], Iterable[DatasetRef]] | None = None,
    parent: ParentRef | None = None,
    job_description: str | None = None,
    job_owners: Sequence[str] = (),
) -> Iterator[TaskRun]:
    """Record one task run: START now, then COMPLETE or FAIL. ``emitter=None`` records nothing.

    Outputs in the COMPLETE event are ``handle.outputs`` as the body left them (initially ``outputs``),
    or, if ``outputs_factory`` is given, what it returns after the body succeeded. On failure the
    task's exception is re-raised unchanged (same object, same traceback); lineage errors are never
    raised from here.
    """
    handle = TaskRun(
        run_id=run_id or new_run_id(),
        job_name=job_name,
        inputs=list(inputs),
        outputs=list(outputs),
        parent=parent,
    )
    owners = tuple(job_owners)
    if emitter is not None:
        emitter.emit_run(
            "START",
            run_id=handle.run_id,
            job_name=job_name,
            inputs=handle.inputs,
            outputs=handle.outputs,
            parent=parent,
            job_description=job_description,
            job_owners=owners,
        )
    try:
        yield handle
    except BaseException as exc:
        handle.state = "FAIL"
        if emitter is not None:
            emitter.emit_run(
                "FAIL",
                run_id=handle.run_id,
                job_name=job_name,
                inputs=handle.inputs,
                outputs=handle.outputs,
                parent=parent,
                error=_error_text(exc),
                job_description=job_description,
                job_owners=owners,
            )
        raise
    handle.state = "COMPLETE" if handle.failure is None else "FAIL"
    if emitter is None:
        return
    if outputs_factory is not None:
        try:
            handle.outputs = list(outputs_factory())
        except Exception as exc:
            emitter._count_failure()
            log.warning(
                "lineage: outputs_factory of job %s failed (%s)",
                redact_identifier(job_name, max_len=120),
                type(exc).__name__,
            )
    emitter.emit_run(
        "COMPLETE" if handle.failure is None else "FAIL",
        run_id=handle.run_id,
        job_name=job_name,
        inputs=handle.inputs,
        outputs=handle.outputs,
        parent=parent,
        error=handle.failure,
        job_description=job_description,
        job_owners=owners,
    )

"""Building OpenLineage run events from small, PII-free dataset descriptions.

An event carries only: job and dataset names, namespaces and paths; the schema (column names and
Arrow type strings, never cell values); row counts; SHA-256 digests of files; a few small facts
(``DatasetRef.extra``: version, zone, format, treatment names...); and, on FAIL, an error message.
Every piece of free text passes through :func:`lineage.redact.redact`, every identifier through
:func:`lineage.redact.redact_identifier`, and column names and types (they come from the input file,
so are user-controlled) through :func:`~lineage.redact.redact` too. See ``lineage/redact.py``.

Facets used (OpenLineage 2-0-2 spec, ``openlineage.client.facet_v2``):

=========================  ============================================================
``schema``                 ``SchemaDatasetFacet`` on every dataset with known fields
``inputStatistics``        ``InputStatisticsInputDatasetFacet`` (``rowCount``) on inputs
``outputStatistics``       ``OutputStatisticsOutputDatasetFacet`` (``rowCount``) on outputs
``clearhouse_dataset``     :class:`ClearhouseDatasetFacet` (custom): ``sha256`` and ``facts``
``jobType``                ``JobTypeJobFacet`` (BATCH / CLEARHOUSE / TASK)
``parent``                 ``ParentRunFacet`` when the task runs inside a DAG run
``errorMessage``           ``ErrorMessageRunFacet`` on FAIL (redacted message, no stack trace)
=========================  ============================================================

There is no standard OpenLineage facet for a content digest, hence the custom facet; its name is
prefixed (``clearhouse_``) as the spec asks of custom facets.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import attr
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    DatasetFacet,
    InputDatasetFacet,
    OutputDatasetFacet,
    RunFacet,
    error_message_run,
    input_statistics_input_dataset,
    job_type_job,
    output_statistics_output_dataset,
    parent_run,
    schema_dataset,
)
from openlineage.client.serde import Serde

from clearhouse.errors import LineageError
from clearhouse.lineage.redact import redact, redact_identifier

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "CLEARHOUSE_FACET_SCHEMA_URL",
    "DEFAULT_JOB_NAMESPACE",
    "PRODUCER",
    "RUN_ID_NAMESPACE",
    "ClearhouseDatasetFacet",
    "DatasetRef",
    "EventType",
    "ParentRef",
    "build_run_event",
    "event_to_dict",
    "event_to_json",
    "new_run_id",
    "run_id_for",
]

log = logging.getLogger(__name__)

#: ``producer`` of every event and facet. A URN: valid per the spec (a URI) and claims no web domain.
PRODUCER = "urn:clearhouse:lineage"
#: ``_schemaURL`` of the custom dataset facet.
CLEARHOUSE_FACET_SCHEMA_URL = "urn:clearhouse:facets:ClearhouseDatasetFacet:1-0-0"
#: default job namespace for Clearhouse tasks
DEFAULT_JOB_NAMESPACE = "clearhouse"
#: uuid5 namespace of deterministic run ids (fixed forever: changing it changes every run id)
RUN_ID_NAMESPACE = uuid.UUID("6f1c2b1e-4a52-5d0b-9a51-6c1e7a1d0c3e")

EventType = Literal["START", "COMPLETE", "FAIL"]

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MAX_FACTS = 32
_MAX_FACT_LENGTH = 200
_MAX_COLUMN_LENGTH = 128


@attr.define
class ClearhouseDatasetFacet(DatasetFacet):
    """Custom dataset facet: the content digest and small facts (version, zone, treatments...)."""

    sha256: str | None = attr.field(default=None)
    """Lower-case hex SHA-256 of the dataset file as written."""

    facts: dict[str, str | int] = attr.field(factory=dict)
    """Small, redacted key/value facts about the dataset."""

    _additional_skip_redact: ClassVar[list[str]] = ["sha256"]

    @staticmethod
    def _get_schema() -> str:
        return CLEARHOUSE_FACET_SCHEMA_URL


@dataclass(frozen=True)
class DatasetRef:
    """What lineage knows about one dataset: identity, schema and stats, never its content.

    ``fields`` are ``(column name, type string)`` pairs; ``extra`` holds small facts (``str`` or
    ``int`` values) such as the catalog version, the zone or the treatments applied. Construction never
    raises on bad values (lineage must not fail a task): they are dropped or redacted when the event is
    built.
    """

    namespace: str
    name: str
    fields: Sequence[tuple[str, str]] = ()
    row_count: int | None = None
    sha256: str | None = None
    extra: Mapping[str, str | int] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        # Freeze the containers so a ref can be shared between events without aliasing surprises.
        object.__setattr__(self, "fields", tuple((str(n), str(t)) for n, t in self.fields))
        object.__setattr__(self, "extra", dict(self.extra))

    @classmethod
    def from_arrow_schema(
        cls,
        namespace: str,
        name: str,
        schema: pa.Schema,
        *,
        row_count: int | None = None,
        sha256: str | None = None,
        extra: Mapping[str, str | int] | None = None,
    ) -> DatasetRef:
        """Describe a dataset by its Arrow schema: column names and type strings only.

        Schema metadata (e.g. the ``pandas`` key) is ignored: it is free-form and may hold anything.
        """
        fields = [(f.name, str(f.type)) for f in schema]
        return cls(namespace, name, fields, row_count=row_count, sha256=sha256, extra=extra or {})


@dataclass(frozen=True)
class ParentRef:
    """The run that spawned a task run: in Airflow, the DAG run (job name = DAG id)."""

    job_name: str
    run_id: str
    job_namespace: str = DEFAULT_JOB_NAMESPACE


def new_run_id() -> str:
    """A fresh random run id (UUID4 string)."""
    return str(uuid.uuid4())


def run_id_for(dataset: str, version: str | int, task: str) -> str:
    """A deterministic run id (uuid5) for ``task`` over ``dataset`` at ``version``.

    Re-running the same task on the same dataset version records its events under the same run, so
    a retry after a failure shows up as START, FAIL, START, COMPLETE of one run.
    """
    return str(uuid.uuid5(RUN_ID_NAMESPACE, f"{dataset}\x1f{version}\x1f{task}"))


def _check_run_id(run_id: str, what: str) -> str:
    try:
        return str(uuid.UUID(str(run_id)))
    except ValueError as exc:
        raise LineageError(f"{what} is not a UUID") from exc


def _facts(extra: Mapping[str, Any]) -> dict[str, str | int]:
    facts: dict[str, str | int] = {}
    for key, value in list(extra.items())[:_MAX_FACTS]:
        clean_key = redact_identifier(key, max_len=64)
        if isinstance(value, int) and not isinstance(value, bool):
            facts[clean_key] = value
        else:
            facts[clean_key] = redact(value, max_len=_MAX_FACT_LENGTH)
    if len(extra) > _MAX_FACTS:
        log.warning("lineage: dataset facts capped at %d entries", _MAX_FACTS)
    return facts


def _dataset_facets(ref: DatasetRef) -> dict[str, DatasetFacet]:
    facets: dict[str, DatasetFacet] = {}
    if ref.fields:
        facets["schema"] = schema_dataset.SchemaDatasetFacet(
            fields=[
                schema_dataset.SchemaDatasetFacetFields(
                    name=redact(col, max_len=_MAX_COLUMN_LENGTH),
                    type=redact(typ, max_len=_MAX_COLUMN_LENGTH),
                    ordinal_position=position,
                )
                for position, (col, typ) in enumerate(ref.fields, start=1)
            ],
            producer=PRODUCER,
        )
    sha256 = ref.sha256.lower() if ref.sha256 else None
    if sha256 is not None and not _SHA256.match(sha256):
        log.warning("lineage: dropped a sha256 that is not 64 hex digits")
        sha256 = None
    if sha256 is not None or ref.extra:
        facets["clearhouse_dataset"] = ClearhouseDatasetFacet(
            sha256=sha256, facts=_facts(ref.extra), producer=PRODUCER
        )
    return facets


def _row_count(ref: DatasetRef) -> int | None:
    if ref.row_count is None:
        return None
    if isinstance(ref.row_count, bool) or not isinstance(ref.row_count, int) or ref.row_count < 0:
        log.warning("lineage: dropped a row count that is not a non-negative integer")
        return None
    return ref.row_count


def _input(ref: DatasetRef) -> InputDataset:
    input_facets: dict[str, InputDatasetFacet] = {}
    rows = _row_count(ref)
    if rows is not None:
        input_facets["inputStatistics"] = input_statistics_input_dataset.InputStatisticsInputDatasetFacet(
            rowCount=rows, producer=PRODUCER
        )
    return InputDataset(
        namespace=redact_identifier(ref.namespace),
        name=redact_identifier(ref.name),
        facets=_dataset_facets(ref),
        inputFacets=input_facets,
    )


def _output(ref: DatasetRef) -> OutputDataset:
    output_facets: dict[str, OutputDatasetFacet] = {}
    rows = _row_count(ref)
    if rows is not None:
        output_facets["outputStatistics"] = (
            output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                rowCount=rows, producer=PRODUCER
            )
        )
    return OutputDataset(
        namespace=redact_identifier(ref.namespace),
        name=redact_identifier(ref.name),
        facets=_dataset_facets(ref),
        outputFacets=output_facets,
    )


def _run_facets(event_type: EventType, parent: ParentRef | None, error: str | None) -> dict[str, RunFacet]:
    facets: dict[str, RunFacet] = {}
    if parent is not None:
        parent_run_id = _check_run_id(parent.run_id, "parent run_id")
        parent_ns = redact_identifier(parent.job_namespace)
        parent_name = redact_identifier(parent.job_name)
        facets["parent"] = parent_run.ParentRunFacet(
            run=parent_run.Run(runId=parent_run_id),
            job=parent_run.Job(namespace=parent_ns, name=parent_name),
            # Clearhouse DAG runs are never nested, so the parent is also the root.
            root=parent_run.Root(
                run=parent_run.RootRun(runId=parent_run_id),
                job=parent_run.RootJob(namespace=parent_ns, name=parent_name),
            ),
            producer=PRODUCER,
        )
    if event_type == "FAIL":
        # The stack trace is left out on purpose: frames can quote source lines holding literals, and
        # chained exceptions repeat messages we have not redacted.
        facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
            message=redact(error) if error else "unknown error",
            programmingLanguage="python",
            producer=PRODUCER,
        )
    return facets


def build_run_event(
    event_type: EventType,
    *,
    run_id: str,
    job_name: str,
    job_namespace: str = DEFAULT_JOB_NAMESPACE,
    inputs: Iterable[DatasetRef] = (),
    outputs: Iterable[DatasetRef] = (),
    parent: ParentRef | None = None,
    error: str | None = None,
    event_time: datetime | None = None,
) -> RunEvent:
    """Build an OpenLineage ``RunEvent`` for one task run.

    ``error`` is only used on FAIL and is redacted. Raises :class:`LineageError` if ``run_id`` (or the
    parent's) is not a UUID or ``event_type`` is unknown; :class:`lineage.emitter.LineageEmitter`
    guards callers against that.
    """
    if event_type not in ("START", "COMPLETE", "FAIL"):
        raise LineageError(f"unknown lineage event type {event_type!r}")
    when = event_time or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return RunEvent(
        eventType=RunState(event_type),
        eventTime=when.isoformat(),
        run=Run(runId=_check_run_id(run_id, "run_id"), facets=_run_facets(event_type, parent, error)),
        job=Job(
            namespace=redact_identifier(job_namespace),
            name=redact_identifier(job_name),
            facets={
                "jobType": job_type_job.JobTypeJobFacet(
                    processingType="BATCH", integration="CLEARHOUSE", jobType="TASK", producer=PRODUCER
                )
            },
        ),
        inputs=[_input(ref) for ref in inputs],
        outputs=[_output(ref) for ref in outputs],
        producer=PRODUCER,
    )


def event_to_dict(event: RunEvent) -> dict[str, Any]:
    """The event as the JSON-ready dict OpenLineage backends receive (nulls dropped, enums as str)."""
    return Serde.to_dict(event)


def event_to_json(event: RunEvent) -> str:
    """The event serialised exactly as the OpenLineage client sends it (compact, sorted keys)."""
    return Serde.to_json(event)

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
``version``                ``DatasetVersionDatasetFacet``: the catalog version of the dataset
``columnLineage``          ``ColumnLineageDatasetFacet``: each output column from its collected
                           column, ``masking: true`` where a treatment hid its values
``dataQualityAssertions``  ``DataQualityAssertionsDatasetFacet`` (input facet): the GX checks
``ownership``              ``OwnershipDatasetFacet`` / ``OwnershipJobFacet``: the policy's owner
``documentation``          ``DocumentationDatasetFacet`` / ``DocumentationJobFacet``: its purpose
=========================  ============================================================

There is no standard OpenLineage facet for a content digest, hence the custom facet; its name is
prefixed (``clearhouse_``) as the spec asks of custom facets, and its ``_schemaURL`` is the JSON schema
shipped in this package (``schemas/ClearhouseDatasetFacet.json``).

The policy's owner is configuration (who to ask about a dataset), not collected data, so it is carried
as written (control characters removed, length capped); every other text is redacted.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import attr
import uuid6
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    DatasetFacet,
    InputDatasetFacet,
    JobFacet,
    OutputDatasetFacet,
    RunFacet,
    column_lineage_dataset,
    data_quality_assertions_dataset,
    dataset_version_dataset,
    documentation_dataset,
    documentation_job,
    error_message_run,
    input_statistics_input_dataset,
    job_type_job,
    output_statistics_output_dataset,
    ownership_dataset,
    ownership_job,
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
    "Assertion",
    "ClearhouseDatasetFacet",
    "ColumnOrigin",
    "DatasetRef",
    "EventType",
    "ParentRef",
    "build_run_event",
    "event_to_dict",
    "event_to_json",
    "new_run_id",
    "run_id_for",
    "task_try_run_id",
]

log = logging.getLogger(__name__)

#: ``producer`` of every event and facet. A URN: valid per the spec (a URI) and claims no web domain.
PRODUCER = "urn:clearhouse:lineage"
#: the JSON schema of the custom dataset facet, shipped in this package
CLEARHOUSE_FACET_SCHEMA = Path(__file__).resolve().parent / "schemas" / "ClearhouseDatasetFacet.json"
#: ``_schemaURL`` of the custom dataset facet: resolves to the shipped schema file
CLEARHOUSE_FACET_SCHEMA_URL = CLEARHOUSE_FACET_SCHEMA.as_uri() + "#/$defs/ClearhouseDatasetFacet"
#: default job namespace for Clearhouse tasks
DEFAULT_JOB_NAMESPACE = "clearhouse"
#: uuid5 namespace of deterministic run ids (fixed forever: changing it changes every run id)
RUN_ID_NAMESPACE = uuid.UUID("6f1c2b1e-4a52-5d0b-9a51-6c1e7a1d0c3e")

EventType = Literal["START", "COMPLETE", "FAIL"]

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
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
class ColumnOrigin:
    """Where one output column comes from (a column of another dataset) and what was done to it."""

    namespace: str
    name: str
    field: str
    #: ``IDENTITY`` (copied) or ``TRANSFORMATION`` (treated)
    subtype: str = "IDENTITY"
    #: whether the transformation hides the values (redact, mask, generalise, encrypt, pseudonymise)
    masking: bool = False
    description: str | None = None


@dataclass(frozen=True)
class Assertion:
    """One data-quality check and its outcome (names only, never values)."""

    assertion: str
    success: bool
    column: str | None = None
    severity: str | None = None


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
    #: the dataset's version (the catalog version id): the name stays the same across versions
    version: str | None = None
    #: output column → where it came from (``columnLineage``)
    columns_from: Mapping[str, ColumnOrigin] = field(default_factory=dict, hash=False)
    #: checks run on this dataset (``dataQualityAssertions``, on inputs)
    assertions: Sequence[Assertion] = ()
    #: owners (``ownership``) and what the dataset is for (``documentation``)
    owners: Sequence[str] = ()
    description: str | None = None

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


def task_try_run_id() -> str:
    """A run id for one try of a task: UUIDv7 (time-ordered), fresh for every try, as OpenLineage
    recommends, so a retry is a new run of the same job."""
    return str(uuid6.uuid7())


def _owner_name(owner: str) -> str:
    clean = _CONTROL.sub(" ", str(owner)).strip()[:200]
    if ":" in clean and not clean.startswith("mailto:"):
        return clean
    return f"user:{clean}" if "@" in clean else f"team:{clean}"


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
    if ref.version:
        facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(
            datasetVersion=redact_identifier(ref.version), producer=PRODUCER
        )
    if ref.columns_from:
        facets["columnLineage"] = column_lineage_dataset.ColumnLineageDatasetFacet(
            fields={
                redact(col, max_len=_MAX_COLUMN_LENGTH): column_lineage_dataset.Fields(
                    inputFields=[
                        column_lineage_dataset.InputField(
                            namespace=redact_identifier(origin.namespace),
                            name=redact_identifier(origin.name),
                            field=redact(origin.field, max_len=_MAX_COLUMN_LENGTH),
                            transformations=[
                                column_lineage_dataset.Transformation(
                                    type="DIRECT",
                                    subtype=origin.subtype,
                                    description=redact(origin.description, max_len=200) if origin.description else None,
                                    masking=origin.masking,
                                )
                            ],
                        )
                    ]
                )
                for col, origin in ref.columns_from.items()
            },
            producer=PRODUCER,
        )
    if ref.owners:
        facets["ownership"] = ownership_dataset.OwnershipDatasetFacet(
            owners=[ownership_dataset.Owner(name=_owner_name(o)) for o in ref.owners], producer=PRODUCER
        )
    if ref.description:
        facets["documentation"] = documentation_dataset.DocumentationDatasetFacet(
            description=redact(ref.description, max_len=2000), producer=PRODUCER
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
    if ref.assertions:
        input_facets["dataQualityAssertions"] = data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet(
            assertions=[
                data_quality_assertions_dataset.Assertion(
                    assertion=redact(a.assertion, max_len=200),
                    success=bool(a.success),
                    column=redact(a.column, max_len=_MAX_COLUMN_LENGTH) if a.column else None,
                    severity=a.severity if a.severity in {"error", "warn"} else None,
                )
                for a in ref.assertions
            ],
            producer=PRODUCER,
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
    job_description: str | None = None,
    job_owners: Sequence[str] = (),
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
    job_facets: dict[str, JobFacet] = {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration="CLEARHOUSE", jobType="TASK", producer=PRODUCER
        )
    }
    if job_description:
        job_facets["documentation"] = documentation_job.DocumentationJobFacet(
            description=redact(job_description, max_len=2000), producer=PRODUCER
        )
    if job_owners:
        job_facets["ownership"] = ownership_job.OwnershipJobFacet(
            owners=[ownership_job.Owner(name=_owner_name(o)) for o in job_owners], producer=PRODUCER
        )
    return RunEvent(
        eventType=RunState(event_type),
        eventTime=when.isoformat(),
        run=Run(runId=_check_run_id(run_id, "run_id"), facets=_run_facets(event_type, parent, error)),
        job=Job(namespace=redact_identifier(job_namespace), name=redact_identifier(job_name), facets=job_facets),
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

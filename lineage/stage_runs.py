"""Lineage of a dataset version: one OpenLineage run for the whole DAG run (START at prepare, COMPLETE
or FAIL at the final gate) and, under it, one run per try of each stage task (a fresh UUIDv7 each), with
the stage's input and output datasets.

Datasets follow the OpenLineage naming conventions for files (namespace ``file``, an absolute path)
and keep their name across versions: the collected file is named by its own path; each zone's dataset
by ``<state dir>/zones/<zone>/<dataset>/<file>`` without the version, which goes into the
``version`` (datasetVersion) facet. Every stage output carries a ``columnLineage`` facet tracing each
column to the collected file's column, with ``masking: true`` where a treatment hid the values; the
validated dataset carries the GX results as ``dataQualityAssertions``; outputs and jobs carry the
policy's owner and purpose. Events go to the catalog database (SQL store), a JSON-lines file in the
state directory and, when configured the standard way (``OPENLINEAGE_URL`` / ``OPENLINEAGE_CONFIG`` /
``openlineage.yml``), the OpenLineage client's transport. Emission never fails a stage.

This module knows the zone layout (:class:`~clearhouse.zones.VersionPaths`, foundation) but nothing of
the stages: the runner passes each stage's inputs and outputs and the version's facts as values.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from clearhouse.lineage.emitter import LineageEmitter, TaskRun, task_run
from clearhouse.lineage.events import Assertion, ColumnOrigin, DatasetRef, ParentRef, run_id_for, task_try_run_id
from clearhouse.lineage.store import LineageStore
from clearhouse.settings import Settings
from clearhouse.types import STAGES
from clearhouse.zones import VersionPaths

log = logging.getLogger(__name__)
FILE_NAMESPACE = "file"

#: treatments that hide values, and the stage from which the hiding shows in the data
_MASKED_AT = {
    "redact": "minimised",
    "mask": "minimised",
    "generalise": "minimised",
    "encrypt": "protected",
    "pseudonymise": "protected",
}
_ORDER = ("ingested", "minimised", "protected", "cleared_data")

#: rows and SHA-256 of the collected file, read when the ingest stage's outputs are described
SourceFacts = Callable[[], tuple[int | None, str | None]]


@dataclass(frozen=True)
class VersionLineage:
    """What lineage needs to know about one version, as plain values."""

    paths: VersionPaths
    source: Path
    source_facts: SourceFacts
    treatments: Mapping[str, str]
    dag_run_id: str
    owner: str = ""
    purpose: str = ""
    assertions: Callable[[], Sequence[Assertion]] | None = field(default=None, compare=False)

    @property
    def settings(self) -> Settings:
        return self.paths.settings

    @property
    def dag_job(self) -> str:
        return f"clearhouse__{self.paths.dataset}"


@lru_cache(maxsize=4)
def _emitter(db_url: str, home: str, openlineage: bool) -> LineageEmitter:
    specs: list[dict[str, Any]] = [
        {"type": "sql", "url": db_url},
        {"type": "file", "path": str(Path(home) / "lineage" / "events.jsonl")},
    ]
    if openlineage:
        specs.append({"type": "openlineage"})
    return LineageEmitter.from_specs(specs)


def emitter_for(settings: Settings) -> LineageEmitter:
    return _emitter(settings.db_url, str(settings.home), settings.openlineage_configured)


def zone_dataset_name(paths: VersionPaths, key: str) -> tuple[str, Path]:
    """(stable dataset name, file of this version) of a zone dataset."""
    if key == "cleared_data":
        return str(paths.settings.zone("cleared") / paths.dataset), paths.cleared / "data.parquet"
    path: Path = getattr(paths, key)
    # <zone>/<dataset>/<version>[/chunks/NNNNN]/<file> → <zone>/<dataset>/<file>: a chunk's file is a
    # part of the version's dataset
    zone_dir = paths.work.parent if path.is_relative_to(paths.work) else path.parent.parent
    return str(zone_dir / path.name), path


def _columns_from(vl: VersionLineage, key: str, columns: Sequence[str]) -> dict[str, ColumnOrigin]:
    reached = _ORDER.index(key) if key in _ORDER else 0
    origins = {}
    for col in columns:
        treatment = vl.treatments.get(col, "keep")
        hidden_at = _MASKED_AT.get(treatment)
        masked = hidden_at is not None and _ORDER.index(hidden_at) <= reached
        origins[col] = ColumnOrigin(
            FILE_NAMESPACE,
            str(vl.source),
            col,
            subtype="TRANSFORMATION" if masked else "IDENTITY",
            masking=masked,
            description=treatment if masked else None,
        )
    return origins


def _ref(vl: VersionLineage, key: str, *, output: bool) -> DatasetRef | None:
    paths = vl.paths
    if key == "source":
        rows, sha256 = vl.source_facts()
        return DatasetRef(FILE_NAMESPACE, str(vl.source), row_count=rows, sha256=sha256, version=paths.version)
    name, path = zone_dataset_name(paths, key)
    if not path.exists():
        return None
    meta = pq.ParquetFile(path)
    schema = meta.schema_arrow
    extra: dict[str, str | int] = {"zone": Path(name).parent.parent.name, "format": "parquet"}
    if paths.chunk is not None and path.is_relative_to(paths.work):
        extra["chunk"] = paths.chunk
    return DatasetRef(
        FILE_NAMESPACE,
        name,
        [(f.name, str(f.type)) for f in schema],
        row_count=meta.metadata.num_rows,
        extra=extra,
        version=paths.version,
        columns_from=_columns_from(vl, key, schema.names) if output else {},
        owners=(vl.owner,) if output and vl.owner else (),
        description=vl.purpose if output and key == "cleared_data" and vl.purpose else None,
    )


def _refs(vl: VersionLineage, keys: Sequence[str], *, output: bool) -> list[DatasetRef]:
    refs = []
    for key in keys:
        try:
            ref = _ref(vl, key, output=output)
        except Exception as exc:  # lineage never fails the stage
            log.warning("lineage: cannot describe %s (%s)", key, type(exc).__name__)
            continue
        if ref is not None:
            refs.append(ref)
    return refs


def _with_assertions(vl: VersionLineage, refs: list[DatasetRef]) -> list[DatasetRef]:
    if vl.assertions is None:
        return refs
    try:
        checks = list(vl.assertions())
    except Exception as exc:
        log.warning("lineage: cannot read the validation results (%s)", type(exc).__name__)
        return refs
    return [
        DatasetRef(
            r.namespace,
            r.name,
            r.fields,
            row_count=r.row_count,
            sha256=r.sha256,
            extra=r.extra,
            version=r.version,
            assertions=checks,
        )
        for r in refs
    ]


@contextmanager
def stage_run(vl: VersionLineage, name: str, *, inputs: Sequence[str], outputs: Sequence[str]) -> Iterator[TaskRun]:
    """Emit START before the block and COMPLETE (or FAIL, re-raising) after it; never fails the block.
    The block may call ``run.fail(message)`` to end the run in FAIL although it returned."""
    try:
        emitter: LineageEmitter | None = emitter_for(vl.settings)
    except Exception as exc:
        log.warning("lineage disabled for this stage (%s)", type(exc).__name__)
        emitter = None
    # the collected file is described after ingest has landed and hashed it; validate's input (the
    # protected table) is merged from the chunks inside validate, so it is described afterwards too
    early = [] if "source" in inputs else _refs(vl, inputs, output=False)
    late_inputs = len(early) < len(inputs)
    with task_run(
        emitter,
        job_name=f"{vl.dag_job}.{name}",
        run_id=task_try_run_id(),
        inputs=early,
        outputs_factory=lambda: _refs(vl, outputs, output=True),
        parent=ParentRef(vl.dag_job, vl.dag_run_id),
        job_description=vl.purpose or None,
        job_owners=(vl.owner,) if vl.owner else (),
    ) as run:
        yield run
        if late_inputs:
            run.inputs = _refs(vl, inputs, output=False)
        if name == "validate":
            run.inputs = _with_assertions(vl, run.inputs)


def dag_run_event(vl: VersionLineage, event_type: str, *, error: str | None = None) -> None:
    """The DAG run's own START (at prepare) and COMPLETE or FAIL (at the final gate)."""
    try:
        emitter = emitter_for(vl.settings)
        emitter.emit_run(
            event_type,  # type: ignore[arg-type]
            run_id=vl.dag_run_id,
            job_name=vl.dag_job,
            inputs=_refs(vl, ("source",), output=False) if event_type != "START" else [],
            outputs=_refs(vl, ("cleared_data",), output=True) if event_type == "COMPLETE" else [],
            error=error,
            job_description=vl.purpose or None,
            job_owners=(vl.owner,) if vl.owner else (),
        )
    except Exception as exc:
        log.warning("lineage: DAG run event not emitted (%s)", type(exc).__name__)


def version_events(db_url: str, dataset: str, version: str, dag_run_id: str | None = None) -> list[dict[str, Any]]:
    """Every stored lineage event of one dataset version (its DAG run and the task runs under it)."""
    store = LineageStore(db_url)
    events: list[dict[str, Any]] = []
    if dag_run_id:
        events += store.events(run_id=dag_run_id)
        events += store.events(parent_run_id=dag_run_id)
    else:  # versions recorded before run ids were per try: deterministic ids per stage
        for stage in STAGES:
            events += store.events(run_id=run_id_for(dataset, version, stage))
    events.sort(key=lambda e: str(e.get("eventTime", "")))
    return events


def export_version_events(settings: Settings, dataset: str, version: str, dag_run_id: str | None, path: Path) -> None:
    """Write the version's lineage events (as stored) next to its reports. Never fails the caller."""
    try:
        events = version_events(settings.db_url, dataset, version, dag_run_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(events, indent=2), encoding="utf-8")
    except Exception as exc:
        log.warning("lineage export failed (%s)", type(exc).__name__)

"""Lineage around pipeline stages: one OpenLineage run per stage (START, then COMPLETE or FAIL), with
the stage's input and output datasets (zone paths, schema, row counts, digests), parented to the
version's DAG run. Events go to the catalog database (SQL store) and a JSON-lines file in the state
directory. Emission never fails a stage (see :mod:`clearhouse.lineage.emitter`).

This module knows the zone layout (:class:`~clearhouse.zones.VersionPaths`, foundation) but nothing of
the stages themselves: the runner passes each stage's inputs and outputs, and the facts of the collected
file (rows, digest) that only the catalog knows, as plain values.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from clearhouse.lineage.emitter import LineageEmitter, task_run
from clearhouse.lineage.events import DatasetRef, ParentRef, run_id_for
from clearhouse.lineage.store import LineageStore
from clearhouse.settings import Settings
from clearhouse.types import STAGES
from clearhouse.zones import VersionPaths

log = logging.getLogger(__name__)
NAMESPACE = "clearhouse"

#: rows and SHA-256 of the collected file, read when the ingest stage's outputs are described
SourceFacts = Callable[[], tuple[int | None, str | None]]


@lru_cache(maxsize=4)
def emitter_for(db_url: str, home: str) -> LineageEmitter:
    return LineageEmitter.from_specs(
        [
            {"type": "sql", "url": db_url},
            {"type": "file", "path": str(Path(home) / "lineage" / "events.jsonl")},
        ]
    )


def _ref(paths: VersionPaths, key: str, source_facts: SourceFacts) -> DatasetRef | None:
    if key == "source":
        landing = next(iter(sorted(paths.landing.glob("raw.*"))), None) if paths.landing.exists() else None
        rows, sha256 = source_facts()
        name = landing or paths.landing / "raw"
        return DatasetRef(NAMESPACE, _rel(paths, name), row_count=rows, sha256=sha256)
    path = paths.cleared / "data.parquet" if key == "cleared_data" else getattr(paths, key)
    if not path.exists():
        return None
    meta = pq.ParquetFile(path)
    return DatasetRef.from_arrow_schema(
        NAMESPACE, _rel(paths, path), meta.schema_arrow, row_count=meta.metadata.num_rows
    )


def _rel(paths: VersionPaths, path: Path) -> str:
    try:
        return str(path.relative_to(paths.settings.home))
    except ValueError:
        return path.name


def _refs(paths: VersionPaths, keys: tuple[str, ...], source_facts: SourceFacts) -> list[DatasetRef]:
    refs = []
    for key in keys:
        try:
            ref = _ref(paths, key, source_facts)
        except Exception as exc:  # lineage never fails the stage
            log.warning("lineage: cannot describe %s (%s)", key, type(exc).__name__)
            continue
        if ref is not None:
            refs.append(ref)
    return refs


def dag_run_id(dataset: str, version: str) -> str:
    return run_id_for(dataset, version, "dag")


@contextmanager
def stage_run(
    paths: VersionPaths,
    name: str,
    *,
    inputs: tuple[str, ...],
    outputs: tuple[str, ...],
    source_facts: SourceFacts,
) -> Iterator[None]:
    """Emit START before the block and COMPLETE (or FAIL, re-raising) after it; never fails the block."""
    settings: Settings = paths.settings
    dataset, version = paths.dataset, paths.version
    try:
        emitter: LineageEmitter | None = emitter_for(settings.db_url, str(settings.home))
    except Exception as exc:
        log.warning("lineage disabled for this stage (%s)", type(exc).__name__)
        emitter = None
    # the collected file is described after ingest has landed it
    landing_first = "source" in inputs
    with task_run(
        emitter,
        job_name=f"clearhouse__{dataset}.{name}",
        run_id=run_id_for(dataset, version, name),
        inputs=[] if landing_first else _refs(paths, inputs, source_facts),
        outputs_factory=lambda: _refs(paths, outputs, source_facts),
        parent=ParentRef(f"clearhouse__{dataset}", dag_run_id(dataset, version)),
    ) as run:
        yield
        if landing_first:
            run.inputs = _refs(paths, inputs, source_facts)


def version_events(db_url: str, dataset: str, version: str) -> list[dict[str, Any]]:
    """Every stored lineage event of one dataset version, in time order."""
    store = LineageStore(db_url)
    events: list[dict[str, Any]] = []
    for stage in STAGES:
        events += store.events(run_id=run_id_for(dataset, version, stage))
    events.sort(key=lambda e: str(e.get("eventTime", "")))
    return events


def export_version_events(settings: Settings, dataset: str, version: str, path: Path) -> None:
    """Write the version's lineage events (as stored) next to its reports. Never fails the caller."""
    try:
        events = version_events(settings.db_url, dataset, version)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(events, indent=2), encoding="utf-8")
    except Exception as exc:
        log.warning("lineage export failed (%s)", type(exc).__name__)

"""Lineage around pipeline stages: one OpenLineage run per stage (START, then COMPLETE or FAIL), with
the stage's input and output datasets (zone paths, schema, row counts, digests), parented to the
version's DAG run. Events go to the catalog database (SQL store) and a JSON-lines file in the state
directory. Emission never fails a stage (see :mod:`lineage.emitter`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clearhouse.lineage import DatasetRef, LineageEmitter, ParentRef, run_id_for, task_run

if TYPE_CHECKING:
    from clearhouse.pipeline import RunContext

log = logging.getLogger("clearhouse.lineage")
NAMESPACE = "clearhouse"

#: (inputs, outputs) of each stage, as attributes of VersionPaths (files) — data flows through zones
STAGE_IO: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ingest": (("source",), ("ingested",)),
    "detect": (("ingested",), ()),
    "minimise": (("ingested",), ("minimised",)),
    "protect": (("minimised",), ("protected",)),
    "validate": (("protected",), ()),
    "release": (("protected",), ("cleared_data",)),
}


@lru_cache(maxsize=4)
def emitter_for(db_url: str, home: str) -> LineageEmitter:
    return LineageEmitter.from_specs(
        [
            {"type": "sql", "url": db_url},
            {"type": "file", "path": str(Path(home) / "lineage" / "events.jsonl")},
        ]
    )


def _ref(ctx: RunContext, key: str) -> DatasetRef | None:
    import pyarrow.parquet as pq

    paths = ctx.paths
    if key == "source":
        landing = next(iter(sorted(paths.landing.glob("raw.*"))), None) if paths.landing.exists() else None
        info = ctx.catalog.get(ctx.dataset, ctx.version)
        name = landing or paths.landing / "raw"
        return DatasetRef(NAMESPACE, _rel(ctx, name), row_count=info.rows_in, sha256=info.raw_sha256)
    path = paths.cleared / "data.parquet" if key == "cleared_data" else getattr(paths, key)
    if not path.exists():
        return None
    meta = pq.ParquetFile(path)
    return DatasetRef.from_arrow_schema(NAMESPACE, _rel(ctx, path), meta.schema_arrow, row_count=meta.metadata.num_rows)


def _rel(ctx: RunContext, path: Path) -> str:
    try:
        return str(path.relative_to(ctx.settings.home))
    except ValueError:
        return path.name


def _refs(ctx: RunContext, keys: tuple[str, ...]) -> list[DatasetRef]:
    refs = []
    for key in keys:
        try:
            ref = _ref(ctx, key)
        except Exception as exc:  # lineage never fails the stage
            log.warning("lineage: cannot describe %s (%s)", key, type(exc).__name__)
            continue
        if ref is not None:
            refs.append(ref)
    return refs


def dag_run_id(ctx: RunContext) -> str:
    return run_id_for(ctx.dataset, ctx.version, "dag")


@contextmanager
def stage_run(ctx: RunContext, name: str) -> Iterator[None]:
    inputs, outputs = STAGE_IO.get(name, ((), ()))
    try:
        emitter: LineageEmitter | None = emitter_for(ctx.settings.db_url, str(ctx.settings.home))
    except Exception as exc:
        log.warning("lineage disabled for this stage (%s)", type(exc).__name__)
        emitter = None
    with task_run(
        emitter,
        job_name=f"clearhouse__{ctx.dataset}.{name}",
        run_id=run_id_for(ctx.dataset, ctx.version, name),
        inputs=_refs(ctx, inputs) if name != "ingest" else [],
        outputs_factory=lambda: _refs(ctx, outputs),
        parent=ParentRef(f"clearhouse__{ctx.dataset}", dag_run_id(ctx)),
    ) as run:
        yield
        if name == "ingest":
            run.inputs = _refs(ctx, inputs)


def version_events(db_url: str, dataset: str, version: str) -> list[dict[str, Any]]:
    """Every stored lineage event of one dataset version, in time order."""
    from clearhouse.lineage.store import LineageStore

    store = LineageStore(db_url)
    events: list[dict[str, Any]] = []
    for stage in STAGE_IO:
        events += store.events(run_id=run_id_for(dataset, version, stage))
    events.sort(key=lambda e: str(e.get("eventTime", "")))
    return events


def export_version_events(ctx: RunContext, path: Path) -> None:
    """Write the version's lineage events (as stored) next to its reports. Never fails the caller."""
    import json

    try:
        events = version_events(ctx.settings.db_url, ctx.dataset, ctx.version)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(events, indent=2), encoding="utf-8")
    except Exception as exc:
        log.warning("lineage export failed (%s)", type(exc).__name__)

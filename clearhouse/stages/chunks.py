"""Chunked work: the chunked stages' results, merged into the version's before the gate.

Ingest writes the ingested table in row groups of ``chunk_rows`` rows and a chunk plan
(``work/chunks.json``); detect, minimise and protect then run once per chunk (one mapped Airflow task
each), writing under ``work/chunks/NNNNN/``. :func:`merge_chunks` — the first step of the validate
stage — concatenates the chunks' protected tables in order into the version's ``protected.parquet``
(streamed), and merges their stage results (counts are summed) into the version's ``detect.json``,
``minimise.json`` and ``protect.json``. Row order, and with it the encryption's row identities, is the
one-chunk order, so a chunked version's cleared output is the unchunked one's.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from clearhouse.errors import StageError
from clearhouse.files import atomic_path, sha256_file
from clearhouse.readers import open_parquet
from clearhouse.stages.context import RunContext


def _merge_findings(per_chunk: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Detection findings of the chunks as one version's: counts summed, mean scores row-weighted; a
    structured column's classification is the one most of its rows had."""
    merged: dict[str, dict[str, Any]] = {}
    votes: dict[str, dict[tuple[str | None, float], int]] = {}
    for findings in per_chunk:
        for f in findings:
            column = str(f["column"])
            m = merged.setdefault(column, {**f, "rows_scanned": 0, "rows_with_pii": 0, "entities": {},
                                           "evidence": {}})
            m["rows_scanned"] += int(f["rows_scanned"])
            m["rows_with_pii"] += int(f["rows_with_pii"])
            for name, stats in (f.get("entities") or {}).items():
                seen = m["entities"].setdefault(name, {"count": 0, "score_sum": 0.0})
                seen["count"] += int(stats["count"])
                seen["score_sum"] += int(stats["count"]) * float(stats["mean_score"])
            for key, value in (f.get("evidence") or {}).items():
                m["evidence"][key] = m["evidence"].get(key, 0) + value
            vote = votes.setdefault(column, {})
            choice = (f.get("inferred_entity"), float(f.get("confidence") or 0.0))
            vote[choice] = vote.get(choice, 0) + int(f["rows_scanned"])
    out = []
    for column, m in merged.items():
        m["entities"] = {
            name: {"count": s["count"], "mean_score": round(s["score_sum"] / s["count"], 3) if s["count"] else 0.0}
            for name, s in sorted(m["entities"].items())
        }
        (entity, confidence), _rows = max(votes[column].items(), key=lambda kv: kv[1])
        m["inferred_entity"], m["confidence"] = entity, confidence
        out.append(m)
    return out


def _merge_protect(per_chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
    columns: dict[str, dict[str, Any]] = {}
    for result in per_chunk:
        for col in result["columns"]:
            seen = columns.setdefault(col["column"], {**col, "protected": 0, "nulls": 0})
            seen["protected"] += col["protected"]
            seen["nulls"] += col["nulls"]
    return list(columns.values())


def concatenate(parts: Iterable[Path], target: Path, *, batch_rows: int = 50_000) -> int:
    """Write the Parquet ``parts`` one after the other into ``target`` (atomically, batch by batch)."""
    rows = 0
    writer: pq.ParquetWriter | None = None
    with atomic_path(target) as tmp:
        try:
            for part in parts:
                pf = open_parquet(part)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, pf.schema_arrow)
                for batch in pf.iter_batches(batch_size=batch_rows):
                    writer.write_batch(batch)
                    rows += batch.num_rows
        finally:
            if writer is not None:
                writer.close()
    return rows


def chunk_outputs(ctx: RunContext) -> list[Path]:
    """The chunks' protected tables, in order; :class:`StageError` if one is missing."""
    paths = [ctx.paths.for_chunk(c.index).protected for c in ctx.chunks()]
    missing = [p.parent.name for p in paths if not p.is_file()]
    if missing:
        raise StageError(f"chunk(s) {', '.join(missing)} have no protected output")
    return paths


def merge_chunks(ctx: RunContext) -> dict[str, Any]:
    """Merge the chunks' results into the version's (see the module docstring); returns the chunk
    summary the release manifest carries (index, rows, SHA-256 of each chunk's protected table)."""
    chunks = ctx.chunks()
    parts = [ctx.for_chunk(c.index) for c in chunks]
    detect = [p.read_stage("detect") for p in parts]
    minimise = [p.read_stage("minimise") for p in parts]
    protect = [p.read_stage("protect") for p in parts]
    findings = _merge_findings([d["findings"] for d in detect])
    ctx.write_stage("detect", {
        "findings": findings,
        "blocking": [b for d in detect for b in d.get("blocking") or []],
        "spans_paths": [d["spans_path"] for d in detect if d.get("spans_path")],
    })
    ctx.catalog.update(ctx.dataset, ctx.version, info={
        "pii_found": {f["column"]: {e: s["count"] for e, s in f["entities"].items()} for f in findings},
    })
    first = minimise[0]
    ctx.write_stage("minimise", {
        "output_paths": [m["output_path"] for m in minimise],
        "rows": sum(int(m["rows"]) for m in minimise),
        "treatments": first["treatments"],
        "dropped": first["dropped"],
        "spans_redacted": sum(int(m["spans_redacted"]) for m in minimise),
        "own_identifiers_redacted": sum(int(m["own_identifiers_redacted"]) for m in minimise),
    })
    ctx.write_stage("protect", {
        "dataset": ctx.dataset, "version": ctx.version, "rows": sum(int(p["rows"]) for p in protect),
        "columns": _merge_protect(protect),
    })
    outputs = chunk_outputs(ctx)
    rows = concatenate(outputs, ctx.paths.protected)
    summary = [
        {"index": c.index, "rows": c.rows, "protected_sha256": sha256_file(path)}
        for c, path in zip(chunks, outputs, strict=True)
    ]
    if rows != sum(c.rows for c in chunks):
        raise StageError(f"the chunks hold {rows} rows, the chunk plan {sum(c.rows for c in chunks)}")
    return {"chunk_rows": ctx.chunk_rows, "chunks": summary}

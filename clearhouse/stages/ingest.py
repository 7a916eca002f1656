"""Ingest: collected file → immutable landing copy + Arrow (Parquet) in the work zone.

The raw input is never modified: it is hashed while being copied, byte for byte, into the landing zone
and made read-only there. Parsing happens on the landing copy, streamed in record batches by
:mod:`clearhouse.readers` (shared with discovery). Errors name
the file and the line or byte, never the content of the offending row (it may hold personal data).
"""

from __future__ import annotations

import codecs
import hashlib
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from clearhouse.errors import IngestError
from clearhouse.files import atomic_path, write_json
from clearhouse.policy import Policy
from clearhouse.privacy.risk import DuplicateCounter
from clearhouse.readers import BATCH_ROWS, CHUNK, open_parquet, read_batches
from clearhouse.stages.context import RunContext


@dataclass(frozen=True)
class IngestResult:
    raw_sha256: str
    raw_bytes: int
    landing_path: Path
    ingested_path: Path
    rows: int
    columns: list[str]
    dropped_undeclared: list[str]

    def to_xcom(self) -> dict[str, object]:
        return {"rows": self.rows, "raw_sha256": self.raw_sha256}

    def to_ref(self) -> dict[str, object]:
        return {
            "raw_sha256": self.raw_sha256,
            "raw_bytes": self.raw_bytes,
            "landing_path": str(self.landing_path),
            "ingested_path": str(self.ingested_path),
            "rows": self.rows,
            "columns": self.columns,
        }


def land(source: Path, landing_dir: Path, fmt: str, encoding: str) -> tuple[Path, str, int]:
    """Copy ``source`` into ``landing_dir`` read-only, returning (path, sha256, size).

    Text formats are checked for valid encoding while copying, so a bad byte is reported with its offset.
    """
    if source.is_symlink():
        # what a link points to can change between the check and the copy, or point anywhere
        raise IngestError(f"input is a symbolic link, which is refused: {source}; name the file itself")
    if not source.exists():
        raise IngestError(f"input not found: {source}")
    if not source.is_file():
        raise IngestError(f"input is not a regular file: {source}")
    landing_dir.mkdir(parents=True, exist_ok=True)
    target = landing_dir / f"raw.{fmt}"
    if target.exists():
        raise IngestError(f"landing copy already exists (versions are immutable): {target}")
    digest = hashlib.sha256()
    size = 0
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict") if fmt != "parquet" else None
    with atomic_path(target) as tmp, source.open("rb") as src, tmp.open("wb") as dst:
        while chunk := src.read(CHUNK):
            if decoder is not None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    raise IngestError(
                        f"{source.name}: not valid {encoding} at byte {size + exc.start}; "
                        "re-export the file as UTF-8 or set source.encoding in the policy"
                    ) from None
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
        if decoder is not None:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise IngestError(f"{source.name}: truncated {encoding} sequence at end of file") from None
    target.chmod(stat.S_IRUSR)  # read-only, and the owner's only
    return target, digest.hexdigest(), size


def check_columns(found: list[str], policy: Policy, origin: str) -> tuple[list[str], list[str]]:
    """Compare the input's columns with the policy. Returns (kept input columns, undeclared dropped)."""
    declared = list(policy.columns)
    missing = [c for c in declared if c not in found]
    if missing:
        raise IngestError(f"{origin}: columns declared in the policy are missing from the input: {missing}")
    undeclared = [c for c in found if c not in policy.columns]
    if undeclared and policy.undeclared_columns == "fail":
        raise IngestError(
            f"{origin}: input has columns the policy does not declare: {undeclared}; "
            "declare them (role + treatment) or set undeclared_columns: drop"
        )
    return declared, undeclared


class _ChunkedWriter:
    """Writes record batches to Parquet in row groups of exactly ``chunk_rows`` rows (the last may be
    shorter): each row group is one chunk of the version, read on its own by a mapped task."""

    def __init__(self, path: Path, schema: pa.Schema, chunk_rows: int) -> None:
        self.writer = pq.ParquetWriter(path, schema)
        self.schema = schema
        self.chunk_rows = chunk_rows
        self.pending: list[pa.RecordBatch] = []
        self.held = 0

    def write(self, batch: pa.RecordBatch) -> None:
        self.pending.append(batch)
        self.held += batch.num_rows
        while self.held >= self.chunk_rows:
            table = pa.Table.from_batches(self.pending, schema=self.schema)
            self.writer.write_table(table.slice(0, self.chunk_rows), row_group_size=self.chunk_rows)
            rest = table.slice(self.chunk_rows)
            self.pending, self.held = rest.to_batches(), rest.num_rows

    def close(self) -> None:
        if self.held:
            table = pa.Table.from_batches(self.pending, schema=self.schema)
            self.writer.write_table(table, row_group_size=self.chunk_rows)
        self.writer.close()


def chunk_plan(ingested: Path) -> list[dict[str, int]]:
    """The version's chunks: one per row group of ``ingested``, with its first row and its rows."""
    meta = pq.ParquetFile(ingested).metadata
    plan, start = [], 0
    for i in range(meta.num_row_groups):
        rows = meta.row_group(i).num_rows
        plan.append({"index": i, "start": start, "rows": rows})
        start += rows
    return plan


def ingest(
    source: Path, policy: Policy, *, landing_dir: Path, work_dir: Path, chunk_rows: int = 50_000
) -> IngestResult:
    """Land ``source`` and convert it to ``work_dir/ingested.parquet`` in chunks of ``chunk_rows`` rows
    (one row group each), checking it against the policy."""
    fmt = policy.source.resolved_format(source)
    try:
        codecs.lookup(policy.source.encoding)
    except LookupError:
        raise IngestError(f"unknown encoding {policy.source.encoding!r} in source.encoding") from None
    landing_path, sha, size = land(source, landing_dir, fmt, policy.source.encoding)
    work_dir.mkdir(parents=True, exist_ok=True)
    out = work_dir / "ingested.parquet"
    rows = 0
    writer: _ChunkedWriter | None = None
    keep: list[str] = []
    dropped: list[str] = []
    try:
        for batch in read_batches(
            landing_path,
            fmt,
            encoding=policy.source.encoding,
            delimiter=policy.source.delimiter,
            origin=source.name,
        ):
            if writer is None:
                keep, dropped = check_columns(batch.schema.names, policy, source.name)
                schema = pa.schema([batch.schema.field(c) for c in keep])
                writer = _ChunkedWriter(out, schema, chunk_rows)
            selected = batch.select(keep)
            writer.write(selected)
            rows += selected.num_rows
    except UnicodeDecodeError as exc:
        raise IngestError(f"{source.name}: not valid {policy.source.encoding} (byte {exc.start})") from None
    finally:
        if writer is not None:
            writer.close()
    if writer is None or rows == 0:
        out.unlink(missing_ok=True)
        raise IngestError(f"{source.name}: no data rows")
    if policy.row_id and not _row_ids_unique(out, policy.row_id, rows, work_dir):
        raise IngestError(f"{source.name}: row_id column {policy.row_id!r} must be unique and non-empty")
    return IngestResult(sha, size, landing_path, out, rows, keep, dropped)


def _row_ids_unique(path: Path, column: str, rows: int, work_dir: Path) -> bool:
    """Whether ``column`` has no nulls and no repeated value, read batch by batch (bounded memory)."""
    counter = DuplicateCounter(rows, work_dir=work_dir)
    for batch in open_parquet(path).iter_batches(batch_size=BATCH_ROWS * 5, columns=[column]):
        counter.add(batch.column(0))
    _distinct, repeated = counter.finish()
    return counter.nulls == 0 and repeated == 0


def make_read_only_copy(src: Path, dst: Path) -> None:
    """Copy a file and make the copy read-only (used for cleared outputs)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    dst.chmod(stat.S_IRUSR)


INPUTS = ("source",)
OUTPUTS = ("ingested",)


@dataclass(frozen=True)
class IngestStageResult:
    """The ingest result and the chunks the next stages map over (indices: a small XCom)."""

    result: IngestResult
    chunks: list[int]

    def to_xcom(self) -> dict[str, object]:
        return {**self.result.to_xcom(), "chunks": self.chunks}


def run(ctx: RunContext) -> IngestStageResult:
    """Stage 1: land a read-only copy of the collected file and convert it to Parquet."""
    result = ingest(
        ctx.source, ctx.policy, landing_dir=ctx.paths.landing, work_dir=ctx.paths.work, chunk_rows=ctx.chunk_rows
    )
    chunks = chunk_plan(result.ingested_path)
    write_json(ctx.paths.chunks_json, {"chunk_rows": ctx.chunk_rows, "chunks": chunks})
    ctx.catalog.update(
        ctx.dataset,
        ctx.version,
        raw_sha256=result.raw_sha256,
        rows_in=result.rows,
        info={"dropped_undeclared": result.dropped_undeclared},
    )
    ctx.write_stage("ingest", {**result.to_ref(), "chunks": len(chunks)})
    return IngestStageResult(result, [c["index"] for c in chunks])

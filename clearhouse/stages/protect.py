"""Stage 4: encrypt (AES-GCM / AES-SIV) or pseudonymise (HMAC) the columns that must stay."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from clearhouse.privacy.crypto.configured import provider_for
from clearhouse.privacy.crypto.protect import protect_table
from clearhouse.readers import open_parquet
from clearhouse.stages.context import RunContext

INPUTS = ("minimised",)
OUTPUTS = ("protected",)


@dataclass(frozen=True)
class ProtectStageResult:
    """Per-column counts and key ids (never values or keys)."""

    dataset: str
    version: str
    rows: int
    columns: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "version": self.version, "rows": self.rows, "columns": self.columns}

    def to_xcom(self) -> dict[str, Any]:
        return {"rows": self.rows, "columns": [c["column"] for c in self.columns]}


def protect_file(
    ctx: RunContext, source: Path, target: Path, *, batch_rows: int = 50_000, first_row: int = 0
) -> ProtectStageResult:
    """Encrypt / pseudonymise the policy's columns of one version (or one chunk of it, whose first row
    is ``first_row``), batch by batch (flat memory).

    Row identity for the AEAD associated data is the row's index in the whole version (or the row id),
    so batches pass their offset: a chunked version encrypts exactly as an unchunked one."""
    provider = provider_for(ctx.settings)
    columns: dict[str, dict[str, Any]] = {}
    offset = first_row
    writer: pq.ParquetWriter | None = None
    try:
        for batch in open_parquet(source).iter_batches(batch_size=batch_rows):
            table = pa.Table.from_batches([batch])
            protected, result = protect_table(
                table, ctx.policy, provider, dataset=ctx.dataset, version=ctx.version, row_offset=offset
            )
            if writer is None:
                writer = pq.ParquetWriter(target, protected.schema)
            writer.write_table(protected)
            offset += table.num_rows
            for col in result.to_dict()["columns"]:
                seen = columns.setdefault(col["column"], {**col, "protected": 0, "nulls": 0})
                seen["protected"] += col["protected"]
                seen["nulls"] += col["nulls"]
    finally:
        if writer is not None:
            writer.close()
    return ProtectStageResult(ctx.dataset, ctx.version, offset - first_row, list(columns.values()))


def run(ctx: RunContext) -> ProtectStageResult:
    chunk = ctx.current_chunk()
    result = protect_file(ctx, ctx.paths.minimised, ctx.paths.protected, first_row=chunk.start)
    ctx.write_stage("protect", result.to_dict())
    return result

"""Stage 6: publish a version that passed every gate — cleared, or waiting for a privacy officer: E3
data for the assessment's sign-off and approval, and data whose policy asks for it for the residual-PII
review (:func:`clearhouse.governance.gates.requirements`).

The decision whether to publish at all is the runner's (:func:`clearhouse.stages.runner.finish`): it
quarantines a version with any reason or any missing stage result and calls :func:`run` only otherwise.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from clearhouse.errors import ClearhouseError
from clearhouse.files import sha256_file, write_json
from clearhouse.governance.gates import requirements, review_plan
from clearhouse.governance.record import ledger_for, signer_for
from clearhouse.readers import open_parquet
from clearhouse.stages.context import RunContext

INPUTS = ("protected",)
OUTPUTS = ("cleared_data",)


@dataclass(frozen=True)
class ReleaseStageResult:
    state: str
    rows: int | None = None

    def to_xcom(self) -> dict[str, Any]:
        return {"state": self.state, "rows": self.rows} if self.rows is not None else {"state": self.state}


def copy_release_files(source: Path, parquet: Path, csv: Path, *, batch_rows: int = 50_000) -> tuple[int, pa.Schema]:
    """Write ``source`` (Parquet) as the release's Parquet and CSV files, batch by batch (flat memory);
    returns (rows, schema)."""
    pf = open_parquet(source)
    schema = pf.schema_arrow
    rows = 0
    with pq.ParquetWriter(parquet, schema) as pw, pacsv.CSVWriter(csv, schema) as cw:
        for batch in pf.iter_batches(batch_size=batch_rows):
            pw.write_batch(batch)
            cw.write_batch(batch)
            rows += batch.num_rows
    return rows, schema


def write_release(ctx: RunContext, target: Path) -> dict[str, Any]:
    """Write the release files (Parquet, CSV, manifest with SHA-256 digests), read-only."""
    if target.exists():
        raise ClearhouseError(f"release directory already exists: {target}")
    # built in the work zone and moved into place in one rename: a killed run leaves nothing half-published
    tmp = ctx.paths.work / "release.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    rows, schema = copy_release_files(ctx.paths.protected, tmp / "data.parquet", tmp / "data.csv")
    files = {name: sha256_file(tmp / name) for name in ("data.parquet", "data.csv")}
    info = ctx.catalog.get(ctx.dataset, ctx.version)
    signer = signer_for(ctx.settings)
    manifest = {
        "dataset": ctx.dataset,
        "version": ctx.version,
        "rows": rows,
        "columns": [{"name": f.name, "type": str(f.type)} for f in schema],
        "files": files,
        # what labelers receive when they pull (the policy's choice when this version was cleared)
        "labeler_columns": [c for c in ctx.policy.labeler_columns() if c in schema.names],
        "raw_sha256": info.raw_sha256,
        # the chunks the version was cleared in (one mapped task each): rows and protected-table digests
        "chunks": ctx.read_stage("validate").get("chunks"),
        "policy": {"id": ctx.policy.id, "purpose": ctx.policy.purpose, "ethics_risk": ctx.policy.ethics_risk.value},
        # what an auditor needs to check this release against the ledger, without the keyring
        "ledger": {
            "public_key": signer.public_key_b64(),
            "key_id": signer.key_id,
            "chain_head": ledger_for(ctx.settings).head().to_dict(),
        },
    }
    write_json(tmp / "manifest.json", manifest)
    for p in tmp.iterdir():
        p.chmod(0o400)  # read-only, the owner's only (labelers get copies through `pull`)
    tmp.rename(target)
    return manifest


def run(ctx: RunContext) -> ReleaseStageResult:
    # A version with an officer's gate (E3; a review) waits outside the cleared zone until every gate is
    # done; the acts that complete them move it (clearhouse.acts.waiting). What it waits for is fixed
    # here, from the policy it ran with.
    requires = requirements(ctx.policy)
    target = ctx.paths.pending_release if requires else ctx.paths.cleared
    manifest = write_release(ctx, target)
    state = "awaiting_approval" if requires else "cleared"
    ctx.catalog.update(
        ctx.dataset,
        ctx.version,
        state=state,
        rows_out=manifest["rows"],
        info={"cleared_path": str(target), "requires": requires, "review_plan": review_plan(ctx.policy)},
    )
    return ReleaseStageResult(state, int(manifest["rows"]))

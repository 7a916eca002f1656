"""From a cleared row back to where it came from: the collected file and the row's position in it, the
policy, the code and model versions, each column's treatment and key id, the Airflow run, and the ledger
entries involved. Nothing here reads or prints a data value except the row id the caller gave."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

from clearhouse.catalog import Catalog
from clearhouse.errors import NotFoundError
from clearhouse.governance.record import ledger_for
from clearhouse.policy import Policy, load_policy
from clearhouse.settings import Settings
from clearhouse.zones import VersionPaths, check_ids


def _released_table(paths: VersionPaths) -> Path | None:
    for candidate in (paths.cleared / "data.parquet", paths.pending_release / "data.parquet"):
        if candidate.is_file():
            return candidate
    return None


def _row_position(policy: Policy, data: Path | None, row_id: str) -> dict[str, Any]:
    """Where the row sits: rows keep their order through every stage, so its index in the released table
    is its data row in the collected file (0-based; +2 is its line in a CSV with a header)."""
    if not policy.row_id:
        raise NotFoundError(f"policy {policy.id!r} declares no row_id, so rows cannot be named")
    if data is None:
        raise NotFoundError("the version has no released table to trace a row in")
    ids = pq.read_table(data, columns=[policy.row_id]).column(0)
    matches = pc.indices_nonzero(pc.equal(pc.cast(ids, "string"), row_id)).to_pylist()
    if not matches:
        raise NotFoundError(f"no row with {policy.row_id} = the given id in this version")
    position = int(matches[0])
    row: dict[str, Any] = {"row_id_column": policy.row_id, "position": position}
    if policy.source.format in (None, "csv"):
        row["csv_line"] = position + 2
    return row


def trace(settings: Settings, dataset: str, version: str, row_id: str | None = None) -> dict[str, Any]:
    check_ids(dataset, version)
    catalog = Catalog(settings.db_url)
    info = catalog.get(dataset, version)
    entries = ledger_for(settings).entries(dataset=dataset, version=version)
    start = next((e for e in entries if e.kind == "run_start"), None)
    protect = next((e for e in reversed(entries) if e.kind == "stage" and e.payload.get("stage") == "protect"), None)
    ingest = next((e for e in reversed(entries) if e.kind == "stage" and e.payload.get("stage") == "ingest"), None)
    policy_path = Path(start.payload["policy_path"]) if start else Path(catalog.policy_path(dataset))
    policy = load_policy(policy_path)
    keys = (protect.payload.get("keys") or {}) if protect else {}
    raw_artifacts = (
        {k: v for k, v in (ingest.payload.get("artifacts") or {}).items() if "/landing/" in k} if ingest else {}
    )
    out: dict[str, Any] = {
        "dataset": dataset,
        "version": version,
        "state": info.state,
        "raw_sha256": info.raw_sha256,
        "raw": {"name": info.info.get("source_name"), "landing_copy": next(iter(raw_artifacts), None)},
        "rows_in": info.rows_in,
        "rows_out": info.rows_out,
        "policy_path": str(policy_path),
        "policy_sha256": start.payload.get("policy_sha256") if start else None,
        "software": start.payload.get("software") if start else None,
        "run_id": info.run_id or (start.payload.get("run_id") if start else None),
        "columns": {
            name: {
                "role": col.role.value,
                "treatment": col.treatment.value,
                **({"key_id": keys[name]["key_id"]} if name in keys else {}),
            }
            for name, col in policy.columns.items()
        },
        "entries": [
            {"seq": e.seq, "kind": e.kind, "at": e.at, "entry_hash": e.entry_hash, **_summary(e.payload)}
            for e in entries
        ],
    }
    if row_id is not None:
        out["row"] = {
            "row_id": row_id,
            **_row_position(policy, _released_table(VersionPaths(settings, dataset, version)), row_id),
        }
    return out


def _summary(payload: dict[str, Any]) -> dict[str, Any]:
    keep = ("stage", "status", "state", "code")
    return {k: payload[k] for k in keep if k in payload}

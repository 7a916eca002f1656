"""Chunked work: a version cleared in several chunks equals the one-chunk version.

The same sample runs through the core (the stage functions the DAG's mapped tasks call) once with the
default chunk size (one chunk) and once forced into chunks of 97 rows; the cleared tables must hold
the same rows and values (the encrypted column compared after decryption: AES-GCM nonces differ), and
the ledger must verify and name every chunk's files. The mapped DAG itself runs in the slow end-to-end
test of ``tests/e2e/test_clearing_run.py`` (one mapped task instance per chunk).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from clearhouse.catalog import Catalog
from clearhouse.governance.record import ledger_for
from clearhouse.governance.verify import verify
from clearhouse.policy import load_policy
from clearhouse.privacy.crypto.configured import provider_for
from clearhouse.privacy.crypto.protect import decrypt_table
from clearhouse.sample import generate_support_tickets, write_table
from clearhouse.settings import REPO_ROOT, Settings
from clearhouse.stages.context import prepare
from clearhouse.stages.runner import run_all

pytestmark = pytest.mark.slow
ROWS = 300


def _policy(tmp_path: Path, name: str, chunk_rows: int | None) -> Path:
    text = (REPO_ROOT / "datasets" / "support_tickets.yaml").read_text(encoding="utf-8")
    text = text.replace("k_anonymity: 5", "k_anonymity: 1").replace("l: 2", "l: 1")
    if chunk_rows:
        text += f"chunk_rows: {chunk_rows}\n"
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _clear(settings: Settings, policy: Path, src: Path) -> tuple[str, Path]:
    ctx = prepare(policy, source=src, settings=settings)
    state = run_all(ctx)
    reasons = Catalog(settings.db_url).get("support_tickets", ctx.version).reasons
    assert state == "cleared", reasons
    return ctx.version, settings.zone("cleared") / "support_tickets" / ctx.version


def test_a_chunked_version_clears_to_the_one_chunk_result(settings: Settings, tmp_path: Path) -> None:
    src = settings.home / "tickets.csv"
    write_table(generate_support_tickets(ROWS, seed=3), src)
    one_version, one = _clear(settings, _policy(tmp_path, "one.yaml", None), src)
    many_version, many = _clear(settings, _policy(tmp_path, "many.yaml", 97), src)

    plan = json.loads((settings.zone("work") / "support_tickets" / many_version / "chunks.json").read_text())
    assert [c["rows"] for c in plan["chunks"]] == [97, 97, 97, 9]
    manifest = json.loads((many / "manifest.json").read_text())
    assert [c["rows"] for c in manifest["chunks"]["chunks"]] == [97, 97, 97, 9]
    assert json.loads((one / "manifest.json").read_text())["chunks"]["chunks"][0]["rows"] == ROWS

    policy = load_policy(_policy(tmp_path, "one.yaml", None))
    provider = provider_for(settings)
    tables = [
        decrypt_table(pq.read_table(d / "data.parquet"), policy, provider, dataset="support_tickets", version=v)
        for v, d in ((one_version, one), (many_version, many))
    ]
    assert tables[0].num_rows == tables[1].num_rows == ROWS
    assert tables[0].column_names == tables[1].column_names
    for name in tables[0].column_names:  # same values, same order: text, pseudonyms, generalised values
        assert tables[0].column(name).to_pylist() == tables[1].column(name).to_pylist(), name
    assert tables[0].column("phone").to_pylist() == generate_support_tickets(ROWS, seed=3).column("phone").to_pylist()

    # every chunk's stage results are in the ledger with their files' digests, and the chain verifies
    chunked = [e for e in ledger_for(settings).entries(version=many_version) if e.kind == "stage"]
    per_stage = {s: sorted(e.payload["chunk"] for e in chunked if e.payload.get("stage") == s)
                 for s in ("detect", "minimise", "protect")}
    assert per_stage == {s: [0, 1, 2, 3] for s in per_stage}
    protect_files = [f for e in chunked if e.payload.get("stage") == "protect" for f in e.payload["artifacts"]]
    assert sum("/chunks/" in f and f.endswith("protected.parquet") for f in protect_files) == 4
    report = verify(settings, "support_tickets", many_version)
    assert report.ok, report.all_problems()

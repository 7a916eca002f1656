"""A data engineer's first day: discover a new file, check the draft policy, run it through real Airflow —
the version clears, and the released data holds none of the file's direct identifiers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from tests.conftest import TEST_MASTER_KEY  # type: ignore[import-not-found]

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "clearhouse"]
ROWS, SEED = 800, 23


def test_a_discovered_draft_policy_runs_and_clears(tmp_path: Path) -> None:
    home = tmp_path / "state"
    base = {**os.environ, "CLEARHOUSE_HOME": str(home), "CLEARHOUSE_SUITES": str(home / "suites"),
           "CLEARHOUSE_MASTER_KEY": TEST_MASTER_KEY}
    base.pop("CLEARHOUSE_DB_URL", None)
    base.pop("CLEARHOUSE_TOKEN", None)

    def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *args], env={**base, **(env or {})}, capture_output=True, text=True, check=False, timeout=900
        )

    source, draft = tmp_path / "new_tickets.csv", tmp_path / "new_tickets.yaml"
    assert cli("init").returncode == 0
    sample = cli("sample", "support-tickets", "--rows", str(ROWS), "--seed", str(SEED), "--out", str(source))
    assert sample.returncode == 0
    found = cli("discover", str(source), "--policy-out", str(draft))
    assert found.returncode == 0, found.stderr
    raw = pacsv.read_csv(source)
    identifiers = [*raw.column("email").to_pylist(), *raw.column("customer_name").to_pylist(),
                   *raw.column("phone").to_pylist()]
    text = draft.read_text(encoding="utf-8")
    assert not [v for v in identifiers if v in found.stdout or v in found.stderr or v in text]
    assert cli("check-policy", str(draft)).returncode == 0

    run = cli("run", str(draft), "--json")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    info = json.loads(run.stdout)
    assert info["state"] == "cleared"
    pulled = tmp_path / "labeling"
    officer = {"CLEARHOUSE_TOKEN": (home / "first-officer.token").read_text().strip()}
    added = cli("users", "add", "lena", "--role", "labeler", "--certified-until", "2099-12-31", "--json", env=officer)
    labeler = {"CLEARHOUSE_TOKEN": json.loads(added.stdout)["token"]}
    assert cli("pull", info["dataset"], "--version", info["version"], "--to", str(pulled), env=labeler).returncode == 0
    table = pq.read_table(next(pulled.glob("*/*/data.parquet")))
    assert table.num_rows == ROWS
    released = (next(pulled.glob("*/*/data.csv"))).read_text(encoding="utf-8")
    assert not [v for v in raw.column("email").to_pylist() if v in released]
    assert "customer_name" not in table.column_names and "street_address" not in table.column_names
    assert "label" in table.column_names

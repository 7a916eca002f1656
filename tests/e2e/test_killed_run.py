"""A run killed with SIGKILL mid-stage (the CLI, Airflow and its task processes at once) publishes
nothing, is closed as failed the next time anyone looks, and the next run clears — real Airflow."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_POLICY, TEST_MASTER_KEY  # type: ignore[import-not-found]

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "clearhouse"]


def test_killed_run_is_closed_and_the_next_run_clears(tmp_path: Path) -> None:
    home = tmp_path / "state"
    env = {
        **os.environ,
        "CLEARHOUSE_HOME": str(home),
        "CLEARHOUSE_SUITES": str(home / "suites"),
        "CLEARHOUSE_MASTER_KEY": TEST_MASTER_KEY,
    }
    env.pop("CLEARHOUSE_DB_URL", None)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, check=False, timeout=900)

    assert cli("init").returncode == 0
    src = tmp_path / "tickets.csv"
    assert cli("sample", "support-tickets", "--rows", "3000", "--seed", "4", "--out", str(src)).returncode == 0

    proc = subprocess.Popen(  # its own session: the kill takes the CLI, Airflow and every task process
        [*CLI, "run", str(SAMPLE_POLICY), "--source", str(src), "--quiet"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 600
    work = home / "zones" / "work" / "support_tickets"
    while not any(work.glob("*/ingest.json")) if work.exists() else True:
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    [killed] = [p.name for p in work.iterdir() if p.is_dir()]

    status = json.loads(cli("status", "--json").stdout)  # looking closes it
    [entry] = [v for v in status if v["version"] == killed]
    assert entry["state"] == "quarantined"
    assert entry["reasons"][-1]["code"] == "stale" and "did not finish" in entry["reasons"][-1]["message"]
    assert not (home / "zones" / "cleared" / "support_tickets" / killed).exists()
    assert not list((home / "zones" / "cleared").rglob("*.partial"))

    again = cli("run", str(SAMPLE_POLICY), "--source", str(src), "--json")
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout)["state"] == "cleared"
    verified = cli("verify", "--json")
    assert verified.returncode == 0, verified.stdout
    traced = json.loads(cli("trace", "support_tickets", "--version", killed, "--json").stdout)
    kinds = {e["kind"] for e in traced["entries"]}
    assert "run_closed" in kinds

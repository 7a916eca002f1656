"""`clearhouse run` stops its Airflow child when it is interrupted or terminated (no orphaned run)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clearhouse.sample import generate_support_tickets, write_table
from clearhouse.settings import REPO_ROOT
from tests.conftest import TEST_MASTER_KEY  # type: ignore[import-not-found]

DRIVER = """
import signal, sys
# as started from a terminal: a job started in the background (pytest under nohup or `&`) inherits
# SIGINT ignored, and Python then installs no Ctrl-C handler
signal.signal(signal.SIGINT, signal.default_int_handler)
from clearhouse.runs import embedded
embedded._run_command = lambda: [sys.argv[1]]  # a stand-in for `airflow` that only sleeps
from clearhouse.cli import main
raise SystemExit(main(["run", sys.argv[2], "--source", sys.argv[3], "--quiet"]))
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie has exited: it only waits to be reaped by its (gone) parent
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[1].startswith("Z"))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_terminated_run_stops_its_airflow_child(tmp_path: Path, sig: signal.Signals) -> None:
    home = tmp_path / "state"
    (home / "airflow").mkdir(parents=True)
    (home / "airflow" / ".migrated").write_text("ok\n")  # the stand-in needs no metadata DB
    pid_file = tmp_path / "child.pid"
    fake = tmp_path / "airflow"
    fake.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 120\n")
    fake.chmod(0o755)
    src = tmp_path / "in.csv"
    write_table(generate_support_tickets(10, seed=1), src)
    env = {**os.environ, "CLEARHOUSE_HOME": str(home), "CLEARHOUSE_MASTER_KEY": TEST_MASTER_KEY}
    proc = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(fake), str(REPO_ROOT / "datasets" / "support_tickets.yaml"), str(src)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not pid_file.exists() or not pid_file.read_text().strip():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the stand-in airflow never started"
        time.sleep(0.1)
    child = int(pid_file.read_text())
    assert _alive(child)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child), "the Airflow child outlived the CLI"

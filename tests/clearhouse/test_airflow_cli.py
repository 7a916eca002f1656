"""The embedded runs' Airflow entry point behaves like ``airflow`` itself: same output, same exit code,
and what was printed last still arrives although the process skips the interpreter's final clean-up."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
OURS = [sys.executable, "-m", "clearhouse.orchestration.airflow_cli"]
_STAMP = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+Z")


def _same(text: str) -> str:
    return _STAMP.sub("<time>", text)


@pytest.mark.parametrize("args", [["version"], ["no-such-command"], ["dags", "list", "--output", "json"]])
def test_same_output_and_exit_code_as_airflow(tmp_path: Path, args: list[str]) -> None:
    env = {"AIRFLOW_HOME": str(tmp_path / "home"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__DAGS_FOLDER": str(tmp_path / "dags"), "PATH": "/usr/bin:/bin"}
    (tmp_path / "dags").mkdir()
    theirs = subprocess.run([AIRFLOW, *args], env=env, capture_output=True, text=True, check=False, timeout=300)
    ours = subprocess.run([*OURS, *args], env=env, capture_output=True, text=True, check=False, timeout=300)
    assert ours.returncode == theirs.returncode
    assert _same(ours.stdout) == _same(theirs.stdout)
    assert _same(ours.stderr).strip().splitlines()[-1:] == _same(theirs.stderr).strip().splitlines()[-1:]


def test_a_message_exit_is_printed_and_fails(tmp_path: Path) -> None:
    # sys.exit("…") inside Airflow: the message on stderr, exit code 1, as Python itself would do
    code = ("import sys, runpy; import airflow.__main__ as m; "
            "m.main = lambda: sys.exit('stopped: no such DAG'); "
            "sys.argv = ['airflow_cli']; runpy.run_module('clearhouse.orchestration.airflow_cli', run_name='__main__')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=300,
                         env={"AIRFLOW_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 1
    assert out.stderr.strip().endswith("stopped: no such DAG")

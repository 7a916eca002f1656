"""Run a dataset's DAG on the embedded default: in-process Airflow (``airflow dags test``) with a SQLite
metadata DB under ``CLEARHOUSE_HOME/airflow``. Airflow reads its configuration at import time, so every
Airflow command runs in a subprocess with the environment built here; this module never imports Airflow.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from clearhouse.errors import ConfigError
from clearhouse.files import write_json
from clearhouse.settings import REPO_ROOT, Settings

DAGS_FOLDER = REPO_ROOT / "dags"
PLUGINS_FOLDER = REPO_ROOT / "plugins"


def airflow_env(settings: Settings, extra_policies: list[Path] | None = None) -> dict[str, str]:
    """The environment of an Airflow child process: ours plus Airflow's configuration for the embedded
    default. The parent's environment is passed through (secrets such as the master key included) so
    that tasks read the same settings."""
    env = dict(os.environ)
    home = settings.airflow_home
    env.update(settings.to_env())
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGINS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": settings.airflow_metadata_url,
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            # Airflow chmods its task-log folders and files itself (0o775 / 0o664 by default), whatever the
            # umask: task logs are metadata about personal data, private to the owner like the rest
            "AIRFLOW__LOGGING__FILE_TASK_HANDLER_NEW_FOLDER_PERMISSIONS": "0o700",
            "AIRFLOW__LOGGING__FILE_TASK_HANDLER_NEW_FILE_PERMISSIONS": "0o600",
            "AIRFLOW__CORE__DAGBAG_IMPORT_ERROR_TRACEBACKS": "True",
            # Airflow's own OpenLineage integration is not installed; ours records lineage per stage.
            "AIRFLOW__OPENLINEAGE__DISABLED": "True",
            "GX_ANALYTICS_ENABLED": "False",
            "HF_HUB_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    # a person's API token is for their own acts, never for Airflow's tasks
    env.pop("CLEARHOUSE_TOKEN", None)
    if extra_policies:
        env["CLEARHOUSE_EXTRA_POLICIES"] = os.pathsep.join(str(p) for p in extra_policies)
    return env


def _airflow_bin() -> str:
    candidate = Path(sys.executable).with_name("airflow")
    if not candidate.exists():
        raise ConfigError(f"airflow is not installed next to {sys.executable}; run `make demo` or `make venv`")
    return str(candidate)


def _run_command() -> list[str]:
    """Airflow's CLI for a DAG run: its own ``main`` through :mod:`clearhouse.orchestration.airflow_cli`,
    which ends the process without freeing the heap object by object (about 3 s of every run)."""
    _airflow_bin()  # installed beside us, or a clear error
    return [sys.executable, "-m", "clearhouse.orchestration.airflow_cli"]


def ensure_airflow_db(settings: Settings, log_path: Path | None = None) -> None:
    """Migrate the Airflow metadata DB once per state directory (idempotent)."""
    marker = settings.airflow_home / ".migrated"
    if marker.exists():
        return
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(  # noqa: S603 - fixed argv, our own venv's airflow
        [_airflow_bin(), "db", "migrate"], env=airflow_env(settings), capture_output=True, text=True, check=False
    )
    if log_path:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(out.stdout + out.stderr, encoding="utf-8")
    if out.returncode != 0:
        tail = "\n".join((out.stdout + out.stderr).strip().splitlines()[-15:])
        raise ConfigError(f"airflow db migrate failed (exit {out.returncode}):\n{tail}")
    marker.write_text("ok\n", encoding="utf-8")


_STARTING = re.compile(r"\[DAG TEST\] starting task_id=(\w+)")


def task_started(line: str) -> str | None:
    """The task id when a line of ``airflow dags test`` output says a task starts."""
    match = _STARTING.search(line)
    return match.group(1) if match else None


@dataclass(frozen=True)
class DagRunOutcome:
    returncode: int
    log_path: Path


def run_dag_test(
    settings: Settings,
    dag_id: str,
    conf: Mapping[str, object],
    *,
    log_path: Path,
    extra_policies: list[Path] | None = None,
    on_line: Callable[[str], None] | None = None,
    pid_file: Path | None = None,
) -> DagRunOutcome:
    """``airflow dags test DAG_ID --conf …`` in a subprocess; its output goes to ``log_path`` and, line
    by line, to ``on_line`` (the CLI shows progress from it). While it runs, ``pid_file`` names the
    child's host and pid, so a run killed with everything around it can be told from a live one."""
    ensure_airflow_db(settings, settings.airflow_home / "migrate.log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    argv = [*_run_command(), "dags", "test", dag_id, "--conf", json.dumps(conf)]
    with log_path.open("w", encoding="utf-8") as fh:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv
            argv,
            env=airflow_env(settings, extra_policies),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert proc.stdout is not None
        if pid_file is not None:
            write_json(pid_file, {"host": socket.gethostname(), "pid": proc.pid})
        try:
            for line in proc.stdout:
                fh.write(line)
                if on_line is not None:
                    on_line(line)
            code = proc.wait()
        except BaseException:
            # interrupted (Ctrl-C): the Airflow child must not run on alone
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            raise
        finally:
            if pid_file is not None:
                pid_file.unlink(missing_ok=True)
    return DagRunOutcome(code, log_path)

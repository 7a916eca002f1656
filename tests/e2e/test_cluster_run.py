"""The local distributed deployment end to end: `clearhouse cluster up` (Airflow 3, CeleryExecutor,
PostgreSQL, Redis, two workers), the sample cleared through the REST API with `clearhouse trigger
--wait --json`, every task run on a Celery worker, and `clearhouse cluster down` leaving no process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from clearhouse.runs.remote import AirflowApi
from clearhouse.settings import REPO_ROOT
from tests.conftest import TEST_MASTER_KEY  # type: ignore[import-not-found]

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

# 2,000 rows: the shipped policy's k-anonymity (k = 5 over gender, age band and region) needs them; on
# 500 rows the same run is (rightly) quarantined by validate, which says nothing about the cluster.
ROWS, SEED = 2000, 11
CHUNK_ROWS = 1000
ADMIN_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _processes_with(marker: str) -> list[int]:
    """Pids of live processes whose environment contains ``marker`` (our CLEARHOUSE_HOME)."""
    found = []
    needle = marker.encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if needle in (proc / "environ").read_bytes() and (proc / "stat").read_text().split(") ")[1][0] != "Z":
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.fixture
def cluster_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    try:
        create_engine(ADMIN_PG).connect().close()
    except Exception as exc:  # pragma: no cover - depends on the machine
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable: {type(exc).__name__}")
    prefix = f"chtest_{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "CLEARHOUSE_HOME": str(tmp_path / "state"),
        "CLEARHOUSE_SUITES": str(tmp_path / "state" / "suites"),
        "CLEARHOUSE_MASTER_KEY": TEST_MASTER_KEY,
        "CLEARHOUSE_CLUSTER_DB_PREFIX": prefix,
        # two chunks: detect, minimise and protect run as two mapped task instances each
        "CLEARHOUSE_CHUNK_ROWS": str(CHUNK_ROWS),
        "CLEARHOUSE_CLUSTER_API_PORT": str(_free_port()),
        # its own Redis database and (by the prefix) its own Celery queue: no other cluster's workers
        "CLEARHOUSE_CLUSTER_BROKER_URL": "redis://127.0.0.1:6379/13",
    }
    env.pop("CLEARHOUSE_DB_URL", None)
    env.pop("CLEARHOUSE_API_URL", None)
    env.pop("CLEARHOUSE_API_PASSWORD", None)
    yield env
    admin = create_engine(ADMIN_PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for suffix in ("airflow", "catalog"):
            conn.execute(text(f'DROP DATABASE IF EXISTS "{prefix}_{suffix}" WITH (FORCE)'))
    admin.dispose()


def _cli(env: dict[str, str], *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clearhouse", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=REPO_ROOT,
    )


def test_cluster_clears_the_sample_on_celery_workers_and_stops_cleanly(
    cluster_env: dict[str, str], tmp_path: Path
) -> None:
    env = cluster_env
    home = env["CLEARHOUSE_HOME"]
    try:
        started = _cli(env, "cluster", "up", "--json")
        assert started.returncode == 0, started.stdout + started.stderr
        doc = json.loads(started.stdout)
        assert set(doc["components"]) == {
            "api-server",
            "scheduler",
            "dag-processor",
            "triggerer",
            "worker-w1",
            "worker-w2",
        }
        assert all(doc["components"].values())
        cluster_dir = Path(home) / "cluster"
        for private in ("airflow.env", "passwords.json"):
            assert (cluster_dir / private).stat().st_mode & 0o777 == 0o600

        source = tmp_path / "tickets.csv"
        made = _cli(env, "sample", "support-tickets", "--rows", str(ROWS), "--seed", str(SEED), "--out", str(source))
        assert made.returncode == 0, made.stderr

        run = _cli(
            env, "trigger", str(REPO_ROOT / "datasets" / "support_tickets.yaml"), "--source", str(source), "--wait",
            "--json",
        )  # fmt: skip
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        result = json.loads(run.stdout)
        assert result["state"] == "cleared"
        assert result["run_state"] == "success"
        assert result["rows_in"] == ROWS
        tis = result["task_instances"]
        chunked = ("detect", "minimise", "protect")
        assert sorted(t["task_id"] for t in tis) == sorted(
            ["prepare", "ingest", "chunks", *chunked, *chunked, "validate", "release"]
        )
        assert all(t["state"] == "success" for t in tis)
        assert sorted((t["task_id"], t["map_index"]) for t in tis if t["task_id"] in chunked) == sorted(
            (task, i) for task in chunked for i in (0, 1)
        )
        assert all(t["map_index"] == -1 for t in tis if t["task_id"] not in chunked)
        # every task ran on one of the two Celery workers, which report their own names
        fqdn = socket.getfqdn()
        hosts = {t["hostname"] for t in tis}
        assert hosts <= {f"w1@{fqdn}", f"w2@{fqdn}"}, hosts

        # the cleared release was published as an Asset event naming the version (no values)
        password = json.loads((cluster_dir / "passwords.json").read_text())["admin"]
        api = AirflowApi(result["api_url"], "admin", password)
        events = api._request("GET", "/api/v2/assets/events?source_dag_id=clearhouse__support_tickets")["asset_events"]
        [event] = [e for e in events if e["source_run_id"] == result["dag_run_id"]]
        assert (event["name"], event["source_task_id"]) == ("clearhouse://support_tickets", "release")
        extra = event["extra"] or {}
        assert {k: extra.get(k) for k in ("dataset", "version")} == {
            "dataset": "support_tickets",
            "version": result["version"],
        }

        # the portal is mounted in Airflow's API server at /clearhouse, with its own sign-in: the health
        # check answers anyone, every other route (even with Airflow's own credentials) answers 401
        portal = result["api_url"].rstrip("/") + "/clearhouse"
        with urllib.request.urlopen(portal + "/healthz", timeout=30) as r:
            assert json.load(r) == {"status": "ok"}
        for path in ("/", "/officer", "/openapi.json", f"/labeler/support_tickets/{result['version']}/download/csv"):
            try:
                urllib.request.urlopen(portal + path, timeout=30)
                raise AssertionError(f"{path} answered without a sign-in")
            except urllib.error.HTTPError as exc:
                assert exc.code == 401, (path, exc.code)

        # secrets stay in their files
        secrets = [
            line.split("=", 1)[1]
            for line in (cluster_dir / "airflow.env").read_text().splitlines()
            if line.startswith(
                ("AIRFLOW__API_AUTH__JWT_SECRET=", "AIRFLOW__CORE__FERNET_KEY=", "AIRFLOW__API__SECRET_KEY=")
            )
        ]
        secrets += json.loads((cluster_dir / "passwords.json").read_text()).values()
        assert len(secrets) == 4
        texts = [started.stdout, started.stderr, run.stdout, run.stderr]
        texts += [p.read_text(errors="replace") for p in (cluster_dir / "logs").glob("*.log")]
        texts += [p.read_text(errors="replace") for p in (cluster_dir / "airflow" / "logs").rglob("*") if p.is_file()]
        for secret in secrets:
            assert not any(secret in t for t in texts)
    finally:
        stopped = _cli(env, "cluster", "down", "--json", timeout=120)
    assert stopped.returncode == 0, stopped.stderr
    assert "worker-w1" in json.loads(stopped.stdout)["stopped"]
    assert _processes_with(f"CLEARHOUSE_HOME={home}") == []
    status = _cli(env, "cluster", "status", "--json")
    assert status.returncode == 1
    assert json.loads(status.stdout)["components"] == {}

"""The local cluster's configuration and the REST client of `clearhouse trigger`, without starting Airflow
(tests/e2e/test_cluster_run.py brings a real cluster up)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from clearhouse.catalog import Catalog
from clearhouse.errors import ConfigError
from clearhouse.orchestration.hostname import worker_hostname
from clearhouse.runs import cluster, remote
from clearhouse.settings import REPO_ROOT, Settings, load_settings

POLICY = REPO_ROOT / "datasets" / "support_tickets.yaml"


def test_config_is_shared_private_and_kept_across_restarts(settings: Settings) -> None:
    first = cluster.write_config(settings)
    lay = cluster.layout(settings)
    for private in (lay.env_file, lay.passwords):
        assert private.stat().st_mode & 0o777 == 0o600
    assert cluster.read_env_file(lay.env_file) == first
    again = cluster.write_config(settings)
    for key in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API__SECRET_KEY"):
        assert again[key] == first[key] and len(first[key]) >= 32
    port = settings.cluster_api_port
    assert first["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert first["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == f"http://127.0.0.1:{port}/execution/"
    assert first["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == "postgresql://postgres@127.0.0.1:5432/clearhouse_airflow"
    assert first["AIRFLOW__CELERY__RESULT_BACKEND"] == "db+" + first["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert first["CLEARHOUSE_DB_URL"] == "postgresql://postgres@127.0.0.1:5432/clearhouse_catalog"
    assert first["CLEARHOUSE_DETECT_PROCESSES"] == "1"  # no process pool inside a Celery pool child
    # what clients read holds no secret
    info = lay.info.read_text()
    for key in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API__SECRET_KEY"):
        assert first[key] not in info
    assert json.loads(lay.passwords.read_text())["admin"] not in info


def test_components_listen_on_loopback_and_workers_have_their_own_names(settings: Settings) -> None:
    config = cluster.write_config(settings)
    parts = {c.name: c for c in cluster.components(settings, config)}
    assert list(parts) == ["api-server", "scheduler", "dag-processor", "triggerer", "worker-w1", "worker-w2"]
    api = parts["api-server"].argv
    assert api[api.index("--host") + 1] == "127.0.0.1"
    for name in ("worker-w1", "worker-w2"):
        argv = parts[name].argv
        short = name.removeprefix("worker-")
        assert argv[argv.index("--celery-hostname") + 1] == f"{short}@%h"
        assert argv[argv.index("--queues") + 1] == "clearhouse"
        assert "--skip-serve-logs" in argv  # Celery's log server would listen on every interface
        assert parts[name].env == {"CLEARHOUSE_WORKER_NAME": short}
    assert "--skip-serve-logs" in parts["triggerer"].argv


def test_a_postgres_catalog_url_is_used_as_given(home: Path) -> None:
    s = load_settings({"CLEARHOUSE_HOME": str(home), "CLEARHOUSE_DB_URL": "postgresql+psycopg://u@db:5432/cat"})
    assert cluster.catalog_url(s) == "postgresql+psycopg://u@db:5432/cat"


def test_bad_cluster_urls_are_bad_input(home: Path) -> None:
    with pytest.raises(ConfigError, match="postgresql"):
        cluster.write_config(load_settings({"CLEARHOUSE_HOME": str(home), "CLEARHOUSE_CLUSTER_PG_URL": "sqlite://"}))
    s = load_settings({"CLEARHOUSE_HOME": str(home), "CLEARHOUSE_CLUSTER_BROKER_URL": "amqp://127.0.0.1"})
    with pytest.raises(ConfigError, match="redis"):
        cluster.check_broker(s)
    with pytest.raises(ConfigError):
        load_settings({"CLEARHOUSE_HOME": str(home), "CLEARHOUSE_CLUSTER_DB_PREFIX": "Bad-Name"})


def test_worker_hostname_names_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLEARHOUSE_WORKER_NAME", raising=False)
    plain = worker_hostname()
    monkeypatch.setenv("CLEARHOUSE_WORKER_NAME", "w2")
    assert worker_hostname() == f"w2@{plain}"


def test_nothing_running_is_reported_and_down_is_a_no_op(settings: Settings) -> None:
    assert cluster.running(settings) == {}
    assert cluster.down(settings) == []
    pid_dir = cluster.layout(settings).root / "pids"
    pid_dir.mkdir(parents=True)
    (pid_dir / "scheduler.pid").write_text("999999999 1\n")  # a pid that is not ours
    assert cluster.running(settings) == {"scheduler": None}
    assert cluster.down(settings) == []
    assert not list(pid_dir.iterdir())


# ------------------------------------------------------------------------------------- a fake Airflow API
class FakeAirflow(BaseHTTPRequestHandler):
    password = "s3cret-pw"
    catalog_url = ""
    runs: dict[str, dict[str, Any]] = {}  # noqa: RUF012 - shared by the handler's instances on purpose

    def log_message(self, *_: object) -> None:
        pass

    def _send(self, code: int, doc: object) -> None:
        body = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        return data

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") != "Bearer tok":
            self._send(401, {"detail": "Not authenticated"})
            return False
        return True

    def do_POST(self) -> None:
        if self.path == "/auth/token":
            ok = self._body() == {"username": "admin", "password": self.password}
            self._send(201, {"access_token": "tok"}) if ok else self._send(401, {"detail": "Invalid credentials"})
            return
        if not self._authorised():
            return
        body = self._body()
        version = body["conf"]["version"]
        catalog = Catalog(self.catalog_url)
        catalog.register_dataset(
            dataset="support_tickets", owner="o", purpose="p", ethics_risk="E2", policy_path=str(POLICY)
        )
        catalog.start_version("support_tickets", version, run_id=body["dag_run_id"])
        catalog.set_state("support_tickets", version, "cleared")
        self.runs[body["dag_run_id"]] = body
        self._send(200, {"dag_run_id": body["dag_run_id"], "state": "queued"})

    def do_PATCH(self) -> None:
        if self._authorised():
            self._send(200, {"is_paused": False})

    def do_GET(self) -> None:
        if not self._authorised():
            return
        if self.path == "/api/v2/dags/clearhouse__support_tickets":
            self._send(200, {"dag_id": "clearhouse__support_tickets", "is_paused": True})
        elif self.path.endswith("/taskInstances?limit=1000"):
            ti = {"task_id": "release", "map_index": -1, "state": "success", "hostname": "w1@h", "try_number": 1}
            self._send(200, {"task_instances": [ti], "total_entries": 1})
        elif "/dagRuns/" in self.path:
            self._send(200, {"state": "success"})
        else:
            self._send(404, {"detail": "not found"})


@pytest.fixture
def fake_api(settings: Settings) -> Iterator[str]:
    FakeAirflow.catalog_url = settings.db_url
    FakeAirflow.runs = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAirflow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_trigger_signs_in_submits_and_reports_the_outcome(
    fake_api: str, home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from clearhouse.cli import app

    monkeypatch.setenv("CLEARHOUSE_API_PASSWORD", FakeAirflow.password)
    source = tmp_path / "in.csv"
    source.write_text("ticket_id\n1\n")
    result = CliRunner().invoke(
        app, ["trigger", str(POLICY), "--source", str(source), "--wait", "--json", "--api-url", fake_api]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["state"] == "cleared"
    assert doc["run_state"] == "success"
    assert doc["task_instances"] == [
        {"task_id": "release", "map_index": -1, "state": "success", "hostname": "w1@h", "try_number": 1}
    ]
    [(run_id, body)] = FakeAirflow.runs.items()
    assert run_id == f"clearhouse__{doc['version']}"
    assert body["conf"] == {"version": doc["version"], "source": str(source.resolve())}
    assert body["logical_date"] is None


def test_wrong_password_is_bad_input_and_never_echoed(fake_api: str, settings: Settings) -> None:
    api = remote.AirflowApi(fake_api, "admin", "not-the-password")
    with pytest.raises(ConfigError, match="sign-in as 'admin' failed") as err:
        api.token()
    assert "not-the-password" not in str(err.value)
    assert "not-the-password" not in repr(api)


def test_no_password_for_a_remote_api_is_bad_input(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="CLEARHOUSE_API_PASSWORD"):
        remote.connect(settings, "http://127.0.0.1:1")

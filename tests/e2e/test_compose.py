"""`make compose-test` as a test: docker/docker-compose.yaml brought up for real, the sample cleared
through its REST API on the Celery worker containers, everything torn down (docker/compose-test.sh)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from clearhouse.settings import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.docker]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _engine_available() -> bool:
    if shutil.which("docker") is None:
        return False
    running = subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0
    return running or shutil.which("dockerd") is not None


@pytest.mark.skipif(not _engine_available(), reason="no Docker engine (apt-get install docker.io docker-compose)")
def test_compose_deployment_clears_the_sample_through_the_rest_api(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "VENV": str(Path(sys.executable).parent.parent),
        "COMPOSE_TEST_DIR": str(tmp_path),
        "COMPOSE_PROJECT": f"clearhouse{uuid.uuid4().hex[:8]}",
        "CLEARHOUSE_API_PORT": str(_free_port()),
        "POSTGRES_PORT": str(_free_port()),
    }
    out = subprocess.run(
        ["bash", str(REPO_ROOT / "docker" / "compose-test.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    assert "state cleared, run success, exit 0" in out.stderr
    assert "compose-test: ok" in out.stderr

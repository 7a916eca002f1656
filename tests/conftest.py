"""Shared fixtures: an isolated state directory per test (or module) and a small sample dataset."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, text

from clearhouse.settings import REPO_ROOT, Settings, load_settings

if TYPE_CHECKING:
    from clearhouse.acts.users import User

SAMPLE_POLICY = REPO_ROOT / "datasets" / "support_tickets.yaml"
TEST_MASTER_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()
#: a minimal privacy impact assessment for test policies of E1 and above (appended to their YAML)
ASSESSMENT_YAML = """\
assessment:
  purpose: route support tickets to the right team (test policy)
  legal_basis: legitimate_interests
  data_subjects: [customers]
  recipients: [internal labeling team]
  retention_period: 90d
"""


def make_settings(home: Path) -> Settings:
    # the process environment (master key set by the `home` fixture) plus this test's state directory
    settings = load_settings({**os.environ, "CLEARHOUSE_HOME": str(home), "CLEARHOUSE_SUITES": str(home / "suites")})
    settings.ensure_dirs()
    return settings


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    h = tmp_path / "state"
    monkeypatch.setenv("CLEARHOUSE_HOME", str(h))
    monkeypatch.setenv("CLEARHOUSE_SUITES", str(h / "suites"))
    monkeypatch.setenv("CLEARHOUSE_MASTER_KEY", TEST_MASTER_KEY)
    monkeypatch.delenv("CLEARHOUSE_DB_URL", raising=False)
    return h


@pytest.fixture
def settings(home: Path) -> Settings:
    return make_settings(home)


def first_officer(settings: Settings) -> tuple[User, str]:
    """The state directory's first officer (created as `clearhouse init` does) and its token."""
    from clearhouse.acts.users import FIRST_OFFICER_FILE, authenticate, create_first_officer

    create_first_officer(settings)
    token = (settings.home / FIRST_OFFICER_FILE).read_text().strip()
    return authenticate(settings, token, act="test"), token


def add_user(settings: Settings, name: str, role: str, *, certified_days: int | None = 30) -> tuple[User, str]:
    """Add a user through the officer act (labelers certified for ``certified_days`` unless None)."""
    from datetime import UTC, datetime, timedelta

    from clearhouse.acts.users import add_user as add

    officer, _ = first_officer(settings)
    until = None
    if role == "labeler" and certified_days is not None:
        until = datetime.now(UTC).date() + timedelta(days=certified_days)
    return add(settings, name, role, by=officer, certified_until=until)


@pytest.fixture(scope="session")
def no_network() -> Iterator[None]:
    """Fail any attempt to open a non-loopback socket while the fixture is active."""
    import socket

    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else str(address)
        if isinstance(host, str) and not (
            host.startswith("127.") or host in {"localhost", "::1"} or host.startswith("/")
        ):
            raise AssertionError(f"network access attempted: {host}")
        return real_connect(self, address)  # type: ignore[arg-type]

    socket.socket.connect = guarded  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]


PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def pg_url() -> Iterator[str]:
    name = f"ch_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - depends on the machine
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable: {type(exc).__name__}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        from clearhouse.catalog import get_engine

        get_engine.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

"""Fixtures of the portal tests: a state directory where a real run produced versions, people with
tokens, and a client of the portal app.

The run is the real pipeline (the stage functions the DAG tasks call: Presidio + spaCy, AES-GCM, a GX
checkpoint, the signed ledger) on small samples: one E2 version (cleared) and one E3 version (awaiting
an officer's approval). Test modules use these through fixtures only.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clearhouse.acts.users import User, add_user, authenticate, create_first_officer
from clearhouse.settings import REPO_ROOT, Settings, load_settings

MASTER_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()
POLICY = (REPO_ROOT / "datasets" / "support_tickets.yaml").read_text()


def settings_for(home: Path) -> Settings:
    settings = load_settings(
        {
            **os.environ,
            "CLEARHOUSE_HOME": str(home),
            "CLEARHOUSE_SUITES": str(home / "suites"),
            "CLEARHOUSE_MASTER_KEY": MASTER_KEY,
        }
    )
    settings.ensure_dirs()
    return settings


def env_for(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARHOUSE_")}
    env.update(
        {"CLEARHOUSE_HOME": str(home), "CLEARHOUSE_SUITES": str(home / "suites"), "CLEARHOUSE_MASTER_KEY": MASTER_KEY}
    )
    return env


@dataclass
class People:
    """Users and their tokens in one state directory, made through the identity acts: the first officer
    as ``clearhouse init`` makes it, everyone else added by that officer."""

    settings: Settings
    tokens: dict[str, str] = field(default_factory=dict)
    officer: User | None = None

    def add(self, name: str, role: str, *, certified_days: int | None = 30) -> str:
        if self.officer is None:
            assert role == "officer", "the first user is an officer"
            path = create_first_officer(self.settings, name)
            assert path is not None
            token = path.read_text().strip()
            self.officer = authenticate(self.settings, token, act="test")
        else:
            until = date.today() + timedelta(days=certified_days) if role == "labeler" and certified_days else None
            _, token = add_user(self.settings, name, role, by=self.officer, certified_until=until)
        self.tokens[name] = token
        return token

    def user(self, name: str) -> User:
        return authenticate(self.settings, self.tokens[name], act="test")


@dataclass
class PortalState:
    """A state directory with a real run's versions."""

    settings: Settings
    cleared: str
    awaiting: str
    emails: list[str]
    people: People


def _policy(home: Path, name: str, *, append: str = "", **replace: str) -> Path:
    text = POLICY
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path = home / name
    path.write_text(text + append)
    return path


@pytest.fixture(scope="module")
def portal_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalState]:
    import pyarrow.csv as pacsv

    from clearhouse.sample import generate_support_tickets, write_table
    from clearhouse.stages.context import prepare
    from clearhouse.stages.runner import run_all

    home = tmp_path_factory.mktemp("portal") / "state"
    settings = settings_for(home)
    # small samples: relax k-anonymity / l-diversity so the gates pass on a few hundred rows
    e2 = _policy(home, "e2.yaml", **{"k_anonymity: 5": "k_anonymity: 1"})
    # E3: waits for the assessment's sign-off, a residual-PII review (a sample of 59 records with no leak
    # bounds the rate at 5% with 95% confidence) and an officer's approval
    e3 = _policy(
        home,
        "e3.yaml",
        append="review:\n  max_residual_rate: 0.05\n",
        **{"ethics_risk: E2": "ethics_risk: E3", "k_anonymity: 5": "k_anonymity: 1", "l: 2": "l: 1"},
    )
    versions = []
    emails: list[str] = []
    for policy, rows in ((e2, 300), (e3, 200)):
        source = home / f"tickets-{rows}.csv"
        write_table(generate_support_tickets(rows, seed=3), source)
        emails += [str(e) for e in pacsv.read_csv(source).column("email").to_pylist()]
        ctx = prepare(policy, source=source, settings=settings)
        versions.append((ctx.version, run_all(ctx)))
    (cleared, s1), (awaiting, s2) = versions
    assert (s1, s2) == ("cleared", "awaiting_approval"), versions
    people = People(settings)
    people.add("olivia", "officer")
    people.add("lara", "labeler")
    people.add("erin", "engineer")
    yield PortalState(settings, cleared, awaiting, emails, people)


@pytest.fixture
def client_for() -> Callable[..., TestClient]:
    from clearhouse.web import create_app

    def make(settings: Settings, *, https: bool = False) -> TestClient:
        return TestClient(create_app(settings), base_url="https://testserver" if https else "http://testserver")

    return make

"""The assessment and review commands' edges: who may use them, what they print before any run, and
bad input (no real run needed here; tests/clearhouse/test_assessment_review.py has the runs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clearhouse.cli import main
from clearhouse.policy import load_policy
from clearhouse.settings import REPO_ROOT, Settings
from tests.conftest import add_user  # type: ignore[import-not-found]

POLICY = REPO_ROOT / "datasets" / "support_tickets.yaml"
VERSION = "20261125T101500Z-a1b2c3"


def test_show_a_policy_file_before_any_run(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assessment", "show", str(POLICY)]) == 0
    out = capsys.readouterr().out
    digest = load_policy(POLICY).assessment_digest()
    assert digest is not None and f"digest         {digest}" in out
    assert "has not run yet" in out and "legitimate_interests" in out and "retention      1y" in out
    assert main(["assessment", "show", str(POLICY), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["digest"] == digest and doc["signed"] is False and doc["assessment"]["retention_period"] == "1y"


def test_show_refuses_bad_input(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(POLICY.read_text().split("# Privacy impact assessment")[0])  # the assessment cut off
    assert main(["assessment", "show", str(bad)]) == 2
    assert "an E2 policy needs an assessment" in capsys.readouterr().err
    assert main(["assessment", "show", "no_such_dataset"]) == 2
    assert "unknown dataset" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["assessment", "sign", "support_tickets"],
        ["review", "sample", "support_tickets", VERSION],
        ["review", "submit", "support_tickets", VERSION, "--leaks", "none"],
    ],
)
def test_only_an_officer_may_sign_or_review(
    settings: Settings, argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, token = add_user(settings, "lena", "labeler")
    monkeypatch.setenv("CLEARHOUSE_TOKEN", token)
    assert main(argv) == 1
    assert "officer role" in capsys.readouterr().err
    monkeypatch.delenv("CLEARHOUSE_TOKEN")
    assert main(argv) == 1
    assert "needs a token" in capsys.readouterr().err


def test_submit_needs_explicit_marks(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # forgetting --leaks must not read as "no leak found"
    assert main(["review", "submit", "support_tickets", VERSION]) == 2
    assert "--leaks" in capsys.readouterr().err

"""The per-version privacy report: sections, charts, escaping, and no planted values."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from clearhouse.policy import parse_policy
from clearhouse.validation.gate import validate_version
from clearhouse.validation.outcome import ValidationOutcome
from clearhouse.validation.report import write_privacy_report
from tests.conftest import ASSESSMENT_YAML  # type: ignore[import-not-found]

PLANTED = ("yolanda.planted@example.net", "Yolanda Planted", "+44 20 7946 0555")

POLICY = parse_policy(
    """
id: report_demo
owner: privacy-office
purpose: route support tickets to the right team
ethics_risk: E3
source: {path: tickets.csv}
columns:
  name:    {role: direct_identifier, treatment: drop}
  email:   {role: direct_identifier, treatment: pseudonymise}
  gender:  {role: quasi_identifier, treatment: keep}
  age:     {role: quasi_identifier, treatment: generalise, params: {bin: 20}}
  message: {role: free_text, treatment: redact}
  label:   {role: label, treatment: keep}
k_anonymity: 2
expectations:
  - {type: expect_column_label_balance, column: label, max_ratio: 2, severity: warning}
  - {type: expect_l_diversity, quasi_identifiers: [gender], sensitive_column: label, l: 2}
review: {max_residual_rate: 0.05}
"""
    + ASSESSMENT_YAML
)

FINDINGS = [
    {
        "column": "email",
        "kind": "structured",
        "rows_scanned": 8,
        "rows_with_pii": 8,
        "entities": {"EMAIL_ADDRESS": {"count": 8, "mean_score": 1.0}},
        "inferred_entity": "EMAIL_ADDRESS",
        "confidence": 1.0,
        "evidence": {"regex": 8},
    },
    {
        "column": "message",
        "kind": "free_text",
        "rows_scanned": 8,
        "rows_with_pii": 3,
        "entities": {
            "PERSON": {"count": 3, "mean_score": 0.85},
            "PHONE_NUMBER": {"count": 2, "mean_score": 0.75},
        },
        "inferred_entity": None,
        "confidence": 0.0,
        "evidence": {},
    },
]
TREATMENTS = {
    "name": "drop",
    "email": "pseudonymise",
    "gender": "keep",
    "age": "generalise(bin=20)",
    "message": "redact",
    "label": "keep",
}


@pytest.fixture
def outcome(tmp_path: Path, regex_detector: Any) -> ValidationOutcome:
    cleared = pd.DataFrame(
        {
            "email": ["tok_a", "tok_b"] * 4,
            "gender": ["female", "male"] * 4,
            "age": ["20-39"] * 8,
            "message": ["<PERSON> called about <PHONE_NUMBER>"] * 8,
            "label": ["billing"] * 5 + ["<i>refund</i>"] * 3,
        }
    )
    raw = cleared.assign(
        name=PLANTED[1],
        email=PLANTED[0],
        message=f"{PLANTED[1]} called {PLANTED[2]}",
        age=[23, 31, 38, 25, 27, 33, 36, 21],
    )
    return validate_version(
        cleared,
        POLICY,
        dataset="report_demo",
        version="v7",
        suites_dir=tmp_path / "suites",
        reports_dir=tmp_path / "reports",
        raw=raw,
        detector=regex_detector,
    )


@pytest.fixture
def report(tmp_path: Path, outcome: ValidationOutcome) -> str:
    path = write_privacy_report(
        tmp_path / "reports" / "report_demo" / "v7" / "privacy_report.html",
        policy=POLICY,
        dataset="report_demo",
        version="v7",
        findings=FINDINGS,
        treatments=TREATMENTS,
        outcome=outcome,
        lineage_href="../../lineage/report_demo/v7.html",
    )
    return path.read_text(encoding="utf-8")


def test_report_has_every_section(report: str) -> None:
    for section in ("overview", "findings", "treatments", "risk", "fairness", "checks", "links"):
        assert f'<section id="{section}">' in report
    assert "E3" in report and "privacy officer must approve" in report
    assert "route support tickets to the right team" in report
    assert "PHONE_NUMBER (2, 0.75)" in report and "EMAIL_ADDRESS (100%)" in report
    assert "generalise(bin=20)" in report
    assert "expect_k_anonymity(gender, age)" in report and "k = 4" in report
    assert "expect_l_diversity(gender, label)" in report
    assert report.count("<svg") >= 2  # label balance + representation, inline
    assert 'href="data_docs/index.html"' in report
    assert 'href="../../lineage/report_demo/v7.html"' in report
    assert "<script" not in report


def test_report_shows_before_and_after(report: str, outcome: ValidationOutcome) -> None:
    assert "62.5% → 62.5%" in report  # label balance
    assert "50.0% → 50.0%" in report  # gender representation
    # age is generalised: its raw values are what minimisation removed, so no "before" for it
    assert outcome.metrics_before is not None
    assert set(outcome.metrics_before["representation"]) == {"gender"}
    assert set(outcome.metrics_after["representation"]) == {"gender", "age"}


def test_report_holds_no_planted_values(report: str) -> None:
    for value in (*PLANTED, "7946"):
        assert value not in report


def test_report_escapes_category_names(report: str) -> None:
    assert "<i>refund</i>" not in report
    assert "&lt;i&gt;refund&lt;/i&gt;" in report


def test_unsafe_lineage_link_is_dropped(tmp_path: Path) -> None:
    outcome = ValidationOutcome(
        dataset="d",
        version="v",
        passed=True,
        checks=[],
        failed_critical=[],
        warnings=[],
        data_docs_index=None,
        suite_path=tmp_path / "s.json",
    )
    path = write_privacy_report(
        tmp_path / "r.html",
        policy=POLICY,
        dataset="d",
        version="v",
        findings=[],
        treatments={},
        outcome=outcome,
        lineage_href="javascript:alert(1)",
    )
    html = path.read_text(encoding="utf-8")
    assert "javascript:" not in html
    assert re.search(r"Lineage: <span class=\"muted\">not linked", html)


def _gates(*, signed: bool, result: dict[str, Any] | None) -> dict[str, Any]:
    signoff = {"digest": "ab" * 32, "by": "olivia", "at": "2026-11-30T10:00:00+00:00", "ledger_entry": 9, "note": ""}
    return {
        "requires": ["assessment", "review", "approval"],
        "outstanding": [g for g, done in (("assessment", signed), ("review", result), ("approval", False)) if not done],
        "assessment": {
            "digest": "ab" * 32,
            "signed": signed,
            "signoff": signoff if signed else None,
            "earlier_signoff": None if signed else {**signoff, "digest": "cd" * 32},
            "label": "signed by olivia at 2026-11-30 10:00:00 UTC" if signed else "assessment not signed",
        },
        "review": {
            "plan": {"max_residual_rate": 0.05, "confidence": 0.95, "columns": ["message"], "sample_size": 59},
            "sample": None,
            "result": result,
            "label": "",
        },
        "approved_by": None,
    }


def test_report_shows_the_assessment_and_the_officers_gates(tmp_path: Path, outcome: ValidationOutcome) -> None:
    def render(gates: dict[str, Any]) -> str:
        path = write_privacy_report(
            tmp_path / "r.html", policy=POLICY, dataset="report_demo", version="v7", findings=FINDINGS,
            treatments=TREATMENTS, outcome=outcome, gates=gates,
        )
        return path.read_text(encoding="utf-8")

    before = render(_gates(signed=False, result=None))
    for section in ("assessment", "review"):
        assert f'<section id="{section}">' in before
    assert "assessment not signed" in before and "changed since the sign-off by olivia" in before
    assert "legitimate_interests" in before and "90d" in before and "internal labeling team" in before
    assert "59 records with no leak" in before and "not reviewed yet" in before
    assert "waiting for assessment sign-off, residual-PII review, approval" in before
    result = {"n": 59, "leaks": 1, "upper_bound": 0.0778979, "max_residual_rate": 0.05, "confidence": 0.95,
              "census": False, "passed": False, "withheld": 0, "by": "olivia", "at": "2026-11-30T11:00:00"}
    after = render(_gates(signed=True, result=result))
    assert "signed by olivia at 2026-11-30 10:00:00 UTC" in after
    assert "n = 59, leaks = 1, upper bound 7.79% vs limit 5.00%" in after and "reviewed by olivia" in after
    assert "<script" not in after

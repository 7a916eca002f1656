"""Suite generation from the policy, reload of hand-edited files, and broken suite files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clearhouse.errors import ValidationGateError
from clearhouse.policy import load_policy, parse_policy
from clearhouse.settings import REPO_ROOT
from clearhouse.validation.suites import generate_suite, load_or_create_suite, load_suite, suite_path
from tests.conftest import ASSESSMENT_YAML  # type: ignore[import-not-found]

SAMPLE = REPO_ROOT / "datasets" / "support_tickets.yaml"

POLICY = (
    """
id: tickets_demo
owner: data@clearhouse.example
purpose: route support tickets to the right team
ethics_risk: E2
source: {path: tickets.csv}
row_id: ticket_id
columns:
  ticket_id: {role: feature, treatment: keep}
  name:      {role: direct_identifier, treatment: drop}
  email:     {role: direct_identifier, treatment: pseudonymise}
  card:      {role: direct_identifier, treatment: mask}
  gender:    {role: quasi_identifier, treatment: keep}
  zip:       {role: quasi_identifier, treatment: drop}
  age:       {role: quasi_identifier, treatment: generalise, params: {bin: 10}}
  notes:     {role: feature, treatment: keep}
  message:   {role: free_text, treatment: redact}
  label:     {role: label, treatment: keep}
k_anonymity: 5
""" + ASSESSMENT_YAML + """expectations:
  - {type: expect_column_label_balance, column: label, max_ratio: 3, severity: warning}
  - {type: expect_column_values_to_not_be_null, column: label, severity: warning}
"""
)


def _by_type(doc: dict[str, Any], etype: str) -> list[dict[str, Any]]:
    return [e for e in doc["expectations"] if e["type"] == etype]


def test_generated_defaults_follow_the_policy() -> None:
    doc = generate_suite(parse_policy(POLICY))
    assert doc["name"] == "tickets_demo"
    assert _by_type(doc, "expect_table_row_count_to_be_between")[0]["kwargs"] == {"min_value": 1}
    existing = {e["kwargs"]["column"] for e in _by_type(doc, "expect_column_to_exist")}
    assert existing == {"ticket_id", "email", "card", "gender", "age", "notes", "message", "label"}
    [absent] = _by_type(doc, "expect_columns_to_be_absent")
    assert absent["kwargs"]["column_list"] == ["name", "zip"]
    [kanon] = _by_type(doc, "expect_k_anonymity")
    assert kanon["kwargs"] == {"quasi_identifiers": ["gender", "age"], "k": 5}  # zip is dropped
    residual = {
        e["meta"]["severity"]: e["kwargs"]["column_list"] for e in _by_type(doc, "expect_no_residual_pii")
    }
    # free text is critical; other readable columns (not the row id) are a warning
    assert residual == {"critical": ["message"], "warning": ["card", "notes"]}
    for entry in doc["expectations"]:
        assert entry["meta"]["severity"] in {"critical", "warning"}
        assert entry["meta"]["origin"] in {"default", "policy"}


def test_policy_expectation_replaces_the_matching_default() -> None:
    doc = generate_suite(parse_policy(POLICY))
    [not_null] = _by_type(doc, "expect_column_values_to_not_be_null")
    assert not_null["meta"] == {"severity": "warning", "origin": "policy"}
    [bal] = _by_type(doc, "expect_column_label_balance")
    assert bal["kwargs"] == {"column": "label", "max_ratio": 3}
    assert bal["meta"]["severity"] == "warning"


@pytest.mark.parametrize(("given", "written"), [("", 2_000), (", sample: 0", 0), (", sample: 50", 50)])
def test_a_policy_residual_rescan_is_bounded_unless_it_asks_for_every_row(given: str, written: int) -> None:
    # the gate re-scans a bounded sample by default (every row is checked for its own identifiers)
    declared = f"  - {{type: expect_no_residual_pii, column_list: [message], severity: critical{given}}}\n"
    doc = generate_suite(parse_policy(POLICY + declared))
    [critical] = [e for e in _by_type(doc, "expect_no_residual_pii") if e["meta"]["severity"] == "critical"]
    assert critical["meta"]["origin"] == "policy"
    assert critical["kwargs"]["sample"] == written


def test_no_k_anonymity_check_when_disabled() -> None:
    doc = generate_suite(parse_policy(POLICY.replace("k_anonymity: 5", "k_anonymity: 0")))
    assert _by_type(doc, "expect_k_anonymity") == []


def test_first_use_writes_the_file_then_hand_edits_win(tmp_path: Path) -> None:
    policy = load_policy(SAMPLE)
    path = load_or_create_suite(policy, tmp_path)
    assert path == suite_path("support_tickets", tmp_path) == tmp_path / "support_tickets.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert {"expect_k_anonymity", "expect_no_residual_pii", "expect_column_values_to_be_in_set"} <= {
        e["type"] for e in doc["expectations"]
    }
    # a person edits the file: drop k-anonymity, demote uniqueness to a warning
    doc["expectations"] = [e for e in doc["expectations"] if e["type"] != "expect_k_anonymity"]
    for e in doc["expectations"]:
        if e["type"] == "expect_column_values_to_be_unique":
            e["meta"]["severity"] = "warning"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert load_or_create_suite(policy, tmp_path) == path
    reloaded = json.loads(path.read_text(encoding="utf-8"))
    assert reloaded == doc  # not regenerated
    suite = load_suite(path)
    types = [e.expectation_type for e in suite.expectations]
    assert "expect_k_anonymity" not in types
    [unique] = [e for e in suite.expectations if e.expectation_type == "expect_column_values_to_be_unique"]
    assert unique.severity.value == "warning"  # GX's own severity follows meta.severity


def test_only_the_suite_file_is_written(tmp_path: Path) -> None:
    path = load_or_create_suite(load_policy(SAMPLE), tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["support_tickets.json"]
    assert path.stat().st_mode & 0o777 == 0o644  # reviewable, not a private temp file


BROKEN: list[tuple[str, str, str]] = [
    ("not json", "{not json", "invalid JSON at line 1"),
    ("not a suite", "[1, 2]", "a suite must be a JSON object"),
    ("empty", '{"expectations": []}', "non-empty list"),
    (
        "unknown type",
        '{"expectations": [{"type": "expect_unicorns", "kwargs": {}}]}',
        "expectations[0] (expect_unicorns)",
    ),
    (
        "bad kwargs",
        '{"expectations": [{"type": "expect_k_anonymity", "kwargs": {"quasi_identifiers": ["a"], "k": 0}}]}',
        "expectations[0] (expect_k_anonymity)",
    ),
    (
        "bad severity",
        '{"expectations": [{"type": "expect_table_row_count_to_be_between", "kwargs": {},'
        ' "meta": {"severity": "fatal"}}]}',
        "meta.severity must be critical or warning",
    ),
    ("no type", '{"expectations": [{"kwargs": {}}]}', "missing 'type'"),
]


@pytest.mark.parametrize(("case", "text", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_suite_file_names_the_file(tmp_path: Path, case: str, text: str, message: str) -> None:
    path = tmp_path / "support_tickets.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationGateError) as info:
        load_or_create_suite(load_policy(SAMPLE), tmp_path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_bad_policy_expectation_fails_before_writing(tmp_path: Path) -> None:
    policy = parse_policy(POLICY + "  - {type: expect_unicorns_to_fly, column: label}\n")
    with pytest.raises(ValidationGateError, match="expect_unicorns_to_fly"):
        load_or_create_suite(policy, tmp_path)
    assert not suite_path("tickets_demo", tmp_path).exists()


def test_policy_change_regenerates_an_unedited_suite(tmp_path: Path) -> None:
    path = load_or_create_suite(parse_policy(POLICY), tmp_path)
    assert '"k": 5' in path.read_text(encoding="utf-8")
    load_or_create_suite(parse_policy(POLICY.replace("k_anonymity: 5", "k_anonymity: 10")), tmp_path)
    assert '"k": 10' in path.read_text(encoding="utf-8")


def test_policy_change_and_hand_edit_fail_closed(tmp_path: Path) -> None:
    path = load_or_create_suite(parse_policy(POLICY), tmp_path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["expectations"] = doc["expectations"][:-1]  # a hand edit
    path.write_text(json.dumps(doc), encoding="utf-8")
    load_or_create_suite(parse_policy(POLICY), tmp_path)  # edited, policy unchanged: the file wins
    assert json.loads(path.read_text(encoding="utf-8")) == doc
    with pytest.raises(ValidationGateError, match="edited by hand and the policy's expectations changed"):
        load_or_create_suite(parse_policy(POLICY.replace("k_anonymity: 5", "k_anonymity: 10")), tmp_path)
    assert json.loads(path.read_text(encoding="utf-8")) == doc

from __future__ import annotations

from pathlib import Path

import pytest

from clearhouse.errors import PolicyError
from clearhouse.policy import EthicsRisk, Treatment, load_policy, parse_policy
from clearhouse.settings import REPO_ROOT
from tests.conftest import ASSESSMENT_YAML  # type: ignore[import-not-found]

SAMPLE_POLICY = REPO_ROOT / "datasets" / "support_tickets.yaml"

BASE = (
    """\
id: tickets
owner: team@example.org
purpose: Route tickets to the right team.
ethics_risk: E2
source: {path: data.csv}
columns:
  id: {role: feature, treatment: keep}
  email: {role: direct_identifier, treatment: pseudonymise}
  body: {role: free_text, treatment: redact}
  label: {role: label, treatment: keep}
"""
    + ASSESSMENT_YAML
)


def test_sample_policy_loads() -> None:
    policy = load_policy(SAMPLE_POLICY)
    assert policy.id == "support_tickets"
    assert policy.ethics_risk is EthicsRisk.E2
    assert "customer_name" not in policy.kept_columns()
    assert policy.columns["message"].treatment is Treatment.REDACT
    assert policy.scope == "ticket_routing"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("ethics_risk: E2", "ethics_risk: E4"), r"line 4: ethics_risk: E4 \(prohibited\)"),
        (("ethics_risk: E2", "ethics_risk: E9"), r"line 4: ethics_risk"),
        (
            (
                "email: {role: direct_identifier, treatment: pseudonymise}",
                "email: {role: direct_identifier, treatment: keep}",
            ),
            r"line 8: columns.email: a direct identifier",
        ),
        (
            ("body: {role: free_text, treatment: redact}", "body: {role: free_text, treatment: mask}"),
            r"line 9: columns.body: free text must be",
        ),
        (
            ("label: {role: label, treatment: keep}", "label: {role: label, treatment: drop}"),
            r"columns.label: a label column must be 'keep'",
        ),
        (
            ("id: {role: feature, treatment: keep}", "id: {role: identifier, treatment: keep}"),
            r"line 7: columns.id.role",
        ),
        (
            ("id: {role: feature, treatment: keep}", "id: {role: feature, treatment: shred}"),
            r"line 7: columns.id.treatment",
        ),
        (("owner: team@example.org\n", "owner: team@example.org\ncolour: blue\n"), r"line 3: colour: Extra inputs"),
        (("id: tickets", "id: ../etc"), r"line 1: id: must be lower-case"),
        (("purpose: Route tickets to the right team.", "purpose: short"), r"line 3: purpose"),
    ],
)
def test_invalid_policies_name_field_and_line(change: tuple[str, str], expected: str) -> None:
    text = BASE.replace(*change)
    assert text != BASE
    with pytest.raises(PolicyError, match=expected):
        parse_policy(text, "p.yaml")


def test_valid_base_policy_parses() -> None:
    assert parse_policy(BASE).id == "tickets"


def test_row_id_must_be_declared_and_kept() -> None:
    with pytest.raises(PolicyError, match="row_id 'nope' is not a declared column"):
        parse_policy(BASE + "row_id: nope\n")


def test_expectation_on_unknown_column_is_refused() -> None:
    text = BASE + "expectations:\n  - {type: expect_column_values_to_not_be_null, column: ghost}\n"
    with pytest.raises(PolicyError, match="undeclared column 'ghost'"):
        parse_policy(text)


def test_custom_recognizer_regex_must_compile() -> None:
    text = BASE + "detection:\n  recognizers:\n    - entity: CASE_ID\n      patterns: [{name: x, regex: '(unclosed'}]\n"
    with pytest.raises(PolicyError, match="regex does not compile"):
        parse_policy(text)


def test_yaml_syntax_error_has_line() -> None:
    with pytest.raises(PolicyError, match=r"bad.yaml: line 3: .*mapping values"):
        parse_policy("id: x\nowner: y\npurpose: a: b\n", "bad.yaml")


@pytest.mark.parametrize("content", [b"", b"- a\n- b\n", b"\xff\xfe not utf8"])
def test_unusable_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes(content)
    with pytest.raises(PolicyError):
        load_policy(path)


def test_missing_file() -> None:
    with pytest.raises(PolicyError, match="not found"):
        load_policy("/nonexistent/policy.yaml")


def test_source_path_expansion(tmp_path: Path) -> None:
    policy = parse_policy(BASE.replace("data.csv", "'${CLEARHOUSE_HOME}/inbox/x.csv'"))
    assert policy.source_path(tmp_path / "p.yaml", tmp_path / "home") == tmp_path / "home" / "inbox" / "x.csv"
    relative = parse_policy(BASE)
    assert relative.source_path(tmp_path / "p.yaml", tmp_path) == tmp_path / "data.csv"
    with pytest.raises(PolicyError, match="only"):
        parse_policy(BASE.replace("data.csv", "'$HOME/x.csv'")).source_path(None, tmp_path)


@pytest.mark.parametrize(
    ("schedule", "ok"), [("@daily", True), ("0 3 * * 1", True), ("tomorrow", False), ("* * *", False)]
)
def test_schedule(schedule: str, ok: bool) -> None:
    text = BASE + f"schedule: '{schedule}'\n"
    if ok:
        assert parse_policy(text).schedule == schedule
    else:
        with pytest.raises(PolicyError, match="schedule"):
            parse_policy(text)


def test_expectation_column_lists_are_checked() -> None:
    text = BASE + "expectations:\n  - {type: expect_k_anonymity, quasi_identifiers: [id, zip], k: 5}\n"
    with pytest.raises(PolicyError, match="undeclared column 'zip'"):
        parse_policy(text)


def test_yaml_aliases_are_refused_before_anything_expands() -> None:
    # nine levels of nine: billions of elements if expanded; refused at the first alias, in milliseconds
    levels = ['l0: &l0 ["x","x","x","x","x","x","x","x","x"]']
    levels += [f"l{i}: &l{i} [{','.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)]
    with pytest.raises(PolicyError, match=r"p.yaml: line 2: YAML aliases \(\*name\) are not allowed"):
        parse_policy("\n".join(levels) + "\n", "p.yaml")


def test_oversized_policy_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * (1 << 20) + "\nid: a\n")
    with pytest.raises(PolicyError, match="larger than 1024 KiB"):
        load_policy(big)


@pytest.mark.parametrize(
    ("retention", "days"),
    [("180d", 180), ("26w", 182), ("2y", 730), ("1d", 1), (None, None)],
)
def test_retention_is_a_duration_in_days(retention: str | None, days: int | None) -> None:
    # the assessment's retention_period bounds the policy's retention: make it long enough for every case
    text = BASE.replace("retention_period: 90d", "retention_period: 3y") + (
        f"retention: {retention}\n" if retention else ""
    )
    assert parse_policy(text).retention_days == days


@pytest.mark.parametrize("retention", ["0d", "180", "6m", "-1d", "180 days", "1.5y", "forever", "999999d"])
def test_bad_retention_is_refused_naming_the_field(retention: str) -> None:
    with pytest.raises(PolicyError, match=r"retention: .*must be a positive number of days, weeks or years"):
        parse_policy(BASE + f"retention: '{retention}'\n")


def _with(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new)


def test_labeler_columns_withhold_encrypted_columns_unless_the_policy_says_otherwise() -> None:
    policy = load_policy(SAMPLE_POLICY)
    released = policy.labeler_columns()
    assert "phone" not in released  # encrypt: ciphertext is for officer-approved call-backs
    assert "customer_name" not in released and "date_of_birth" not in released  # dropped
    assert {"ticket_id", "email", "gender", "age", "country", "message", "label"} <= set(released)
    email = "email: {role: direct_identifier, treatment: pseudonymise}"
    ident = "id: {role: feature, treatment: keep}"
    label = "label: {role: label, treatment: keep}"
    opt_in = _with(email, "email: {role: direct_identifier, treatment: encrypt, labelers: true}")
    assert "email" in parse_policy(opt_in).labeler_columns()
    opt_out = _with(ident, "id: {role: feature, treatment: keep, labelers: false}")
    assert "id" not in parse_policy(opt_out).labeler_columns()
    with pytest.raises(PolicyError, match="a label column must reach labelers"):
        parse_policy(_with(label, "label: {role: label, treatment: keep, labelers: false}"))
    with pytest.raises(PolicyError, match="a dropped column cannot be released to labelers"):
        parse_policy(_with(ident, "id: {role: feature, treatment: drop, labelers: true}"))

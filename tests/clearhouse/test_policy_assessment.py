"""The policy's privacy impact assessment and review: who needs them, what they must say, and the
assessment's digest (what a sign-off signs)."""

from __future__ import annotations

import pytest

from clearhouse.errors import PolicyError
from clearhouse.policy import LegalBasis, parse_policy

BASE = """\
id: tickets
owner: team@example.org
purpose: Route tickets to the right team.
ethics_risk: E2
source: {path: data.csv}
columns:
  id: {role: feature, treatment: keep}
  body: {role: free_text, treatment: redact}
  label: {role: label, treatment: keep}
"""
ASSESSMENT = """\
assessment:
  purpose: Route tickets to the right team with a classifier.
  legal_basis: legitimate_interests
  sensitive: {categories: [], consent: not_applicable}
  data_subjects: [customers]
  recipients: [labeling team]
  retention_period: 1y
"""


def _policy(text: str = BASE, assessment: str = ASSESSMENT, **replace: str) -> str:
    text = text + assessment
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize("level", ["E1", "E2", "E3"])
def test_e1_and_above_without_an_assessment_are_refused(level: str) -> None:
    text = _policy(assessment="", **{"ethics_risk: E2": f"ethics_risk: {level}"})
    with pytest.raises(PolicyError, match=rf"an {level} policy needs an assessment .*retention_period"):
        parse_policy(text)


def test_e0_may_go_without_an_assessment() -> None:
    policy = parse_policy(_policy(assessment="", **{"ethics_risk: E2": "ethics_risk: E0"}))
    assert policy.assessment is None and policy.assessment_digest() is None


def test_a_complete_assessment_loads() -> None:
    policy = parse_policy(_policy())
    assert policy.assessment is not None
    assert policy.assessment.legal_basis is LegalBasis.LEGITIMATE_INTERESTS
    assert policy.assessment.retention_period == "1y"
    assert policy.review is None and policy.review_columns() == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("legal_basis: legitimate_interests", "legal_basis: because"), r"line 12: assessment.legal_basis"),
        (("retention_period: 1y", "retention_period: 1 year"), r"line 16: assessment.retention_period.*180d, 26w, 2y"),
        (("retention_period: 1y", "retention_period: 0d"), r"retention '0d' must be a positive"),
        (("retention_period: 1y", "retention_period: P1Y"), r"days, weeks or years"),
        (("data_subjects: [customers]", "data_subjects: []"), r"assessment.data_subjects"),
        (("  recipients: [labeling team]\n", ""), r"assessment.recipients: Field required"),
        (("  purpose: Route tickets to the right team with a classifier.\n", ""), r"assessment.purpose"),
        (("data_subjects: [customers]", "data_subjects: ['  ']"), r"non-blank"),
        (
            ("{categories: [], consent: not_applicable}", "{categories: [health], consent: not_applicable}"),
            r"assessment.sensitive: sensitive categories are listed but consent is not_applicable",
        ),
        (
            ("{categories: [], consent: not_applicable}", "{categories: [health], consent: explicit}"),
            r"explicit consent needs consent_evidence",
        ),
        (
            ("{categories: [], consent: not_applicable}", "{categories: [health], consent: exempt}"),
            r"needs exemption",
        ),
        (
            ("{categories: [], consent: not_applicable}", "{categories: [], consent: explicit}"),
            r"no sensitive category is listed",
        ),
        (("{categories: [], consent: not_applicable}", "{categories: [Health!]}"), r"lower-case name"),
        (("retention_period: 1y", "retention_period: 1y\n  colour: blue"), r"assessment.colour: Extra inputs"),
    ],
)
def test_bad_assessments_name_field_and_line(change: tuple[str, str], expected: str) -> None:
    with pytest.raises(PolicyError, match=expected):
        parse_policy(_policy(**{change[0]: change[1]}))


@pytest.mark.parametrize("period", ["180d", "26w", "2y", "90d"])
def test_retention_periods_as_the_policy_writes_them(period: str) -> None:
    assert parse_policy(_policy(**{"retention_period: 1y": f"retention_period: {period}"})).assessment


@pytest.mark.parametrize(
    ("retention", "ok"), [("180d", True), ("52w", True), ("1y", True), ("366d", False), ("2y", False)]
)
def test_the_policy_keeps_data_no_longer_than_the_assessment_says(retention: str, ok: bool) -> None:
    text = _policy() + f"retention: {retention}\n"
    if ok:
        assert parse_policy(text).retention == retention
    else:
        longer = rf"retention {retention} is longer than the assessment's retention_period 1y"
        with pytest.raises(PolicyError, match=longer):
            parse_policy(text)


def test_sensitive_categories_with_consent_evidence_load() -> None:
    sensitive = "{categories: [health], consent: explicit, consent_evidence: 'intake form v3, signed'}"
    policy = parse_policy(_policy(**{"{categories: [], consent: not_applicable}": sensitive}))
    assert policy.assessment is not None and policy.assessment.sensitive.categories == ["health"]


def test_a_released_sensitive_column_needs_sensitive_categories() -> None:
    column = "  diagnosis: {role: sensitive, treatment: keep}\n"
    with pytest.raises(PolicyError, match="diagnosis are declared sensitive and released"):
        parse_policy(_policy(BASE + column))
    # dropped, it is never released: no category needed
    parse_policy(_policy(BASE + "  diagnosis: {role: sensitive, treatment: drop}\n"))


def test_e3_with_released_text_needs_a_review() -> None:
    e3 = {"ethics_risk: E2": "ethics_risk: E3"}
    with pytest.raises(PolicyError, match=r"E3 policy that releases free text \(body\) needs review"):
        parse_policy(_policy(**e3))
    policy = parse_policy(_policy(**e3) + "review: {max_residual_rate: 0.05}\n")
    assert policy.review is not None and policy.review_columns() == ["body"]
    assert policy.review.confidence == 0.95
    # E3 without released text: nothing to review
    dropped = {"body: {role: free_text, treatment: redact}": "body: {role: free_text, treatment: drop}"}
    parse_policy(_policy(**e3, **dropped))


@pytest.mark.parametrize(
    ("review", "expected"),
    [
        ("review: {max_residual_rate: 0}", r"review.max_residual_rate: Input should be greater than 0"),
        ("review: {max_residual_rate: 1.5}", r"review.max_residual_rate"),
        ("review: {max_residual_rate: 0.05, confidence: 0.5}", r"review.confidence"),
        ("review: {max_residual_rate: 0.05, columns: [label]}", r"'label' is not a released free-text column"),
    ],
)
def test_bad_reviews_are_refused(review: str, expected: str) -> None:
    with pytest.raises(PolicyError, match=expected):
        parse_policy(_policy() + review + "\n")


def test_a_review_without_released_text_is_refused() -> None:
    dropped = {"body: {role: free_text, treatment: redact}": "body: {role: free_text, treatment: drop}"}
    with pytest.raises(PolicyError, match="no released free-text column to review"):
        parse_policy(_policy(**dropped) + "review: {max_residual_rate: 0.05}\n")


def test_the_digest_covers_content_not_formatting() -> None:
    policy = parse_policy(_policy())
    assert policy.assessment is not None
    digest = policy.assessment.digest()
    assert len(digest) == 64
    # the same assessment written in flow style, keys in another order, is the same assessment
    flow = (
        "assessment: {retention_period: 1y, recipients: [labeling team], data_subjects: [customers],"
        " legal_basis: legitimate_interests,"
        " purpose: 'Route tickets to the right team with a classifier.'}\n"
    )
    assert parse_policy(BASE + flow).assessment_digest() == digest
    # other parts of the policy are not in it
    other_owner = _policy(**{"owner: team@example.org": "owner: other@example.org"})
    assert parse_policy(other_owner).assessment_digest() == digest


@pytest.mark.parametrize(
    "change",
    [
        ("retention_period: 1y", "retention_period: 2y"),
        ("recipients: [labeling team]", "recipients: [labeling team, vendor]"),
        ("legal_basis: legitimate_interests", "legal_basis: consent"),
        ("data_subjects: [customers]", "data_subjects: [customers, employees]"),
        ("retention_period: 1y", "retention_period: 1y\n  transfers: [EU to US, SCCs]"),
    ],
)
def test_any_change_changes_the_digest(change: tuple[str, str]) -> None:
    before = parse_policy(_policy()).assessment_digest()
    assert parse_policy(_policy(**{change[0]: change[1]})).assessment_digest() != before

"""A row's own identifiers in its own text: table-driven matches and non-matches, redaction, counts."""

from __future__ import annotations

import pytest

from clearhouse.privacy.leaks import find_own_identifiers, needles_for, own_identifier_leaks, redact_own_identifiers

ROW = {
    "customer_name": "Nadia Okafor-Reyes",
    "email": "n.okafor77@example.org",
    "phone": "+1 (555) 010-4477",
    "street_address": "12 Juniper Lane",
}


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("thanks, Nadia Okafor-Reyes", ["Nadia Okafor-Reyes"]),
        ("thanks, nadia okafor-reyes", ["nadia okafor-reyes"]),  # the whole value in any case
        ("cheers, Nadia", ["Nadia"]),
        ("regards, OKAFOR", ["OKAFOR"]),
        ("write to N.OKAFOR77@EXAMPLE.ORG please", ["N.OKAFOR77@EXAMPLE.ORG"]),
        ("my handle is n.okafor77 everywhere", ["n.okafor77"]),
        ("call 555 010 4477 after five", ["555 010 4477"]),
        ("call +1-555-010-4477", ["+1-555-010-4477"]),
        ("I live at 12 juniper lane", ["12 juniper lane"]),
        ("parcel left at 12 Juniper", ["12 Juniper"]),
    ],
)
def test_own_identifiers_are_found(text: str, found: list[str]) -> None:
    hits = find_own_identifiers(text, needles_for(ROW.values()))
    assert [text[s:e] for s, e, _ in hits] == found


@pytest.mark.parametrize(
    "text",
    [
        "the order never arrived",
        "reyes is a word here only when capitalised",  # lower-case part of a name: ordinary text
        "call 555 010 9999",  # another number
        "shipping address is <STREET_ADDRESS>, call <PHONE_NUMBER>",  # our own placeholders
        "a lane near the park",  # 'Lane' alone is no identifier
        "",
    ],
)
def test_other_text_is_not_a_leak(text: str) -> None:
    assert find_own_identifiers(text, needles_for(ROW.values())) == []


def test_stop_words_in_names_are_not_needles() -> None:
    needles = needles_for(["Will Ashby"])
    assert find_own_identifiers("I Will be there", needles) == []  # 'will' is a stop word
    assert find_own_identifiers("Will be there. Ashby", needles) == [(15, 20, "PERSON")]


def test_redaction_replaces_each_occurrence_with_its_entity() -> None:
    text = "hi, Nadia here (n.okafor77@example.org, 555-010-4477)"
    out, n = redact_own_identifiers(text, needles_for(ROW.values()), "<{entity}>")
    assert out == "hi, <PERSON> here (<EMAIL_ADDRESS>, <PHONE_NUMBER>)"
    assert n == 3
    assert redact_own_identifiers(None, [], "<{entity}>") == (None, 0)


def test_leak_report_counts_rows_and_kinds_only() -> None:
    other = {"customer_name": "Tomas Brandt", "email": "tb@example.net", "phone": None, "street_address": None}
    report = own_identifier_leaks([ROW, other], {"message": ["bye, Nadia", "mentions Nadia, not Tomas's own"]})
    d = report.to_dict()
    # row 2 names Nadia (not its own) and Tomas (its own): one leak per row
    assert d == {
        "rows_checked": 2,
        "values_checked": 2,
        "rows_with_leaks": 2,
        "by_kind": {"PERSON": 2},
        "by_column": {"message": 2},
    }
    assert "Nadia" not in str(d) and "Tomas" not in str(d)

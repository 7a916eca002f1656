"""Redaction of free text and identifiers (table-driven, positive and negative cases)."""

from __future__ import annotations

import time

import pytest

from clearhouse.lineage.redact import MAX_TEXT_LENGTH, redact, redact_identifier


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        ("row 4: bad email alice.martin@example.org", "alice.martin@example.org"),
        ("UPPER.Case+tag@Sub.Example.CO.UK rejected", "Sub.Example.CO.UK"),
        ("call +44 20 7946 0958 now", "7946"),
        ("call (555) 123-4567", "123-4567"),
        ("phone 555.123.4567", "555.123.4567"),
        ("ssn 123-45-6789", "6789"),
        ("card 4111 1111 1111 1111", "4111"),
        ("national id 19850412345", "19850412345"),
        ("iban GB82WEST12345698765432", "12345698765432"),
        ("born 1985-04-12", "1985-04-12"),
        ("client 192.168.10.24", "192.168.10.24"),
        ("key b64 q8Xg2v0ZqJ3mK9pL4sT7wY1aB5cD6eF8gH0iJ2kL==", "q8Xg2v0ZqJ3mK9pL4sT7wY1aB5cD6eF8gH0iJ2kL"),
        ("digest " + "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "9f86d0818"),
        ("db postgresql://admin:hunter2@db.internal:5432/x", "hunter2"),
        ("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----", "MIIEvQIBADANBg"),
    ],
)
def test_redact_removes_personal_data_and_secrets(text: str, leaked: str) -> None:
    assert leaked not in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "expected 5 columns, found 4",
        "column 'age' has type int32, policy says string",
        "IngestError: file survey_v3.csv is not valid UTF-8 at line 42",
        "k-anonymity 3 < 5 for quasi-identifiers postcode, age_band",
        "value out of range: 123456",  # six digits stay: counts and codes are not identifiers
    ],
)
def test_redact_keeps_ordinary_messages(text: str) -> None:
    assert redact(text) == text


def test_redact_replacement_markers() -> None:
    assert redact("mail a@b.io or call 555-123-4567") == "mail [email] or call [number]"


def test_redact_collapses_control_characters_and_caps_length() -> None:
    assert redact("line one\nline two\t\x00end") == "line one line two end"
    long = redact("x" * 5000)
    assert len(long) == MAX_TEXT_LENGTH
    assert long.endswith("…")
    assert len(redact("y" * 50, max_len=10)) == 10


def test_redact_accepts_any_object() -> None:
    assert redact(ValueError("alice@example.com")) == "[email]"


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ("work/survey/v3/20261125T093000.parquet", "work/survey/v3/20261125T093000.parquet"),
        ("landing/" + "ab" * 32 + ".csv", "landing/" + "ab" * 32 + ".csv"),
        ("landing/alice@example.com_export.csv", "landing/[email]_export.csv"),
        ("postgresql://u:pw@host/db", "postgresql://[credentials]@host/db"),
    ],
)
def test_redact_identifier_keeps_versions_but_not_emails(identifier: str, expected: str) -> None:
    assert redact_identifier(identifier) == expected


@pytest.mark.parametrize(
    "text",
    [
        "a" * 200_000,
        "a." * 100_000,
        "x@" + "a." * 100_000,
        "h" * 100_000 + "://x",
        ("1" + " " * 50 + "x") * 4_000,
        "1-" * 100_000,
        "word " * 40_000 + "alice@example.org",
    ],
    ids=["letters", "dotted", "at-dotted", "scheme", "digit-spaces", "digit-dashes", "words"],
)
def test_redact_is_fast_on_huge_adversarial_input(text: str) -> None:
    started = time.perf_counter()
    result = redact(text)
    assert time.perf_counter() - started < 1.0
    assert len(result) <= MAX_TEXT_LENGTH
    assert "alice" not in result


def test_huge_input_is_cut_at_a_word_boundary_before_redaction() -> None:
    # An address straddling the input bound must not leak as a fragment that no longer matches.
    text = "x " * 32_760 + "alice.martin@example.org"
    assert "alice" not in redact(text, max_len=10**6)
    assert redact(text, max_len=10**6).endswith("[truncated]")

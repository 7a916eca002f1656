"""Structured-column classification and the clean-column blocking hook (counts only, never values)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clearhouse.policy import parse_policy
from clearhouse.privacy.detection.columns import classify_column, name_hint
from clearhouse.privacy.detection.scan import SPANS_SCHEMA, detect_table
from clearhouse.privacy.detection.text import PresidioTextDetector

N = 60


def col(values: list[str | None]) -> pa.Array:
    return pa.array(values, type=pa.string())


EMAILS = [f"user{i}.tester@example.org" for i in range(N)]
PHONES = [f"(415) 555-{1000 + i:04d}" for i in range(N)]
CARDS = ["4539 1488 0343 6467", "4556 7375 8689 9855", "4024 0071 1210 9948", "5425 2334 3010 9903"] * (N // 4)
IBANS = ["GB82 WEST 1234 5698 7654 32", "DE89 3704 0044 0532 0130 00"] * (N // 2)
SSNS = [f"5{i % 90 + 10:02d}-2{i % 9 + 1}-{1000 + i:04d}" for i in range(N)]
IPS = [f"198.51.100.{i}" for i in range(N)]
DOBS = [f"19{50 + i % 40}-0{i % 9 + 1}-1{i % 9}" for i in range(N)]
NAMES = ["Quentin Barlow", "Ottoline Fairweather", "Benedikt Sorensen", "Marguerite Olsen"] * (N // 4)
STREETS = [f"{10 + i} Larkspur Avenue" for i in range(N)]
IDS = [f"T{100000 + i}" for i in range(N)]


@pytest.mark.parametrize(("name", "values", "entity"), [
    ("contact", EMAILS, "EMAIL_ADDRESS"),
    ("tel", PHONES, "PHONE_NUMBER"),
    ("payment", CARDS, "CREDIT_CARD"),
    ("bank_account", IBANS, "IBAN_CODE"),
    ("tax_ref", SSNS, "US_SSN"),
    ("source", IPS, "IP_ADDRESS"),
    ("date_of_birth", DOBS, "DATE_OF_BIRTH"),
    ("customer_name", NAMES, "PERSON"),
    ("street_address", STREETS, "STREET_ADDRESS"),
])
def test_classifies_columns(name: str, values: list[str], entity: str) -> None:
    f = classify_column(name, col(values), None, regions=["US"])
    assert f.inferred_entity == entity
    assert f.confidence >= 0.5
    assert f.evidence["non_empty"] == len(values)


def test_ids_are_not_people(us_detector: PresidioTextDetector) -> None:
    f = classify_column("ticket_id", col(IDS), us_detector, regions=["US"], confirm=True)
    assert f.inferred_entity is None
    assert f.entities == {}


def test_card_shaped_ids_failing_luhn_mostly_are_chance() -> None:
    # 16-digit account numbers: about 1 in 10 passes Luhn by chance; that is not a card column
    values = [f"{7000000000000000 + i * 7919}" for i in range(200)]
    f = classify_column("ref", col(values), None, regions=["US"])
    assert "CREDIT_CARD" not in f.entities


def test_findings_hold_counts_not_values() -> None:
    f = classify_column("contact", col([*EMAILS, None, ""]), None, regions=["US"])
    dumped = json.dumps(f.to_dict())
    assert all(v not in dumped for v in EMAILS)
    assert f.rows_scanned == N + 2 and f.evidence["non_empty"] == N


@pytest.mark.parametrize(("column", "hint"), [
    ("EmailAddress", "EMAIL_ADDRESS"), ("date_of_birth", "DATE_OF_BIRTH"), ("Birthday", "DATE_OF_BIRTH"),
    ("customer_name", "PERSON"), ("TelephoneNumber", "PHONE_NUMBER"), ("ticket_id", None), ("label", None),
])
def test_name_hints(column: str, hint: str | None) -> None:
    assert name_hint(column) == hint


POLICY = """
id: t
owner: me
purpose: testing detection over a table
ethics_risk: E0
source: {path: x.parquet}
columns:
  ticket_id: {role: feature, treatment: keep}
  notes:     {role: feature, treatment: keep}
  email:     {role: direct_identifier, treatment: drop}
  message:   {role: free_text, treatment: redact}
"""


def _table(tmp_path: Path, notes: list[str]) -> Path:
    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({
        "ticket_id": col(IDS), "notes": col(notes), "email": col(EMAILS),
        "message": col([f"Please call Mr. Quentin Barlow on (415) 555-{1000 + i:04d}" for i in range(N)]),
    }), path)
    return path


def test_clean_column_of_ids_does_not_block(tmp_path: Path, us_detector: PresidioTextDetector) -> None:
    policy = parse_policy(POLICY)
    result = detect_table(_table(tmp_path, ["ok"] * N), policy, us_detector, out_dir=tmp_path / "work")
    assert result.blocking == []
    by_col = {f.column: f for f in result.findings}
    assert by_col["email"].inferred_entity == "EMAIL_ADDRESS"
    assert by_col["message"].rows_with_pii == N
    spans = pq.read_table(result.spans_path)
    assert spans.schema == SPANS_SCHEMA
    assert set(spans.column("entity_type").to_pylist()) >= {"PERSON", "PHONE_NUMBER"}


def test_clean_column_hiding_emails_blocks(tmp_path: Path, us_detector: PresidioTextDetector) -> None:
    policy = parse_policy(POLICY)
    notes = [f"reply to {e} asap" if i % 3 == 0 else "fine" for i, e in enumerate(EMAILS)]
    result = detect_table(_table(tmp_path, notes), policy, us_detector, out_dir=tmp_path / "work")
    assert len(result.blocking) == 1
    problem = result.blocking[0]
    assert "'notes'" in problem and "EMAIL_ADDRESS" in problem and "declared clean" in problem
    assert all(e not in problem for e in EMAILS)

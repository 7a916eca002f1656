"""Discovery: the role rules (table-driven, on facts only), profiling without NER, and the draft policy."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from clearhouse.policy import Role, Treatment, parse_policy
from clearhouse.privacy.detection.discover import (
    ColumnFacts,
    discover_table,
    draft_policy,
    header_words,
    role_hint,
    suggest_role,
    take_sample,
)


def facts(name: str = "col", *, rows: int = 100, non_empty: int | None = None, distinct: int = 100,
          **kw: Any) -> ColumnFacts:
    non_empty = rows if non_empty is None else non_empty
    return ColumnFacts(name=name, rows=rows, non_empty=non_empty, distinct=distinct, **kw)


EMAILS = {"EMAIL_ADDRESS": 1.0}
# (case, facts, expected role, expected treatment)
ROLE_CASES: list[tuple[str, ColumnFacts, Role, Treatment]] = [
    ("validated emails under a telling header",
     facts("email", entities=EMAILS, header_entity="EMAIL_ADDRESS", mean_words=1),
     Role.DIRECT_IDENTIFIER, Treatment.PSEUDONYMISE),
    ("a column named notes full of emails: values outrank the header",
     facts("notes", entities=EMAILS, mean_words=1, letter_share=0.8),
     Role.DIRECT_IDENTIFIER, Treatment.PSEUDONYMISE),
    ("card numbers are dropped, not kept as tokens",
     facts("payment", entities={"CREDIT_CARD": 0.98}, sources={"CREDIT_CARD": "validated"}, numeric_share=1,
           mean_digits=16),
     Role.DIRECT_IDENTIFIER, Treatment.DROP),
    ("full names by pattern",
     facts("customer", entities={"PERSON": 0.9}, mean_words=2, letter_share=0.9, distinct=80),
     Role.DIRECT_IDENTIFIER, Treatment.DROP),
    ("a surname column: the header alone, values silent → still a direct identifier",
     facts("Surname", header_entity="PERSON", mean_words=1, letter_share=1.0),
     Role.DIRECT_IDENTIFIER, Treatment.DROP),
    ("a header naming a direct identifier over a handful of values (yes/no) is contradicted",
     facts("email_opt_in", header_entity="EMAIL_ADDRESS", distinct=2, min_count=40),
     Role.FEATURE, Treatment.KEEP),
    ("a password column (header only)",
     facts("Password", header_entity="PASSWORD", header_role=Role.DIRECT_IDENTIFIER, mean_words=1),
     Role.DIRECT_IDENTIFIER, Treatment.DROP),
    ("prose with names inside is free text",
     facts("message", entities={"PERSON": 0.4, "EMAIL_ADDRESS": 0.2}, mean_words=14, letter_share=0.8),
     Role.FREE_TEXT, Treatment.REDACT),
    ("prose with nothing found is still free text",
     facts("comment", mean_words=9, letter_share=0.85),
     Role.FREE_TEXT, Treatment.REDACT),
    ("many words of digits (tracking codes) are not prose",
     facts("tracking", entities={"PHONE_NUMBER": 0.9}, mean_words=7, letter_share=0.05, mean_digits=16),
     Role.DIRECT_IDENTIFIER, Treatment.PSEUDONYMISE),
    ("a minority of emails in short values: never kept",
     facts("contact_or_code", entities={"EMAIL_ADDRESS": 0.2}, mean_words=1),
     Role.DIRECT_IDENTIFIER, Treatment.DROP),
    ("a little NER noise on short values is not a minority of names",
     facts("Color", entities={"PERSON": 0.15}, sources={"PERSON": "ner_sample"}, distinct=10, min_count=6),
     Role.FEATURE, Treatment.KEEP),
    ("ISO birth dates: generalised to the year",
     facts("dob", entities={"DATE_OF_BIRTH": 1.0}, header_entity="DATE_OF_BIRTH", iso_date_share=1.0),
     Role.QUASI_IDENTIFIER, Treatment.GENERALISE),
    ("US-style birth dates cannot be generalised by the operator: dropped",
     facts("Birthday", entities={"DATE_OF_BIRTH": 1.0}, header_entity="DATE_OF_BIRTH", iso_date_share=0.0),
     Role.QUASI_IDENTIFIER, Treatment.DROP),
    ("numeric ages: banded",
     facts("age", header_entity="AGE", header_role=Role.QUASI_IDENTIFIER, numeric_share=1.0, distinct=60,
           mean_digits=2),
     Role.QUASI_IDENTIFIER, Treatment.GENERALISE),
    ("zip codes: prefix",
     facts("zip", header_entity="ZIP_CODE", header_role=Role.QUASI_IDENTIFIER, numeric_share=1.0),
     Role.QUASI_IDENTIFIER, Treatment.GENERALISE),
    ("gender with every category on ≥ k rows: kept",
     facts("gender", header_role=Role.QUASI_IDENTIFIER, distinct=3, min_count=20),
     Role.QUASI_IDENTIFIER, Treatment.KEEP),
    ("a rare category in a quasi-identifier: dropped",
     facts("title", header_role=Role.QUASI_IDENTIFIER, distinct=4, min_count=1),
     Role.QUASI_IDENTIFIER, Treatment.DROP),
    ("cities found by NER without a header",
     facts("where", entities={"LOCATION": 0.8}, sources={"LOCATION": "ner_sample"}, distinct=90),
     Role.QUASI_IDENTIFIER, Treatment.DROP),
    ("blood type: a special category",
     facts("BloodType", header_role=Role.SENSITIVE, distinct=8, min_count=3),
     Role.SENSITIVE, Treatment.DROP),
    ("a label: named so, few values",
     facts("label", header_role=Role.LABEL, distinct=5, min_count=10),
     Role.LABEL, Treatment.KEEP),
    ("a 'label' column of free-form values is not a label",
     facts("label", header_role=Role.LABEL, distinct=95),
     Role.FEATURE, Treatment.DROP),
    ("a record key: pseudonymised",
     facts("ticket_id", distinct=100),
     Role.FEATURE, Treatment.PSEUDONYMISE),
    ("a person's key is a direct identifier",
     facts("customer_id", distinct=100, numeric_share=1.0, mean_digits=6),
     Role.DIRECT_IDENTIFIER, Treatment.PSEUDONYMISE),
    ("small categories with nothing found: a kept feature",
     facts("colour", distinct=10, min_count=4),
     Role.FEATURE, Treatment.KEEP),
    ("small numbers with nothing found: a kept feature",
     facts("weight_kg", distinct=60, numeric_share=1.0, mean_digits=2),
     Role.FEATURE, Treatment.KEEP),
    ("long unique numbers with nothing found: unknown, dropped",
     facts("amount_x", distinct=100, numeric_share=1.0, mean_digits=10),
     Role.FEATURE, Treatment.DROP),
    ("high-cardinality strings with nothing found: unknown, dropped",
     facts("stuff", distinct=97, mean_words=1.2, letter_share=0.7),
     Role.FEATURE, Treatment.DROP),
    ("an empty column: dropped",
     facts("empty", non_empty=0, distinct=0),
     Role.FEATURE, Treatment.DROP),
]


@pytest.mark.parametrize(("case", "column", "role", "treatment"), ROLE_CASES, ids=[c[0] for c in ROLE_CASES])
def test_suggest_role(case: str, column: ColumnFacts, role: Role, treatment: Treatment) -> None:
    s = suggest_role(column)
    assert (s.role, s.treatment) == (role, treatment), f"{case}: {s.review}"
    assert 0.0 < s.confidence <= 1.0
    assert s.review
    # whatever the rules say, the pair satisfies the policy model's cross-field rules
    parse_policy(
        "id: t\nowner: o\npurpose: a purpose of ten\nethics_risk: E0\nsource: {path: x.csv}\n"
        f"columns:\n  c: {{role: {s.role.value}, treatment: {s.treatment.value}}}\n"
    )


def test_values_outrank_the_header_in_confidence() -> None:
    header_only = suggest_role(facts("Surname", header_entity="PERSON", mean_words=1))
    agreed = suggest_role(facts("Surname", header_entity="PERSON", entities={"PERSON": 0.8}, mean_words=1))
    assert agreed.confidence > header_only.confidence


@pytest.mark.parametrize(("name", "words", "role"), [
    ("EmailAddress", ["email", "address"], None),
    ("date_of_birth", ["date", "of", "birth"], None),
    ("BloodType", ["blood", "type"], Role.SENSITIVE),
    ("BrowserUserAgent", ["browser", "user", "agent"], Role.QUASI_IDENTIFIER),
    ("intent_label", ["intent", "label"], Role.LABEL),
    ("CVV2", ["cvv2"], Role.DIRECT_IDENTIFIER),
    ("notes", ["notes"], None),
])
def test_header_words_and_role_hints(name: str, words: list[str], role: Role | None) -> None:
    assert header_words(name) == words
    assert role_hint(name) is role


SECRET = ["ann.lee@example.org", "bo.chan@example.net", "4111 1111 1111 1111", "Zyxwquartz Pemberton"]


def _table(rows: int = 60) -> pa.Table:
    return pa.table({
        "id": [f"T{1000 + i}" for i in range(rows)],
        "contact": [f"user{i}@example.org" if i else SECRET[0] for i in range(rows)],
        "card": ["4111 1111 1111 1111" if i % 2 else "5500 0000 0000 0004" for i in range(rows)],
        "gender": ["female" if i % 2 else "male" for i in range(rows)],
        "age": [str(20 + i % 40) for i in range(rows)],
        "notes": [f"Customer {SECRET[3]} called about order {i} and asked for a refund today" for i in range(rows)],
        "label": [["billing", "refund", "shipping"][i % 3] for i in range(rows)],
        "empty": [""] * rows,
    })


def test_discover_without_ner_and_a_valid_draft(tmp_path: Any) -> None:
    found = discover_table(_table(), None)
    roles = {c.facts.name: (c.suggestion.role, c.suggestion.treatment) for c in found.columns}
    assert roles["contact"] == (Role.DIRECT_IDENTIFIER, Treatment.PSEUDONYMISE)
    assert roles["card"] == (Role.DIRECT_IDENTIFIER, Treatment.DROP)
    assert roles["notes"] == (Role.FREE_TEXT, Treatment.REDACT)
    assert roles["label"] == (Role.LABEL, Treatment.KEEP)
    assert roles["gender"][0] is Role.QUASI_IDENTIFIER
    assert roles["age"] == (Role.QUASI_IDENTIFIER, Treatment.GENERALISE)
    assert roles["id"] == (Role.FEATURE, Treatment.PSEUDONYMISE)
    assert roles["empty"] == (Role.FEATURE, Treatment.DROP)
    doc = found.to_dict()
    assert set(doc) == {"columns"}
    assert all(set(c) == {"name", "entities", "role", "confidence", "evidence"} for c in doc["columns"])
    contact = next(c for c in doc["columns"] if c["name"] == "contact")
    assert contact["entities"] == [{"type": "EMAIL_ADDRESS", "share": 1.0}]
    text = draft_policy(found, source_path=str(tmp_path / "in.csv"), fmt="csv", origin="in.csv")
    policy = parse_policy(text)
    assert policy.columns["label"].treatment is Treatment.KEEP
    assert "REVIEW" in text
    for value in [*SECRET, "user1@example.org", "T1001", "Zyxwquartz"]:
        assert value not in text and value not in str(doc)


def test_draft_coarsens_then_drops_quasi_identifiers_until_the_sample_is_k_anonymous(tmp_path: Any) -> None:
    rows = 40
    table = pa.table({
        "age": [str(18 + i) for i in range(rows)],          # 40 ages: 10-year bands, then 3 edges
        "zip": [f"{10000 + i * 997}" for i in range(rows)],  # all distinct prefixes: dropped in the end
        "gender": ["f" if i % 2 else "m" for i in range(rows)],
    })
    found = discover_table(table, None)
    policy = parse_policy(draft_policy(found, source_path="/x.csv", fmt="csv", origin="x.csv", k=5))
    kept = [c for c in policy.columns if policy.columns[c].treatment is not Treatment.DROP]
    assert "gender" in kept and "zip" not in kept
    assert policy.k_anonymity == 5


def test_take_sample_stops_at_the_bound() -> None:
    batches = (pa.record_batch({"a": list(range(i * 10, i * 10 + 10))}) for i in range(1000))
    table = take_sample(batches, 25)
    assert table.num_rows == 25 and table.column("a").to_pylist() == list(range(25))
    assert next(batches).column("a")[0].as_py() == 30  # the generator was not drained


def test_an_incomplete_label_is_kept_as_a_feature() -> None:
    s = suggest_role(facts("label", rows=100, non_empty=90, header_role=Role.LABEL, distinct=4, min_count=10))
    assert (s.role, s.treatment) == (Role.FEATURE, Treatment.KEEP)


def test_awkward_column_names_and_typed_parquet_values_make_a_valid_draft() -> None:
    rows = 30
    table = pa.table({
        "y": pa.array([i % 2 for i in range(rows)], type=pa.int64()),
        "first name": [["Ann", "Bo"][i % 2] + " Lee" for i in range(rows)],
        "#notes: misc": pa.array([float(i) / 3 for i in range(rows)], type=pa.float64()),
        "joined": pa.array([f"2024-01-{1 + i % 28:02d}" for i in range(rows)]).cast(pa.date32()),
        "flag": pa.array([bool(i % 3) for i in range(rows)]),
        "tags": pa.array([["a", "b"] if i % 2 else [] for i in range(rows)]),
    })
    found = discover_table(table, None)
    policy = parse_policy(draft_policy(found, source_path="/in.parquet", fmt="parquet", origin="in.parquet"))
    assert list(policy.columns) == table.column_names
    assert policy.columns["first name"].role is Role.DIRECT_IDENTIFIER
    assert policy.columns["tags"].treatment is Treatment.DROP


def test_nested_values_are_dropped_and_identifiers_in_them_named() -> None:
    s = suggest_role(facts("contacts", nested=True, entities={"EMAIL_ADDRESS": 0.9}))
    assert (s.role, s.treatment) == (Role.DIRECT_IDENTIFIER, Treatment.DROP)
    s = suggest_role(facts("tags", nested=True, distinct=2, min_count=10))
    assert (s.role, s.treatment) == (Role.FEATURE, Treatment.DROP)

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clearhouse.errors import MinimisationError
from clearhouse.policy import parse_policy
from clearhouse.privacy.detection.scan import SPANS_SCHEMA
from clearhouse.privacy.detection.types import Span
from clearhouse.privacy.minimise import get_operator, minimise_table, validate_treatments


@pytest.mark.parametrize(
    ("treatment", "params", "values", "expected"),
    [
        ("mask", {"keep_last": 2}, ["(212) 555-0199", None], ["(***) ***-**99", None]),
        ("mask", {"keep_first": 1, "keep_last": 0, "char": "#"}, ["Alice"], ["A####"]),
        ("generalise", {"to": "year"}, ["1984-12-24", "garbage", None], ["1984", None, None]),
        ("generalise", {"to": "month"}, ["1984-12-24"], ["1984-12"]),
        ("generalise", {"to": "decade"}, ["1984-12-24", "2001-01-01"], ["1980s", "2000s"]),
        ("generalise", {"bin": 10}, ["42", "7", "x"], ["40-49", "0-9", None]),
        ("generalise", {"bin": 20, "top": 80}, ["85", "79"], ["80+", "60-79"]),
        ("generalise", {"keep_prefix": 3}, ["SW1A 1AA"], ["SW1"]),
        ("generalise", {"edges": [30, 50, 65]}, ["18", "30", "64", "65", "x"], ["<30", "30-49", "50-64", "65+", None]),
        ("generalise", {"map": {"GB": "Europe", "US": "Americas"}}, ["GB", "FR"], ["Europe", "other"]),
        ("redact", {}, ["4111 1111 1111 1111", None], ["<REDACTED>", None]),
    ],
)
def test_operators(treatment: str, params: dict[str, object], values: list[object], expected: list[object]) -> None:
    op = get_operator(treatment)
    op.validate("c", params)
    assert op.apply(values, params, spans=None, row_offset=0) == expected


def test_redact_free_text_uses_spans_and_offsets() -> None:
    text = "Call Ann Lee on 555-0100 today"
    spans = {7: [Span(5, 12, "PERSON", 0.9), Span(16, 24, "PHONE_NUMBER", 0.8)]}
    out = get_operator("redact").apply(["untouched", text], {}, spans=spans, row_offset=6)
    assert out == ["untouched", "Call <PERSON> on <PHONE_NUMBER> today"]


@pytest.mark.parametrize(
    ("treatment", "params", "message"),
    [
        ("mask", {"keep_last": -1}, "mask.keep_last"),
        ("mask", {"keep": 2}, "does not take"),
        ("generalise", {}, "exactly one of"),
        ("generalise", {"to": "week"}, "year, month or decade"),
        ("generalise", {"bin": 0}, "positive integer"),
        ("generalise", {"edges": [50, 30]}, "increasing integers"),
        ("generalise", {"bin": 5, "to": "year"}, "exactly one of"),
    ],
)
def test_bad_parameters_are_refused(treatment: str, params: dict[str, object], message: str) -> None:
    with pytest.raises(MinimisationError, match=message):
        get_operator(treatment).validate("dob", params)


def test_validate_treatments_checks_the_whole_policy() -> None:
    policy = parse_policy("""\
id: t
owner: o
purpose: testing treatments
ethics_risk: E0
source: {path: x.csv}
columns:
  dob: {role: quasi_identifier, treatment: generalise, params: {to: fortnight}}
""")
    with pytest.raises(MinimisationError, match="column 'dob'"):
        validate_treatments(policy)


def test_minimise_table_end_to_end(tmp_path: Path) -> None:
    policy = parse_policy("""\
id: t
owner: o
purpose: testing treatments
ethics_risk: E0
source: {path: x.csv}
columns:
  name: {role: direct_identifier, treatment: drop}
  phone: {role: direct_identifier, treatment: mask, params: {keep_last: 2}}
  age: {role: quasi_identifier, treatment: generalise, params: {bin: 10}}
  note: {role: free_text, treatment: redact}
  email: {role: direct_identifier, treatment: pseudonymise}
""")
    src = tmp_path / "in.parquet"
    pq.write_table(
        pa.table(
            {
                "name": ["Ann", "Bo"],
                "phone": ["555-0100", "555-0101"],
                "age": ["34", "71"],
                "note": ["I am Ann", "nothing here"],
                "email": ["a@x.org", "b@x.org"],
            }
        ),
        src,
    )
    spans = tmp_path / "spans.parquet"
    pq.write_table(
        pa.table(
            {"row": [0], "column": ["note"], "start": [5], "end": [8], "entity_type": ["PERSON"], "score": [0.9]},
            schema=SPANS_SCHEMA,
        ),
        spans,
    )
    result = minimise_table(src, policy, spans_path=spans, out_path=tmp_path / "out.parquet", batch_rows=1)
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.column_names == ["phone", "age", "note", "email"]
    assert out.column("phone").to_pylist() == ["***-**00", "***-**01"]
    assert out.column("age").to_pylist() == ["30-39", "70-79"]
    assert out.column("note").to_pylist() == ["I am <PERSON>", "nothing here"]
    # pseudonymise is deferred to the protect stage
    assert out.column("email").to_pylist() == ["a@x.org", "b@x.org"]
    assert result.dropped == ["name"]
    assert result.spans_redacted == 1


class _NamesDetector:
    """Fake detector: flags capitalised words after 'is', and the word PERSON (as NER noise would)."""

    def detect_many(self, texts: list[str | None]) -> list[list[Span]]:
        import re

        out: list[list[Span]] = []
        for t in texts:
            spans = [Span(m.start(1), m.end(1), "PERSON", 0.9) for m in re.finditer(r"\bis ([A-Z][a-z]+)", t or "")]
            spans += [Span(m.start(), m.end(), "ORGANIZATION", 0.9) for m in re.finditer(r"PERSON", t or "")]
            out.append(spans)
        return out


def test_placeholder_aware_detector_ignores_placeholders() -> None:
    from clearhouse.privacy.minimise import PlaceholderAwareDetector

    found = PlaceholderAwareDetector(_NamesDetector()).detect_many(["hi <PERSON>, this is Ann", None])
    assert [(s.start, s.end) for s in found[0]] == [(21, 24)]
    assert found[1] == []


def test_rescan_redacts_what_the_first_pass_uncovered() -> None:
    from clearhouse.privacy.minimise import _rescan

    values: list[object] = ["<PERSON> said his name is Bob", "nothing to see", None]
    out, extra = _rescan(values, _NamesDetector(), "<{entity}>")
    assert out == ["<PERSON> said his name is <PERSON>", "nothing to see", None]
    assert extra == 1

"""``clearhouse discover``: bad input exits 2 naming file and line (never content); output shape; the draft
passes ``check-policy``; and, with the real NER model, the roles of the fakenamegenerator file."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clearhouse.cli import main
from clearhouse.policy import Role, Treatment, load_policy
from clearhouse.settings import REPO_ROOT

SECRET_NAME = "Quillon Vantrebosk"
SECRET_EMAIL = "quillon.vantrebosk@example.org"


def _write_csv(path: Path, rows: int = 30) -> Path:
    lines = ["id,email,name,message,label"]
    for i in range(rows):
        email = SECRET_EMAIL if i == 0 else f"person{i}@example.org"
        lines.append(f'{i},{email},{SECRET_NAME if i == 0 else "Ann Lee"},'
                     f'"Please call {SECRET_NAME} about the invoice, it was charged twice this month",'
                     f'{"billing" if i % 2 else "refund"}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("name", "content", "expect"), [
    ("people.txt", b"a,b\n1,2\n", "cannot infer the format"),
    ("latin.csv", "id,name\n1,Ann\n2,Jos\xe9 Bra\xf1a\n".encode("latin-1"), "latin.csv: line 3: not valid utf-8"),
    ("ragged.csv", b'id,name\n1,Ann\n2,"Jos",extra\n',
     "ragged.csv: malformed CSV at line 3: expected 2 fields, found 3"),
    ("quotes.csv", b'id,name\n1,"Ann\n', "quotes.csv: malformed CSV: unbalanced quotes"),
    ("bad.jsonl", b'{"id": 1, "name": "Ann"}\n{"id": 2, "name": Jose}\n', "bad.jsonl: line 2: invalid JSON"),
    ("nested.jsonl", b'{"id": 1, "name": {"first": "Ann"}}\n',
     "nested.jsonl: line 1: column 'name' holds a nested value"),
    ("empty.csv", b"", "empty.csv: empty file or missing header line"),
    ("header.csv", b"id,name\n", "header.csv: no data rows"),
    ("broken.parquet", b"PAR1 not really parquet", "broken.parquet: not a readable Parquet file"),
])
def test_bad_input_exits_2_naming_file_and_line_never_content(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes, expect: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert main(["discover", str(path), "--no-ner"]) == 2
    out = capsys.readouterr()
    assert expect in out.err
    for value in ("Ann", "Jos", "first"):
        assert value not in out.err and value not in out.out


def test_missing_file_and_bad_options_exit_2(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["discover", str(tmp_path / "nope.csv"), "--no-ner"]) == 2
    assert "input not found" in capsys.readouterr().err
    good = _write_csv(tmp_path / "t.csv")
    assert main(["discover", str(good), "--no-ner", "--format", "xlsx"]) == 2
    assert main(["discover", str(good), "--no-ner", "--sample", "0"]) == 2
    assert main(["discover", str(good), "--no-ner", "--policy-out", str(good)]) == 2
    assert good.read_text(encoding="utf-8").startswith("id,email")


def test_json_shape_draft_and_no_values(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _write_csv(tmp_path / "tickets.csv")
    draft = tmp_path / "draft.yaml"
    assert main(["discover", str(src), "--no-ner", "--json", "--policy-out", str(draft)]) == 0
    out = capsys.readouterr()
    doc = json.loads(out.out)
    assert list(doc) == ["columns"]
    assert [c["name"] for c in doc["columns"]] == ["id", "email", "name", "message", "label"]
    for c in doc["columns"]:
        assert list(c) == ["name", "entities", "role", "confidence", "evidence"]
        assert all(list(e) == ["type", "share"] for e in c["entities"])
    by_name = {c["name"]: c for c in doc["columns"]}
    assert by_name["email"]["role"] == "direct_identifier"
    assert by_name["message"]["role"] == "free_text"
    assert by_name["label"]["role"] == "label"
    text = draft.read_text(encoding="utf-8")
    for value in (SECRET_NAME, SECRET_EMAIL, "Quillon", "Vantrebosk", "person1@example.org", "invoice"):
        assert value not in out.out and value not in out.err and value not in text
    assert main(["check-policy", str(draft)]) == 0
    policy = load_policy(draft)
    assert policy.columns["message"].treatment is Treatment.REDACT
    assert policy.columns["email"].role is Role.DIRECT_IDENTIFIER


def test_sample_bound_and_parquet(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = 50_000
    table = pa.table({"id": list(range(rows)), "score": [i % 7 for i in range(rows)],
                      "email": [f"p{i}@example.org" for i in range(rows)]})
    src = tmp_path / "big.parquet"
    pq.write_table(table, src)
    assert main(["discover", str(src), "--no-ner", "--json", "--sample", "200"]) == 0
    doc = json.loads(capsys.readouterr().out)
    shape = next(e for e in doc["columns"][0]["evidence"] if e["source"] == "shape")
    assert "of 200 sampled rows" in shape["detail"]
    assert {c["name"]: c["role"] for c in doc["columns"]} == {
        "id": "feature", "score": "feature", "email": "direct_identifier"}


# ---------------------------------------------------------------------------- the real NER model

FAKENAME = REPO_ROOT.parent / "shared" / "eval" / "fakenamegenerator_100.csv"

EXPECTED_ROLES = {
    "GivenName": "direct_identifier",
    "Surname": "direct_identifier",
    "MothersMaiden": "direct_identifier",
    "StreetAddress": "direct_identifier",
    "EmailAddress": "direct_identifier",
    "TelephoneNumber": "direct_identifier",
    "CCNumber": "direct_identifier",
    "NationalID": "direct_identifier",
    "Username": "direct_identifier",
    "Password": "direct_identifier",
    "Birthday": "quasi_identifier",
    "Age": "quasi_identifier",
    "ZipCode": "quasi_identifier",
    "City": "quasi_identifier",
    "Gender": "quasi_identifier",
    "BloodType": "sensitive",
}


def _file_values(path: Path) -> set[str]:
    """Every cell that could not appear in an output by chance (short codes and small counts excluded)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header = set(rows[0])
    values = set()
    for row in rows[1:]:
        for raw in row:
            cell = raw.strip()
            digits = sum(ch.isdigit() for ch in cell)
            if cell in header or (digits == len(cell) and digits < 5) or len(cell) < 5:
                continue
            values.add(cell)
    return values


@pytest.mark.slow
@pytest.mark.skipif(not FAKENAME.is_file(), reason="../shared/eval/fakenamegenerator_100.csv is not here")
def test_fakenamegenerator_roles_no_values_and_a_valid_draft(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    draft = tmp_path / "fng.yaml"
    started = time.monotonic()
    assert main(["discover", str(FAKENAME), "--json", "--policy-out", str(draft)]) == 0
    elapsed = time.monotonic() - started
    out = capsys.readouterr()
    doc = json.loads(out.out)
    roles = {c["name"]: c["role"] for c in doc["columns"]}
    wrong = {c: (roles.get(c), want) for c, want in EXPECTED_ROLES.items() if roles.get(c) != want}
    assert not wrong, wrong
    by_name = {c["name"]: c for c in doc["columns"]}
    assert {"type": "EMAIL_ADDRESS", "share": 1.0} in by_name["EmailAddress"]["entities"]
    assert {"type": "CREDIT_CARD", "share": 1.0} in by_name["CCNumber"]["entities"]
    assert by_name["CCNumber"]["confidence"] >= 0.9
    assert any(e["source"] == "validated" for e in by_name["CCNumber"]["evidence"])
    assert any(e["source"] == "header" for e in by_name["Surname"]["evidence"])
    # nothing kept in clear that holds a direct identifier; the draft is valid
    text = draft.read_text(encoding="utf-8")
    policy = load_policy(draft)
    for name in EXPECTED_ROLES:
        column = policy.columns[name]
        assert column.treatment is not Treatment.KEEP or column.role is Role.QUASI_IDENTIFIER
    values = _file_values(FAKENAME)
    assert len(values) > 1000
    leaked = sorted(v for v in values if v in out.out or v in out.err or v in text)
    assert not leaked, f"{len(leaked)} values of the file appear in the output or the draft"
    assert main(["check-policy", str(draft)]) == 0
    assert elapsed < 120


def test_encoding_and_delimiter_reach_the_draft(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "semi.csv"
    rows = ["id;city;label"] + [f"{i};Malm\xf6;{'a' if i % 2 else 'b'}" for i in range(20)]
    src.write_bytes("\n".join(rows).encode("latin-1"))
    draft = tmp_path / "semi.yaml"
    assert main(["discover", str(src), "--no-ner", "--encoding", "latin-1", "--delimiter", ";",
                 "--policy-out", str(draft)]) == 0
    policy = load_policy(draft)
    assert (policy.source.encoding, policy.source.delimiter) == ("latin-1", ";")
    assert list(policy.columns) == ["id", "city", "label"]
    assert "Malm" not in capsys.readouterr().out + draft.read_text(encoding="utf-8")


def test_jsonl_values_outrank_a_harmless_header(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "records.jsonl"
    records = [{"notes": f"someone{i}@example.org", "score": i % 5, "comment": None if i % 4 else "ok"}
               for i in range(40)]
    src.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    assert main(["discover", str(src), "--no-ner", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    notes = next(c for c in doc["columns"] if c["name"] == "notes")
    assert notes["role"] == "direct_identifier"
    assert notes["entities"][0] == {"type": "EMAIL_ADDRESS", "share": 1.0}
    assert notes["confidence"] >= 0.9
    assert "someone1@example.org" not in json.dumps(doc)

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from clearhouse.errors import IngestError
from clearhouse.policy import Policy, parse_policy
from clearhouse.stages.ingest import ingest, land

POLICY = """\
id: people
owner: team@example.org
purpose: Test ingest of a small table.
ethics_risk: E0
source: {path: people.csv}
row_id: id
columns:
  id: {role: feature, treatment: keep}
  name: {role: direct_identifier, treatment: drop}
  note: {role: free_text, treatment: redact}
"""

GOOD_CSV = 'id,name,note\n1,Ann Lee,"hello, world"\n2,Bo Chan,"multi\nline"\n'


@pytest.fixture
def policy() -> Policy:
    return parse_policy(POLICY)


def _run(tmp_path: Path, policy: Policy, name: str, content: bytes) -> tuple[Path, object]:
    src = tmp_path / name
    src.write_bytes(content)
    before = hashlib.sha256(content).hexdigest()
    try:
        result: object = ingest(src, policy, landing_dir=tmp_path / "landing", work_dir=tmp_path / "work")
    except IngestError as exc:
        result = exc
    # raw input is never modified, whatever happened
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before
    return src, result


def test_csv_lands_read_only_and_converts(tmp_path: Path, policy: Policy) -> None:
    _, result = _run(tmp_path, policy, "people.csv", GOOD_CSV.encode())
    assert not isinstance(result, Exception)
    assert result.rows == 2  # type: ignore[attr-defined]
    assert result.raw_sha256 == hashlib.sha256(GOOD_CSV.encode()).hexdigest()  # type: ignore[attr-defined]
    landing = result.landing_path  # type: ignore[attr-defined]
    assert landing.read_bytes() == GOOD_CSV.encode()
    assert not landing.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    table = pq.read_table(result.ingested_path)  # type: ignore[attr-defined]
    assert table.column("note").to_pylist() == ["hello, world", "multi\nline"]
    assert table.column("id").to_pylist() == ["1", "2"]  # CSV values stay strings: no lost leading zeros


def test_jsonl_and_parquet(tmp_path: Path, policy: Policy) -> None:
    lines = [{"id": 1, "name": "Ann", "note": "x"}, {"id": 2, "name": "Bo", "note": None}]
    content = "\n".join(json.dumps(r) for r in lines).encode()
    _, result = _run(tmp_path, policy, "people.jsonl", content)
    assert result.rows == 2  # type: ignore[attr-defined]
    table = pq.read_table(result.ingested_path)  # type: ignore[attr-defined]
    parquet_src = tmp_path / "p.parquet"
    pq.write_table(table, parquet_src)
    again = ingest(parquet_src, policy, landing_dir=tmp_path / "l2", work_dir=tmp_path / "w2")
    assert pq.read_table(again.ingested_path).equals(table)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("people.csv", b'id,name,note\n1,Ann,"ok"\n2,Bo,"unterminated\n', r"malformed CSV"),
        ("people.csv", b"id,name,note\n1,Ann,ok\n2,Bo\n", r"malformed CSV at line 3: expected 3 fields, found 2"),
        ("people.csv", b"id,name,note\n1,Ann \xff\xfe,ok\n", r"not valid utf-8 at byte 19"),
        ("people.csv", b"", r"empty file"),
        ("people.csv", b"id,name,note\n", r"no data rows"),
        ("people.csv", b"id,name\n1,Ann\n", r"missing from the input: \['note'\]"),
        ("people.csv", b"id,name,note,ssn\n1,Ann,x,123\n", r"does not declare: \['ssn'\]"),
        ("people.csv", b"id,name,note\n1,Ann,x\n1,Bo,y\n", r"row_id column 'id' must be unique"),
        ("people.jsonl", b'{"id": 1, "name": "A", "note": "x"}\n{"id": 2, "name": \n', r"line 2: invalid JSON"),
        ("people.jsonl", b"[1, 2]\n", r"line 1: expected a JSON object"),
        ("people.jsonl", b'{"id": 1, "name": {"first": "A"}, "note": "x"}\n', r"nested value"),
        ("people.parquet", b"PAR1 definitely not parquet", r"not a readable Parquet file"),
        ("people.txt", b"id\n1\n", r"cannot be inferred"),
    ],
)
def test_bad_inputs_fail_with_clear_errors(
    tmp_path: Path, policy: Policy, name: str, content: bytes, message: str
) -> None:
    from clearhouse.errors import PolicyError

    src = tmp_path / name
    src.write_bytes(content)
    with pytest.raises((IngestError, PolicyError), match=message) as info:
        ingest(src, policy, landing_dir=tmp_path / "landing", work_dir=tmp_path / "work")
    assert src.read_bytes() == content
    # errors never quote row content
    assert "Ann" not in str(info.value)


def test_missing_input(tmp_path: Path, policy: Policy) -> None:
    with pytest.raises(IngestError, match="input not found"):
        ingest(tmp_path / "nope.csv", policy, landing_dir=tmp_path / "l", work_dir=tmp_path / "w")


def test_landing_copy_is_never_overwritten(tmp_path: Path, policy: Policy) -> None:
    src = tmp_path / "people.csv"
    src.write_text(GOOD_CSV)
    ingest(src, policy, landing_dir=tmp_path / "l", work_dir=tmp_path / "w")
    with pytest.raises(IngestError, match="immutable"):
        ingest(src, policy, landing_dir=tmp_path / "l", work_dir=tmp_path / "w2")


def test_undeclared_columns_can_be_dropped_by_policy(tmp_path: Path) -> None:
    policy = parse_policy(POLICY + "undeclared_columns: drop\n")
    src = tmp_path / "people.csv"
    src.write_text("id,name,note,ssn\n1,Ann,x,123-45-6789\n")
    result = ingest(src, policy, landing_dir=tmp_path / "l", work_dir=tmp_path / "w")
    assert result.dropped_undeclared == ["ssn"]
    assert pq.read_table(result.ingested_path).column_names == ["id", "name", "note"]


def test_a_symlinked_source_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_text("a\n1\n")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    with pytest.raises(IngestError, match="symbolic link"):
        land(link, tmp_path / "landing", "csv", "utf-8")
    assert not (tmp_path / "landing" / "raw.csv").exists()

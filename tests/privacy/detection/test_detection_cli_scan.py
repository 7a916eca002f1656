"""``clearhouse scan-text``: good file, malformed lines, the entity filter, ordering and offsets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clearhouse.cli import main
from clearhouse.errors import IngestError
from clearhouse.privacy.detection.jsonl_scan import scan_file
from clearhouse.privacy.detection.text import PresidioTextDetector

RECORDS = [
    {"id": "r1", "text": "Call Dr. Quentin Barlow at (415) 555-0187 or q.barlow@example.org", "extra": 1},
    {"id": "r2", "text": "nothing personal in here"},
    {"id": "r3", "text": "MY ORDER NEVER CAME. MAIL ME AT ANNA.K@EXAMPLE.NET"},
]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_scan_file_streams_in_order_with_offsets(tmp_path: Path, us_detector: PresidioTextDetector) -> None:
    src = _write(tmp_path / "in.jsonl", [json.dumps(r) for r in RECORDS])
    out = tmp_path / "out.jsonl"
    assert scan_file(src, out, us_detector, chunk_lines=2) == 3
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["r1", "r2", "r3"]
    assert rows[1]["spans"] == []
    texts = {r["id"]: r["text"] for r in RECORDS}
    found = {texts["r1"][s["start"]:s["end"]] for s in rows[0]["spans"]}
    assert {"Quentin Barlow", "(415) 555-0187", "q.barlow@example.org"} <= found
    assert set(rows[0]["spans"][0]) == {"start", "end", "entity_type", "score"}


@pytest.mark.parametrize(("line", "reason"), [
    ("{not json", "not valid JSON"),
    ('["a", "b"]', "JSON object"),
    ('{"id": 3, "text": "x"}', "'id' must be a string"),
    ('{"id": "x"}', "'text' must be a string"),
    ("", "empty line"),
])
def test_malformed_line_names_its_number(tmp_path: Path, us_detector: PresidioTextDetector,
                                         line: str, reason: str) -> None:
    src = _write(tmp_path / "bad.jsonl", [json.dumps(RECORDS[0]), json.dumps(RECORDS[1]), line])
    out = tmp_path / "out.jsonl"
    with pytest.raises(IngestError, match=rf"line 3: .*{reason}"):
        scan_file(src, out, us_detector)
    assert not out.exists()


def test_cli_entities_filter_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _write(tmp_path / "in.jsonl", [json.dumps(r) for r in RECORDS])
    out = tmp_path / "out.jsonl"
    assert main(["scan-text", str(src), "--out", str(out), "--entities", "EMAIL_ADDRESS"]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {s["entity_type"] for r in rows for s in r["spans"]} == {"EMAIL_ADDRESS"}
    assert "scan-text: wrote 3 lines" in capsys.readouterr().err

    bad = _write(tmp_path / "bad.jsonl", [json.dumps(RECORDS[0]), "{oops"])
    assert main(["scan-text", str(bad), "--out", str(tmp_path / "o2.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "oops" not in err

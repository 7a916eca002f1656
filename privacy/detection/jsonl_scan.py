"""Scanning JSON Lines files of ``{"id": str, "text": str}`` records with a free-text detector.

Input lines (other keys ignored) become output lines ``{"id": str, "spans": [{"start", "end",
"entity_type", "score"}]}`` in the same order, offsets into the original text (end exclusive). A
malformed line stops the scan with an error naming its line number (never its content); the output file
only appears when every line was processed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

from clearhouse.errors import IngestError
from clearhouse.files import atomic_path
from clearhouse.privacy.detection.types import TextDetector

#: lines handed to the detector at once: large enough for batched NER, small enough for flat memory
CHUNK_LINES = 1_024


def read_records(path: Path) -> Iterator[tuple[int, str, str]]:
    """Yield ``(line_number, id, text)``; raise :class:`IngestError` naming the first bad line."""
    try:
        fh = path.open(encoding="utf-8")
    except OSError as exc:
        raise IngestError(f"cannot read {path}: {exc.strerror}") from exc
    with fh:
        lineno = 0
        try:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    raise IngestError(f"{path}: line {lineno}: empty line; expected a JSON object")
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise IngestError(
                        f"{path}: line {lineno}: not valid JSON ({exc.msg}, column {exc.colno})"
                    ) from None
                if not isinstance(record, dict):
                    raise IngestError(f"{path}: line {lineno}: expected a JSON object with 'id' and 'text'")
                rid, text = record.get("id"), record.get("text")
                if not isinstance(rid, str):
                    raise IngestError(f"{path}: line {lineno}: 'id' must be a string")
                if not isinstance(text, str):
                    raise IngestError(f"{path}: line {lineno}: 'text' must be a string")
                yield lineno, rid, text
        except UnicodeDecodeError as exc:
            raise IngestError(f"{path}: line {lineno + 1}: not valid UTF-8 (byte {exc.start})") from None


def _chunks(records: Iterator[tuple[int, str, str]], size: int) -> Iterator[list[tuple[int, str, str]]]:
    chunk: list[tuple[int, str, str]] = []
    for rec in records:
        chunk.append(rec)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def count_lines(path: Path) -> int:
    """Lines in ``path`` (a fast byte scan, for progress totals)."""
    n = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            n += chunk.count(b"\n")
    return n


def scan_file(
    src: Path,
    out: Path,
    detector: TextDetector,
    *,
    progress: Callable[[int], None] | None = None,
    chunk_lines: int = CHUNK_LINES,
) -> int:
    """Scan ``src`` into ``out`` with ``detector``; returns the number of lines. ``progress`` is called
    with the number of lines done after each chunk. ``out`` appears only when every line was scanned."""
    done = 0
    with atomic_path(out) as tmp, tmp.open("w", encoding="utf-8") as sink:
        for chunk in _chunks(read_records(src), chunk_lines):
            results = detector.detect_many([text for _, _, text in chunk])
            for (_, rid, _), spans in zip(chunk, results, strict=True):
                sink.write(
                    json.dumps(
                        {
                            "id": rid,
                            "spans": [
                                {"start": s.start, "end": s.end, "entity_type": s.entity_type, "score": s.score}
                                for s in spans
                            ],
                        },
                        ensure_ascii=False,
                    )
                    + "\n"
                )
            done += len(chunk)
            if progress is not None:
                progress(done)
    return done

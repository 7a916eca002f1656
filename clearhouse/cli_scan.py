"""``clearhouse scan-text IN.jsonl --out OUT.jsonl [--entities A,B] [--policy P.yaml]``.

Runs the same free-text detector the pipeline applies to free-text columns over a JSON Lines file,
streaming: input lines ``{"id": str, "text": str}`` (other keys ignored) become output lines
``{"id": str, "spans": [{"start", "end", "entity_type", "score"}]}`` in the same order, offsets into
the original text (end exclusive). Progress goes to stderr. A malformed line stops the run with an
error naming its line number (never its content); the output file only appears when every line was
processed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from clearhouse.cli import EXIT_OK, extra_command
from clearhouse.config import Settings
from clearhouse.errors import IngestError

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


def scan_file(src: Path, out: Path, detector: Any, *, progress: bool = True, chunk_lines: int = CHUNK_LINES) -> int:
    """Scan ``src`` into ``out`` with ``detector`` (a ``TextDetector``); returns the number of lines."""
    tmp = out.with_name(f".{out.name}.partial")
    out.parent.mkdir(parents=True, exist_ok=True)
    done = 0
    started = time.perf_counter()
    try:
        with tmp.open("w", encoding="utf-8") as sink:
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
                if progress:
                    rate = done / max(time.perf_counter() - started, 1e-9)
                    sys.stderr.write(f"scan-text: {done} lines ({rate:.0f} lines/s)\n")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return done


def cmd_scan_text(args: argparse.Namespace, settings: Settings) -> int:
    from clearhouse.policy import Detection, load_policy
    from clearhouse.privacy.detection.text import PresidioTextDetector

    src, out = Path(args.input), Path(args.out)
    if not src.is_file():
        raise IngestError(f"input file not found: {src}")
    cfg = load_policy(args.policy).detection if args.policy else Detection()
    entities = [e.strip() for e in args.entities.split(",") if e.strip()] if args.entities else None
    detector = PresidioTextDetector(cfg, settings.spacy_model, entities=entities)
    try:
        n = scan_file(src, out, detector, progress=not args.quiet)
    finally:
        detector.close()
    sys.stderr.write(f"scan-text: wrote {n} lines to {out}\n")
    return EXIT_OK


@extra_command
def _register_scan_text(sub: Any) -> None:
    p = sub.add_parser("scan-text", help="detect personal data in a JSON Lines file of {id, text} records")
    p.add_argument("input", help='JSON Lines input: one {"id": str, "text": str} object per line')
    p.add_argument("--out", required=True, help='JSON Lines output: {"id", "spans"} per input line')
    p.add_argument("--entities", default=None, help="comma-separated entity types to report (default: all)")
    p.add_argument(
        "--policy", default=None, help="take threshold, countries, allow list and recognizers from this policy"
    )
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=cmd_scan_text)

"""``clearhouse scan-text IN.jsonl --out OUT.jsonl``: the pipeline's free-text detector over a file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clearhouse.cli._common import JsonOption, QuietOption, print_json, progress, settings, show_progress
from clearhouse.errors import IngestError
from clearhouse.policy import Detection, load_policy
from clearhouse.privacy.detection.jsonl_scan import count_lines, scan_file


def register(app: typer.Typer) -> None:
    app.command("scan-text", help="detect personal data in a JSON Lines file of {id, text} records")(scan_text)


def scan_text(
    input_path: Annotated[
        Path, typer.Argument(metavar="INPUT", help='JSON Lines input: one {"id": str, "text": str} object per line')
    ],
    out: Annotated[Path, typer.Option(help='JSON Lines output: {"id", "spans"} per input line')],
    entities: Annotated[str | None, typer.Option(help="comma-separated entity types to report (default: all)")] = None,
    policy: Annotated[
        Path | None, typer.Option(help="take threshold, countries, allow list and recognizers from this policy")
    ] = None,
    quiet: QuietOption = False,
    json: JsonOption = False,
) -> None:
    # Presidio and spaCy take seconds to import: only this command pays for them.
    from clearhouse.privacy.detection.text import PresidioTextDetector  # noqa: PLC0415 - heavy (spaCy, Presidio)

    s = settings()
    if not input_path.is_file():
        raise IngestError(f"input file not found: {input_path}")
    cfg = load_policy(policy).detection if policy else Detection()
    wanted = [e.strip() for e in entities.split(",") if e.strip()] if entities else None
    detector = PresidioTextDetector(cfg, s.spacy_model, entities=wanted, processes=s.detect_processes or None)
    enabled = show_progress(quiet)
    total = count_lines(input_path) if enabled else None
    try:
        with progress("scan-text", total, unit="lines", enabled=enabled) as bar:

            def advance(done: int) -> None:
                if bar is not None:
                    bar.update(bar.task_ids[0], completed=done)

            n = scan_file(input_path, out, detector, progress=advance)
    finally:
        detector.close()
    if json:
        print_json({"lines": n, "out": str(out)})
    elif not quiet:
        typer.echo(f"scan-text: wrote {n} lines to {out}", err=True)

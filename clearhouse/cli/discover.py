"""``clearhouse discover FILE``: what a new dataset holds, column by column, and a draft policy.

For a data engineer adopting Clearhouse: reads a bounded sample of a CSV, Parquet or JSON Lines file with
the ingest readers, profiles each column with the detect stage's column classification (plus NER on a
sample of short values), and suggests a role with its evidence and confidence. ``--policy-out`` writes a
conservative draft policy that ``check-policy`` accepts. Values are never printed: only names, counts
and shares.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import typer

from clearhouse.cli._common import JsonOption, QuietOption, print_json, settings
from clearhouse.errors import ConfigError, DetectionError, IngestError
from clearhouse.files import write_text_atomically
from clearhouse.policy import Detection
from clearhouse.privacy.detection.discover import (
    DEFAULT_K,
    SAMPLE_ROWS,
    Discovery,
    discover_table,
    draft_policy,
    take_sample,
)
from clearhouse.privacy.detection.types import TextDetector
from clearhouse.readers import FORMATS, check_encoding, infer_format, read_batches


def register(app: typer.Typer) -> None:
    app.command(
        "discover",
        help="profile a new dataset: entity types, suggested role and evidence per column; optionally "
        "write a conservative draft policy (values are never printed)",
    )(discover)


def _show(found: Discovery, origin: str, seconds: float) -> None:
    typer.echo(f"{origin}: {found.rows_sampled} rows sampled, {len(found.columns)} columns ({seconds:.1f} s); "
               "shares are of sampled non-empty values, values are never shown")
    width = max([len(c.facts.name) for c in found.columns] + [6])
    typer.echo(f"{'column':<{width}}  {'role':<17}  conf  {'draft treatment':<16}  entities")
    for c in found.columns:
        s = c.suggestion
        entities = ", ".join(f"{e} {v:.0%}" for e, v in sorted(c.facts.entities.items(), key=lambda kv: -kv[1]))
        typer.echo(f"{c.facts.name:<{width}}  {s.role.value:<17}  {s.confidence:.2f}  "
                   f"{s.treatment.value:<16}  {entities or '-'}")
        for e in s.evidence:
            typer.echo(f"{'':<{width}}    [{e.source}] {e.detail}")


def _check_arguments(file: Path, fmt: str | None, delimiter: str, policy_out: Path | None) -> str:
    """Bad arguments stop the command before anything is read (exit 2); returns the file's format."""
    if not file.exists():
        raise IngestError(f"input not found: {file}")
    if not file.is_file():
        raise IngestError(f"input is not a regular file: {file}")
    if fmt is not None and fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r}: expected one of {list(FORMATS)}")
    if len(delimiter) != 1:
        raise ConfigError("--delimiter must be one character")
    if policy_out is not None and policy_out.resolve() == file.resolve():
        raise ConfigError("--policy-out must not overwrite the input file")
    return fmt or infer_format(file)


def _read_sample(file: Path, fmt: str, *, sample: int, encoding: str, delimiter: str) -> pa.Table:
    """The first ``sample`` rows, read with the ingest readers (errors name file and line, never content)."""
    if fmt != "parquet":
        check_encoding(file, encoding, file.name)
    batches = read_batches(file, fmt, encoding=encoding, delimiter=delimiter, origin=file.name,
                           batch_rows=min(sample, 10_000))
    try:
        table = take_sample(batches, sample)
    except UnicodeDecodeError as exc:  # a reader that decodes lazily; check_encoding normally catches it first
        raise IngestError(f"{file.name}: not valid {encoding} (byte {exc.start})") from None
    finally:
        close = getattr(batches, "close", None)
        if callable(close):
            close()
    if table.num_columns == 0 or table.num_rows == 0:
        raise IngestError(f"{file.name}: no data rows")
    return table


def discover(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="CSV, Parquet or JSON Lines file to profile")],
    json: JsonOption = False,
    policy_out: Annotated[
        Path | None, typer.Option("--policy-out", help="write a conservative draft policy (YAML) to this path")
    ] = None,
    sample: Annotated[int, typer.Option("--sample", min=1, help="rows read from the start of the file")] = SAMPLE_ROWS,
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv, jsonl or parquet (default: from the file suffix)")
    ] = None,
    encoding: Annotated[str, typer.Option(help="text encoding of CSV and JSON Lines files")] = "utf-8",
    delimiter: Annotated[str, typer.Option(help="CSV field delimiter")] = ",",
    dataset_id: Annotated[str | None, typer.Option("--id", help="dataset id of the draft (default: from FILE)")] = None,
    ner: Annotated[bool, typer.Option(help="confirm names and places with NER on a sample (slower to start)")] = True,
    quiet: QuietOption = False,
) -> None:
    s = settings()
    resolved = _check_arguments(file, fmt, delimiter, policy_out)
    started = time.monotonic()
    table = _read_sample(file, resolved, sample=sample, encoding=encoding, delimiter=delimiter)
    detector: TextDetector | None = None
    if ner:
        # Presidio and spaCy take seconds to import: only this command (and only with NER) pays for them.
        from clearhouse.privacy.detection.text import PresidioTextDetector  # noqa: PLC0415 - heavy (spaCy, Presidio)

        detector = PresidioTextDetector(Detection(), s.spacy_model, processes=1)
    try:
        found = discover_table(table, detector)
    except (pa.ArrowException, ValueError, TypeError) as exc:
        # by type only: library messages may quote the values they choked on
        raise DetectionError(f"{file.name}: could not profile the sample ({type(exc).__name__})") from None
    finally:
        close_detector = getattr(detector, "close", None)
        if callable(close_detector):
            close_detector()
    elapsed = time.monotonic() - started
    if policy_out is not None:
        text = draft_policy(found, source_path=str(file.resolve()), fmt=resolved, origin=file.name,
                            dataset_id=dataset_id, k=DEFAULT_K, encoding=encoding, delimiter=delimiter)
        write_text_atomically(policy_out, text, mode=0o644)
    if json:
        print_json(found.to_dict())
        return
    _show(found, file.name, elapsed)
    if policy_out is not None and not quiet:
        typer.echo(f"draft policy written to {policy_out}: review it, then `clearhouse check-policy {policy_out}`")

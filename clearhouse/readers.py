"""Reading collected tabular files (CSV, JSON Lines, Parquet) as Arrow record batches.

The pure reading part of ingest, kept below the domain layer so that both the ingest stage and the
domain (``clearhouse.privacy.detection.discover``) stream the same way. Errors name the file and the line
or byte, never the content of the offending row (it may hold personal data): pyarrow's own messages can
quote row text, so they are rebuilt from row numbers.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from clearhouse.errors import IngestError

CHUNK = 1 << 20
BATCH_ROWS = 10_000
#: smallest block the CSV reader parses at a time (bigger when a record is longer)
CSV_BLOCK = 1 << 20
FORMATS = ("csv", "jsonl", "parquet")
#: file suffix → format
FORMAT_BY_SUFFIX = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


def open_parquet(path: Path) -> pq.ParquetFile:
    """A Parquet file to read batch by batch in flat memory.

    Arrow's default ``pre_buffer`` reads every requested row group ahead (coalesced I/O): iterating a
    whole file then holds most of it in memory. Without it, only the row group in hand is read."""
    return pq.ParquetFile(path, pre_buffer=False)


def infer_format(path: Path) -> str:
    """The format a file's suffix names; :class:`IngestError` for any other suffix."""
    fmt = FORMAT_BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        raise IngestError(
            f"{path.name}: cannot infer the format from {path.suffix or 'a missing suffix'!r}; "
            f"expected one of {sorted(FORMAT_BY_SUFFIX)} (or name the format explicitly)"
        )
    return fmt


def check_encoding(path: Path, encoding: str, origin: str | None = None) -> None:
    """Decode the whole file incrementally; a bad byte is reported with its line and byte offset."""
    origin = origin or path.name
    try:
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    except LookupError:
        raise IngestError(f"unknown encoding {encoding!r}") from None
    offset, lines = 0, 1
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                line = lines + chunk.count(b"\n", 0, max(0, exc.start))
                raise IngestError(
                    f"{origin}: line {line}: not valid {encoding} at byte {offset + exc.start}; "
                    "re-export the file as UTF-8 or name its encoding"
                ) from None
            offset += len(chunk)
            lines += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise IngestError(f"{origin}: line {lines}: truncated {encoding} sequence at end of file") from None


def _locate_csv_problem(path: Path, encoding: str, delimiter: str, expected: int) -> str:
    """Find the physical line of the first record with the wrong field count (error path only)."""
    with path.open("r", encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter, strict=True)
        try:
            for record in reader:
                if len(record) != expected:
                    return f"line {reader.line_num}: expected {expected} fields, found {len(record)}"
        except csv.Error:
            return f"line {reader.line_num}: unbalanced quotes"
    return f"a record with the wrong number of fields (expected {expected})"


def _quotes_and_longest_line(path: Path) -> tuple[int, int]:
    """Number of double quotes in the file and the length in bytes of its longest physical line."""
    quotes = longest = current = 0
    with path.open("rb") as raw:
        while chunk := raw.read(CHUNK):
            quotes += chunk.count(b'"')
            parts = chunk.split(b"\n")
            if len(parts) == 1:
                current += len(chunk)
                continue
            longest = max(longest, current + len(parts[0]), max(map(len, parts[1:-1]), default=0))
            current = len(parts[-1])
    return quotes, max(longest, current)


def _csv_batches(path: Path, encoding: str, delimiter: str, origin: str) -> Iterator[pa.RecordBatch]:
    bad_rows: list[tuple[int | None, int, int]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        # Keep the row number and shape only; row.text may hold personal data.
        bad_rows.append((row.number, row.expected_columns, row.actual_columns))
        return "error"

    with path.open("r", encoding=encoding, newline="") as fh:
        header_line = fh.readline()
    if not header_line.strip():
        raise IngestError(f"{origin}: empty file or missing header line")
    quotes, longest = _quotes_and_longest_line(path)
    if quotes % 2:
        raise IngestError(f"{origin}: malformed CSV: unbalanced quotes (truncated file?)")
    header_table = pacsv.read_csv(
        pa.py_buffer(header_line.encode("utf-8")), parse_options=pacsv.ParseOptions(delimiter=delimiter)
    )
    names = header_table.column_names
    if len(set(names)) != len(names):
        raise IngestError(f"{origin}: duplicate column names in header")
    convert = pacsv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False, quoted_strings_can_be_null=False
    )
    # Arrow's streaming reader reads dozens of blocks ahead: small blocks keep that (and so memory)
    # small, while a block must still hold the longest record
    read = pacsv.ReadOptions(block_size=max(CSV_BLOCK, 2 * longest), encoding=encoding)
    parse = pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid, newlines_in_values=True)
    try:
        reader = pacsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert)
        yield from reader
    except (pa.ArrowInvalid, pa.ArrowKeyError) as exc:
        if bad_rows:
            _number, expected, _actual = bad_rows[0]
            where = _locate_csv_problem(path, encoding, delimiter, expected)
            raise IngestError(f"{origin}: malformed CSV at {where} (truncated file or unbalanced quotes?)") from None
        # Arrow's message can quote row content; keep only its first clause.
        reason = str(exc).split(":")[0]
        raise IngestError(f"{origin}: malformed CSV ({reason})") from None


def _jsonl_batches(path: Path, encoding: str, origin: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
    columns: list[str] | None = None
    buffer: dict[str, list[object]] = {}

    def flush() -> pa.RecordBatch:
        assert columns is not None
        arrays = [pa.array(buffer[c], type=pa.string()) for c in columns]
        for c in columns:
            buffer[c] = []
        return pa.RecordBatch.from_arrays(arrays, names=columns)

    with path.open("r", encoding=encoding) as fh:
        count = 0
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise IngestError(f"{origin}: line {lineno}: invalid JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(record, dict):
                raise IngestError(f"{origin}: line {lineno}: expected a JSON object per line")
            if columns is None:
                columns = list(record)
                buffer = {c: [] for c in columns}
            extra = set(record) - set(columns)
            if extra:
                raise IngestError(f"{origin}: line {lineno}: keys not in the first record: {sorted(extra)}")
            for c in columns:
                value = record.get(c)
                if isinstance(value, dict | list):
                    raise IngestError(f"{origin}: line {lineno}: column {c!r} holds a nested value")
                buffer[c].append(
                    None if value is None else str(value) if not isinstance(value, bool) else str(value).lower()
                )
            count += 1
            if count % batch_rows == 0:
                yield flush()
    if columns is None:
        raise IngestError(f"{origin}: no records")
    if buffer and buffer[columns[0]]:
        yield flush()


def _parquet_batches(path: Path, origin: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
    try:
        pf = open_parquet(path)
        yield from pf.iter_batches(batch_size=batch_rows)
    except (pa.ArrowInvalid, OSError) as exc:
        raise IngestError(f"{origin}: not a readable Parquet file ({type(exc).__name__})") from None


def read_batches(
    path: Path,
    fmt: str,
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    origin: str | None = None,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[pa.RecordBatch]:
    """Stream record batches of ``path`` (``origin`` names it in errors). CSV and JSON Lines values are
    read as strings; Parquet keeps its types."""
    name = origin or path.name
    if fmt == "csv":
        return _csv_batches(path, encoding, delimiter, name)
    if fmt == "jsonl":
        return _jsonl_batches(path, encoding, name, batch_rows)
    if fmt == "parquet":
        return _parquet_batches(path, name, batch_rows)
    raise IngestError(f"unsupported format {fmt!r}; expected one of {list(FORMATS)}")

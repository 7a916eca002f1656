"""What a labeler downloads: a cleared version as Parquet, CSV, JSON Lines or a Label Studio import file.

A download is a pull by another road: the same labeler check (certified today), the same release
checks (:func:`clearhouse.acts.labeler.checked_release`: state ``cleared``, the ledger verifies, the
files match their manifest), the same columns (those the policy releases to labelers), and it is
recorded in the audit log and the ledger before the first byte goes out. The content is produced
lazily, one record batch at a time, so a large version streams in constant memory.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from clearhouse.acts.labeler import CheckedRelease, checked_release, released_columns
from clearhouse.acts.users import User, ensure
from clearhouse.catalog import Catalog
from clearhouse.errors import CatalogError, ClearhouseError
from clearhouse.files import sha256_file
from clearhouse.governance.record import act
from clearhouse.policy import load_policy
from clearhouse.settings import Settings

BATCH_ROWS = 2_000


@dataclass(frozen=True)
class Format:
    """A download format: its file suffix and media type."""

    name: str
    suffix: str
    media_type: str
    description: str


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("parquet", "parquet", "application/vnd.apache.parquet", "Parquet"),
        Format("csv", "csv", "text/csv; charset=utf-8", "CSV with a header row"),
        Format("jsonl", "jsonl", "application/x-ndjson", "JSON Lines, one row per line"),
        Format("labelstudio", "label-studio.json", "application/json", "Label Studio import (a list of tasks)"),
    )
}


@dataclass(frozen=True)
class Download:
    """A checked, recorded download: what it is and its content (lazy)."""

    dataset: str
    version: str
    format: Format
    rows: int
    columns: list[str]
    #: SHA-256 of the release's manifest.json (the ledger records it): what this download was cut from
    release_manifest_sha256: str
    chunks: Iterator[bytes]

    @property
    def filename(self) -> str:
        return f"{self.dataset}-{self.version}.{self.format.suffix}"


def download(settings: Settings, dataset: str, version: str | None, fmt: str, *, actor: User) -> Download:
    """Check and record a download of a cleared version in ``fmt`` (a key of :data:`FORMATS`).

    Raises :class:`~clearhouse.errors.PermissionDenied` for a labeler who may not see data today and
    :class:`~clearhouse.errors.ReleaseRefused` for a version that may not be handed out (both recorded).
    """
    if fmt not in FORMATS:
        raise CatalogError(f"unknown download format {fmt!r}; formats are {', '.join(FORMATS)}")
    labeler = ensure(settings, actor, "labeler", act=f"download {fmt}")
    release = checked_release(settings, dataset, version, actor=actor)
    data = release.directory / "data.parquet"
    released = set(released_columns(settings, dataset, release.manifest))
    schema = pq.read_schema(data)
    columns = [n for n in schema.names if n in released]
    withheld = [n for n in schema.names if n not in released]
    rows = int(release.manifest["rows"])
    manifest_sha = sha256_file(release.directory / "manifest.json")
    act(
        settings,
        "download",
        actor=actor.name,
        dataset=dataset,
        version=release.info.version,
        detail={
            "format": fmt,
            "rows": rows,
            "columns": columns,
            "withheld": withheld,
            "certified_until": labeler.certified_until.isoformat() if labeler.certified_until else None,
            "certified_by": labeler.certified_by,
            "release_manifest_sha256": manifest_sha,
            "chain_head": release.chain_head,
        },
    )
    writers: dict[str, Callable[[], Iterator[bytes]]] = {
        "parquet": lambda: _parquet(data, columns),
        "csv": lambda: _csv(data, columns),
        "jsonl": lambda: _jsonl(data, columns),
        "labelstudio": lambda: _label_studio(release, columns, withheld, manifest_sha, _row_id(settings, dataset)),
    }
    return Download(dataset, release.info.version, FORMATS[fmt], rows, columns, manifest_sha, writers[fmt]())


def _batches(path: Any, columns: list[str]) -> Iterator[pa.RecordBatch]:
    yield from pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS, columns=columns)


class _Pipe:
    """A write-only file that hands over what was written since the last :meth:`take` (for pyarrow's
    writers, which write to a file: the response streams it batch by batch)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._pos = 0
        self.closed = False

    def write(self, data: bytes) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._pos += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._pos

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def _written(path: Any, columns: list[str], writer: Callable[[Any, pa.Schema], Any]) -> Iterator[bytes]:
    """The bytes an Arrow writer (Parquet, CSV) produces for the released columns, batch by batch."""
    pipe = _Pipe()
    schema = pq.read_schema(path)
    with writer(pipe, pa.schema([schema.field(c) for c in columns])) as w:
        for batch in _batches(path, columns):
            w.write_batch(batch)
            yield pipe.take()
    yield pipe.take()


def _parquet(path: Any, columns: list[str]) -> Iterator[bytes]:
    return _written(path, columns, pq.ParquetWriter)


def _csv(path: Any, columns: list[str]) -> Iterator[bytes]:
    return _written(path, columns, pacsv.CSVWriter)


def _jsonable(value: Any) -> Any:
    # Parquet types JSON has no word for: binary as base64, times as ISO 8601, decimals as text
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _jsonl(path: Any, columns: list[str]) -> Iterator[bytes]:
    for batch in _batches(path, columns):
        lines = [json.dumps(_jsonable(row), ensure_ascii=False) for row in batch.to_pylist()]
        if lines:
            yield ("\n".join(lines) + "\n").encode("utf-8")


def _row_id(settings: Settings, dataset: str) -> str | None:
    try:
        return load_policy(Catalog(settings.db_url).policy_path(dataset)).row_id
    except ClearhouseError:
        return None  # the policy moved: tasks still carry each row's position


def _label_studio(
    release: CheckedRelease, columns: list[str], withheld: list[str], manifest_sha: str, row_id: str | None
) -> Iterator[bytes]:
    """A JSON list of Label Studio tasks: ``{"data": {<released columns>, "clearhouse": {...}}}``.

    The ``clearhouse`` block ties each task back to the release it came from (dataset, version, the row's
    id and position, the release manifest's file digests and its own digest), so an annotation can be
    traced to its row and that row, through the ledger, to the collected file."""
    manifest = release.manifest
    provenance = {
        "dataset": release.info.dataset,
        "version": release.info.version,
        "files": manifest.get("files", {}),
        "raw_sha256": manifest.get("raw_sha256"),
        "release_manifest_sha256": manifest_sha,
        "chain_head": ((manifest.get("ledger") or {}).get("chain_head") or {}).get("entry_hash"),
        "withheld_columns": withheld,
    }
    yield b"["
    position = 0
    for batch in _batches(release.directory / "data.parquet", columns):
        parts = []
        for row in batch.to_pylist():
            data = {k: _jsonable(v) for k, v in row.items()}
            rid = row.get(row_id) if row_id else None
            data["clearhouse"] = {**provenance, "row": position, "row_id": None if rid is None else str(rid)}
            parts.append(("," if position else "") + "\n" + json.dumps({"data": data}, ensure_ascii=False))
            position += 1
        if parts:
            yield "".join(parts).encode("utf-8")
    yield b"\n]\n"

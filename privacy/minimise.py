"""Minimisation operators, registered by name and referenced by the policy's ``treatment``.

``drop`` removes a column, ``keep`` passes it through, ``redact`` replaces detected spans in free text
(or a whole structured value) with ``<ENTITY_TYPE>``, ``mask`` hides all but a few characters,
``generalise`` coarsens dates, numbers, prefixes or categories. ``pseudonymise`` and ``encrypt`` are
applied later by the protect stage (``privacy.crypto``). Parameters are validated before any row is
touched, and errors name the column and parameter, never a value.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from clearhouse.errors import MinimisationError
from clearhouse.policy import Column, Policy, Role, Treatment
from clearhouse.privacy.detection.types import Span, TextDetector
from clearhouse.privacy.leaks import PLACEHOLDER, needles_for, redact_own_identifiers
from clearhouse.readers import open_parquet

SpansByRow = Mapping[int, Sequence[Span]]
#: re-scan passes after the first redaction (redacting changes the context NER sees)
MAX_RESCANS = 2


class PlaceholderAwareDetector:
    """Wraps a detector so spans lying wholly inside redaction placeholders are ignored.

    Used for re-scanning redacted text (here, and by the residual-PII gate): ``<PERSON>`` is not PII,
    but NER may still tag it."""

    def __init__(self, inner: TextDetector) -> None:
        self.inner = inner

    def detect_many(self, texts: Iterable[str | None]) -> list[list[Span]]:
        items = list(texts)
        results = self.inner.detect_many(items)
        out: list[list[Span]] = []
        for text, spans in zip(items, results, strict=True):
            if not text or not spans or "<" not in text:
                out.append(list(spans))
                continue
            holes = [(m.start(), m.end()) for m in PLACEHOLDER.finditer(text)]
            out.append([s for s in spans if not any(a <= s.start and s.end <= b for a, b in holes)])
        return out


class Operator(ABC):
    """Transforms one column of a record batch. Subclasses declare their parameters."""

    name: ClassVar[str]
    allowed_params: ClassVar[frozenset[str]] = frozenset()

    def validate(self, column: str, params: Mapping[str, Any]) -> None:
        unknown = set(params) - self.allowed_params
        if unknown:
            raise MinimisationError(
                f"column {column!r}: treatment {self.name!r} does not take {sorted(unknown)}; "
                f"allowed: {sorted(self.allowed_params) or 'none'}"
            )

    @abstractmethod
    def apply(
        self, values: list[Any], params: Mapping[str, Any], *, spans: SpansByRow | None, row_offset: int
    ) -> list[Any]:
        """Return the treated values (same length)."""


_REGISTRY: dict[str, Operator] = {}


def register(op: type[Operator]) -> type[Operator]:
    _REGISTRY[op.name] = op()
    return op


def get_operator(name: str) -> Operator:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise MinimisationError(f"no minimisation operator named {name!r}") from None


@register
class KeepOperator(Operator):
    name = "keep"

    def apply(
        self, values: list[Any], params: Mapping[str, Any], *, spans: SpansByRow | None, row_offset: int
    ) -> list[Any]:
        return values


@register
class RedactOperator(Operator):
    """Free text: replace each detected span with ``<TYPE>``. Structured: replace the whole value."""

    name = "redact"
    allowed_params = frozenset({"placeholder"})

    def apply(
        self, values: list[Any], params: Mapping[str, Any], *, spans: SpansByRow | None, row_offset: int
    ) -> list[Any]:
        placeholder = str(params.get("placeholder", "<{entity}>"))
        if spans is None:
            return [None if v is None else placeholder.format(entity="REDACTED") for v in values]
        out: list[Any] = []
        for i, value in enumerate(values):
            row_spans = spans.get(row_offset + i)
            if value is None or not row_spans:
                out.append(value)
                continue
            text = str(value)
            pieces: list[str] = []
            cursor = 0
            for s in sorted(row_spans, key=lambda s: s.start):
                if s.start < cursor:
                    continue
                pieces.append(text[cursor : s.start])
                pieces.append(placeholder.format(entity=s.entity_type))
                cursor = s.end
            pieces.append(text[cursor:])
            out.append("".join(pieces))
        return out


@register
class MaskOperator(Operator):
    """Hide all letters/digits except the last ``keep_last`` (and first ``keep_first``)."""

    name = "mask"
    allowed_params = frozenset({"keep_last", "keep_first", "char"})

    def validate(self, column: str, params: Mapping[str, Any]) -> None:
        super().validate(column, params)
        for key in ("keep_last", "keep_first"):
            if key in params and (not isinstance(params[key], int) or params[key] < 0 or params[key] > 8):
                raise MinimisationError(f"column {column!r}: mask.{key} must be an integer 0..8")
        if len(str(params.get("char", "*"))) != 1:
            raise MinimisationError(f"column {column!r}: mask.char must be one character")

    def apply(
        self, values: list[Any], params: Mapping[str, Any], *, spans: SpansByRow | None, row_offset: int
    ) -> list[Any]:
        keep_last = int(params.get("keep_last", 2))
        keep_first = int(params.get("keep_first", 0))
        char = str(params.get("char", "*"))
        out: list[Any] = []
        for value in values:
            if value is None:
                out.append(None)
                continue
            text = str(value)
            positions = [i for i, ch in enumerate(text) if ch.isalnum()]
            visible = set(positions[:keep_first]) | set(positions[len(positions) - keep_last :] if keep_last else [])
            out.append("".join(ch if (i in visible or not ch.isalnum()) else char for i, ch in enumerate(text)))
        return out


_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})")


@register
class GeneraliseOperator(Operator):
    """Coarsen values. Exactly one of:

    * ``to: year | month | decade`` for ISO dates (YYYY-MM-DD…);
    * ``bin: N`` for numbers → ``"40-49"`` (with ``top: M`` → ``"M+"`` for the tail);
    * ``edges: [30, 50, 65]`` for numbers → ``"<30"``, ``"30-49"``, ``"50-64"``, ``"65+"``;
    * ``keep_prefix: N`` for codes (postal codes) → first N characters;
    * ``map: {value: group}`` for categories, with ``other`` for unmapped values.
    """

    name = "generalise"
    allowed_params = frozenset({"to", "bin", "top", "edges", "keep_prefix", "map", "other"})
    modes = ("to", "bin", "edges", "keep_prefix", "map")

    def validate(self, column: str, params: Mapping[str, Any]) -> None:
        super().validate(column, params)
        chosen = [m for m in self.modes if m in params]
        if len(chosen) != 1:
            raise MinimisationError(f"column {column!r}: generalise needs exactly one of {list(self.modes)}")
        if "to" in params and params["to"] not in {"year", "month", "decade"}:
            raise MinimisationError(f"column {column!r}: generalise.to must be year, month or decade")
        if "bin" in params and (not isinstance(params["bin"], int) or params["bin"] < 1):
            raise MinimisationError(f"column {column!r}: generalise.bin must be a positive integer")
        edges = params.get("edges")
        if edges is not None and (
            not isinstance(edges, list)
            or not edges
            or not all(isinstance(e, int) for e in edges)
            or edges != sorted(set(edges))
        ):
            raise MinimisationError(f"column {column!r}: generalise.edges must be increasing integers")
        if "top" in params and not isinstance(params["top"], int):
            raise MinimisationError(f"column {column!r}: generalise.top must be an integer")
        if "keep_prefix" in params and (not isinstance(params["keep_prefix"], int) or params["keep_prefix"] < 0):
            raise MinimisationError(f"column {column!r}: generalise.keep_prefix must be an integer ≥ 0")
        if "map" in params and not isinstance(params["map"], dict):
            raise MinimisationError(f"column {column!r}: generalise.map must be a mapping")

    def apply(
        self, values: list[Any], params: Mapping[str, Any], *, spans: SpansByRow | None, row_offset: int
    ) -> list[Any]:
        if "to" in params:
            return [self._date(v, str(params["to"])) for v in values]
        if "bin" in params:
            return [self._bin(v, int(params["bin"]), params.get("top")) for v in values]
        if "edges" in params:
            return [self._band(v, [int(e) for e in params["edges"]]) for v in values]
        if "keep_prefix" in params:
            n = int(params["keep_prefix"])
            return [None if v is None else str(v).strip()[:n] for v in values]
        mapping = {str(k): str(v) for k, v in dict(params["map"]).items()}
        other = params.get("other", "other")
        return [None if v is None else mapping.get(str(v), other) for v in values]

    @staticmethod
    def _date(value: Any, to: str) -> str | None:
        if value is None:
            return None
        if isinstance(value, date):
            y, m = value.year, value.month
        else:
            match = _DATE.match(str(value))
            if not match:
                return None  # unparseable dates are suppressed rather than passed through
            y, m = int(match.group(1)), int(match.group(2))
        if to == "year":
            return f"{y:04d}"
        if to == "month":
            return f"{y:04d}-{m:02d}"
        return f"{y // 10 * 10}s"

    @staticmethod
    def _band(value: Any, edges: list[int]) -> str | None:
        if value is None:
            return None
        try:
            number = int(float(str(value).strip()))
        except ValueError:
            return None
        if number < edges[0]:
            return f"<{edges[0]}"
        for low, high in pairwise(edges):
            if low <= number < high:
                return f"{low}-{high - 1}"
        return f"{edges[-1]}+"

    @staticmethod
    def _bin(value: Any, width: int, top: Any) -> str | None:
        if value is None:
            return None
        try:
            number = int(float(str(value).strip()))
        except ValueError:
            return None  # suppress what cannot be binned
        if top is not None and number >= int(top):
            return f"{int(top)}+"
        low = number // width * width
        return f"{low}-{low + width - 1}"


#: treatments applied by the protect stage, passed through here untouched
DEFERRED = {Treatment.PSEUDONYMISE, Treatment.ENCRYPT}


@dataclass
class MinimiseResult:
    output_path: Path
    rows: int
    treatments: dict[str, str] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    spans_redacted: int = 0
    #: occurrences of a row's own identifier values the detector had missed, redacted by string match
    own_identifiers_redacted: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "output_path": str(self.output_path),
            "rows": self.rows,
            "treatments": dict(self.treatments),
            "dropped": list(self.dropped),
            "spans_redacted": self.spans_redacted,
            "own_identifiers_redacted": self.own_identifiers_redacted,
        }


def describe(col: Column) -> str:
    params = ", ".join(f"{k}={v}" for k, v in sorted(col.params.items()) if k != "map")
    return f"{col.treatment.value}({params})" if params else col.treatment.value


def validate_treatments(policy: Policy) -> None:
    """Check every column's treatment parameters before any data is touched."""
    for name, col in policy.columns.items():
        if col.treatment is Treatment.DROP or col.treatment in DEFERRED:
            continue
        get_operator(col.treatment.value).validate(name, col.params)


class SpanCursor:
    """The detected spans of one column, handed out for consecutive row ranges as the table is read.

    The spans file is written in row order per column (detect scans the table front to back), so it is
    read once, front to back, and only the spans of the rows in hand are held (flat memory)."""

    def __init__(self, spans_path: Path | None, column: str, *, batch_rows: int = 65_536) -> None:
        self.column = column
        self.seen = 0
        self._rows: list[tuple[int, int, int, str, float]] = []
        self._at = 0
        self._batches: Iterator[pa.RecordBatch] = (
            open_parquet(spans_path).iter_batches(batch_size=batch_rows)
            if spans_path is not None and spans_path.exists()
            else iter(())
        )

    def _refill(self) -> bool:
        for batch in self._batches:
            mine = batch.filter(pc.equal(batch.column("column"), self.column))
            if mine.num_rows:
                fields = ("row", "start", "end", "entity_type", "score")
                self._rows = list(zip(*(mine.column(n).to_pylist() for n in fields), strict=True))
                self._at = 0
                return True
        return False

    def upto(self, end: int) -> dict[int, list[Span]]:
        """Spans of the rows before ``end`` not handed out yet, by row."""
        by_row: dict[int, list[Span]] = defaultdict(list)
        while True:
            while self._at < len(self._rows) and self._rows[self._at][0] < end:
                row, start, stop, etype, score = self._rows[self._at]
                by_row[row].append(Span(start, stop, etype, score))
                self._at += 1
                self.seen += 1
            if self._at < len(self._rows) or not self._refill():
                return by_row

    def drain(self) -> int:
        """Count the spans left (rows past the table's end: none in a consistent version)."""
        self.upto(1 << 62)
        return self.seen


def _rescan(values: list[Any], detector: TextDetector, placeholder: str) -> tuple[list[Any], int]:
    """Redact what a fresh scan of already-redacted text still finds, until nothing new (bounded)."""
    aware = PlaceholderAwareDetector(detector)
    redact = get_operator("redact")
    todo = [i for i, v in enumerate(values) if isinstance(v, str) and PLACEHOLDER.search(v)]
    extra = 0
    for _ in range(MAX_RESCANS):
        if not todo:
            break
        found = aware.detect_many([values[i] for i in todo])
        spans = {i: s for i, s in zip(todo, found, strict=True) if s}
        if not spans:
            break
        for i, row_spans in spans.items():
            values[i] = redact.apply([values[i]], {"placeholder": placeholder}, spans={0: row_spans}, row_offset=0)[0]
            extra += len(row_spans)
        todo = list(spans)
    return values, extra


def minimise_table(
    ingested: Path,
    policy: Policy,
    *,
    spans_path: Path | None,
    out_path: Path,
    batch_rows: int = 10_000,
    rescan: TextDetector | None = None,
    row_groups: list[int] | None = None,
) -> MinimiseResult:
    """Apply the policy's minimisation treatments batch by batch into ``out_path``.

    With ``rescan``, redacted free text is scanned again (context changes once names are gone) and what
    is found is redacted too, so the residual-PII gate sees the text a labeler would. With
    ``row_groups``, only those row groups (one chunk) are read; span rows count from the chunk's start."""
    validate_treatments(policy)
    kept = policy.kept_columns()
    # the row's own direct identifiers are redacted from its free text whatever the detector found
    identifiers = [c for c in policy.columns_with(role=Role.DIRECT_IDENTIFIER) if c != policy.row_id]
    result = MinimiseResult(output_path=out_path, rows=0)
    result.dropped = [c for c in policy.columns if c not in kept]
    cursors = {c: SpanCursor(spans_path, c) for c in kept if policy.columns[c].treatment is Treatment.REDACT}
    pf = open_parquet(ingested)
    writer: pq.ParquetWriter | None = None
    offset = 0
    try:
        read = kept + [c for c in identifiers if c not in kept]
        for batch in pf.iter_batches(batch_size=batch_rows, columns=read, row_groups=row_groups):
            needles = None
            arrays = []
            span_maps = {c: cursor.upto(offset + batch.num_rows) for c, cursor in cursors.items()}
            for name in kept:
                col = policy.columns[name]
                column = batch.column(name)
                if col.treatment in DEFERRED or col.treatment is Treatment.KEEP:
                    arrays.append(column)
                    continue
                op = get_operator(col.treatment.value)
                spans = span_maps.get(name) if span_maps.get(name) or col.role.value == "free_text" else None
                treated = op.apply(column.to_pylist(), col.params, spans=spans, row_offset=offset)
                if col.treatment is Treatment.REDACT and col.role.value == "free_text":
                    placeholder = str(col.params.get("placeholder", "<{entity}>"))
                    if rescan is not None:
                        treated, extra = _rescan(treated, rescan, placeholder)
                        result.spans_redacted += extra
                    if identifiers:
                        if needles is None:
                            rows = batch.select(identifiers).to_pylist()
                            needles = [needles_for(r.values()) for r in rows]
                        for i, text in enumerate(treated):
                            treated[i], n = redact_own_identifiers(text, needles[i], placeholder)
                            result.own_identifiers_redacted += n
                arrays.append(pa.array(treated, type=pa.string()))
            out = pa.RecordBatch.from_arrays(arrays, names=kept)
            if writer is None:
                writer = pq.ParquetWriter(out_path, out.schema)
            writer.write_batch(out)
            offset += batch.num_rows
    finally:
        if writer is not None:
            writer.close()
    result.rows = offset
    result.treatments = {name: describe(col) for name, col in policy.columns.items()}
    result.spans_redacted += sum(cursor.drain() for cursor in cursors.values())
    return result

"""The detect stage over a whole table, streamed batch by batch (memory stays flat).

Structured columns are profiled column-wise and vectorised (:mod:`privacy.detection.columns`); free-text
columns go through the text detector in batches. Outputs counts per column (never values) and, for
free-text columns, the spans (row, offsets, type, score) that the minimise stage redacts. Spans are
offsets, not text, so they hold no personal data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from clearhouse.policy import Policy, Role, Treatment
from clearhouse.privacy.detection.columns import ColumnProfiler
from clearhouse.privacy.detection.types import ColumnFindings, TextDetector
from clearhouse.readers import open_parquet

#: entity types that must not appear in a column declared clean (feature/label kept as is)
BLOCKING_ENTITIES = frozenset({
    "EMAIL_ADDRESS", "PHONE_NUMBER", "PERSON", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "IP_ADDRESS",
    "US_PASSPORT", "US_DRIVER_LICENSE", "US_BANK_NUMBER", "UK_NHS", "UK_NINO", "STREET_ADDRESS",
    "MEDICAL_LICENSE", "US_ITIN", "CRYPTO",
})
#: share of a clean column's rows holding a blocking entity that blocks release
CLEAN_COLUMN_LIMIT = 0.05

SPANS_SCHEMA = pa.schema([
    ("row", pa.int64()), ("column", pa.string()), ("start", pa.int32()), ("end", pa.int32()),
    ("entity_type", pa.string()), ("score", pa.float32()),
])


@dataclass
class DetectionResult:
    findings: list[ColumnFindings]
    blocking: list[str] = field(default_factory=list)
    spans_path: Path | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "findings": [f.to_dict() for f in self.findings],
            "blocking": list(self.blocking),
            "spans_path": str(self.spans_path) if self.spans_path else None,
        }


def _declared_clean(policy: Policy, column: str) -> bool:
    col = policy.columns[column]
    return col.role in {Role.FEATURE, Role.LABEL} and col.treatment is Treatment.KEEP


def _clean_column_problem(f: ColumnFindings) -> str | None:
    """A readable reason to block release when a column declared clean holds personal data."""
    if not f.rows_scanned:
        return None
    hits = {e: s.count for e, s in f.entities.items() if e in BLOCKING_ENTITIES}
    if not hits:
        return None
    base = int(f.evidence.get("non_empty", f.rows_scanned)) or f.rows_scanned
    entity = max(hits, key=lambda e: hits[e])
    share = hits[entity] / base
    if share < CLEAN_COLUMN_LIMIT:
        return None
    return (
        f"column {f.column!r} is declared clean (role feature/label, treatment keep) but about {share:.0%} "
        f"of its non-empty values hold {entity} ({hits[entity]} of {base} rows); declare its role "
        "and a treatment in the policy, or fix the data"
    )


def _text_columns(policy: Policy) -> list[str]:
    return [c for c in policy.columns_with(role=Role.FREE_TEXT) if policy.columns[c].treatment is not Treatment.DROP]


def detect_table(ingested: Path, policy: Policy, detector: TextDetector, *, out_dir: Path,
                 batch_rows: int = 16_384, row_groups: list[int] | None = None,
                 first_row: int = 0) -> DetectionResult:
    """Run detection over ``ingested`` (Parquet) as the policy directs, in one streamed pass.

    With ``row_groups``, only those row groups (one chunk of the version, whose first row in the whole
    table is ``first_row``) are read; span rows are then counted from the chunk's first row."""
    pf = open_parquet(ingested)
    present = set(pf.schema_arrow.names)
    text_columns = [c for c in _text_columns(policy) if c in present]
    structured = [c for c in policy.columns
                  if c in present and policy.columns[c].role is not Role.FREE_TEXT]
    sample = policy.detection.column_sample
    regions = list(policy.detection.countries)
    profilers = {c: ColumnProfiler(c, regions, confirm=_declared_clean(policy, c)) for c in structured}
    text_findings = {c: ColumnFindings(column=c, kind="free_text") for c in text_columns}

    spans_path: Path | None = None
    writer: pq.ParquetWriter | None = None
    if text_columns:
        out_dir.mkdir(parents=True, exist_ok=True)
        spans_path = out_dir / "spans.parquet"
        writer = pq.ParquetWriter(spans_path, SPANS_SCHEMA)
    offset = 0
    try:
        for batch in pf.iter_batches(batch_size=batch_rows, columns=structured + text_columns, row_groups=row_groups):
            at = first_row + offset  # row of the whole table: column_sample profiles the table's first rows
            if not sample or at < sample:
                for column in structured:
                    values = batch.column(column)
                    if sample:
                        values = values.slice(0, sample - at)
                    profilers[column].add(values)
            for column in text_columns:
                _scan_text_batch(batch.column(column).to_pylist(), column, offset, detector=detector,
                                 findings=text_findings[column], writer=writer)
            offset += batch.num_rows
    finally:
        if writer is not None:
            writer.close()

    findings = [profilers[c].finish(detector) for c in structured] + [text_findings[c] for c in text_columns]
    result = DetectionResult(findings=findings, spans_path=spans_path)
    for f in findings:
        if f.kind == "structured" and _declared_clean(policy, f.column):
            problem = _clean_column_problem(f)
            if problem:
                result.blocking.append(problem)
    return result


def _scan_text_batch(texts: list[str | None], column: str, offset: int, *, detector: TextDetector,
                     findings: ColumnFindings, writer: pq.ParquetWriter | None) -> None:
    rows: dict[str, list[object]] = {n: [] for n in SPANS_SCHEMA.names}
    for i, spans in enumerate(detector.detect_many(texts)):
        findings.add_spans(spans)
        for s in spans:
            rows["row"].append(offset + i)
            rows["column"].append(column)
            rows["start"].append(s.start)
            rows["end"].append(s.end)
            rows["entity_type"].append(s.entity_type)
            rows["score"].append(s.score)
    if rows["row"] and writer is not None:
        writer.write_table(pa.table(rows, schema=SPANS_SCHEMA))

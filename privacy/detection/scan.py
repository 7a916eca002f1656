"""The detect stage over a whole table: structured columns classified, free text scanned row by row.

Outputs counts per column (never values) and, for free-text columns, the spans (row, offsets, type,
score) that the minimise stage redacts. Spans are offsets, not text, so they hold no personal data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from clearhouse.policy import Policy, Role, Treatment
from privacy.detection.columns import classify_column
from privacy.detection.types import ColumnFindings, TextDetector

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
    if not f.rows_scanned:
        return None
    hits = {e: s.count for e, s in f.entities.items() if e in BLOCKING_ENTITIES}
    if not hits:
        return None
    share = max(hits.values()) / f.rows_scanned
    if share < CLEAN_COLUMN_LIMIT:
        return None
    entity = max(hits, key=lambda e: hits[e])
    return (
        f"column {f.column!r} is declared clean but {share:.0%} of its scanned rows hold {entity} "
        f"({hits[entity]} of {f.rows_scanned}); declare its role and a treatment in the policy"
    )


def detect_table(ingested: Path, policy: Policy, detector: TextDetector, *, out_dir: Path,
                 batch_rows: int = 2_000) -> DetectionResult:
    """Run detection over ``ingested`` (Parquet) as the policy directs."""
    pf = pq.ParquetFile(ingested)
    findings: list[ColumnFindings] = []
    text_columns = [c for c in policy.columns_with(role=Role.FREE_TEXT) if policy.columns[c].treatment is not Treatment.DROP]
    structured = [c for c in policy.columns if c not in text_columns and policy.columns[c].role is not Role.FREE_TEXT]
    sample = policy.detection.column_sample or 200
    for column in structured:
        values = pq.read_table(ingested, columns=[column]).column(0)
        if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
            values = values.cast(pa.string())
        findings.append(classify_column(column, values, detector, sample=sample))

    spans_path: Path | None = None
    if text_columns:
        out_dir.mkdir(parents=True, exist_ok=True)
        spans_path = out_dir / "spans.parquet"
        with pq.ParquetWriter(spans_path, SPANS_SCHEMA) as writer:
            for column in text_columns:
                f = ColumnFindings(column=column, kind="free_text")
                offset = 0
                for batch in pf.iter_batches(batch_size=batch_rows, columns=[column]):
                    texts = batch.column(0).to_pylist()
                    rows: dict[str, list[object]] = {n: [] for n in SPANS_SCHEMA.names}
                    for i, spans in enumerate(detector.detect_many(texts)):
                        f.add_spans(spans)
                        for s in spans:
                            rows["row"].append(offset + i)
                            rows["column"].append(column)
                            rows["start"].append(s.start)
                            rows["end"].append(s.end)
                            rows["entity_type"].append(s.entity_type)
                            rows["score"].append(s.score)
                    offset += batch.num_rows
                    if rows["row"]:
                        writer.write_table(pa.table(rows, schema=SPANS_SCHEMA))
                findings.append(f)

    result = DetectionResult(findings=findings, spans_path=spans_path)
    for f in findings:
        if f.kind == "structured" and _declared_clean(policy, f.column):
            problem = _clean_column_problem(f)
            if problem:
                result.blocking.append(problem)
    return result

"""Structured-column detection: classify a column from a deterministic sample of its distinct values.

Values are de-duplicated first (a column of 1M rows often has far fewer distinct values) and weighted by
their counts, so row-level counts stay exact for the sampled values. Only counts leave this module.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from privacy.detection.types import ColumnFindings, EntityStats, Span, TextDetector

#: a value "is" an entity when a span of that type covers at least this share of its characters
COVERAGE = 0.6


def distinct_sample(values: pa.ChunkedArray | pa.Array, limit: int) -> tuple[list[str], list[int]]:
    """Distinct non-empty string values with their row counts; the ``limit`` most frequent, ties by value."""
    strings = pc.cast(values, pa.string())
    counts = pc.value_counts(strings.drop_null() if hasattr(strings, "drop_null") else strings)
    vals = counts.field("values").to_pylist()
    cnts = counts.field("counts").to_pylist()
    pairs = sorted(((v, c) for v, c in zip(vals, cnts, strict=True) if v and v.strip()), key=lambda p: (-p[1], p[0]))
    if limit:
        pairs = pairs[:limit]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _dominant(value: str, spans: list[Span]) -> Span | None:
    best = max(spans, key=lambda s: (s.end - s.start, s.score), default=None)
    if best is None:
        return None
    return best if (best.end - best.start) >= COVERAGE * len(value.strip()) else None


def classify_column(name: str, values: pa.ChunkedArray | pa.Array, detector: TextDetector,
                    *, sample: int = 200) -> ColumnFindings:
    """Findings for one structured column: entity counts (row-weighted) and the inferred entity type."""
    findings = ColumnFindings(column=name, kind="structured")
    distinct, counts = distinct_sample(values, sample)
    findings.evidence["distinct_sampled"] = len(distinct)
    findings.evidence["rows_represented"] = sum(counts)
    if not distinct:
        return findings
    spans_per_value = detector.detect_many(distinct)
    votes: dict[str, int] = {}
    for value, count, spans in zip(distinct, counts, spans_per_value, strict=True):
        findings.rows_scanned += count
        if spans:
            findings.rows_with_pii += count
            for span in spans:
                stats = findings.entities.setdefault(span.entity_type, EntityStats())
                stats.count += count
                stats.score_sum += span.score * count
        dominant = _dominant(value, spans)
        if dominant is not None:
            votes[dominant.entity_type] = votes.get(dominant.entity_type, 0) + count
    if votes:
        entity, hits = max(votes.items(), key=lambda kv: kv[1])
        findings.inferred_entity = entity
        findings.confidence = hits / findings.rows_scanned
        findings.evidence[f"rows_{entity.lower()}"] = hits
    return findings


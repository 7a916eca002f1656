"""Result types of detection. They carry offsets, entity types, scores and counts — never values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Span:
    """A detected entity in a text: character offsets into the original string (end exclusive)."""

    start: int
    end: int
    entity_type: str
    score: float


class TextDetector(Protocol):
    """Finds personal data in free text. The pipeline, ``scan-text`` and the residual-PII check share one."""

    def detect_many(self, texts: Iterable[str | None]) -> list[list[Span]]:
        """Spans for each text, in input order (``None`` → no spans)."""
        ...


@dataclass
class EntityStats:
    """Aggregate of one entity type in one column: count and mean score, never values."""

    count: int = 0
    score_sum: float = 0.0

    def add(self, score: float) -> None:
        self.count += 1
        self.score_sum += score

    @property
    def mean_score(self) -> float:
        return self.score_sum / self.count if self.count else 0.0


@dataclass
class ColumnFindings:
    """What detection found in one column (counts only)."""

    column: str
    kind: str  # "structured" or "free_text"
    rows_scanned: int = 0
    rows_with_pii: int = 0
    entities: dict[str, EntityStats] = field(default_factory=dict)
    #: classification of a structured column, e.g. "EMAIL_ADDRESS", with confidence 0..1
    inferred_entity: str | None = None
    confidence: float = 0.0
    evidence: dict[str, int] = field(default_factory=dict)

    def add_spans(self, spans: Sequence[Span]) -> None:
        self.rows_scanned += 1
        if spans:
            self.rows_with_pii += 1
        for span in spans:
            self.entities.setdefault(span.entity_type, EntityStats()).add(span.score)

    def to_dict(self) -> dict[str, object]:
        return {
            "column": self.column,
            "kind": self.kind,
            "rows_scanned": self.rows_scanned,
            "rows_with_pii": self.rows_with_pii,
            "entities": {
                name: {"count": stats.count, "mean_score": round(stats.mean_score, 3)}
                for name, stats in sorted(self.entities.items())
            },
            "inferred_entity": self.inferred_entity,
            "confidence": round(self.confidence, 3),
            "evidence": dict(self.evidence),
        }

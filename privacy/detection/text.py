"""Free-text detection: batched spaCy NER + Presidio recognizers over many texts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from presidio_analyzer import AnalyzerEngine, RecognizerResult

from clearhouse.errors import DetectionError
from clearhouse.policy import Detection
from privacy.detection.engine import build_analyzer
from privacy.detection.types import Span


def merge_spans(spans: Sequence[Span]) -> list[Span]:
    """Resolve overlaps: overlapping spans become one span over their union, typed by the best score."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            best = last if last.score >= span.score else span
            merged[-1] = Span(last.start, max(last.end, span.end), best.entity_type, best.score)
        else:
            merged.append(span)
    return merged


class PresidioTextDetector:
    """The detector the pipeline applies to free-text columns (and ``scan-text`` uses)."""

    def __init__(self, cfg: Detection, model_name: str, *, batch_size: int = 64,
                 entities: list[str] | None = None) -> None:
        self.cfg = cfg
        self.analyzer: AnalyzerEngine = build_analyzer(cfg, model_name)
        self.batch_size = batch_size
        self.entities = entities or (cfg.entities or None)

    def _analyze(self, text: str, artifacts: object) -> list[Span]:
        results: list[RecognizerResult] = self.analyzer.analyze(
            text=text,
            language=self.cfg.language,
            entities=self.entities,
            nlp_artifacts=artifacts,  # type: ignore[arg-type]
            score_threshold=self.cfg.threshold,
            allow_list=self.cfg.allow_list or None,
        )
        return merge_spans([Span(r.start, r.end, r.entity_type, round(float(r.score), 4)) for r in results])

    def detect_many(self, texts: Iterable[str | None]) -> list[list[Span]]:
        items = list(texts)
        out: list[list[Span]] = [[] for _ in items]
        todo = [(i, t) for i, t in enumerate(items) if t is not None and t.strip()]
        if not todo:
            return out
        try:
            stream = self.analyzer.nlp_engine.process_batch(
                [t for _, t in todo], language=self.cfg.language, batch_size=self.batch_size
            )
            for (i, text), (_, artifacts) in zip(todo, stream, strict=True):
                out[i] = self._analyze(text, artifacts)
        except DetectionError:
            raise
        except Exception as exc:
            # Fail closed: a detector crash must stop the release, and never quote the text.
            raise DetectionError(f"free-text detection failed: {type(exc).__name__}") from exc
        return out

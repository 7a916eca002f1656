"""Stage 2: find personal data in every column (structured values and free text) with Presidio."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clearhouse.errors import DetectionError
from clearhouse.privacy.detection.scan import detect_table
from clearhouse.privacy.detection.text import PresidioTextDetector
from clearhouse.stages.context import RunContext

INPUTS = ("ingested",)
OUTPUTS: tuple[str, ...] = ()

_detectors: dict[tuple[str, str], PresidioTextDetector] = {}


def text_detector(ctx: RunContext) -> PresidioTextDetector:
    """The free-text detector for this policy (cached per process: loading NER is the slow part)."""
    key = (ctx.policy.detection.model_dump_json(), ctx.settings.spacy_model)
    if key not in _detectors:
        _detectors[key] = PresidioTextDetector(
            ctx.policy.detection, ctx.settings.spacy_model, processes=ctx.settings.detect_processes or None
        )
    return _detectors[key]


@dataclass(frozen=True)
class DetectStageResult:
    """Entity counts per column (never values)."""

    found: dict[str, dict[str, int]]

    def to_xcom(self) -> dict[str, Any]:
        return {"columns": len(self.found), "entities": sum(sum(v.values()) for v in self.found.values())}


def run(ctx: RunContext) -> DetectStageResult:
    """Detect over one chunk (its spans and findings go to the chunk's folder; the gate's task merges
    the chunks' findings for the catalog and the report)."""
    chunk = ctx.current_chunk()
    result = detect_table(
        ctx.paths.ingested,
        ctx.policy,
        text_detector(ctx),
        out_dir=ctx.paths.chunk_dir(chunk.index),
        row_groups=[chunk.index],
        first_row=chunk.start,
    )
    ctx.write_stage("detect", result.to_dict())
    found = {f.column: {e: s.count for e, s in f.entities.items()} for f in result.findings}
    if result.blocking:
        raise DetectionError("; ".join(result.blocking))
    return DetectStageResult(found)

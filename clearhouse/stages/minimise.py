"""Stage 3: drop, generalise, redact and mask what the purpose does not need (policy treatments)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearhouse.privacy.minimise import minimise_table
from clearhouse.stages.context import RunContext
from clearhouse.stages.detect import text_detector

INPUTS = ("ingested",)
OUTPUTS = ("minimised",)


@dataclass(frozen=True)
class MinimiseStageResult:
    rows: int
    dropped: list[str]
    spans_redacted: int

    def to_xcom(self) -> dict[str, Any]:
        return {"rows": self.rows, "dropped": self.dropped, "spans_redacted": self.spans_redacted}


def run(ctx: RunContext) -> MinimiseStageResult:
    detect = ctx.read_stage("detect")
    spans = Path(detect["spans_path"]) if detect.get("spans_path") else None
    rescan = text_detector(ctx) if ctx.policy.detection.rescan_redacted else None
    chunk = ctx.current_chunk()
    result = minimise_table(
        ctx.paths.ingested,
        ctx.policy,
        spans_path=spans,
        out_path=ctx.paths.minimised,
        rescan=rescan,
        row_groups=[chunk.index],
    )
    ctx.write_stage("minimise", result.to_dict())
    return MinimiseStageResult(result.rows, list(result.dropped), result.spans_redacted)

"""Stage 5: the validation gate (GX suite: quality, balance, k-anonymity, residual PII) and the
privacy report officers read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clearhouse.errors import ValidationGateError
from clearhouse.governance.report import write_report
from clearhouse.privacy.minimise import PlaceholderAwareDetector
from clearhouse.stages.chunks import merge_chunks
from clearhouse.stages.context import RunContext
from clearhouse.stages.detect import text_detector
from clearhouse.validation.gate import validate_files

INPUTS = ("protected",)
OUTPUTS: tuple[str, ...] = ()


@dataclass(frozen=True)
class ValidateStageResult:
    passed: bool
    warnings: int

    def to_xcom(self) -> dict[str, Any]:
        return {"passed": self.passed, "warnings": self.warnings}


def run(ctx: RunContext) -> ValidateStageResult:
    # the chunks' protected tables become the version's (in row order) before anything is judged
    chunks = merge_chunks(ctx)
    # streamed: memory stays flat whatever the rows (GX sees a sample; verdicts come from aggregates)
    outcome = validate_files(
        ctx.paths.protected,
        ctx.policy,
        dataset=ctx.dataset,
        version=ctx.version,
        suites_dir=ctx.settings.suites_dir,
        reports_dir=ctx.settings.reports_dir,
        raw=ctx.paths.ingested,
        detector=PlaceholderAwareDetector(text_detector(ctx)),
        work_dir=ctx.paths.work,
    )
    payload = {
        "passed": outcome.passed,
        "failed_critical": list(outcome.failed_critical),
        "warnings": list(outcome.warnings),
        "data_docs_index": str(outcome.data_docs_index) if outcome.data_docs_index else None,
        "suite_path": str(outcome.suite_path),
        "checks": list(outcome.checks),
        "metrics_before": outcome.metrics_before,
        "metrics_after": outcome.metrics_after,
        "chunks": chunks,
    }
    ctx.write_stage("validate", payload)
    # the report also shows the assessment's sign-off and the review the version will need
    info = ctx.catalog.get(ctx.dataset, ctx.version)
    write_report(ctx.settings, info, ctx.policy, outcome, ctx.read_stage("detect")["findings"])
    ctx.catalog.update(
        ctx.dataset,
        ctx.version,
        info={
            "data_docs": payload["data_docs_index"],
            "warnings": payload["warnings"],
            "privacy_report": str(ctx.paths.reports / "privacy_report.html"),
        },
    )
    if not outcome.passed:
        raise ValidationGateError("critical expectations failed: " + "; ".join(outcome.failed_critical))
    return ValidateStageResult(True, len(outcome.warnings))

"""``expect_no_residual_pii``: re-scan released text with the injected detector; counts only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from great_expectations.compatibility import pydantic
from great_expectations.expectations.expectation import BatchExpectation

from clearhouse.validation.custom._base import aggregate_result, fmt
from clearhouse.validation.custom.metrics import DEFAULT_RESIDUAL_SAMPLE, RESIDUAL_PII

if TYPE_CHECKING:
    from great_expectations.execution_engine.execution_engine import ExecutionEngine

NO_DETECTOR = (
    "no residual-PII detector configured (fail closed): "
    "call expectations.residual.set_residual_detector() or pass detector= to validate_version()"
)


class ExpectNoResidualPii(BatchExpectation):
    """Expect no personal data left in the released text columns.

    Values of ``column_list`` are re-scanned with the detector injected through
    :func:`expectations.residual.set_residual_detector`; spans scoring at least ``threshold`` count.
    The share of scanned non-empty values with a finding must not exceed ``max_share`` (default 0).
    ``sample`` caps the rows scanned: a fixed-seed sample of 2,000 rows unless given, 0 for every row
    (detection already read every row, and ``expect_no_own_identifiers`` checks every row without a
    detector; this re-scan is the bounded second opinion). Non-text columns are
    skipped and listed. Reports counts per entity type and column only. Without a detector the
    expectation fails.

    Args:
        column_list: the columns to re-scan.
        threshold: minimum detector score counted (default 0.5).
        sample: maximum rows scanned, 0 for all (default 2,000).
        max_share: largest allowed share of values with residual PII (default 0).
    """

    column_list: list[str] = pydantic.Field(min_items=1)
    threshold: float = pydantic.Field(default=0.5, ge=0.0, le=1.0)
    sample: int = pydantic.Field(default=DEFAULT_RESIDUAL_SAMPLE, ge=0)
    max_share: float = pydantic.Field(default=0.0, ge=0.0, le=1.0)

    metric_dependencies: ClassVar[tuple[str, ...]] = (RESIDUAL_PII,)
    success_keys: ClassVar[tuple[str, ...]] = ("column_list", "threshold", "sample", "max_share")

    def _validate(
        self,
        metrics: dict[str, Any],
        runtime_configuration: dict[str, Any] | None = None,
        execution_engine: ExecutionEngine[Any] | None = None,
    ) -> dict[str, Any]:
        scan: dict[str, Any] = metrics[RESIDUAL_PII]
        if not scan.get("detector"):
            return aggregate_result(
                success=False, observed="not scanned: no detector", details={"detector": False},
                reasons=[NO_DETECTOR],
            )
        scanned, found = int(scan["values_scanned"]), int(scan["values_with_pii"])
        share = found / scanned if scanned else 0.0
        details = {**scan, "share_with_pii": round(share, 6)}
        reasons: list[str] = []
        if share > self.max_share:
            entities = ", ".join(f"{name} {n}" for name, n in scan["entities"].items())
            reasons.append(
                f"{found} of {scanned} scanned value(s) hold residual PII "
                f"(share {fmt(share)} > {fmt(self.max_share)}): {entities}"
            )
        observed = f"{found} of {scanned} value(s) with residual PII"
        if scan["entities"]:
            observed += " (" + ", ".join(f"{k} {v}" for k, v in scan["entities"].items()) + ")"
        return aggregate_result(success=not reasons, observed=observed, details=details, reasons=reasons)

"""``expect_column_label_balance``: each label's share within bounds and a bounded max/min share ratio."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from great_expectations.compatibility import pydantic
from great_expectations.expectations.expectation import ColumnAggregateExpectation

from clearhouse.privacy.risk import Distribution
from clearhouse.validation.custom._base import aggregate_result, fmt, shares_text
from clearhouse.validation.custom.metrics import DISTRIBUTION

if TYPE_CHECKING:
    from great_expectations.execution_engine.execution_engine import ExecutionEngine


class ExpectColumnLabelBalance(ColumnAggregateExpectation):
    """Expect the label column to be balanced enough to train on.

    Every label's share (over non-null labels) must lie in ``[min_share, max_share]`` and, when
    ``max_ratio`` is set, the largest share divided by the smallest must not exceed it. Reports shares
    per label and the ratio — label names are categories, not personal data.

    Args:
        column: the label column.
        min_share: smallest share any label may have (default 0).
        max_share: largest share any label may have (default 1).
        max_ratio: largest allowed max/min share ratio (default: not checked).
        expected_labels: labels that must be present; a missing one counts as share 0, so a label
            removed entirely (by collection or by minimisation) fails the check (default: none).
    """

    min_share: float = pydantic.Field(default=0.0, ge=0.0, le=1.0)
    max_share: float = pydantic.Field(default=1.0, ge=0.0, le=1.0)
    max_ratio: float | None = pydantic.Field(default=None, ge=1.0)
    expected_labels: list[str] | None = None

    metric_dependencies: ClassVar[tuple[str, ...]] = (DISTRIBUTION,)
    success_keys: ClassVar[tuple[str, ...]] = ("min_share", "max_share", "max_ratio", "expected_labels")

    def _validate(
        self,
        metrics: dict[str, Any],
        runtime_configuration: dict[str, Any] | None = None,
        execution_engine: ExecutionEngine[Any] | None = None,
    ) -> dict[str, Any]:
        dist: Distribution = metrics[DISTRIBUTION]
        ratio = dist.max_min_ratio
        details = {"shares": dict(dist.shares), "counts": dict(dist.counts), "null_count": dist.null_count,
                   "max_min_ratio": ratio}
        if not dist.shares:
            return aggregate_result(
                success=False, observed="no labels", details=details, reasons=["no non-null labels"]
            )
        missing = [str(name) for name in self.expected_labels or [] if str(name) not in dist.shares]
        if missing:
            details["missing_labels"] = missing
        reasons = [f"expected label {name!r} is missing (share 0)" for name in missing] + [
            f"label {name!r} share {fmt(share)} < min_share {fmt(self.min_share)}"
            for name, share in dist.shares.items()
            if share < self.min_share
        ] + [
            f"label {name!r} share {fmt(share)} > max_share {fmt(self.max_share)}"
            for name, share in dist.shares.items()
            if share > self.max_share
        ]
        if missing and self.max_ratio is not None:
            reasons.append(f"max/min share ratio unbounded (a label is missing) > {fmt(self.max_ratio)}")
        elif self.max_ratio is not None and ratio is not None and ratio > self.max_ratio:
            reasons.append(f"max/min share ratio {fmt(ratio)} > {fmt(self.max_ratio)}")
        observed = f"max/min ratio {fmt(ratio)}; {shares_text(dist.shares)}"
        return aggregate_result(success=not reasons, observed=observed, details=details, reasons=reasons)

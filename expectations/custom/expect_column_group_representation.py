"""``expect_column_group_representation``: every group keeps a minimum share; expected groups exist."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from great_expectations.compatibility import pydantic
from great_expectations.expectations.expectation import ColumnAggregateExpectation

from clearhouse.privacy.risk import Distribution
from clearhouse.validation.custom._base import aggregate_result, fmt, shares_text
from clearhouse.validation.custom.metrics import DISTRIBUTION

if TYPE_CHECKING:
    from great_expectations.execution_engine.execution_engine import ExecutionEngine


class ExpectColumnGroupRepresentation(ColumnAggregateExpectation):
    """Expect each group of ``column`` to keep at least ``min_share`` of the rows with a known group.

    With ``expected_groups``, a listed group that vanished entirely (e.g. removed by minimisation or
    k-anonymity suppression) fails too. Groups are compared by their string form.

    Args:
        column: the group column (e.g. ``gender``, ``country``).
        min_share: smallest share any observed group may have (default 0).
        expected_groups: groups that must be present (default: none required).
    """

    min_share: float = pydantic.Field(default=0.0, ge=0.0, le=1.0)
    expected_groups: list[str] | None = None

    metric_dependencies: ClassVar[tuple[str, ...]] = (DISTRIBUTION,)
    success_keys: ClassVar[tuple[str, ...]] = ("min_share", "expected_groups")

    def _validate(
        self,
        metrics: dict[str, Any],
        runtime_configuration: dict[str, Any] | None = None,
        execution_engine: ExecutionEngine[Any] | None = None,
    ) -> dict[str, Any]:
        dist: Distribution = metrics[DISTRIBUTION]
        expected = [str(g) for g in self.expected_groups or []]
        missing = [g for g in expected if g not in dist.shares]
        details = {"shares": dict(dist.shares), "counts": dict(dist.counts), "null_count": dist.null_count,
                   "missing_groups": missing}
        reasons = [f"expected group {g!r} is absent" for g in missing]
        reasons += [
            f"group {name!r} share {fmt(share)} < min_share {fmt(self.min_share)}"
            for name, share in dist.shares.items()
            if share < self.min_share
        ]
        if not dist.shares:
            reasons.append("no non-null groups")
        observed = shares_text(dist.shares) or "no groups"
        if missing:
            observed += f"; absent: {', '.join(missing)}"
        return aggregate_result(success=not reasons, observed=observed, details=details, reasons=reasons)

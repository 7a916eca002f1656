"""``expect_columns_to_be_absent``: columns the policy drops must not reach the released table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from great_expectations.compatibility import pydantic
from great_expectations.expectations.expectation import BatchExpectation

from clearhouse.validation.custom._base import aggregate_result

if TYPE_CHECKING:
    from great_expectations.execution_engine.execution_engine import ExecutionEngine


class ExpectColumnsToBeAbsent(BatchExpectation):
    """Expect none of ``column_list`` among the table's columns (reports the names present, no values).

    Args:
        column_list: column names that must be absent.
    """

    column_list: list[str] = pydantic.Field(min_items=1)

    metric_dependencies: ClassVar[tuple[str, ...]] = ("table.columns",)
    success_keys: ClassVar[tuple[str, ...]] = ("column_list",)

    def _validate(
        self,
        metrics: dict[str, Any],
        runtime_configuration: dict[str, Any] | None = None,
        execution_engine: ExecutionEngine[Any] | None = None,
    ) -> dict[str, Any]:
        actual = {str(c) for c in metrics["table.columns"]}
        present = [c for c in self.column_list if c in actual]
        reasons = [f"column {c!r} is present" for c in present]
        observed = f"present: {', '.join(present)}" if present else "all absent"
        return aggregate_result(
            success=not present, observed=observed, details={"present": present}, reasons=reasons
        )

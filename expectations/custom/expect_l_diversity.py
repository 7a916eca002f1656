"""``expect_l_diversity``: every equivalence class holds at least l distinct sensitive values."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from great_expectations.compatibility import pydantic
from great_expectations.expectations.expectation import BatchExpectation

from clearhouse.privacy.risk import LDiversityResult
from clearhouse.validation.custom._base import aggregate_result
from clearhouse.validation.custom.metrics import L_DIVERSITY

if TYPE_CHECKING:
    from great_expectations.execution_engine.execution_engine import ExecutionEngine


class ExpectLDiversity(BatchExpectation):
    """Expect distinct l-diversity of ``sensitive_column`` within the quasi-identifier classes.

    Null sensitive values do not count towards diversity (see :mod:`privacy.risk`). An empty table
    passes.

    Args:
        quasi_identifiers: the quasi-identifier columns, as released.
        sensitive_column: the sensitive attribute.
        l: the smallest allowed number of distinct sensitive values per class.
    """

    quasi_identifiers: list[str] = pydantic.Field(min_items=1)
    sensitive_column: str = pydantic.Field(min_length=1)
    l: int = pydantic.Field(ge=1)  # noqa: E741 - the name the l-diversity literature uses

    metric_dependencies: ClassVar[tuple[str, ...]] = (L_DIVERSITY,)
    success_keys: ClassVar[tuple[str, ...]] = ("quasi_identifiers", "sensitive_column", "l")

    def _validate(
        self,
        metrics: dict[str, Any],
        runtime_configuration: dict[str, Any] | None = None,
        execution_engine: ExecutionEngine[Any] | None = None,
    ) -> dict[str, Any]:
        res: LDiversityResult = metrics[L_DIVERSITY]
        details = res.to_dict(l_target=self.l)
        reasons: list[str] = []
        if res.n_classes and res.l < self.l:
            reasons.append(f"l = {res.l} < {self.l}: {res.classes_below(self.l)} class(es) below {self.l}")
        observed = f"l = {res.l} ({res.n_classes} classes)"
        return aggregate_result(success=not reasons, observed=observed, details=details, reasons=reasons)

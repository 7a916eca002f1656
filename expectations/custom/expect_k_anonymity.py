"""``expect_k_anonymity``: every equivalence class over the quasi-identifiers has at least k rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from great_expectations.compatibility import pydantic
from great_expectations.expectations.expectation import BatchExpectation

from clearhouse.privacy.risk import KAnonymityResult
from clearhouse.validation.custom._base import aggregate_result
from clearhouse.validation.custom.metrics import K_ANONYMITY

if TYPE_CHECKING:
    from great_expectations.execution_engine.execution_engine import ExecutionEngine


class ExpectKAnonymity(BatchExpectation):
    """Expect the table to be k-anonymous over ``quasi_identifiers``.

    Nulls form their own class (see :mod:`privacy.risk`). Reports k, the number of classes and the
    rows/classes below k — never the classes' values. An empty table passes (nobody to re-identify);
    the suite's row-count check catches emptiness.

    Args:
        quasi_identifiers: the quasi-identifier columns, as released.
        k: the smallest allowed class size.
    """

    quasi_identifiers: list[str] = pydantic.Field(min_items=1)
    k: int = pydantic.Field(ge=1)

    metric_dependencies: ClassVar[tuple[str, ...]] = (K_ANONYMITY,)
    success_keys: ClassVar[tuple[str, ...]] = ("quasi_identifiers", "k")

    def _validate(
        self,
        metrics: dict[str, Any],
        runtime_configuration: dict[str, Any] | None = None,
        execution_engine: ExecutionEngine[Any] | None = None,
    ) -> dict[str, Any]:
        res: KAnonymityResult = metrics[K_ANONYMITY]
        details = res.to_dict(k_target=self.k)
        reasons: list[str] = []
        if res.n_rows and res.k < self.k:
            reasons.append(
                f"k = {res.k} < {self.k}: {res.rows_in_classes_below(self.k)} row(s) in "
                f"{res.classes_below(self.k)} class(es) smaller than {self.k}"
            )
        observed = f"k = {res.k} ({res.n_classes} classes over {res.n_rows} rows)"
        return aggregate_result(success=not reasons, observed=observed, details=details, reasons=reasons)

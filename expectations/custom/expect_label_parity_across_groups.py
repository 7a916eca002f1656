"""``expect_label_parity_across_groups``: disparate-impact ratio and statistical parity difference."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from great_expectations.compatibility import pydantic
from great_expectations.expectations.expectation import BatchExpectation

from clearhouse.privacy.risk import ParityResult
from clearhouse.validation.custom._base import aggregate_result, fmt, shares_text
from clearhouse.validation.custom.metrics import PARITY

if TYPE_CHECKING:
    from great_expectations.execution_engine.execution_engine import ExecutionEngine


class ExpectLabelParityAcrossGroups(BatchExpectation):
    """Expect the favourable label to be given at similar rates across groups.

    The rate of ``favourable_label`` in ``label_column`` is computed per group of ``group_column``.
    Disparate impact (min rate / max rate) must be ≥ ``min_ratio`` (the "four-fifths rule": 0.8) and,
    when ``max_spd`` is set, the statistical parity difference (max rate - min rate) must be ≤ it.
    Groups with fewer than ``min_group_size`` rows are reported but not compared.

    Args:
        group_column: the protected-attribute column (e.g. ``gender``).
        label_column: the label column.
        favourable_label: the label counted as the favourable outcome (compared as a string).
        min_ratio: smallest allowed disparate-impact ratio (default 0.8).
        max_spd: largest allowed statistical parity difference (default: not checked).
        min_group_size: smallest group compared (default 1).
    """

    group_column: str = pydantic.Field(min_length=1)
    label_column: str = pydantic.Field(min_length=1)
    favourable_label: str | int | float | bool
    min_ratio: float = pydantic.Field(default=0.8, ge=0.0, le=1.0)
    max_spd: float | None = pydantic.Field(default=None, ge=0.0, le=1.0)
    min_group_size: int = pydantic.Field(default=1, ge=1)

    metric_dependencies: ClassVar[tuple[str, ...]] = (PARITY,)
    success_keys: ClassVar[tuple[str, ...]] = (
        "group_column",
        "label_column",
        "favourable_label",
        "min_ratio",
        "max_spd",
        "min_group_size",
    )

    def _validate(
        self,
        metrics: dict[str, Any],
        runtime_configuration: dict[str, Any] | None = None,
        execution_engine: ExecutionEngine[Any] | None = None,
    ) -> dict[str, Any]:
        par: ParityResult = metrics[PARITY]
        details = par.to_dict()
        di, spd = par.disparate_impact, par.statistical_parity_difference
        reasons: list[str] = []
        if di is None or spd is None:
            reasons.append("no rows with both a group and a label")
        else:
            if di < self.min_ratio:
                reasons.append(f"disparate-impact ratio {fmt(di)} < {fmt(self.min_ratio)}")
            if self.max_spd is not None and spd > self.max_spd:
                reasons.append(f"statistical parity difference {fmt(spd)} > {fmt(self.max_spd)}")
        observed = f"DI {fmt(di)}, SPD {fmt(spd)}; rates {shares_text(par.rates)}"
        return aggregate_result(success=not reasons, observed=observed, details=details, reasons=reasons)

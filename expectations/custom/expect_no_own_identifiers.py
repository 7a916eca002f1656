"""``expect_no_own_identifiers``: no row's released text holds one of its own identifier values."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from great_expectations.compatibility import pydantic
from great_expectations.expectations.expectation import BatchExpectation

from clearhouse.validation.custom._base import aggregate_result
from clearhouse.validation.custom.metrics import OWN_IDENTIFIERS

if TYPE_CHECKING:
    from great_expectations.execution_engine.execution_engine import ExecutionEngine


class ExpectNoOwnIdentifiers(BatchExpectation):
    """Expect no row's released free text to contain its own direct identifiers.

    The gate injects each row's direct-identifier values from the collected input (names, e-mail
    addresses, phone and ID numbers, street addresses; see :mod:`clearhouse.privacy.leaks` for the
    matching rules). A match is personal data that reached the release whatever a detector thought,
    so any match fails. Without the injected values (or when rows do not align) the check fails
    closed. Counts per entity type and column only.

    Args:
        column_list: the released text columns to check.
    """

    column_list: list[str] = pydantic.Field(min_items=1)

    metric_dependencies: ClassVar[tuple[str, ...]] = (OWN_IDENTIFIERS,)
    success_keys: ClassVar[tuple[str, ...]] = ("column_list",)

    def _validate(
        self,
        metrics: dict[str, Any],
        runtime_configuration: dict[str, Any] | None = None,
        execution_engine: ExecutionEngine[Any] | None = None,
    ) -> dict[str, Any]:
        scan: dict[str, Any] = metrics[OWN_IDENTIFIERS]
        if not scan.get("reference"):
            why = scan.get("why", "no identifier values")
            return aggregate_result(
                success=False,
                observed="not checked",
                details={"reference": False},
                reasons=[f"own-identifier check could not run (fail closed): {why}"],
            )
        leaks = int(scan["rows_with_leaks"])
        reasons = []
        if leaks:
            kinds = ", ".join(f"{k} {n}" for k, n in scan["by_kind"].items())
            reasons.append(
                f"{leaks} of {scan['rows_checked']} row(s) still show their own identifiers in released text: {kinds}"
            )
        return aggregate_result(
            success=not leaks, observed=f"{leaks} row(s) with their own identifiers", details=scan, reasons=reasons
        )

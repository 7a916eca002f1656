"""What the validation gate returns: plain, JSON-safe, aggregate-only (no GX import)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict

Severity = Literal["critical", "warning"]


class Check(TypedDict):
    """One expectation's outcome, as a JSON-safe dict."""

    #: ``type(columns)``, e.g. ``expect_column_label_balance(label)``
    name: str
    type: str
    columns: list[str]
    severity: Severity
    success: bool
    #: aggregates only: counts, shares, ratios, k, l, ``observed_value`` summary
    observed: dict[str, Any]
    #: one sentence per violated condition (empty when the check passed)
    reasons: list[str]


@dataclass(frozen=True)
class ValidationOutcome:
    """Result of :func:`expectations.gate.validate_version`.

    ``passed`` is true when no *critical* check failed. ``failed_critical`` and ``warnings`` hold one
    human-readable line per failed check, naming it, e.g.
    ``"expect_column_label_balance(label): max/min share ratio 7.5 > 3"``.
    """

    dataset: str
    version: str
    passed: bool
    checks: list[Check]
    failed_critical: list[str]
    warnings: list[str]
    data_docs_index: Path | None
    suite_path: Path
    #: balance/representation of the raw input (aggregates only), ``None`` without ``raw``
    metrics_before: dict[str, Any] | None = None
    #: balance/representation of the cleared data
    metrics_after: dict[str, Any] = field(default_factory=dict)

    def check(self, name_or_type: str) -> list[Check]:
        """The checks with this name (``type(columns)``) or type."""
        return [c for c in self.checks if name_or_type in (c["name"], c["type"])]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (paths as strings)."""
        return {
            "dataset": self.dataset,
            "version": self.version,
            "passed": self.passed,
            "checks": [dict(c) for c in self.checks],
            "failed_critical": list(self.failed_critical),
            "warnings": list(self.warnings),
            "data_docs_index": str(self.data_docs_index) if self.data_docs_index else None,
            "suite_path": str(self.suite_path),
            "metrics_before": self.metrics_before,
            "metrics_after": self.metrics_after,
        }


def json_safe(value: Any) -> Any:
    """``value`` made JSON-safe: numpy scalars unwrapped, NaN/inf → None, tuples/sets → lists, else str."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [json_safe(v) for v in items]
    item = getattr(value, "item", None)  # numpy scalar
    if callable(item):
        try:
            return json_safe(item())
        except (TypeError, ValueError):
            pass
    return str(value)

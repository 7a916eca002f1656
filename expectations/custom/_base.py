"""Shared result shape of Clearhouse's custom expectations.

Every custom expectation returns aggregates only: ``observed_value`` is a short human-readable summary
(rendered in Data Docs) and ``details`` holds the JSON-safe aggregates plus ``reasons`` — one sentence
per violated condition, used verbatim in the gate's warnings and failures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def aggregate_result(
    *, success: bool, observed: str, details: Mapping[str, Any], reasons: Iterable[str] = ()
) -> dict[str, Any]:
    """The ``_validate`` return value: success plus an aggregate-only result."""
    return {
        "success": success,
        "result": {"observed_value": observed, "details": {**details, "reasons": list(reasons)}},
    }


def fmt(value: float | None) -> str:
    """A share/ratio for messages: up to 3 decimals, no trailing zeros (``None`` → ``n/a``)."""
    if value is None:
        return "n/a"
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def shares_text(shares: Mapping[str, float], limit: int = 8) -> str:
    """``a 0.6, b 0.4`` — largest first, at most ``limit`` entries."""
    ordered = sorted(shares.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{name} {fmt(share)}" for name, share in ordered[:limit])
    return text + (f", … (+{len(ordered) - limit})" if len(ordered) > limit else "")

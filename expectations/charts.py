"""Geometry of the report's inline SVG bar charts (no plotting library; the template draws them).

A chart compares the shares of each category *before* (raw input) and *after* (cleared data): two
horizontal bars per category. Only geometry and numbers are computed here; text is escaped by the
Jinja2 template that renders the SVG.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

LABEL_WIDTH = 150
BAR_AREA = 320
VALUE_WIDTH = 110
BAR_HEIGHT = 10
ROW_GAP = 8
TOP = 24


@dataclass(frozen=True)
class Bar:
    """One category: its name, vertical position and the two bar widths/values."""

    label: str
    y: float
    before: float | None
    after: float | None
    before_width: float
    after_width: float

    @property
    def delta(self) -> float | None:
        """after - before, when both exist."""
        if self.before is None or self.after is None:
            return None
        return round(self.after - self.before, 6)


@dataclass(frozen=True)
class BarChart:
    """A before/after share chart of one column."""

    title: str
    bars: list[Bar]
    width: int
    height: int
    label_width: int = LABEL_WIDTH
    bar_area: int = BAR_AREA
    bar_height: int = BAR_HEIGHT
    has_before: bool = True


def share_chart(
    title: str, before: Mapping[str, float] | None, after: Mapping[str, float], *, limit: int = 20
) -> BarChart:
    """Chart of ``after`` shares (and ``before`` shares, when given) for up to ``limit`` categories."""
    names = sorted(set(after) | set(before or {}), key=lambda n: (-(after.get(n) or 0.0), n))[:limit]
    row = 2 * BAR_HEIGHT + ROW_GAP
    bars = []
    for i, name in enumerate(names):
        b = before.get(name) if before is not None else None
        a = after.get(name)
        bars.append(
            Bar(
                label=name,
                y=TOP + i * row,
                before=b,
                after=a,
                before_width=round(BAR_AREA * (b or 0.0), 2),
                after_width=round(BAR_AREA * (a or 0.0), 2),
            )
        )
    return BarChart(
        title=title,
        bars=bars,
        width=LABEL_WIDTH + BAR_AREA + VALUE_WIDTH,
        height=TOP + max(1, len(bars)) * row + 4,
        has_before=before is not None,
    )

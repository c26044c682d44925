"""Geometry of the report's charts; the SVG itself is drawn by the templates
(``templates/charts.html.j2``): small, offline, no JavaScript library."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

LABEL_WIDTH = 260
BAR_WIDTH = 360
ROW_HEIGHT = 34
TOP = 24


@dataclass(frozen=True)
class BeforeAfterRow:
    """One target's pair of bars: coverage before and after generation."""

    label: str
    before: float  # 0..1
    after: float
    y: int  # top of the row
    before_width: float
    after_width: float


@dataclass(frozen=True)
class BeforeAfterChart:
    """Coverage before → after per target, as horizontal bar pairs."""

    rows: tuple[BeforeAfterRow, ...]
    width: int
    height: int
    label_width: int = LABEL_WIDTH
    bar_width: int = BAR_WIDTH
    top: int = TOP


def before_after_chart(
    items: Sequence[tuple[str, float, float]],
) -> BeforeAfterChart:
    """The chart of ``(label, before, after)`` items, in the given order."""
    rows = []
    for i, (label, before, after) in enumerate(items):
        before, after = _unit(before), _unit(after)
        rows.append(
            BeforeAfterRow(
                label=label,
                before=before,
                after=after,
                y=TOP + i * ROW_HEIGHT,
                before_width=round(before * BAR_WIDTH, 1),
                after_width=round(after * BAR_WIDTH, 1),
            )
        )
    height = TOP + len(rows) * ROW_HEIGHT + 8
    return BeforeAfterChart(tuple(rows), LABEL_WIDTH + BAR_WIDTH + 70, height)


@dataclass(frozen=True)
class Segment:
    """One part of a stacked bar."""

    name: str
    count: int
    x: float
    width: float


def stacked_bar(counts: Sequence[tuple[str, int]], width: int = 600) -> list[Segment]:
    """Segments of a bar ``width`` wide split by ``counts`` (zeros left out)."""
    total = sum(n for _, n in counts)
    segments: list[Segment] = []
    x = 0.0
    for name, n in counts:
        if n <= 0 or total == 0:
            continue
        w = round(width * n / total, 1)
        segments.append(Segment(name, n, round(x, 1), w))
        x += w
    return segments


def _unit(value: float) -> float:
    return min(1.0, max(0.0, value))

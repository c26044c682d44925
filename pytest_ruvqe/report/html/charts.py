"""Geometry of the report's charts; the SVG itself is drawn by the templates
(``templates/charts.html.j2``): small, offline, no JavaScript library."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


HISTORY_WIDTH = 600
HISTORY_HEIGHT = 160
HISTORY_LEFT = 44  # room for the axis labels
HISTORY_TOP = 28  # room for the legend
# what the history chart draws, each run's value of it, its colour
HISTORY_SERIES: tuple[tuple[str, str], ...] = (
    ("coverage", "#2b6cb0"),
    ("quality", "#6b46c1"),
    ("mutation", "#c05621"),
    ("acceptance", "#3c9a4c"),
)


@dataclass(frozen=True)
class Series:
    """One line of the history chart: its points as SVG ``x,y`` pairs."""

    name: str
    colour: str
    points: tuple[tuple[float, float, float], ...]  # x, y, value

    @property
    def polyline(self) -> str:
        return " ".join(f"{x},{y}" for x, y, _ in self.points)


@dataclass(frozen=True)
class HistoryChart:
    """Coverage, quality, mutation score and generation's acceptance per run."""

    series: tuple[Series, ...]
    runs: int
    first: float  # time of the first and last run charted
    last: float
    width: int = HISTORY_LEFT + HISTORY_WIDTH + 20
    height: int = HISTORY_TOP + HISTORY_HEIGHT + 24
    left: int = HISTORY_LEFT
    top: int = HISTORY_TOP
    plot_width: int = HISTORY_WIDTH
    plot_height: int = HISTORY_HEIGHT


def history_chart(
    runs: Sequence[tuple[float, Mapping[str, float | None]]],
) -> HistoryChart | None:
    """The chart of ``(time, {series: value 0..1 or None})`` per run, oldest
    first; None with fewer than two runs (nothing to compare)."""
    if len(runs) < 2:
        return None
    step = HISTORY_WIDTH / (len(runs) - 1)
    series = []
    for name, colour in HISTORY_SERIES:
        points = []
        for i, (_, values) in enumerate(runs):
            value = values.get(name)
            if value is not None:
                y = HISTORY_TOP + (1 - _unit(value)) * HISTORY_HEIGHT
                points.append((round(HISTORY_LEFT + i * step, 1), round(y, 1), value))
        if points:
            series.append(Series(name, colour, tuple(points)))
    return HistoryChart(tuple(series), len(runs), runs[0][0], runs[-1][0])

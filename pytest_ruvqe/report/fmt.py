"""Small formatting helpers shared by the report renderers."""

from __future__ import annotations

from collections.abc import Iterable

from pytest_ruvqe.measure.types import Arc


def line_ranges(lines: Iterable[int]) -> str:
    """``[1, 2, 3, 7]`` → ``"1-3, 7"``."""
    ordered = sorted(set(lines))
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ", ".join(parts)


def arcs(branches: Iterable[Arc]) -> str:
    """``[(3, 5), (9, -1)]`` → ``"3->5, 9->exit"``."""
    return ", ".join(f"{a}->{'exit' if b < 0 else b}" for a, b in sorted(set(branches)))


def pct(fraction: float) -> str:
    """0.7456 → ``"74.6%"``; floors so 99.96% never shows as 100%."""
    tenths = int(fraction * 1000 + 1e-9)
    return f"{tenths / 10:.1f}%"


def shorten(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` characters with an ellipsis."""
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"

"""Small formatting helpers shared by the report renderers."""

from __future__ import annotations

from collections.abc import Iterable

from pytest_ruvqe.measure.types import Arc


def spans(lines: Iterable[int]) -> list[tuple[int, int]]:
    """``[1, 2, 3, 7]`` → ``[(1, 3), (7, 7)]``: runs of consecutive lines."""
    found: list[tuple[int, int]] = []
    for n in sorted(set(lines)):
        if found and found[-1][1] == n - 1:
            found[-1] = (found[-1][0], n)
        else:
            found.append((n, n))
    return found


def unspan(runs: Iterable[Iterable[int]]) -> frozenset[int]:
    """The lines of :func:`spans`' runs, e.g. from a JSON report."""
    lines: set[int] = set()
    for start, end in (tuple(r) for r in runs):
        lines.update(range(int(start), int(end) + 1))
    return frozenset(lines)


def line_ranges(lines: Iterable[int]) -> str:
    """``[1, 2, 3, 7]`` → ``"1-3, 7"``."""
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans(lines))


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

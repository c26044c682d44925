"""A source file as the HTML report shows it: each line marked covered,
missing or partial, its missing branch arcs named, its mutants attached."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pytest_ruvqe.analyse.mutation.types import MutantResult
from pytest_ruvqe.measure.types import Arc, FileCoverage

# run: every statement and branch of the line ran; miss: the line never ran;
# partial: it ran, but a branch out of it did not; plain: not a statement
LineState = Literal["run", "miss", "partial", "plain"]


@dataclass(frozen=True)
class SourceLine:
    """One line of a file page."""

    number: int
    text: str
    state: LineState
    missing_arcs: tuple[str, ...]  # "never jumped to 7"
    survivors: tuple[MutantResult, ...]
    killed: int  # mutants on this line the tests killed


@dataclass(frozen=True)
class SourcePage:
    """Everything a file page shows of one file."""

    file: str  # relative to the rootdir
    lines: tuple[SourceLine, ...]
    readable: bool

    def count(self, state: LineState) -> int:
        """How many lines are in ``state``."""
        return sum(1 for line in self.lines if line.state == state)


def arc_text(arc: Arc) -> str:
    """How a missing arc reads on its source line."""
    target = arc[1]
    return (
        "never jumped to the function exit"
        if target < 0
        else f"never jumped to {target}"
    )


def _state(number: int, cov: FileCoverage | None, partial: set[int]) -> LineState:
    if cov is None or number not in cov.statements:
        return "plain"
    if number in cov.missing:
        return "miss"
    return "partial" if number in partial else "run"


def _by_line(results: Iterable[MutantResult]) -> dict[int, list[MutantResult]]:
    found: dict[int, list[MutantResult]] = {}
    for result in results:
        found.setdefault(result.mutant.line, []).append(result)
    return found


def source_page(
    file: str,
    text: str | None,
    cov: FileCoverage | None,
    mutants: Iterable[MutantResult] = (),
) -> SourcePage:
    """The page of ``file`` from its text, its coverage and its mutants."""
    if text is None:
        return SourcePage(file, (), readable=False)
    arcs: dict[int, list[Arc]] = {}
    for arc in sorted(cov.missing_branches if cov else ()):
        arcs.setdefault(arc[0], []).append(arc)
    partial = {line for line in arcs if cov and line not in cov.missing}
    by_line = _by_line(mutants)
    lines = []
    for number, line in enumerate(text.splitlines(), 1):
        here = by_line.get(number, [])
        lines.append(
            SourceLine(
                number=number,
                text=line,
                state=_state(number, cov, partial),
                missing_arcs=tuple(arc_text(a) for a in arcs.get(number, ())),
                survivors=tuple(r for r in here if r.status == "survived"),
                killed=sum(1 for r in here if r.killed),
            )
        )
    return SourcePage(file, tuple(lines), readable=True)

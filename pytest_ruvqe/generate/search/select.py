"""Which calls become tests: a greedy cover of what they reach, and what a
fresh process confirms of them."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from pytest_ruvqe.generate.search.probe import CallOutcome
from pytest_ruvqe.generate.types import Target


def greedy_select(
    outcomes: list[CallOutcome],
    target: Target,
    max_tests: int,
    branch_points: frozenset[int] | None = None,
    allowed: Callable[[CallOutcome], bool] = lambda o: True,
) -> list[CallOutcome]:
    """Greedy set cover: take the call adding most new lines/arcs until none do.

    Lines and arcs inside the target weigh more than those elsewhere in the
    file; what the suite already covers counts for nothing. With
    ``branch_points``, only arcs leaving those lines count (as acceptance
    credits them). Only calls ``allowed`` can become tests.
    """
    usable = [o for o in outcomes if allowed(o)]
    have_lines = set(target.covered_lines)
    have_arcs = set(target.covered_branches)
    inside = range(target.start, target.end + 1)
    kept: list[CallOutcome] = []
    while len(kept) < max_tests:
        best, best_score = None, 0
        for outcome in usable:
            new_lines = outcome.lines - have_lines
            new_arcs = outcome.arcs - have_arcs
            if branch_points is not None:
                new_arcs = frozenset(a for a in new_arcs if a[0] in branch_points)
            score = sum(10 if n in inside else 1 for n in new_lines)
            score += sum(10 if a in inside else 1 for a, _ in new_arcs)
            if score > best_score:
                best, best_score = outcome, score
        if best is None:
            break
        kept.append(best)
        have_lines |= best.lines
        have_arcs |= best.arcs
        usable.remove(best)
    return kept


def agreed(first: CallOutcome, again: CallOutcome | None) -> CallOutcome | None:
    """``first`` with only what ``again`` (a fresh process) saw the same; None
    when the result itself differs. A value that changed between processes is
    kept as its type alone."""
    if again is None or not again.stable or again.type != first.type:
        return None
    same = dataclasses.replace(
        first,
        fields=tuple(f for f in first.fields if f in again.fields),
        length=first.length if first.length == again.length else None,
        state=tuple(f for f in first.state if f in again.state),
        state_length=first.state_length
        if first.state_length == again.state_length
        else None,
    )
    if first.kind == "value" and again.kind in ("value", "object"):
        if again.repr == first.repr:
            return same
        if first.type is None:
            return None
        return dataclasses.replace(same, kind="object", repr=None, needs="")
    return same if again.kind == first.kind else None

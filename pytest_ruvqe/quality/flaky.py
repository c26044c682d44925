"""Flaky tests: outcomes that flip while the code under test stays the same."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

_FAILING = frozenset({"failed", "error"})


class OutcomeRecord(Protocol):
    """What flaky detection reads of a history entry (``memory.history``)."""

    @property
    def outcome(self) -> str: ...

    @property
    def fingerprint(self) -> str: ...


@dataclass(frozen=True)
class FlakyTest:
    """A test that both passed and failed on the same code."""

    nodeid: str
    flips: int
    runs: int  # runs on the code the flips were seen on
    failures: int


def _flips(outcomes: Sequence[str]) -> int:
    states = [o in _FAILING for o in outcomes]
    return sum(1 for a, b in itertools.pairwise(states) if a != b)


def find_flaky(history: Mapping[str, Sequence[OutcomeRecord]]) -> tuple[FlakyTest, ...]:
    """Tests whose outcome flipped between runs with an unchanged fingerprint.

    Runs are grouped by fingerprint; a flip is a change between passing and
    failing from one run to the next within a group. Most flips first.
    """
    flaky = []
    for nodeid, records in history.items():
        groups: dict[str, list[str]] = {}
        for record in records:
            if record.outcome in ("passed", *_FAILING):
                groups.setdefault(record.fingerprint, []).append(record.outcome)
        best: FlakyTest | None = None
        for outcomes in groups.values():
            flips = _flips(outcomes)
            if flips and (best is None or flips > best.flips):
                failures = sum(o in _FAILING for o in outcomes)
                best = FlakyTest(nodeid, flips, len(outcomes), failures)
        if best is not None:
            flaky.append(best)
    return tuple(sorted(flaky, key=lambda f: (-f.flips, f.nodeid)))


def stability(flaky: Sequence[FlakyTest], tests: int) -> float:
    """Share of tests that are not flaky, 1.0 when no test is known."""
    if tests <= 0:
        return 1.0
    return max(0.0, 1.0 - len(flaky) / tests)

"""Plain data of mutation testing: mutants, results, the report, Wilson intervals."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal, get_args

from pytest_ruvqe.shard import Dealt

MutantStatus = Literal["killed", "survived", "timeout", "no_tests", "error", "not_run"]
# outcome of one mutant
KILLED: Final = "killed"
SURVIVED: Final = "survived"
TIMEOUT: Final = "timeout"  # counted as killed: the tests noticed something
NO_TESTS: Final = "no_tests"  # no test reaches the mutated line
ERROR: Final = "error"  # the engine could not judge it (see the detail)
NOT_RUN: Final = "not_run"  # left out by sampling or the time budget
JUDGED: frozenset[MutantStatus] = frozenset({KILLED, SURVIVED, TIMEOUT})
# the family of change a mutant makes
Operator = Literal[
    "arithmetic",
    "boundary",
    "comparison",
    "boolean",
    "constant",
    "condition",
    "argument",
    "string_method",
    "statement_deletion",
    "return_value",
    "assignment",
]


def mutant_status(value: object) -> MutantStatus:
    """``value`` as a status, or ``ValueError`` (e.g. from another version)."""
    for status in get_args(MutantStatus):
        if value == status:
            return status  # type: ignore[no-any-return]
    raise ValueError(f"unknown mutant status {value!r}")


class MutationRefused(Exception):
    """Mutation testing cannot start; the message says which tests to fix first."""


@dataclass(frozen=True)
class Mutant:
    """One small change of one source file."""

    id: str
    file: str  # path relative to the rootdir
    line: int
    end_line: int
    col: int  # UTF-8 byte offsets, as ``ast`` gives them
    end_col: int
    operator: Operator
    original: str  # source text of the replaced node
    replacement: str  # text put in its place (exactly what is compiled)
    shown: str  # the replacement as a reader would write it
    function: str  # qualified name of the enclosing function, or "<module>"
    runtime: bool  # inside a function body: judged by swapping the code object
    patch_target: str  # outermost enclosing function, the one whose code is swapped

    @property
    def location(self) -> str:
        """``file:line``."""
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class MutantResult:
    """What the tests said about one mutant."""

    mutant: Mutant
    status: MutantStatus
    tests_run: int = 0
    seconds: float = 0.0
    cached: bool = False
    detail: str = ""
    diff: str = ""
    covered_by: tuple[str, ...] = ()  # node ids of the tests that reach the mutant
    killed_by: tuple[str, ...] = ()  # the test that failed first, when known

    @property
    def killed(self) -> bool:
        """Killed or timed out."""
        return self.status in (KILLED, TIMEOUT)


@dataclass(frozen=True)
class MutationReport:
    """All results of one mutation run, with its score and how it was cut short."""

    results: tuple[MutantResult, ...]
    total_mutants: int  # generated before sampling
    sampled: bool
    stopped_by_budget: bool
    seconds: float
    warnings: tuple[str, ...] = ()
    dealt: Dealt | None = None  # --ruvqe-shard: how this share was dealt
    # how import-time mutants were judged ("in the session", "in a new
    # session", "in a fresh interpreter"); "" when there were none to judge
    import_judging: str = ""

    def count(self, *statuses: str) -> int:
        """How many results have one of ``statuses``."""
        return sum(1 for r in self.results if r.status in statuses)

    @property
    def killed(self) -> int:
        return self.count(KILLED, TIMEOUT)

    @property
    def survived(self) -> int:
        return self.count(SURVIVED)

    @property
    def judged(self) -> int:
        return self.killed + self.survived

    @property
    def score(self) -> float | None:
        """killed / (killed + survived) over covered mutants; None if none judged."""
        return self.killed / self.judged if self.judged else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """95% Wilson interval of the score."""
        return wilson_interval(self.killed, self.judged) if self.judged else None

    @property
    def survivors(self) -> tuple[MutantResult, ...]:
        """Surviving mutants in file and line order."""
        found = [r for r in self.results if r.status == SURVIVED]
        return tuple(sorted(found, key=lambda r: (r.mutant.file, r.mutant.line)))

    def score_of(self, file: str, function: str | None = None) -> float | None:
        """Score restricted to one file, or one function of it."""
        rs = [
            r
            for r in self.results
            if r.mutant.file == file
            and r.status in JUDGED
            and (function is None or r.mutant.function == function)
        ]
        return sum(r.killed for r in rs) / len(rs) if rs else None


def wilson_interval(
    successes: int, trials: int, z: float = 1.96
) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (95% for z=1.96)."""
    if trials <= 0:
        return (0.0, 1.0)
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))

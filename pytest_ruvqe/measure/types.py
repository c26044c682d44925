"""Plain coverage data handed from ``measure/`` to the layers above."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Arc = tuple[int, int]
TestOutcomeKind = Literal["passed", "failed", "skipped", "error"]


@dataclass(frozen=True)
class FileCoverage:
    """Line and branch coverage of one measured source file."""

    path: str
    statements: frozenset[int]
    missing: frozenset[int]
    executed_branches: frozenset[Arc] = frozenset()
    missing_branches: frozenset[Arc] = frozenset()

    @property
    def covered_lines(self) -> int:
        return len(self.statements) - len(self.missing)

    @property
    def branches(self) -> int:
        return len(self.executed_branches) + len(self.missing_branches)


@dataclass(frozen=True)
class TestOutcome:
    """The result of one test of this run."""

    __test__ = False  # not a pytest test class

    nodeid: str
    outcome: TestOutcomeKind
    duration: float


@dataclass(frozen=True)
class Measurement:
    """What one pytest session measured: coverage per file and test outcomes."""

    files: dict[str, FileCoverage] = field(default_factory=dict)
    outcomes: tuple[TestOutcome, ...] = ()
    sources: tuple[str, ...] = ()
    measured_how: str = "inferred"  # inferred / option / coverage config / pytest-cov

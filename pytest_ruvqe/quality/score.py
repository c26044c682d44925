"""The quality score: a weighted geometric mean of coverage, mutation strength,
oracle quality and stability, for the suite, each file and each function.

A geometric mean lets a zero in any dimension pull the score down hard: a
suite that runs every line but asserts nothing is not a good suite. The
formula and weights are documented in ``docs/quality.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pytest_ruvqe.analyse.gaps import CoverageReport
from pytest_ruvqe.analyse.mutation.types import MutationReport
from pytest_ruvqe.analyse.smells import SmellReport
from pytest_ruvqe.quality.flaky import FlakyTest, stability

Dimension = Literal["coverage", "mutation", "oracle", "stability"]
# dimension -> weight; dimensions not measured in a run are left out and the
# remaining weights renormalised
DIMENSION_WEIGHTS: Mapping[Dimension, float] = {
    "coverage": 0.35,
    "mutation": 0.30,
    "oracle": 0.25,
    "stability": 0.10,
}
# a zero dimension counts as this, so the mean stays defined but low
FLOOR = 0.01


@dataclass(frozen=True)
class QualityScore:
    """One score in 0..1 and the dimension values it was made of."""

    value: float
    dimensions: tuple[tuple[Dimension, float], ...]

    def dimension(self, name: Dimension) -> float | None:
        """The value of one dimension, or ``None`` if it was not measured."""
        return dict(self.dimensions).get(name)


@dataclass(frozen=True)
class ScopedScore:
    """The score of one file or one function."""

    file: str
    name: str  # the file's module, or the function's qualified name
    line: int
    score: QualityScore


@dataclass(frozen=True)
class QualityReport:
    """Suite, file and function scores plus what they were computed from."""

    suite: QualityScore
    files: tuple[ScopedScore, ...]
    functions: tuple[ScopedScore, ...]  # worst first
    mutation_interval: tuple[float, float] | None
    flaky: tuple[FlakyTest, ...]
    smells: SmellReport
    mutation: MutationReport | None = None


def combine(dimensions: Mapping[Dimension, float | None]) -> QualityScore:
    """Weighted geometric mean of the measured dimensions (``None``: not measured).

    ``Q = exp(sum(w_i * ln(max(d_i, FLOOR))) / sum(w_i))``; 1.0 when nothing
    was measured.
    """
    measured = {
        name: min(1.0, max(0.0, value))
        for name, value in dimensions.items()
        if value is not None
    }
    total = sum(DIMENSION_WEIGHTS[name] for name in measured)
    if total == 0:
        return QualityScore(1.0, ())
    log_sum = sum(
        DIMENSION_WEIGHTS[name] * math.log(max(value, FLOOR))
        for name, value in measured.items()
    )
    value = math.exp(log_sum / total)
    order = [name for name in DIMENSION_WEIGHTS if name in measured]
    return QualityScore(
        round(value, 4), tuple((name, round(measured[name], 4)) for name in order)
    )


def score_quality(
    coverage: CoverageReport,
    smells: SmellReport,
    mutation: MutationReport | None = None,
    flaky: Sequence[FlakyTest] = (),
    tests_known: int = 0,
) -> QualityReport:
    """Scores for the suite, each measured file and each function.

    Oracle quality and stability belong to tests, not to source files, so files
    and functions share the suite's values for those two dimensions.
    """
    scorer = _Scorer(
        mutation=mutation,
        oracle=smells.oracle if smells.tests else None,
        stability=stability(flaky, tests_known) if tests_known else None,
    )
    suite = scorer.score(
        coverage.coverage if coverage.files else None,
        mutation.score if mutation is not None else None,
    )
    files = [scorer.scoped(f.file, f.module, 1, f.coverage) for f in coverage.files]
    functions = [
        scorer.scoped(g.file, g.qualname, g.start, g.coverage, g.qualname)
        for g in coverage.functions
    ]
    return QualityReport(
        suite=suite,
        files=tuple(sorted(files, key=lambda s: (s.score.value, s.file))),
        functions=tuple(
            sorted(functions, key=lambda s: (s.score.value, s.file, s.line))
        ),
        mutation_interval=mutation.interval if mutation is not None else None,
        flaky=tuple(flaky),
        smells=smells,
        mutation=mutation,
    )


@dataclass(frozen=True)
class _Scorer:
    """Scores with the run's mutation results and the dimensions of the tests,
    which every file and function shares."""

    mutation: MutationReport | None
    oracle: float | None
    stability: float | None

    def score(self, coverage: float | None, mutation: float | None) -> QualityScore:
        return combine(
            {
                "coverage": coverage,
                "mutation": mutation,
                "oracle": self.oracle,
                "stability": self.stability,
            }
        )

    def scoped(
        self,
        file: str,
        name: str,
        line: int,
        coverage: float,
        function: str | None = None,
    ) -> ScopedScore:
        """The score of a file, or of one ``function`` of it."""
        mutation = self.mutation.score_of(file, function) if self.mutation else None
        return ScopedScore(file, name, line, self.score(coverage, mutation))

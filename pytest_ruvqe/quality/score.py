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

from pytest_ruvqe.analyse.gaps import CoverageReport
from pytest_ruvqe.analyse.mutation.types import MutationReport
from pytest_ruvqe.analyse.smells import SmellReport
from pytest_ruvqe.quality.flaky import FlakyTest, stability

# dimension -> weight; dimensions not measured in a run are left out and the
# remaining weights renormalised
DIMENSION_WEIGHTS: Mapping[str, float] = {
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
    dimensions: tuple[tuple[str, float], ...]

    def dimension(self, name: str) -> float | None:
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


def combine(dimensions: Mapping[str, float | None]) -> QualityScore:
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
    oracle = smells.oracle if smells.tests else None
    stable = stability(flaky, tests_known) if tests_known else None
    mutation_score = mutation.score if mutation is not None else None
    suite = combine(
        {
            "coverage": coverage.coverage if coverage.files else None,
            "mutation": mutation_score,
            "oracle": oracle,
            "stability": stable,
        }
    )
    files = []
    for summary in coverage.files:
        file_mutation = mutation.score_of(summary.file) if mutation else None
        files.append(
            ScopedScore(
                summary.file,
                summary.module,
                1,
                combine(
                    {
                        "coverage": summary.coverage,
                        "mutation": file_mutation,
                        "oracle": oracle,
                        "stability": stable,
                    }
                ),
            )
        )
    functions = []
    for gap in coverage.functions:
        func_mutation = mutation.score_of(gap.file, gap.qualname) if mutation else None
        functions.append(
            ScopedScore(
                gap.file,
                gap.qualname,
                gap.start,
                combine(
                    {
                        "coverage": gap.coverage,
                        "mutation": func_mutation,
                        "oracle": oracle,
                        "stability": stable,
                    }
                ),
            )
        )
    functions.sort(key=lambda s: (s.score.value, s.file, s.line))
    return QualityReport(
        suite=suite,
        files=tuple(sorted(files, key=lambda s: (s.score.value, s.file))),
        functions=tuple(functions),
        mutation_interval=mutation.interval if mutation is not None else None,
        flaky=tuple(flaky),
        smells=smells,
        mutation=mutation,
    )

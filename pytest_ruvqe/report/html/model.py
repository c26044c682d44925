"""The plain data the HTML report is rendered from, and the rows its
tables show."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_ruvqe.analyse.gaps import CoverageReport, Gap
from pytest_ruvqe.analyse.mutation.types import MutationReport
from pytest_ruvqe.measure.types import FileCoverage
from pytest_ruvqe.memory.runs import RunRecord
from pytest_ruvqe.quality.score import QualityReport
from pytest_ruvqe.quality.suggestions import Suggestion

if TYPE_CHECKING:
    from pytest_ruvqe.generate.outcome import GenerationOutcome


@dataclass(frozen=True)
class HtmlInput:
    """What one run measured, as the HTML report needs it."""

    report: CoverageReport
    rootdir: Path
    files: Mapping[str, FileCoverage] = field(default_factory=dict)  # by abs path
    quality: QualityReport | None = None
    suggestions: tuple[Suggestion, ...] = ()
    generation: GenerationOutcome | None = None
    warnings: tuple[str, ...] = ()
    history: tuple[RunRecord, ...] = ()  # the store's runs, this one last

    @property
    def mutation(self) -> MutationReport | None:
        return self.quality.mutation if self.quality is not None else None

    def coverage_of(self, rel: str) -> FileCoverage | None:
        """The measured coverage of a file given relative to the rootdir."""
        return self.files.get(str((self.rootdir / rel).resolve()))


@dataclass(frozen=True)
class Totals:
    """The figures at the top of the index."""

    coverage: float
    line_coverage: float
    branch_coverage: float | None  # None: no branches measured
    statements: int
    missing_lines: int
    branches: int
    missing_branches: int


def totals(report: CoverageReport) -> Totals:
    """Line, branch and line+branch coverage of the whole run."""
    missing_lines = sum(f.missing_lines for f in report.files)
    missing_branches = sum(f.missing_branches for f in report.files)
    stmts, branches = report.statements, report.branches
    return Totals(
        coverage=report.coverage,
        line_coverage=1.0 if stmts == 0 else (stmts - missing_lines) / stmts,
        branch_coverage=(
            None if branches == 0 else (branches - missing_branches) / branches
        ),
        statements=stmts,
        missing_lines=missing_lines,
        branches=branches,
        missing_branches=missing_branches,
    )


def page_names(files: Sequence[str]) -> dict[str, str]:
    """A distinct page file name under ``files/`` for each source file."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for rel in files:
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", rel.replace("/", "_")) or "file"
        name, n = f"{stem}.html", 1
        while name in used:
            n += 1
            name = f"{stem}-{n}.html"
        used.add(name)
        names[rel] = name
    return names


@dataclass(frozen=True)
class FunctionRow:
    """One row of the risk-ranked functions table."""

    rank: int
    gap: Gap
    quality: float | None
    mutation: float | None


def function_rows(data: HtmlInput) -> list[FunctionRow]:
    """Every function, riskiest first, with its quality and mutation score."""
    scores = {}
    if data.quality is not None:
        scores = {(f.file, f.name): f.score.value for f in data.quality.functions}
    mutation = data.mutation
    return [
        FunctionRow(
            rank=rank,
            gap=g,
            quality=scores.get((g.file, g.qualname)),
            mutation=mutation.score_of(g.file, g.qualname) if mutation else None,
        )
        for rank, g in enumerate(data.report.functions, 1)
    ]


def file_scores(data: HtmlInput) -> dict[str, tuple[float | None, float | None]]:
    """Quality and mutation score per file."""
    quality = {}
    if data.quality is not None:
        quality = {f.file: f.score.value for f in data.quality.files}
    mutation = data.mutation
    return {
        f.file: (quality.get(f.file), mutation.score_of(f.file) if mutation else None)
        for f in data.report.files
    }


def status_counts(mutation: MutationReport) -> list[tuple[str, int]]:
    """Mutants per status, in the order the index shows them."""
    order = ("killed", "timeout", "survived", "no_tests", "error", "not_run")
    return [(status, mutation.count(status)) for status in order]


def history_points(
    runs: Sequence[RunRecord],
) -> list[tuple[float, dict[str, float | None]]]:
    """The history chart's values per run; runs that counted only changed
    lines (``--ruvqe-diff``) are left out: their figures do not compare."""
    return [
        (
            r.at,
            {
                "coverage": r.coverage,
                "quality": r.quality,
                "mutation": r.mutation,
                "acceptance": r.acceptance,
            },
        )
        for r in runs
        if not r.diff
    ]

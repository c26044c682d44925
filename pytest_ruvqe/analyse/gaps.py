"""Coverage gaps per function, risk-ranked, from coverage data and the source index."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from pytest_ruvqe.analyse.source_index import (
    MODULE_SCOPE,
    ModuleIndex,
    SourceSkipped,
    index_file,
)
from pytest_ruvqe.measure.sources import module_name
from pytest_ruvqe.measure.types import Arc, FileCoverage, Measurement


@dataclass(frozen=True)
class Gap:
    """Missing lines and branches of one function (or of module-level code)."""

    file: str  # relative to the rootdir
    module: str
    qualname: str
    start: int
    end: int
    complexity: int
    statements: int
    missing_lines: tuple[int, ...]
    branches: int
    missing_branches: tuple[Arc, ...]
    risk: float

    @property
    def coverage(self) -> float:
        """Line+branch coverage of the function, 0..1."""
        total = self.statements + self.branches
        missing = len(self.missing_lines) + len(self.missing_branches)
        return 1.0 if total == 0 else (total - missing) / total

    @property
    def has_gap(self) -> bool:
        return bool(self.missing_lines or self.missing_branches)


@dataclass(frozen=True)
class FileSummary:
    """Line+branch totals of one file."""

    file: str
    module: str
    statements: int
    missing_lines: int
    branches: int
    missing_branches: int

    @property
    def coverage(self) -> float:
        total = self.statements + self.branches
        missing = self.missing_lines + self.missing_branches
        return 1.0 if total == 0 else (total - missing) / total


@dataclass(frozen=True)
class CoverageReport:
    """Everything the gap report shows: functions, files, total, warnings."""

    functions: tuple[Gap, ...]  # every function, worst first
    files: tuple[FileSummary, ...]
    sources: tuple[str, ...]
    warnings: tuple[str, ...]
    diff_ref: str | None = None
    tests_run: int = 0
    measured_how: str = "inferred"  # inferred / option / coverage config / pytest-cov

    @property
    def gaps(self) -> tuple[Gap, ...]:
        """Functions with at least one missing line or branch, worst first."""
        return tuple(g for g in self.functions if g.has_gap)

    @property
    def statements(self) -> int:
        return sum(f.statements for f in self.files)

    @property
    def branches(self) -> int:
        return sum(f.branches for f in self.files)

    @property
    def missing(self) -> int:
        return sum(f.missing_lines + f.missing_branches for f in self.files)

    @property
    def coverage(self) -> float:
        """Total line+branch coverage, 0..1 (1.0 when nothing was measured)."""
        total = self.statements + self.branches
        return 1.0 if total == 0 else (total - self.missing) / total


def crap_risk(complexity: int, coverage: float) -> float:
    """CRAP score: complexity squared times the cube of what is uncovered."""
    return complexity**2 * (1.0 - coverage) ** 3 + complexity


@dataclass
class _Bucket:
    """Statements, missing lines, executed and missing branches of some code."""

    statements: set[int] = field(default_factory=set)
    missing: set[int] = field(default_factory=set)
    branches: set[Arc] = field(default_factory=set)  # executed
    missing_branches: set[Arc] = field(default_factory=set)


def file_gaps(
    cov: FileCoverage,
    index: ModuleIndex,
    rel: str,
    changed: frozenset[int] | None = None,
) -> tuple[list[Gap], FileSummary]:
    """Per-function gaps of one file; ``changed`` restricts to changed lines.

    A branch belongs to the function that owns its source line.
    """
    measured = _measured(cov, changed)
    gaps = [
        _gap(rel, index, qualname, data)
        for qualname, data in _per_function(measured, index).items()
    ]
    summary = FileSummary(
        file=rel,
        module=index.module,
        statements=len(measured.statements),
        missing_lines=len(measured.missing),
        branches=len(measured.branches) + len(measured.missing_branches),
        missing_branches=len(measured.missing_branches),
    )
    return gaps, summary


def _measured(cov: FileCoverage, changed: frozenset[int] | None) -> _Bucket:
    """What coverage measured in the file, only on ``changed`` lines if given."""
    measured = _Bucket(
        set(cov.statements),
        set(cov.missing),
        set(cov.executed_branches),
        set(cov.missing_branches),
    )
    if changed is None:
        return measured
    return _Bucket(
        measured.statements & changed,
        measured.missing & changed,
        {a for a in measured.branches if a[0] in changed},
        {a for a in measured.missing_branches if a[0] in changed},
    )


def _per_function(measured: _Bucket, index: ModuleIndex) -> dict[str, _Bucket]:
    """The measured lines and branches split by the function owning each line."""
    per: dict[str, _Bucket] = {}

    def bucket(line: int) -> _Bucket:
        func = index.owner(line)
        return per.setdefault(func.qualname if func else MODULE_SCOPE, _Bucket())

    for line in measured.statements:
        bucket(line).statements.add(line)
    for line in measured.missing:
        bucket(line).missing.add(line)
    for arc in measured.branches:
        bucket(arc[0]).branches.add(arc)
    for arc in measured.missing_branches:
        bucket(arc[0]).missing_branches.add(arc)
    return per


def _gap(rel: str, index: ModuleIndex, qualname: str, data: _Bucket) -> Gap:
    """The gap of one function (or of module-level code), risk-rated if it has one."""
    func = index.function(qualname)
    complexity = func.complexity if func else 1
    gap = Gap(
        file=rel,
        module=index.module,
        qualname=qualname,
        start=func.start if func else min(data.statements, default=1),
        end=func.end if func else index.line_count,
        complexity=complexity,
        statements=len(data.statements),
        missing_lines=tuple(sorted(data.missing)),
        branches=len(data.branches) + len(data.missing_branches),
        missing_branches=tuple(sorted(data.missing_branches)),
        risk=0.0,
    )
    if gap.has_gap:
        gap = replace(gap, risk=round(crap_risk(complexity, gap.coverage), 3))
    return gap


def rank(gaps: list[Gap]) -> tuple[Gap, ...]:
    """Worst first: highest risk, then most missing, then file order."""
    return tuple(
        sorted(
            gaps,
            key=lambda g: (
                -g.risk,
                -(len(g.missing_lines) + len(g.missing_branches)),
                g.file,
                g.start,
            ),
        )
    )


Indexer = Callable[[Path, str, int], ModuleIndex]


def _relative(path: str, rootdir: Path) -> str:
    try:
        return Path(path).resolve().relative_to(rootdir.resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def build_report(
    measurement: Measurement,
    rootdir: Path,
    max_bytes: int,
    changed: Mapping[str, frozenset[int]] | None = None,
    diff_ref: str | None = None,
    extra_files: tuple[Path, ...] = (),
    index: Indexer = index_file,
) -> CoverageReport:
    """Join coverage data with the source index into a ranked gap report.

    ``changed`` maps rootdir-relative paths to changed line numbers (diff mode):
    files not in it are left out, and only changed lines count. ``index``
    indexes one file (a cache may stand in for :func:`index_file`).
    """
    all_gaps: list[Gap] = []
    files: list[FileSummary] = []
    warnings: list[str] = []
    for path in sorted(measurement.files):
        cov = measurement.files[path]
        rel = _relative(path, rootdir)
        lines_changed = None
        if changed is not None:
            lines_changed = changed.get(rel)
            if not lines_changed:
                continue
        try:
            found = index(Path(path), module_name(Path(path)), max_bytes)
        except SourceSkipped as exc:
            warnings.append(f"skipped {rel}: {exc}")
            continue
        gaps, summary = file_gaps(cov, found, rel, lines_changed)
        all_gaps.extend(gaps)
        files.append(summary)
    measured = {str(Path(p).resolve()) for p in measurement.files}
    for extra in extra_files:
        # files coverage.py could not report on: say why instead of dropping them
        if str(extra.resolve()) in measured:
            continue
        rel = _relative(str(extra), rootdir)
        if changed is not None and rel not in changed:
            continue
        try:
            index(extra, module_name(extra), max_bytes)
        except SourceSkipped as exc:
            warnings.append(f"skipped {rel}: {exc}")
    return CoverageReport(
        functions=rank(all_gaps),
        files=tuple(files),
        sources=measurement.sources,
        warnings=tuple(warnings),
        diff_ref=diff_ref,
        tests_run=len(measurement.outcomes),
        measured_how=measurement.measured_how,
    )

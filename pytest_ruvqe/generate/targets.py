"""Generation targets: the functions with gaps, and what the router sees of them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pytest_ruvqe.analyse.gaps import CoverageReport
from pytest_ruvqe.analyse.source_index import MODULE_SCOPE
from pytest_ruvqe.generate.types import Target
from pytest_ruvqe.measure.types import FileCoverage


def import_roots(rootdir: Path, sources: Sequence[Path]) -> tuple[Path, ...]:
    """Directories to put on sys.path so every measured module imports by name."""
    roots: list[Path] = []
    for source in sources:
        top = source.resolve()
        if top.is_file():
            top = top.parent
            while (top / "__init__.py").exists():
                top = top.parent
        else:
            while (top / "__init__.py").exists():
                top = top.parent
        roots.append(top)
    roots.append(rootdir.resolve())
    return tuple(dict.fromkeys(roots))


# ``--ruvqe-target``: a file or directory, and a function in it (None: all)
TargetFilter = tuple[Path, str | None]


def is_private(qualname: str) -> bool:
    """``_helper`` or ``Class._method``: not the API (dunders are)."""
    return any(
        p.startswith("_") and not (p.startswith("__") and p.endswith("__"))
        for p in qualname.split(".")
    )


def _wanted(path: Path, qualname: str, only: Sequence[TargetFilter]) -> bool:
    if not only:
        return True
    return any(
        (path == where or path.is_relative_to(where))
        and (name is None or name == qualname or qualname.startswith(name + "."))
        for where, name in only
    )


def targets_from(
    report: CoverageReport,
    files: dict[str, FileCoverage],
    rootdir: Path,
    skip_dir: Path,
    only: Sequence[TargetFilter] = (),
) -> list[Target]:
    """Functions with gaps as generation targets: the public API first, worst
    first within it; private helpers after, for what the API leaves."""
    targets: list[Target] = []
    skip = skip_dir.resolve()
    for gap in report.gaps:
        path = (rootdir / gap.file).resolve()
        cov = files.get(str(path))
        if gap.qualname == MODULE_SCOPE or cov is None or path.is_relative_to(skip):
            continue
        if not _wanted(path, gap.qualname, only):
            continue
        targets.append(
            Target(
                file=path,
                module=gap.module,
                qualname=gap.qualname,
                start=gap.start,
                end=gap.end,
                complexity=gap.complexity,
                missing_lines=frozenset(gap.missing_lines),
                missing_branches=frozenset(gap.missing_branches),
                covered_lines=cov.statements - cov.missing,
                covered_branches=cov.executed_branches,
            )
        )
    return sorted(targets, key=lambda t: is_private(t.qualname))


def target_features(target: Target) -> dict[str, float]:
    """Code features the router and the learner see (names as in llm.complexity)."""
    return {
        "cyclomatic": float(target.complexity),
        "lines": float(target.end - target.start + 1),
        "missing_lines": float(len(target.missing_lines)),
        "missing_branches": float(len(target.missing_branches)),
    }

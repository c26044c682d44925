"""The coverage part of a JSON report read back: the gaps and each file's lines."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_ruvqe.analyse.gaps import CoverageReport, FileSummary, Gap
from pytest_ruvqe.measure.types import Arc, FileCoverage
from pytest_ruvqe.report.fmt import unspan


def coverage_report(data: Mapping[str, Any]) -> CoverageReport:
    """The :class:`CoverageReport` a JSON report (schema 2) was written from."""
    measured = data.get("measured", {})
    return CoverageReport(
        functions=tuple(_gap(f) for f in data.get("functions", ())),
        files=tuple(_file(f) for f in data.get("files", ())),
        sources=tuple(measured.get("sources", ())),
        warnings=(),
        diff_ref=data.get("diff_ref"),
        tests_run=int(data.get("tests_run", 0)),
        measured_how=str(measured.get("how", "inferred")),
    )


def _gap(f: Mapping[str, Any]) -> Gap:
    return Gap(
        file=f["file"],
        module=f["module"],
        qualname=f["qualname"],
        start=int(f["start"]),
        end=int(f["end"]),
        complexity=int(f["complexity"]),
        statements=int(f["statements"]),
        missing_lines=tuple(int(n) for n in f["missing_lines"]),
        branches=int(f["branches"]),
        missing_branches=tuple((int(a), int(b)) for a, b in f["missing_branches"]),
        risk=float(f["risk"]),
    )


def _file(f: Mapping[str, Any]) -> FileSummary:
    return FileSummary(
        file=f["file"],
        module=f["module"],
        statements=int(f["statements"]),
        missing_lines=int(f["missing_lines"]),
        branches=int(f["branches"]),
        missing_branches=int(f["missing_branches"]),
    )


def file_coverages(data: Mapping[str, Any], rootdir: Path) -> dict[str, FileCoverage]:
    """Each file's measured lines by absolute path, for files whose ``lines``
    the report kept."""
    found = {}
    for f in data.get("files", ()):
        lines = f.get("lines")
        if lines is None:
            continue
        path = str((rootdir / f["file"]).resolve())
        found[path] = FileCoverage(
            path=path,
            statements=unspan(lines["statements"]),
            missing=unspan(lines["missing"]),
            executed_branches=_arcs(lines.get("executed_branches", ())),
            missing_branches=_arcs(lines["missing_branches"]),
        )
    return found


def _arcs(pairs: Iterable[Sequence[int]]) -> frozenset[Arc]:
    return frozenset((int(a), int(b)) for a, b in pairs)

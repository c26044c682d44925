"""A JSON report read back into the plain data the renderers take."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_ruvqe.analyse.gaps import CoverageReport, FileSummary, Gap


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

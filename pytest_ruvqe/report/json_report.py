"""The JSON report: versioned schema documented in docs/report-schema.md."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_ruvqe import __version__
from pytest_ruvqe.analyse.gaps import CoverageReport, FileSummary, Gap
from pytest_ruvqe.measure.types import FileCoverage
from pytest_ruvqe.report.fmt import spans

SCHEMA = "pytest-ruvqe/report"
SCHEMA_VERSION = 2


def report_dict(
    report: CoverageReport,
    rootdir: str,
    extra: Mapping[str, Any] | None = None,
    warnings: Sequence[str] = (),
    lines: Mapping[str, FileCoverage] | None = None,
) -> dict[str, Any]:
    """The whole report as JSON-ready data; ``extra`` adds later sections,
    ``warnings`` are the run's problems as ``Category: message``, ``lines``
    the measured coverage per file by absolute path (each file's ``lines``,
    what its page in the HTML report shows)."""
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "tool_version": __version__,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "rootdir": rootdir,
        "measured": {"sources": list(report.sources), "how": report.measured_how},
        "diff_ref": report.diff_ref,
        "tests_run": report.tests_run,
        "totals": {
            "statements": report.statements,
            "branches": report.branches,
            "missing": report.missing,
            "coverage": round(report.coverage, 6),
        },
        "files": [_file_dict(f, rootdir, lines) for f in report.files],
        "functions": [
            _function_dict(rank, g) for rank, g in enumerate(report.functions, 1)
        ],
        "warnings": list(warnings),
    }
    if extra:
        data.update(extra)
    return data


def _file_dict(
    f: FileSummary, rootdir: str, lines: Mapping[str, FileCoverage] | None
) -> dict[str, Any]:
    cov = lines.get(str((Path(rootdir) / f.file).resolve())) if lines else None
    return {
        "file": f.file,
        "module": f.module,
        "statements": f.statements,
        "missing_lines": f.missing_lines,
        "branches": f.branches,
        "missing_branches": f.missing_branches,
        "coverage": round(f.coverage, 6),
        **({"lines": _lines_dict(cov)} if cov is not None else {}),
    }


def _lines_dict(cov: FileCoverage) -> dict[str, Any]:
    return {
        "statements": [list(r) for r in spans(cov.statements)],
        "missing": [list(r) for r in spans(cov.missing)],
        "executed_branches": [list(a) for a in sorted(cov.executed_branches)],
        "missing_branches": [list(a) for a in sorted(cov.missing_branches)],
    }


def _function_dict(rank: int, g: Gap) -> dict[str, Any]:
    return {
        "rank": rank,
        "file": g.file,
        "module": g.module,
        "qualname": g.qualname,
        "start": g.start,
        "end": g.end,
        "complexity": g.complexity,
        "statements": g.statements,
        "missing_lines": list(g.missing_lines),
        "branches": g.branches,
        "missing_branches": [list(a) for a in g.missing_branches],
        "coverage": round(g.coverage, 6),
        "risk": g.risk,
    }


def render_json(
    report: CoverageReport,
    rootdir: str,
    extra: Mapping[str, Any] | None = None,
    warnings: Sequence[str] = (),
    lines: Mapping[str, FileCoverage] | None = None,
) -> str:
    """The JSON text of the report."""
    data = report_dict(report, rootdir, extra, warnings, lines)
    # compact: the C encoder (indent= falls back to pure Python), half the size
    return json.dumps(data, separators=(",", ":")) + "\n"

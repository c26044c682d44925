"""The report files beyond JSON and Markdown: HTML, Cobertura XML, LCOV and
Stryker's mutation format, each from the run's data as already measured."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_ruvqe.fileio import write_atomic
from pytest_ruvqe.settings import ReportFormat, Settings
from pytest_ruvqe.warning_types import RuvqeReportWarning

if TYPE_CHECKING:
    import coverage

    from pytest_ruvqe.session.outputs import RunResults

EXTRA_FORMATS: frozenset[ReportFormat] = frozenset({"html", "xml", "lcov", "stryker"})


def _html(
    settings: Settings, results: RunResults, problems: Sequence[str]
) -> dict[str, str]:
    from pytest_ruvqe.report.html import HtmlInput, render_html

    assert results.report is not None
    quality = results.quality
    return render_html(
        HtmlInput(
            report=results.report,
            rootdir=settings.rootdir,
            files=results.files,
            quality=quality.report if quality else None,
            suggestions=quality.suggestions if quality else (),
            generation=results.generation,
            warnings=tuple(problems),
            history=results.history,
        )
    )


def _coverage_text(cov: coverage.Coverage | None, fmt: ReportFormat) -> str | None:
    from pytest_ruvqe.report.coverage_formats import (
        CoverageFormatError,
        render_coverage,
    )

    if cov is None:
        _warn(f"no {fmt} report: this run measured no coverage")
        return None
    try:
        return render_coverage(cov, "xml" if fmt == "xml" else "lcov")
    except CoverageFormatError as exc:
        _warn(f"no {fmt} report: coverage.py says {exc}")
        return None


def _warn(message: str) -> None:
    warnings.warn(RuvqeReportWarning(message), stacklevel=3)


def write_report_file(
    fmt: ReportFormat,
    path: Path,
    settings: Settings,
    results: RunResults,
    problems: Sequence[str],
) -> bool:
    """Write one report of ``fmt`` at ``path``; ``False`` when there was none
    to write (a warning says why)."""
    report = results.report
    assert report is not None
    if fmt == "html":
        pages = _html(settings, results, problems)
        from pytest_ruvqe.report.html import write_html

        write_html(path, pages)  # all rendered before the first write
        return True
    if fmt == "stryker":
        mutation = results.quality.report.mutation if results.quality else None
        if mutation is None:
            _warn("no stryker report: mutation testing did not run")
            return False
        from pytest_ruvqe.report.stryker import render_stryker

        write_atomic(path, render_stryker(mutation, settings.rootdir))
        return True
    coverage_text = _coverage_text(results.measured, fmt)
    if coverage_text is not None:
        write_atomic(path, coverage_text)
    return coverage_text is not None

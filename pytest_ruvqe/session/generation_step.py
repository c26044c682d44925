"""The ``--ruvqe-generate`` step of a run, with its live progress line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pytest_ruvqe.analyse.gaps import CoverageReport
from pytest_ruvqe.measure.model import FileCoverage
from pytest_ruvqe.measure.startup import MeasurementPlan
from pytest_ruvqe.settings import Settings

if TYPE_CHECKING:
    from pytest_ruvqe.generate.loop import Progress
    from pytest_ruvqe.generation_step import GenerationOutcome


def _progress_line(p: Progress) -> str:
    return (
        f"ruvqe generate: target {p.index}/{p.total} {p.target} round {p.round}"
        f" | accepted {p.accepted} | {p.tokens} tokens | ${p.cost_usd:.4f}"
    )


def run(
    config: pytest.Config,
    settings: Settings,
    plan: MeasurementPlan,
    session: pytest.Session,
    report: CoverageReport,
    files: dict[str, FileCoverage],
) -> GenerationOutcome:
    """Write validated tests for the worst gaps, with a live progress line."""
    from pytest_ruvqe.generation_step import run_generation

    reporter = config.pluginmanager.get_plugin("terminalreporter")
    live = reporter is not None and reporter.isatty

    def progress(p: Progress) -> None:
        if reporter is None:
            return
        if live:
            reporter.rewrite(_progress_line(p), erase=True)
        else:
            reporter.write_line(_progress_line(p))

    if reporter is not None:
        reporter.write_line("")
    test_files = sorted({Path(item.path) for item in session.items})
    outcome = run_generation(
        settings, report, files, plan.sources, test_files, progress
    )
    if live and reporter is not None:
        reporter.write_line("")
    return outcome

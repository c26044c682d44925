"""Hooks other plugins can implement to extend pytest-ruvqe."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_ruvqe.analyse.gaps import CoverageReport


@pytest.hookspec(firstresult=True)
def pytest_ruvqe_filter_report(
    config: pytest.Config, report: CoverageReport
) -> CoverageReport | None:
    """Return a changed report (e.g. gaps of generated code left out), or None.

    Called once on the controller after coverage is analysed and before
    anything is printed, written or gated; the first non-None answer wins.
    """


@pytest.hookspec
def pytest_ruvqe_report_ready(config: pytest.Config, report: CoverageReport) -> None:
    """Called with the final coverage report, e.g. to publish it elsewhere."""

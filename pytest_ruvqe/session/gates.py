"""``--ruvqe-fail-under``: the CI gates on coverage and quality."""

from __future__ import annotations

import math

from pytest_ruvqe.analyse.gaps import CoverageReport
from pytest_ruvqe.quality.score import QualityReport
from pytest_ruvqe.settings import FailUnder


def coverage_gate(gate: FailUnder, report: CoverageReport) -> str | None:
    """The failure message when total coverage is under the ``PCT`` gate."""
    threshold = gate.coverage_pct
    if threshold is None or not report.files:
        return None
    # floored like the report's figures, so 59.999% never shows as 60.00%
    total = math.floor(report.coverage * 10_000 + 1e-9) / 100
    if total >= threshold:
        return None
    return (
        f"ruvqe: total line+branch coverage {total:.2f}% is below "
        f"--ruvqe-fail-under={threshold:g}"
    )


def quality_gate(gate: FailUnder, quality: QualityReport) -> str | None:
    """The failure message when the suite's score is under ``quality:Q``."""
    threshold = gate.quality
    if threshold is None:
        return None
    value = quality.suite.value
    if round(value, 4) >= threshold:
        return None
    return (
        f"ruvqe: quality score {value:.2f} is below "
        f"--ruvqe-fail-under=quality:{threshold:g}"
    )

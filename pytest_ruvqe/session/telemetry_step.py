"""Telemetry of a run: started with the session, metrics from its results,
exported at its end (see :mod:`pytest_ruvqe.telemetry`)."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterable

from pytest_ruvqe import telemetry
from pytest_ruvqe.measure.types import TestOutcome
from pytest_ruvqe.session.outputs import RunResults
from pytest_ruvqe.settings import Settings
from pytest_ruvqe.warning_types import RuvqeReportWarning

# pytest's outcomes in the words of the test semantic conventions
_STATUS = {"passed": "pass", "failed": "fail", "error": "fail", "skipped": "skipped"}


def begin(settings: Settings) -> bool:
    """Start exporting when asked; a warning (and no telemetry) when it cannot."""
    if not telemetry.wanted(settings.otel):
        return False
    try:
        if settings.privacy_local:
            telemetry.check_private()
        telemetry.start(
            "pytest-ruvqe",
            {
                "test.suite.name": settings.rootdir.name,
                "ruvqe.rootdir": str(settings.rootdir),
            },
        )
    except telemetry.TelemetryUnavailable as exc:
        warnings.warn(RuvqeReportWarning(f"no telemetry: {exc}"), stacklevel=2)
        return False
    return True


def record(results: RunResults, outcomes: Iterable[TestOutcome]) -> None:
    """The run's figures as metrics."""
    for status, n in Counter(
        _STATUS.get(o.outcome, o.outcome) for o in outcomes
    ).items():
        telemetry.count(
            "ruvqe.tests", n, "{test}", **{"test.case.result.status": status}
        )
    if results.report is not None:
        telemetry.gauge("ruvqe.coverage", results.report.coverage)
    if results.quality is not None:
        quality = results.quality.report
        telemetry.gauge("ruvqe.quality.score", quality.suite.value)
        score = quality.mutation.score if quality.mutation is not None else None
        if score is not None:
            telemetry.gauge("ruvqe.mutation.score", score)
    if results.generation is not None:
        reasons = results.generation.reasons
        telemetry.count(
            "ruvqe.generation.accepted", reasons.pop("accepted", 0), "{test}"
        )
        for reason, n in reasons.items():
            telemetry.count(
                "ruvqe.generation.rejected", n, "{test}", **{"ruvqe.reason": reason}
            )


def end(failed: bool) -> None:
    """Close the run span and export."""
    telemetry.stop({"test.suite.run.status": "failure" if failed else "success"})

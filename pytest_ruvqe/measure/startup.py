"""Decide, before conftests import user code, how this process measures coverage."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pytest_ruvqe.measure.recorder import CoverageRecorder
from pytest_ruvqe.measure.sources import infer_sources
from pytest_ruvqe.settings import Settings

# serial: we measure; controller: xdist workers measure, we merge; worker: we
# measure and send; pytest-cov: it measures, we read; nothing: no source found
Role = Literal["serial", "controller", "worker", "pytest-cov", "nothing"]


@dataclass
class MeasurementPlan:
    """How this process takes part in measuring coverage."""

    role: Role
    recorder: CoverageRecorder | None
    sources: tuple[Path, ...]
    how: str


def is_xdist_worker() -> bool:
    """Whether this process is a pytest-xdist worker."""
    return bool(os.environ.get("PYTEST_XDIST_WORKER"))


def _distributed(ns: argparse.Namespace) -> bool:
    return bool(getattr(ns, "numprocesses", None)) or getattr(ns, "dist", "no") not in (
        "no",
        None,
    )


def pytest_cov_active(ns: argparse.Namespace) -> bool:
    """Whether pytest-cov measures this run (``--cov`` given, no ``--no-cov``)."""
    return bool(getattr(ns, "cov_source", None)) and not getattr(ns, "no_cov", False)


def plan_measurement(settings: Settings, ns: argparse.Namespace) -> MeasurementPlan:
    """Start our own coverage unless pytest-cov measures or this is the controller."""
    if settings.sources:
        sources, how = tuple(Path(s) for s in settings.sources), "--ruvqe-source"
    else:
        sources, how = infer_sources(settings.rootdir), "inferred from the rootdir"
    if pytest_cov_active(ns):
        return MeasurementPlan("pytest-cov", None, sources, "measured by pytest-cov")
    recorder = CoverageRecorder(sources, explicit=bool(settings.sources))
    if recorder.from_config:
        how = "from the coverage.py configuration"
    elif not sources:
        # coverage.py would measure everything imported; measure nothing instead
        return MeasurementPlan("nothing", None, sources, "no source found")
    if is_xdist_worker():
        recorder.start()
        return MeasurementPlan("worker", recorder, sources, how)
    if _distributed(ns):
        return MeasurementPlan("controller", recorder, sources, how)
    recorder.start()
    return MeasurementPlan("serial", recorder, sources, how)

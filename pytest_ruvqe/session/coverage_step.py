"""The coverage step of a run: measured files joined with the source index."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pytest_ruvqe.analyse.diff import DiffError, changed_lines
from pytest_ruvqe.analyse.file_cache import FileAnalyses
from pytest_ruvqe.analyse.gaps import CoverageReport, build_report
from pytest_ruvqe.analyse.source_index import index_file
from pytest_ruvqe.measure.recorder import file_coverage
from pytest_ruvqe.measure.sources import python_files
from pytest_ruvqe.measure.startup import MeasurementPlan
from pytest_ruvqe.measure.types import FileCoverage, Measurement, TestOutcome
from pytest_ruvqe.settings import Settings
from pytest_ruvqe.warning_types import RuvqeReportWarning, RuvqeSourceWarning

if TYPE_CHECKING:
    import coverage


def coverage_object(
    config: pytest.Config, plan: MeasurementPlan
) -> coverage.Coverage | None:
    """coverage.py's object holding this run's data: ours, or pytest-cov's."""
    if plan.recorder is not None:
        return plan.recorder.cov
    if plan.role == "nothing":
        return None
    plugin = config.pluginmanager.getplugin("_cov")
    controller = getattr(plugin, "cov_controller", None)
    return getattr(controller, "cov", None)


def measured_files(
    config: pytest.Config, settings: Settings, plan: MeasurementPlan
) -> dict[str, FileCoverage]:
    """Per-file coverage from our recorder, or from pytest-cov's measurement;
    files over ``--ruvqe-max-file-kb`` are left unread."""
    max_bytes = settings.max_file_kb * 1024
    if plan.recorder is not None:
        return plan.recorder.files(max_bytes)
    cov = coverage_object(config, plan)
    return file_coverage(cov, max_bytes=max_bytes) if cov is not None else {}


def _source_labels(settings: Settings, plan: MeasurementPlan) -> tuple[str, ...]:
    if plan.recorder is not None and plan.recorder.from_config:
        config = plan.recorder.cov.config
        return tuple(config.source or []) + tuple(config.source_pkgs or [])
    labels = []
    for source in plan.sources:
        try:
            labels.append(source.relative_to(settings.rootdir).as_posix())
        except ValueError:
            labels.append(str(source))
    return tuple(labels)


def _in_sources(
    files: dict[str, FileCoverage], plan: MeasurementPlan
) -> dict[str, FileCoverage]:
    """pytest-cov may measure more than our sources: keep ours, if any match."""
    if plan.role != "pytest-cov":
        return files
    roots = [s.resolve() for s in plan.sources]
    kept = {
        p: f
        for p, f in files.items()
        if not roots or any(Path(p).is_relative_to(r) for r in roots)
    }
    return kept or files


def changed_since(
    rootdir: Path, ref: str | None, what: str = "diff mode"
) -> dict[str, frozenset[int]] | None:
    """Lines changed since ``ref``; ``None`` (with a warning) when git fails."""
    if not ref:
        return None
    try:
        return changed_lines(rootdir, ref)
    except DiffError as exc:
        warnings.warn(
            RuvqeReportWarning(f"{what} off, git failed: {exc}"), stacklevel=3
        )
        return None


def analyse(
    config: pytest.Config,
    settings: Settings,
    plan: MeasurementPlan,
    files: dict[str, FileCoverage],
    outcomes: tuple[TestOutcome, ...],
    analyses: FileAnalyses | None = None,
) -> CoverageReport:
    """Join coverage with the source index (from ``analyses``, if given) into
    the gap report."""
    measurement = Measurement(
        files=_in_sources(files, plan),
        outcomes=outcomes,
        sources=_source_labels(settings, plan),
        measured_how=plan.how,
    )
    changed = changed_since(settings.rootdir, settings.diff_ref)
    report = build_report(
        measurement,
        settings.rootdir,
        settings.max_file_kb * 1024,
        changed=changed,
        diff_ref=settings.diff_ref if changed is not None else None,
        extra_files=tuple(python_files(plan.sources)),
        index=analyses.index if analyses is not None else index_file,
    )
    for problem in report.warnings:
        warnings.warn(RuvqeSourceWarning(problem), stacklevel=2)
    filtered = config.hook.pytest_ruvqe_filter_report(config=config, report=report)
    if filtered is not None:
        report = filtered
    config.hook.pytest_ruvqe_report_ready(config=config, report=report)
    return report

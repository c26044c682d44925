"""What a run leaves behind: report files, ``.ruvqe/last-run.json``, the
terminal sections."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_ruvqe.analyse.gaps import CoverageReport
from pytest_ruvqe.fileio import write_atomic
from pytest_ruvqe.measure.types import FileCoverage
from pytest_ruvqe.memory.runs import RunRecord
from pytest_ruvqe.report.json_report import render_json
from pytest_ruvqe.report.markdown import render_markdown
from pytest_ruvqe.report.quality import (
    QUALITY_TITLE,
    quality_dict,
    quality_lines,
    quality_markdown,
)
from pytest_ruvqe.report.terminal import GAPS_TITLE, gap_lines
from pytest_ruvqe.session.quality_step import QualityOutcome
from pytest_ruvqe.session.report_files import EXTRA_FORMATS, write_report_file
from pytest_ruvqe.session.run_history import record_run
from pytest_ruvqe.settings import Settings
from pytest_ruvqe.warning_types import RuvqeStoreWarning

if TYPE_CHECKING:
    import coverage

    from pytest_ruvqe.generate.outcome import GenerationOutcome


@dataclass(frozen=True)
class RunResults:
    """The results of one run's steps, as the outputs render them."""

    report: CoverageReport | None
    quality: QualityOutcome | None = None
    generation: GenerationOutcome | None = None
    # per-file coverage by absolute path and coverage.py's own data, for the
    # HTML, Cobertura and LCOV reports
    files: Mapping[str, FileCoverage] = field(default_factory=dict)
    measured: coverage.Coverage | None = None
    history: tuple[RunRecord, ...] = ()  # the store's runs, this one last


def _sections(results: RunResults, markdown: bool) -> tuple[dict[str, Any], list[str]]:
    """JSON additions and (only if ``markdown``) Markdown sections of the
    quality and generation steps."""
    extra: dict[str, Any] = {}
    sections: list[str] = []
    if results.quality is not None:
        q = results.quality
        extra.update(quality_dict(q.report, q.suggestions))
        if markdown:
            sections.append(quality_markdown(q.report, q.suggestions))
    if results.generation is not None:
        from pytest_ruvqe.report.generation import (
            generation_dict,
            generation_markdown,
        )

        extra.update(generation_dict(results.generation))
        if markdown:
            sections.append(generation_markdown(results.generation))
    return extra, sections


def write_outputs(
    settings: Settings,
    base: Path,
    results: RunResults,
    problems: Sequence[str],
) -> list[str]:
    """Write the JSON and Markdown files asked for and ``.ruvqe/last-run.json``;
    return a line per file written."""
    report = results.report
    assert report is not None
    # recorded first: the HTML report charts it
    results = dataclasses.replace(results, history=record_run(settings, results))
    rootdir = str(settings.rootdir)
    markdown = any(t.format == "md" and t.path for t in settings.reports)
    extra, sections = _sections(results, markdown)
    as_json = render_json(report, rootdir, extra, problems, results.files)  # once
    written = []
    for target in settings.reports:
        if target.path is None:
            continue
        path = target.path if target.path.is_absolute() else base / target.path
        if target.format in EXTRA_FORMATS:
            if not write_report_file(target.format, path, settings, results, problems):
                continue
        elif target.format == "json":
            write_atomic(path, as_json)
        else:
            text = render_markdown(report, settings.top, sections, problems)
            write_atomic(path, text)
        written.append(f"wrote {target.format} report: {path}")
    store = settings.store_dir
    try:
        if not (store / ".gitignore").exists():
            write_atomic(store / ".gitignore", "# created by pytest-ruvqe\n*\n")
        write_atomic(store / "last-run.json", as_json)
    except OSError as exc:
        warnings.warn(
            RuvqeStoreWarning(f"could not write {store}: {exc.strerror}"), stacklevel=2
        )
    return written


def terminal_sections(
    reporter: pytest.TerminalReporter,
    settings: Settings,
    results: RunResults,
    width: int,
) -> None:
    """The gap, quality and generation sections of the terminal summary."""
    if any(t.format == "term" for t in settings.reports):
        reporter.write_sep("=", GAPS_TITLE)
        if results.report is None:
            reporter.write_line("no report: the run ended before tests ran")
        else:
            for line in gap_lines(results.report, settings.top, width):
                reporter.write_line(line)
        if results.quality is not None:
            reporter.write_sep("=", QUALITY_TITLE)
            q = results.quality
            for line in quality_lines(q.report, q.suggestions, width):
                reporter.write_line(line)
    if results.generation is not None:
        from pytest_ruvqe.report.generation import GENERATION_TITLE, generation_lines

        reporter.write_sep("=", GENERATION_TITLE)
        for line in generation_lines(results.generation, width):
            reporter.write_line(line)

"""One run of pytest-ruvqe: measure, analyse, gate, report."""

from __future__ import annotations

import math
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_ruvqe.analyse.diff import DiffError, changed_lines
from pytest_ruvqe.analyse.gaps import CoverageReport, build_report
from pytest_ruvqe.fileio import write_atomic
from pytest_ruvqe.measure.model import FileCoverage, Measurement, TestOutcome
from pytest_ruvqe.measure.recorder import file_coverage
from pytest_ruvqe.measure.sources import python_files
from pytest_ruvqe.measure.startup import MeasurementPlan
from pytest_ruvqe.quality_step import QualityOutcome, quality_gate, run_quality
from pytest_ruvqe.report.json_report import render_json
from pytest_ruvqe.report.markdown import render_markdown
from pytest_ruvqe.report.quality import (
    QUALITY_TITLE,
    quality_dict,
    quality_lines,
    quality_markdown,
)
from pytest_ruvqe.report.terminal import GAPS_TITLE, gap_lines
from pytest_ruvqe.settings import Settings

if TYPE_CHECKING:
    from pytest_ruvqe.generate.loop import Progress
    from pytest_ruvqe.generation_step import GenerationOutcome

WORKER_OUTPUT_KEY = "ruvqe_coverage"


class RuvqeSession:
    """The plugin object registered for one enabled pytest run."""

    def __init__(
        self, config: pytest.Config, settings: Settings, plan: MeasurementPlan
    ) -> None:
        self.config = config
        self.settings = settings
        self.plan = plan
        self.outcomes: dict[str, TestOutcome] = {}
        self.report: CoverageReport | None = None
        self.files: dict[str, FileCoverage] = {}
        self.quality: QualityOutcome | None = None
        self.generation: GenerationOutcome | None = None
        self.gate_failures: list[str] = []
        self.notes: list[str] = []

    # -- measurement -----------------------------------------------------

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep each test's outcome (call phase, or a failing setup/teardown)."""
        if report.when == "call" or report.outcome != "passed":
            outcome = (
                "error" if report.when != "call" and report.failed else report.outcome
            )
            previous = self.outcomes.get(report.nodeid)
            if previous is None or previous.outcome == "passed":
                self.outcomes[report.nodeid] = TestOutcome(
                    report.nodeid, outcome, report.duration
                )

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """On the xdist controller: merge the coverage a worker measured."""
        payload = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY)
        if payload is not None and self.plan.recorder is not None:
            self.plan.recorder.add_payload(payload)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtestloop(
        self, session: pytest.Session
    ) -> Generator[None, object, object]:
        """Outermost wrapper: runs after pytest-cov has combined its data."""
        try:
            result = yield
        except BaseException:
            if self.plan.recorder is not None:
                self.plan.recorder.stop()
            raise
        if self.plan.role == "worker":
            assert self.plan.recorder is not None
            workeroutput = getattr(self.config, "workeroutput", None)
            if workeroutput is not None:
                workeroutput[WORKER_OUTPUT_KEY] = self.plan.recorder.payload()
            return result
        if self.config.option.collectonly:
            return result
        self.report = self.analyse(session)
        self.quality = run_quality(
            self.config, self.settings, session, self.report, self.outcomes
        )
        if self.settings.generate is not None:
            self.generation = self.generate(session, self.report)
        self.write_outputs(self.report)
        self.gate(session, self.report)
        return result

    # -- analysis --------------------------------------------------------

    def _files(self) -> dict[str, FileCoverage]:
        if self.plan.recorder is not None:
            return self.plan.recorder.files()
        if self.plan.role == "nothing":
            return {}
        plugin = self.config.pluginmanager.getplugin("_cov")
        controller = getattr(plugin, "cov_controller", None)
        cov = getattr(controller, "cov", None)
        return file_coverage(cov) if cov is not None else {}

    def _source_labels(self) -> tuple[str, ...]:
        if self.plan.recorder is not None and self.plan.recorder.from_config:
            config = self.plan.recorder.cov.config
            return tuple(config.source or []) + tuple(config.source_pkgs or [])
        labels = []
        for source in self.plan.sources:
            try:
                labels.append(source.relative_to(self.settings.rootdir).as_posix())
            except ValueError:
                labels.append(str(source))
        return tuple(labels)

    def analyse(self, session: pytest.Session) -> CoverageReport:
        """Join coverage with the source index into the gap report."""
        files = self._files()
        self.files = files
        if self.plan.role == "pytest-cov":
            roots = [s.resolve() for s in self.plan.sources]
            files = {
                p: f
                for p, f in files.items()
                if not roots or any(Path(p).is_relative_to(r) for r in roots)
            } or files
        measurement = Measurement(
            files=files,
            outcomes=tuple(self.outcomes.values()),
            sources=self._source_labels(),
            measured_how=self.plan.how,
        )
        changed = None
        if self.settings.diff_ref:
            try:
                changed = changed_lines(self.settings.rootdir, self.settings.diff_ref)
            except DiffError as exc:
                self.notes.append(f"diff mode off, git failed: {exc}")
        report = build_report(
            measurement,
            self.settings.rootdir,
            self.settings.max_file_kb * 1024,
            changed=changed,
            diff_ref=self.settings.diff_ref if changed is not None else None,
            extra_files=tuple(python_files(self.plan.sources)),
        )
        filtered = self.config.hook.pytest_ruvqe_filter_report(
            config=self.config, report=report
        )
        if filtered is not None:
            report = filtered
        self.config.hook.pytest_ruvqe_report_ready(config=self.config, report=report)
        return report

    # -- generation ------------------------------------------------------

    def generate(
        self, session: pytest.Session, report: CoverageReport
    ) -> GenerationOutcome:
        """Write validated tests for the worst gaps, with a live progress line."""
        from pytest_ruvqe.generation_step import run_generation

        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        live = reporter is not None and reporter.isatty

        def progress(p: Progress) -> None:
            if reporter is None:
                return
            line = (
                f"ruvqe generate: target {p.index}/{p.total} {p.target} round {p.round}"
                f" | accepted {p.accepted} | {p.tokens} tokens | ${p.cost_usd:.4f}"
            )
            if live:
                reporter.rewrite(line, erase=True)
            else:
                reporter.write_line(line)

        if reporter is not None:
            reporter.write_line("")
        test_files = sorted({Path(item.path) for item in session.items})
        outcome = run_generation(
            self.settings,
            report,
            self.files,
            self.plan.sources,
            test_files,
            progress,
        )
        if live and reporter is not None:
            reporter.write_line("")
        return outcome

    # -- outputs ---------------------------------------------------------

    def write_outputs(self, report: CoverageReport) -> None:
        """Write the JSON and Markdown files asked for, and ``.ruvqe/last-run.json``."""
        rootdir = str(self.settings.rootdir)
        base = self.config.invocation_params.dir
        extra, sections = self._quality_sections()
        more, more_sections = self._generation_sections()
        extra = {**(extra or {}), **more}
        sections = sections + more_sections
        for target in self.settings.reports:
            if target.path is None:
                continue
            path = target.path if target.path.is_absolute() else base / target.path
            if target.format == "json":
                write_atomic(path, render_json(report, rootdir, extra))
            else:
                write_atomic(path, render_markdown(report, self.settings.top, sections))
            self.notes.append(f"wrote {target.format} report: {path}")
        store = self.settings.store_dir
        try:
            if not (store / ".gitignore").exists():
                write_atomic(store / ".gitignore", "# created by pytest-ruvqe\n*\n")
            write_atomic(store / "last-run.json", render_json(report, rootdir, extra))
        except OSError as exc:
            self.notes.append(f"could not write {store}: {exc.strerror}")

    def _quality_sections(self) -> tuple[dict[str, Any] | None, list[str]]:
        """JSON additions and Markdown sections of the quality step."""
        if self.quality is None:
            return None, []
        q = self.quality
        return quality_dict(q.report, q.suggestions), [
            quality_markdown(q.report, q.suggestions)
        ]

    def _generation_sections(self) -> tuple[dict[str, Any], list[str]]:
        """JSON additions and Markdown sections of the generation step."""
        if self.generation is None:
            return {}, []
        from pytest_ruvqe.report.generation import (
            generation_dict,
            generation_markdown,
        )

        return generation_dict(self.generation), [generation_markdown(self.generation)]

    def gate(self, session: pytest.Session, report: CoverageReport) -> None:
        """Fail the run when coverage or quality is under ``--ruvqe-fail-under``."""
        failure = quality_gate(self.settings, self.quality) if self.quality else None
        if failure is not None and session.testscollected:
            self.gate_failures.append(failure)
            session.testsfailed += 1
        threshold = self.settings.fail_under.coverage_pct
        if threshold is None or not report.files or session.testscollected == 0:
            return
        # floored like the report's figures, so 59.999% never shows as 60.00%
        total = math.floor(report.coverage * 10_000 + 1e-9) / 100
        if total < threshold:
            self.gate_failures.append(
                f"ruvqe: total line+branch coverage {total:.2f}% is below "
                f"--ruvqe-fail-under={threshold:g}"
            )
            session.testsfailed += 1

    def pytest_terminal_summary(
        self, terminalreporter: pytest.TerminalReporter
    ) -> None:
        """Print the gap report and any gate failure, on the controller only."""
        if self.plan.role == "worker":
            return
        width = self.config.get_terminal_writer().fullwidth
        if any(t.format == "term" for t in self.settings.reports):
            terminalreporter.write_sep("=", GAPS_TITLE)
            if self.report is None:
                terminalreporter.write_line("no report: the run ended before tests ran")
            else:
                for line in gap_lines(self.report, self.settings.top, width):
                    terminalreporter.write_line(line)
            if self.quality is not None:
                terminalreporter.write_sep("=", QUALITY_TITLE)
                q = self.quality
                for line in quality_lines(q.report, q.suggestions, q.notes, width):
                    terminalreporter.write_line(line)
        if self.generation is not None:
            from pytest_ruvqe.report.generation import (
                GENERATION_TITLE,
                generation_lines,
            )

            terminalreporter.write_sep("=", GENERATION_TITLE)
            for line in generation_lines(self.generation, width):
                terminalreporter.write_line(line)
        for note in self.notes:
            terminalreporter.write_line(f"ruvqe: {note}")
        for failure in self.gate_failures:
            terminalreporter.write_line(f"FAIL {failure}", red=True, bold=True)

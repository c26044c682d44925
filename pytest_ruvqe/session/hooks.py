"""The plugin object of one enabled run: pytest hooks only, each handing the
work to a step of this package."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_ruvqe import telemetry
from pytest_ruvqe.analyse.gaps import CoverageReport
from pytest_ruvqe.measure.startup import MeasurementPlan
from pytest_ruvqe.measure.types import FileCoverage, TestOutcome
from pytest_ruvqe.session import coverage_step, quality_step, telemetry_step
from pytest_ruvqe.session.file_cache import file_analyses
from pytest_ruvqe.session.gates import coverage_gate, quality_gate
from pytest_ruvqe.session.outputs import RunResults, terminal_sections, write_outputs
from pytest_ruvqe.session.problems import Problems
from pytest_ruvqe.settings import Settings

if TYPE_CHECKING:
    from pytest_ruvqe.generate.outcome import GenerationOutcome

WORKER_OUTPUT_KEY = "ruvqe_coverage"


class RuvqeSession:
    """Registered as a plugin for one enabled pytest run."""

    def __init__(
        self, config: pytest.Config, settings: Settings, plan: MeasurementPlan
    ) -> None:
        self.config = config
        self.settings = settings
        self.plan = plan
        self.outcomes: dict[str, TestOutcome] = {}
        self.report: CoverageReport | None = None
        self.files: dict[str, FileCoverage] = {}
        self.quality: quality_step.QualityOutcome | None = None
        self.generation: GenerationOutcome | None = None
        self.gate_failures: list[str] = []
        self.written: list[str] = []
        self.problems = Problems()
        self.session: pytest.Session | None = None
        self.exporting = False  # OpenTelemetry started for this run

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
        self.session = session
        try:
            result = yield
        except BaseException:
            if self.plan.recorder is not None:
                self.plan.recorder.stop()
            raise
        if self.plan.role == "worker":
            self._send_to_controller()
        elif not self.config.option.collectonly:
            with self.problems.recording():
                report = self._steps(session)
            with self.problems.recording():  # the files carry the warnings so far
                self.written = write_outputs(
                    self.settings,
                    self.config.invocation_params.dir,
                    RunResults(
                        report,
                        self.quality,
                        self.generation,
                        self.files,
                        coverage_step.coverage_object(self.config, self.plan),
                    ),
                    self.problems.messages(),
                )
            self._gate(session, report)
            if self.exporting:
                results = RunResults(report, self.quality, self.generation)
                telemetry_step.record(results, self.outcomes.values())
        return result

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Start the run's telemetry, when asked for (controller only)."""
        if self.plan.role != "worker":
            with self.problems.recording():
                self.exporting = telemetry_step.begin(self.settings)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Export the run's telemetry."""
        if self.exporting:
            telemetry_step.end(failed=exitstatus != 0)

    def _send_to_controller(self) -> None:
        assert self.plan.recorder is not None
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput[WORKER_OUTPUT_KEY] = self.plan.recorder.payload()

    def _steps(self, session: pytest.Session) -> CoverageReport:
        config, settings = self.config, self.settings
        with telemetry.span("ruvqe.measure"):
            self.files = coverage_step.measured_files(config, settings, self.plan)
        outcomes = tuple(self.outcomes.values())
        with file_analyses(settings) as analyses:
            with telemetry.span("ruvqe.analyse"):
                report = coverage_step.analyse(
                    config, settings, self.plan, self.files, outcomes, analyses
                )
            self.report = report
            with telemetry.span("ruvqe.quality"):
                self.quality = quality_step.run_quality(
                    config, settings, session, report, self.outcomes, analyses
                )
        if settings.generate is not None:
            # lazy: generation pulls in the search, the sandbox and the models
            from pytest_ruvqe.session import generation_step

            with telemetry.span("ruvqe.generation"):
                self.generation = generation_step.run(
                    config, settings, self.plan, session, report, self.files
                )
            from pytest_ruvqe.session.tuning_step import after_generation

            with telemetry.span("ruvqe.tuning"):
                after_generation(settings, self.generation, self._say)
        return report

    def _say(self, line: str) -> None:
        """A line of progress on the terminal, as it happens."""
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"ruvqe: {line}")

    def _gate(self, session: pytest.Session, report: CoverageReport) -> None:
        """Fail the run when coverage or quality is under ``--ruvqe-fail-under``."""
        if session.testscollected == 0:
            return
        gate = self.settings.fail_under
        failures = [coverage_gate(gate, report)]
        if self.quality is not None:
            failures.append(quality_gate(gate, self.quality.report))
        for failure in filter(None, failures):
            self.gate_failures.append(failure)
            session.testsfailed += 1

    def pytest_terminal_summary(
        self, terminalreporter: pytest.TerminalReporter
    ) -> None:
        """Print the sections, then issue the run's warnings, on the controller."""
        if self.plan.role == "worker":
            return
        width = self.config.get_terminal_writer().fullwidth
        results = RunResults(self.report, self.quality, self.generation)
        terminal_sections(terminalreporter, self.settings, results, width)
        for line in self.written:
            terminalreporter.write_line(f"ruvqe: {line}")
        for failure in self.gate_failures:
            terminalreporter.write_line(f"FAIL {failure}", red=True, bold=True)
        for error in self.problems.issue():
            terminalreporter.write_line(
                f"ERROR ruvqe: {type(error).__name__}: {error}", red=True, bold=True
            )
            if self.session is not None:
                self.session.exitstatus = pytest.ExitCode.TESTS_FAILED

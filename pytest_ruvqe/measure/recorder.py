"""Line and branch coverage with coverage.py, our own or pytest-cov's."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_ruvqe.measure.sources import module_name, python_files
from pytest_ruvqe.measure.types import Arc, FileCoverage

if TYPE_CHECKING:
    import coverage


@contextmanager
def _quiet() -> Iterator[None]:
    # coverage warns about files it cannot parse; we report those ourselves
    from coverage.exceptions import CoverageWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        warnings.simplefilter("ignore", ResourceWarning)
        yield


def _small(files: list[str], max_bytes: int | None) -> list[str]:
    """``files`` without those over ``max_bytes``: they are skipped (with a
    warning, by the report) before anything reads or parses them."""
    if max_bytes is None:
        return files
    kept = []
    for name in files:
        try:
            if Path(name).stat().st_size <= max_bytes:
                kept.append(name)
        except OSError:
            kept.append(name)  # coverage.py says what is wrong with it
    return kept


def file_coverage(
    cov: coverage.Coverage,
    files: list[str] | None = None,
    max_bytes: int | None = None,
) -> dict[str, FileCoverage]:
    """Per-file lines and branches of everything ``cov`` measured, and of
    ``files`` too even if never imported; files over ``max_bytes`` left out."""
    from coverage.exceptions import NoDataError
    from coverage.report_core import get_analysis_to_report

    result: dict[str, FileCoverage] = {}
    with _quiet():
        cov.config.ignore_errors = True  # unparseable files: we warn ourselves
        if files is None:
            files = sorted(cov.get_data().measured_files())
        morfs = _small(files, max_bytes)
        if not morfs:
            return {}
        try:
            for reporter, analysis in get_analysis_to_report(cov, morfs):
                path = str(Path(reporter.filename).resolve())
                result[path] = FileCoverage(
                    path=path,
                    statements=frozenset(analysis.statements),
                    missing=frozenset(analysis.missing),
                    executed_branches=_arcs(analysis.executed_branch_arcs()),
                    missing_branches=_arcs(analysis.missing_branch_arcs()),
                )
        except NoDataError:
            return {}
    return result


def _arcs(by_line: dict[int, list[int]]) -> frozenset[Arc]:
    return frozenset((a, b) for a, targets in by_line.items() for b in targets)


class CoverageRecorder:
    """Our own coverage.py measurement, branch coverage on, no data file."""

    def __init__(self, sources: tuple[Path, ...], explicit: bool) -> None:
        """Measure ``sources``; the coverage.py config's own source wins unless
        they were given ``explicit``-ly."""
        import coverage

        self.sources = sources
        with _quiet():
            self.cov = coverage.Coverage(data_file=None, branch=True, config_file=True)
        config = self.cov.config
        self.from_config = not explicit and bool(config.source or config.source_pkgs)
        if not self.from_config:
            dirs = [str(s) for s in sources if s.is_dir()]
            modules = [module_name(s) for s in sources if s.is_file()]
            self.cov.set_option("run:source", dirs)
            self.cov.set_option("run:source_pkgs", modules)
        self.started = False

    def start(self) -> None:
        """Start tracing; called before conftests import user code."""
        with _quiet():
            self.cov.start()
        self.started = True

    def stop(self) -> None:
        """Stop tracing (idempotent)."""
        if self.started:
            with _quiet():
                self.cov.stop()
            self.started = False

    def payload(self) -> bytes:
        """This process's data, serialised for the xdist controller."""
        self.stop()
        with _quiet():
            return self.cov.get_data().dumps()

    def add_payload(self, payload: bytes) -> None:
        """Merge data measured by an xdist worker."""
        from coverage import CoverageData

        with _quiet():
            data = CoverageData(no_disk=True)
            data.loads(payload)
            self.cov.get_data().update(data)

    def files(self, max_bytes: int | None = None) -> dict[str, FileCoverage]:
        """Per-file coverage of what this recorder (and its workers) measured,
        never-imported source files included, files over ``max_bytes`` not."""
        self.stop()
        if self.from_config:
            return file_coverage(self.cov, max_bytes=max_bytes)
        with _quiet():
            measured = set(self.cov.get_data().measured_files())
        known = {str(p.resolve()) for p in python_files(self.sources)}
        return file_coverage(self.cov, sorted(measured | known), max_bytes)

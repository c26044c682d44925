"""Line and branch coverage with coverage.py, our own or pytest-cov's."""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_ruvqe.analyse.source_index import module_name
from pytest_ruvqe.measure.model import FileCoverage

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


def file_coverage(cov: coverage.Coverage) -> dict[str, FileCoverage]:
    """Per-file lines and branches of everything ``cov`` measured."""
    from coverage.exceptions import NoDataError
    from coverage.jsonreport import JsonReporter

    buffer = io.StringIO()
    with _quiet():
        cov.config.ignore_errors = True
        try:
            JsonReporter(cov).report(None, buffer)
        except NoDataError:
            return {}
    data: dict[str, Any] = json.loads(buffer.getvalue() or "{}")
    files: dict[str, FileCoverage] = {}
    for path, info in data.get("files", {}).items():
        executed = frozenset(int(n) for n in info.get("executed_lines", ()))
        missing = frozenset(int(n) for n in info.get("missing_lines", ()))
        absolute = str(Path(path).resolve())
        files[absolute] = FileCoverage(
            path=absolute,
            statements=executed | missing,
            missing=missing,
            executed_branches=frozenset(
                (int(a), int(b)) for a, b in info.get("executed_branches", ())
            ),
            missing_branches=frozenset(
                (int(a), int(b)) for a, b in info.get("missing_branches", ())
            ),
        )
    return files


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

    def files(self) -> dict[str, FileCoverage]:
        """Per-file coverage of what this recorder (and its workers) measured."""
        self.stop()
        return file_coverage(self.cov)

"""Judge an import-time mutant in a forked child by importing the project afresh.

The child forgets every module of the project (code under test, conftests,
test modules), puts a finder for the mutated text in front of the import
system and runs a new pytest session on the selected tests. pytest and every
third-party library stay imported, so this costs a collection, not a new
interpreter.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Collection, Sequence
from pathlib import Path

import pytest

from pytest_ruvqe.analyse.mutation.loader import MutantFinder

VERDICT_SURVIVED, VERDICT_KILLED, VERDICT_UNSURE = 0, 1, 3
_INSTALLED = ("site-packages", "dist-packages")


class _Verdict:
    """Plugin of the inner session: did anything fail, did anything pass."""

    def __init__(
        self, first: Sequence[str] = (), finder: MutantFinder | None = None
    ) -> None:
        self.finder = finder
        self.broken = False
        self.failed = ""
        self.passed = 0
        self.rank = {nodeid: i for i, nodeid in enumerate(first)}

    def pytest_configure(self, config: pytest.Config) -> None:
        """Put the mutant's finder in front of the session's assertion rewriter.

        The rewriter loads every file named on the command line from disk
        (a source module given for its doctests, say), which would import the
        unmutated text and let the mutant survive unseen.
        """
        if self.finder is not None and self.finder in sys.meta_path:
            sys.meta_path.remove(self.finder)
            sys.meta_path.insert(0, self.finder)

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Tests that killed earlier mutants first: with ``-x`` a kill is quick."""
        items.sort(key=lambda item: self.rank.get(item.nodeid, len(self.rank)))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.broken = True

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.failed = self.failed or report.nodeid
        elif report.when == "call" and report.passed:
            self.passed += 1


def is_project_file(path: object, rootdir: Path) -> bool:
    """Does ``path`` name a file in ``rootdir`` (not an installed package)?"""
    if not isinstance(path, str) or not path:
        return False
    real = os.path.realpath(path)
    root = os.path.realpath(rootdir) + os.sep
    return real.startswith(root) and not any(p in real for p in _INSTALLED)


def forget_project_modules(rootdir: Path, keep: Collection[str] = ()) -> int:
    """Drop modules whose file is the project's, but those named in ``keep``."""
    dropped = 0
    for name, module in list(sys.modules.items()):
        if name.startswith("pytest_ruvqe") or name in keep:
            continue
        if is_project_file(getattr(module, "__file__", None), rootdir):
            del sys.modules[name]
            dropped += 1
    return dropped


def judge_reimported(
    rootdir: Path,
    target: Path,
    mutated_text: str,
    options: Sequence[str],
    nodeids: Sequence[str],
    first: Sequence[str] = (),
    report_fd: int | None = None,
) -> int:
    """Run ``nodeids`` against the mutated module; a verdict code.

    ``first`` names tests to run before the others; the id of a failing test
    is written to ``report_fd``. A collection error counts as a kill: the
    mutant broke the import.
    """
    forget_project_modules(rootdir)
    finder = MutantFinder(str(target), mutated_text)
    sys.meta_path.insert(0, finder)
    os.chdir(rootdir)
    verdict = _Verdict(first, finder)
    code = pytest.main(
        [*options, "-x", "-q", "-s", "-p", "no:cacheprovider", *nodeids],
        plugins=[verdict],
    )
    if verdict.broken or verdict.failed:
        if verdict.failed and report_fd is not None:
            os.write(report_fd, verdict.failed.encode()[:4000])
        return VERDICT_KILLED
    if code == pytest.ExitCode.OK and verdict.passed:
        return VERDICT_SURVIVED
    return VERDICT_UNSURE

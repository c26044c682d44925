"""Import hook for the fresh-process fallback: load one module from mutated text.

Loaded as a pytest plugin (``-p pytest_ruvqe.analyse.mutation.loader``) so it
is installed before collection imports the code under test. The file to
replace and the mutated text come from ``RUVQE_MUTANT_FILE`` and
``RUVQE_MUTANT_SOURCE``; the id of the first failing test is written to the
file descriptor ``RUVQE_MUTANT_REPORT_FD`` names (the mutant's killer).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import CodeType, ModuleType

import pytest


class _MutantLoader(importlib.machinery.SourceFileLoader):
    """A source loader that compiles the mutated text and never uses bytecode."""

    mutated_text = ""

    def get_code(self, fullname: str) -> CodeType:
        return compile(self.mutated_text, self.path, "exec", dont_inherit=True)


class MutantFinder(importlib.abc.MetaPathFinder):
    """Finds modules as usual, but loads ``target`` from ``text``."""

    def __init__(self, target: str, text: str) -> None:
        self.target = os.path.realpath(target)
        self.text = text

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.origin is None:
            return None
        if os.path.realpath(spec.origin) != self.target:
            return None
        loader = _MutantLoader(fullname, spec.origin)
        loader.mutated_text = self.text
        spec.loader = loader
        return spec


def pytest_configure(config: object) -> None:
    """Keep the finder in front of finders installed since (the assertion
    rewriter loads files named on the command line from disk)."""
    for finder in [f for f in sys.meta_path if isinstance(f, MutantFinder)]:
        sys.meta_path.remove(finder)
        sys.meta_path.insert(0, finder)


_killers: list[str] = []  # failing tests, the first one told to the parent


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Tell the judging parent which test failed first."""
    fd = os.environ.get("RUVQE_MUTANT_REPORT_FD")
    if report.failed and fd is not None and not _killers:
        _killers.append(report.nodeid)
        os.write(int(fd), report.nodeid.encode()[:4000])


def install() -> None:
    """Install the finder when the environment names a mutant."""
    target = os.environ.get("RUVQE_MUTANT_FILE")
    source = os.environ.get("RUVQE_MUTANT_SOURCE")
    if target and source:
        text = Path(source).read_text(encoding="utf-8")
        sys.meta_path.insert(0, MutantFinder(target, text))


install()

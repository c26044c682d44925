"""Helpers for the processes that judge mutants."""

from __future__ import annotations

import os
from collections.abc import Sequence

import pytest

_VALUE_OPTIONS = frozenset({"-p", "-k", "-m", "-c", "-o", "--rootdir", "--import-mode"})


def options_of(args: Sequence[str]) -> list[str]:
    """The options of a pytest command line, without its test paths."""
    options: list[str] = []
    expect_value = False
    for arg in args:
        if expect_value:
            options.append(arg)
            expect_value = False
        elif arg.startswith("-"):
            options.append(arg)
            expect_value = arg in _VALUE_OPTIONS
    return options


def skip_collect(generation: int = 2) -> int:
    """Stand-in for ``gc.collect`` in a judging child that exits right after."""
    return 0


def silence() -> None:
    """Send this process's stdout and stderr to the null device."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)


def quick_failure_reports(item: pytest.Item) -> None:
    """In a judging child only the verdict matters, not a formatted traceback.

    Formatting a failure costs far more than running a small test, and a
    killed mutant always fails one.
    """

    def short(*args: object, **kwargs: object) -> str:
        return "failed under a mutant"

    item.repr_failure = short  # type: ignore[method-assign]
    item._repr_failure_py = short  # type: ignore[method-assign,assignment]


def first_failure(
    items: Sequence[pytest.Item], failed: list[str], report_fd: int | None
) -> bool:
    """Run ``items`` until one fails (``failed`` is where the session's failing
    reports go); its id is written to ``report_fd``. Whether one failed."""
    failed.clear()
    for item in items:
        quick_failure_reports(item)
    for i, item in enumerate(items):
        nxt = items[i + 1] if i + 1 < len(items) else None
        item.ihook.pytest_runtest_protocol(item=item, nextitem=nxt)
        if failed:
            if report_fd is not None:
                os.write(report_fd, failed[0].encode()[:4000])
            return True
    return False

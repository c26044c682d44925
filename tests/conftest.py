"""Shared fixtures: a small project to measure, and a stable pytest runner."""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import pytest

CALC = """
def classify(n):
    if n < 0:
        return "negative"
    if n == 0:
        return "zero"
    return "positive"


def safe_div(a, b):
    if b == 0:
        raise ZeroDivisionError("b must not be zero")
    return a / b


class Stack:
    def __init__(self):
        self.items = []

    def push(self, item):
        self.items.append(item)

    def pop(self):
        if not self.items:
            raise IndexError("empty")
        return self.items.pop()
"""

CALC_TESTS = """
from calc.core import classify, Stack


def test_positive():
    assert classify(5) == "positive"


def test_push_pop():
    s = Stack()
    s.push(1)
    assert s.pop() == 1
"""

RunPytest = Callable[..., pytest.RunResult]


@pytest.fixture(autouse=True)
def _stable_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("PY_COLORS", "0")
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)


@pytest.fixture
def calc_project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A package ``calc`` with half of its branches tested."""
    pytester.mkpydir("calc")
    pytester.path.joinpath("calc", "core.py").write_text(textwrap.dedent(CALC))
    tests = pytester.mkdir("tests")
    tests.joinpath("test_calc.py").write_text(textwrap.dedent(CALC_TESTS))
    pytester.makeini("[pytest]\npythonpath = .\n")
    return pytester


@pytest.fixture
def run(pytester: pytest.Pytester) -> RunPytest:
    """Run pytest in a subprocess with only our plugin (and those asked for)."""

    def runner(*args: str, plugins: tuple[str, ...] = ()) -> pytest.RunResult:
        extra: list[str] = ["-p", "pytest_ruvqe.plugin", "-p", "no:cacheprovider"]
        for plugin in plugins:
            extra += ["-p", plugin]
        return pytester.runpytest_subprocess(*extra, *args)

    return runner

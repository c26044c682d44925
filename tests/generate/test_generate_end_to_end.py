"""Validated and written tests run in the user's own pytest, and only once."""

from __future__ import annotations

import pytest

from pytest_ruvqe.generate.accept.validate import validate
from pytest_ruvqe.generate.types import Candidate, Project, Reason, Target
from pytest_ruvqe.generate.writer import write_tests

CALC = """\
def clamp(x, low, high):
    if x < low:
        return low
    if x > high:
        return high
    return x
"""

CANDIDATE = """\
from pkg.calc import clamp


def test_below():
    assert clamp(-5, 0, 10) == 0


def test_above():
    assert clamp(50, 0, 10) == 10


def test_inside_but_vacuous():
    clamp(5, 0, 10)
"""


def test_accepted_tests_pass_in_the_users_suite_and_are_written_once(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makeini("[pytest]\npythonpath = .\n")
    pytester.mkpydir("pkg")
    source = pytester.path / "pkg" / "calc.py"
    source.write_text(CALC, encoding="utf-8")
    pytester.makepyfile(
        test_existing="from pkg.calc import clamp\n\n\ndef test_mid():\n"
        "    assert clamp(5, 0, 10) == 5\n"
    )
    project = Project(rootdir=pytester.path, import_roots=(pytester.path,))
    target = Target(
        file=source,
        module="pkg.calc",
        qualname="clamp",
        start=1,
        end=6,
        complexity=3,
        missing_lines=frozenset({3, 5}),
        missing_branches=frozenset({(2, 3), (4, 5)}),
        covered_lines=frozenset({1, 2, 4, 6}),
        covered_branches=frozenset({(2, 4), (4, 6)}),
    )
    candidate = Candidate(target, CANDIDATE, "chat", model="tiny")
    validation = validate(candidate, project, reruns=2)
    assert [v.reason for v in validation.verdicts] == [
        Reason.ACCEPTED,
        Reason.ACCEPTED,
        Reason.NO_ASSERT,
    ]

    first = write_tests([validation], pytester.path)
    second = write_tests([validation], pytester.path)
    assert len(first.added) == 2 and second.added == () and second.written == ()

    (written,) = first.written
    assert "test_inside_but_vacuous" not in written.read_text(encoding="utf-8")
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "*ruvqe_generated/test_pkg_calc_ruvqe.py::test_below PASSED*",
            "*ruvqe_generated/test_pkg_calc_ruvqe.py::test_above PASSED*",
        ]
    )
    assert source.read_text(encoding="utf-8") == CALC

"""The mutation engine on small projects with known killed and surviving mutants."""

from __future__ import annotations

import pytest

from pytest_ruvqe.analyse.mutation.engine import MutationPlan, run_mutation
from pytest_ruvqe.analyse.mutation.pool import (
    FRESH_INTERPRETER,
    IN_SESSION,
    NEW_SESSION,
)
from pytest_ruvqe.analyse.mutation.types import (
    KILLED,
    NO_TESTS,
    NOT_RUN,
    SURVIVED,
    TIMEOUT,
    MutationRefused,
    MutationReport,
)

AGES = """\
LIMIT = 18


def is_adult(age):
    return age >= LIMIT


def countdown(n):
    while n > 0:
        n -= 1
    return n


def unused(x):
    return x * 2
"""

TESTS = """\
from ages import countdown, is_adult


def test_adult():
    assert is_adult(30)
    assert not is_adult(5)


def test_countdown():
    assert countdown(3) == 0
"""


@pytest.fixture
def project(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> pytest.Pytester:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(ages=AGES, test_ages=TESTS)
    return pytester


# the host entry point that keeps judged mutants in the .ruvqe/ store
CACHING_HOST = "pytest_ruvqe.session.mutation_host"


def _run(pytester: pytest.Pytester, **kwargs: object) -> MutationReport:
    plan = MutationPlan(
        rootdir=pytester.path,
        files=("ages.py",),
        test_args=("test_ages.py",),
        jobs=2,
        **kwargs,  # type: ignore[arg-type]
    )
    return run_mutation(plan)


def _status(report: MutationReport) -> dict[tuple[int, str], str]:
    return {(r.mutant.line, r.mutant.shown): r.status for r in report.results}


def test_known_killed_and_survived(project: pytest.Pytester) -> None:
    report = _run(project)
    status = _status(report)
    # the boundary is never tested at 18: the mutant survives
    assert status[(5, "age > LIMIT")] == SURVIVED
    assert status[(5, "None")] == KILLED
    # import-time constant, judged in a fresh process: 19 is still not tested
    assert status[(1, "19")] == SURVIVED
    # n += 1 never ends: a timeout, counted as killed
    assert status[(10, "n += 1")] == TIMEOUT
    assert status[(15, "x / 2")] == NO_TESTS
    assert report.killed == report.count(KILLED, TIMEOUT)
    assert report.score == pytest.approx(report.killed / report.judged)
    survivor = next(r for r in report.survivors if r.mutant.shown == "age > LIMIT")
    assert "+     return age > LIMIT" in survivor.diff
    # the tests that reached each mutant, and the one that failed first
    assert survivor.covered_by == ("test_ages.py::test_adult",)
    assert survivor.killed_by == ()
    killed = next(
        r for r in report.results if (r.mutant.line, r.mutant.shown) == (5, "None")
    )
    assert killed.killed_by == ("test_ages.py::test_adult",)
    assert next(r for r in report.results if r.status == NO_TESTS).covered_by == ()


def test_import_time_mutant_can_be_killed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        ages="LIMIT = 18\n\ndef is_adult(age, limit=LIMIT):\n    return age >= limit\n",
        test_ages="from ages import is_adult\n\ndef test_edge():\n"
        "    assert is_adult(18)\n    assert not is_adult(17)\n",
    )
    report = _run(pytester)
    status = _status(report)
    assert status[(1, "19")] == KILLED
    assert status[(4, "age > limit")] == KILLED
    # re-collected in the host's own session, not a new one per mutant
    assert report.import_judging == IN_SESSION
    limit = next(r for r in report.results if r.mutant.shown == "19")
    assert limit.killed_by == ("test_ages.py::test_edge",)


def test_tests_parametrized_by_the_mutated_module(pytester: pytest.Pytester) -> None:
    # the mutant renames the tests (their parameters come from the module):
    # the renamed tests are run, and one fails
    pytester.makepyfile(
        ages="ADULT = 18\nCASES = [(ADULT, True), (ADULT - 1, False)]\n\n"
        "def is_adult(age):\n    return age >= 18\n",
        test_ages="import pytest\nfrom ages import CASES, is_adult\n\n"
        "@pytest.mark.parametrize('age,adult', CASES)\n"
        "def test_edge(age, adult):\n    assert is_adult(age) == adult\n",
    )
    report = _run(pytester)
    assert report.import_judging == IN_SESSION
    status = _status(report)
    assert status[(1, "19")] == KILLED  # test_edge[18-False] fails


def test_conftest_holding_the_module_gets_a_new_session(
    pytester: pytest.Pytester,
) -> None:
    # a conftest that imported the code under test keeps the unmutated
    # objects alive in the session: each mutant gets a new session instead
    pytester.makeconftest(
        "import pytest\nfrom ages import is_adult\n\n"
        "@pytest.fixture\ndef check():\n    return is_adult\n"
    )
    pytester.makepyfile(
        ages="LIMIT = 18\n\ndef is_adult(age, limit=LIMIT):\n    return age >= limit\n",
        test_ages="def test_edge(check):\n"
        "    assert check(18)\n    assert not check(17)\n",
    )
    report = _run(pytester)
    assert report.import_judging == NEW_SESSION
    assert _status(report)[(1, "19")] == KILLED


def test_refuses_when_tests_fail_first(project: pytest.Pytester) -> None:
    project.makepyfile(test_ages=TESTS + "\n\ndef test_broken():\n    assert 0\n")
    with pytest.raises(MutationRefused, match=r"fail before mutation: .*test_broken"):
        _run(project)


def test_results_are_cached_by_function_and_tests(project: pytest.Pytester) -> None:
    store = project.path / ".ruvqe" / "store"
    first = _run(project, store_dir=store, host=CACHING_HOST)
    assert not any(r.cached for r in first.results)
    second = _run(project, store_dir=store, host=CACHING_HOST)
    judged = [r for r in second.results if r.status in (KILLED, SURVIVED, TIMEOUT)]
    assert judged
    assert all(r.cached for r in judged)
    assert _status(second) == _status(first)
    # change one function: only its mutants, and import-time ones (keyed by the
    # whole module), are judged again
    project.makepyfile(ages=AGES.replace("age >= LIMIT", "age >= LIMIT + 0"))
    third = _run(project, store_dir=store, host=CACHING_HOST)
    fresh = {r.mutant.function for r in third.results if not r.cached and r.tests_run}
    assert fresh == {"is_adult", "<module>"}


def test_sampling(project: pytest.Pytester) -> None:
    sampled = _run(project, sample=2)
    assert sampled.sampled
    assert sampled.judged == 2
    assert sampled.count(NOT_RUN) >= 1
    low, high = sampled.interval or (None, None)
    assert low is not None and high is not None and low <= high


def test_time_budget_stops_launching_mutants(pytester: pytest.Pytester) -> None:
    # the run before mutation is quick; every later run of the test is slow
    # and times out: 30-odd mutants of at least a second each, two at a time
    checks = " and ".join(f"age != {n}" for n in range(100, 115))
    pytester.makepyfile(
        ages=f"def is_adult(age):\n    return age >= 18 and {checks}\n",
        test_ages="import pathlib, time\nfrom ages import is_adult\n\n"
        "def test_adult():\n"
        "    seen = pathlib.Path('seen')\n"
        "    if seen.exists():\n"
        "        time.sleep(3)\n"
        "    seen.touch()\n"
        "    assert is_adult(30) and not is_adult(5)\n",
    )
    stopped = _run(pytester, time_budget=8.0)
    assert stopped.stopped_by_budget
    assert stopped.count(NOT_RUN) >= 1


def test_a_budget_spent_before_mutation_refuses(project: pytest.Pytester) -> None:
    with pytest.raises(MutationRefused, match=r"ran out in the test run before"):
        _run(project, time_budget=0.0)


DEFAULTS = '''\
def greet(name, greeting="hello"):
    """Greet someone.

    >>> greet("bob")
    'hello bob'
    """
    return greeting + " " + name


class Counter:
    STEP = 2

    def bump(self, value, by=3):
        return value + by + self.STEP
'''

DEFAULTS_TESTS = """\
from ages import Counter, greet


def test_greet():
    assert greet("ann") == "hello ann"


def test_bump():
    assert Counter().bump(1) == 6
"""


@pytest.mark.parametrize("doctests", [False, True], ids=["plain", "doctest-modules"])
def test_defaults_and_class_bodies_are_judged_at_import(
    pytester: pytest.Pytester, doctests: bool
) -> None:
    # values evaluated when a def or class statement runs: a swapped code object
    # never sees them, so they are judged by importing the mutated module (also
    # when the module is named on the command line for its doctests)
    pytester.makepyfile(ages=DEFAULTS, test_ages=DEFAULTS_TESTS)
    args = ("--doctest-modules", "ages.py", "test_ages.py") if doctests else ()
    plan = MutationPlan(
        rootdir=pytester.path,
        files=("ages.py",),
        test_args=args or ("test_ages.py",),
        jobs=2,
    )
    report = run_mutation(plan)
    status = _status(report)
    assert status[(1, "'XXhelloXX'")] == KILLED
    assert status[(11, "3")] == KILLED
    assert status[(13, "4")] == KILLED
    assert not [r for r in report.survivors if r.mutant.function == "<module>"]


def test_a_sample_of_n_judges_exactly_n(project: pytest.Pytester) -> None:
    # the same file named twice (coverage.py measured it under two names)
    # must not count its mutants twice
    once = _run(project)
    plan = MutationPlan(
        rootdir=project.path,
        files=("ages.py", "./ages.py", str(project.path / "ages.py")),
        test_args=("test_ages.py",),
        jobs=2,
        sample=4,
    )
    report = run_mutation(plan)
    assert report.total_mutants == once.total_mutants
    assert report.judged == 4
    assert len({r.mutant.id for r in report.results}) == len(report.results)


def test_fresh_interpreter_mutants_name_their_killer(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a module that refuses a second import in one process: import-time
    # mutants are judged in a fresh interpreter each
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(
        ages="import builtins\n"
        "if getattr(builtins, '_ages_loaded', False):\n"
        "    raise RuntimeError('imported twice')\n"
        "builtins._ages_loaded = True\n"
        "LIMIT = 18\n\ndef is_adult(age, limit=LIMIT):\n    return age >= limit\n",
        test_ages="from ages import is_adult\n\ndef test_edge():\n"
        "    assert is_adult(18)\n    assert not is_adult(17)\n",
    )
    report = _run(pytester)
    assert any("imported twice in one process" in w for w in report.warnings)
    assert report.import_judging == FRESH_INTERPRETER
    limit = next(
        r for r in report.results if (r.mutant.line, r.mutant.shown) == (5, "19")
    )
    assert limit.status == KILLED
    assert limit.killed_by == ("test_ages.py::test_edge",)

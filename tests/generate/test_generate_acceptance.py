"""Acceptance keeps only tests proven by running: passes, reruns, asserts, gains."""

from __future__ import annotations

import ast
from collections.abc import Callable

import pytest

from pytest_ruvqe.generate.accept.static import parse_candidate
from pytest_ruvqe.generate.accept.validate import validate
from pytest_ruvqe.generate.sandbox import Covered, SandboxResult, TestRun
from pytest_ruvqe.generate.types import Candidate, Project, Reason, Target

MakeTarget = Callable[..., Target]

# code under test that reads the environment, runs a shell, hangs on purpose or
# ends the process: the allowlist does not constrain it, the sandbox does
ENV_HELPERS = """\
import os
import signal
import warnings


def hash_seed():
    return os.environ["PYTHONHASHSEED"]


def shell():
    os.system("true")


def ignore_alarms():
    signal.signal(signal.SIGALRM, signal.SIG_IGN)


def exit_now():
    os._exit(3)


def warn_old():
    warnings.warn("old", DeprecationWarning)
"""


@pytest.fixture(autouse=True)
def env_helpers(project: Project) -> None:
    (project.rootdir / "pkg" / "env.py").write_text(ENV_HELPERS, encoding="utf-8")


MIXED = """\
import pytest

from pkg.calc import parse, sign
from pkg.env import hash_seed, shell

STATE = []


def check_sign(value, expected):
    assert sign(value) == expected


def test_negative():
    assert sign(-3) == -1


def test_negative_again():
    assert sign(-7) == -1


def test_tautology():
    sign(0)
    assert True


def test_wrong():
    assert sign(0) == 1


def test_missing_module():
    import pkg.no_such_helper_mod
    assert pkg.no_such_helper_mod


def test_sets_state():
    STATE.append(1)
    assert STATE


def test_uses_state():
    assert STATE == [1]
    assert sign(0) == 0


def test_hash_seed():
    assert hash_seed() == "0"
    assert sign(0) == 0


def test_shell():
    shell()
    assert sign(1) == 1


def test_reads_the_cwd_itself():
    import os
    assert sign(len(os.getcwd())) == 1


def test_empty_raises():
    with pytest.raises(ValueError):
        parse("")


@pytest.mark.parametrize("value", [2, 9])
def test_positive(value):
    check_sign(value, 1)


def test_truncated():
    assert sign(
"""


def test_mixed_candidate_gets_one_verdict_per_test(
    project: Project, make_target: MakeTarget
) -> None:
    candidate = Candidate(make_target(), MIXED, generator="chat")
    validation = validate(candidate, project, reruns=3, timeout=20)

    reasons = {v.name: v.reason for v in validation.verdicts}
    assert reasons == {
        "test_negative": Reason.ACCEPTED,
        "test_negative_again": Reason.NO_GAIN,
        "test_tautology": Reason.NO_ASSERT,
        "test_wrong": Reason.FAILS,
        "test_missing_module": Reason.IMPORT,
        "test_sets_state": Reason.NO_GAIN,
        "test_uses_state": Reason.FLAKY,
        "test_hash_seed": Reason.FLAKY,
        "test_shell": Reason.UNSAFE,
        "test_reads_the_cwd_itself": Reason.UNSAFE,
        "test_empty_raises": Reason.ACCEPTED,
        "test_positive": Reason.ACCEPTED,
        "test_truncated": Reason.SYNTAX,
    }
    by_name = {v.name: v for v in validation.verdicts}
    # the suite never imported pkg.calc: its def lines go to the first accepted test
    assert by_name["test_negative"].new_lines == {1, 2, 3, 9, 15}
    assert by_name["test_negative"].new_branches == {(2, 3)}
    assert by_name["test_empty_raises"].new_lines == {16, 17}
    assert by_name["test_positive"].new_lines == {4, 6}
    assert "assert 0 == 1" in by_name["test_wrong"].detail
    assert "os.system" in by_name["test_shell"].detail
    # refused before it ran, with the rule it broke
    refused = by_name["test_reads_the_cwd_itself"].detail
    assert "imports os (not in the allowlist)" in refused
    assert "uses .getcwd (reads the environment)" in refused
    assert "rerun" in by_name["test_uses_state"].detail
    assert validation.error.startswith("SyntaxError")

    code = validation.accepted_code
    assert code is not None
    tree = ast.parse(code)
    tests = [
        n.name for n in tree.body if isinstance(n, ast.FunctionDef) and "test" in n.name
    ]
    assert tests == ["test_negative", "test_empty_raises", "test_positive"]
    assert "def check_sign" in code and "from pkg.calc import parse, sign" in code
    assert {"first_run", "reruns", "total"} <= set(validation.timings)


def test_gain_is_measured_against_the_suite_lines_and_branches(
    project: Project, make_target: MakeTarget
) -> None:
    # the suite runs every line of sign() but never takes the 4 -> 6 branch alone
    covered = frozenset({1, 2, 3, 4, 5, 6, 9, 15})
    target = make_target(covered, frozenset({(2, 3), (2, 4), (4, 5)}))
    code = (
        "from pkg.calc import sign\n\n\ndef test_zero():\n    assert sign(0) == 0\n"
        "\n\ndef test_big():\n    assert sign(5) == 1\n"
    )
    validation = validate(Candidate(target, code, "chat"), project, reruns=1)
    zero, big = validation.verdicts
    assert zero.reason is Reason.NO_GAIN
    assert zero.detail.endswith("still missing branches: 4->6")
    assert big.reason is Reason.ACCEPTED
    assert big.new_lines == frozenset()
    assert big.new_branches == {(4, 6)}


def test_a_test_that_reaches_nothing_new_is_kept_for_the_mutants_it_kills(
    project: Project, make_target: MakeTarget
) -> None:
    covered = frozenset({1, 2, 3, 4, 5, 6, 9, 15})
    target = make_target(covered, frozenset({(2, 3), (2, 4), (4, 5), (4, 6)}))
    code = (
        "from pkg.calc import sign\n\n\ndef test_zero():\n    assert sign(0) == 0\n"
        "\n\ndef test_five():\n    assert sign(5) == 1\n"
        "\n\ndef test_wrong():\n    assert sign(2) == 0\n"
    )
    # the search measured that test_zero kills two mutants, test_wrong one
    claims = (("test_zero", 2), ("test_wrong", 1))
    found = validate(Candidate(target, code, "characterize", kills=claims), project)
    zero, five, wrong = found.verdicts
    assert zero.reason is Reason.ACCEPTED and "kills 2 of the target's" in zero.detail
    assert not zero.new_lines and not zero.new_branches
    assert five.reason is Reason.NO_GAIN  # neither new lines nor kills
    assert wrong.reason is Reason.FAILS  # kills claimed, but it fails
    assert found.accepted_code is not None
    assert "def test_zero" in found.accepted_code
    assert "def test_five" not in found.accepted_code


def test_a_hanging_test_does_not_sink_its_neighbours(
    project: Project, make_target: MakeTarget
) -> None:
    code = (
        "from pkg.calc import sign\nfrom pkg.env import exit_now, ignore_alarms\n"
        "\n\ndef test_hang():\n"
        "    ignore_alarms()\n    while True:\n"
        "        pass\n    assert False\n\n\ndef test_exit():\n    exit_now()\n"
        "    assert False\n\n\ndef test_good():\n    assert sign(-1) == -1\n"
    )
    candidate = Candidate(make_target(), code, "chat")
    validation = validate(candidate, project, reruns=1, timeout=1.5, test_timeout=0.5)
    reasons = {v.name: v.reason for v in validation.verdicts}
    assert reasons == {
        "test_hang": Reason.TIMEOUT,
        "test_exit": Reason.UNSAFE,
        "test_good": Reason.ACCEPTED,
    }


def test_module_that_cannot_import_rejects_every_test(
    project: Project, make_target: MakeTarget
) -> None:
    code = (
        "from pkg.nowhere import sign\n\n\ndef test_a():\n    assert sign(1) == 1\n"
        "\n\ndef test_b():\n    assert sign(0) == 0\n"
    )
    validation = validate(Candidate(make_target(), code, "chat"), project)
    assert [v.reason for v in validation.verdicts] == [Reason.IMPORT, Reason.IMPORT]
    assert "pkg.nowhere" in validation.verdicts[0].detail
    assert "pkg.nowhere" in validation.error
    assert validation.accepted_code is None


def test_nothing_to_run(project: Project, make_target: MakeTarget) -> None:
    target = make_target()
    empty = validate(Candidate(target, "x = 1\n", "chat"), project)
    assert empty.verdicts == () and "no test functions" in empty.error
    garbage = validate(Candidate(target, "def test_x(:\n  ((\n", "chat"), project)
    assert [(v.name, v.reason) for v in garbage.verdicts] == [("test_x", Reason.SYNTAX)]


def test_parse_drops_only_the_broken_block_and_renames_duplicates() -> None:
    code = (
        "import x\n\n\ndef test_a():\n    assert x.f() == 1\n\n\n"
        "def test_broken():\n    assert x.f(( == 2\n\n\n"
        "def test_a():\n    assert x.f() == 3\n\n\n"
        "@decorate\ndef test_c():\n    assert x.g() == 4\n"
    )
    parsed = parse_candidate(code)
    assert [u.name for u in parsed.units] == ["test_a", "test_a_2", "test_c"]
    assert parsed.unparsable == ("test_broken",)
    assert parsed.units[2].first_line < parsed.units[2].last_line
    assert "def test_a_2():" in parsed.code and "test_broken" not in parsed.code


def test_what_counts_as_asserting() -> None:
    code = """\
import pytest


def helper(v):
    assert v > 1


def test_plain():
    assert f() == 2

def test_raises():
    with pytest.raises(KeyError):
        f()

def test_helper():
    helper(f())

def test_mock_style():
    m.assert_called_once_with(1)

def test_same_sides():
    assert f() == f()

def test_true():
    assert True

def test_isinstance_object():
    assert isinstance(f(), object)

def test_nothing():
    f()

def test_len_never_negative():
    assert len(f()) >= 0

def test_or_true():
    assert f() or True

def test_len_positive():
    assert len(f()) > 0

class TestGroup:
    def test_one(self):
        self.assertEqual(f(), 1)

class TestHalf:
    def test_one(self):
        assert f() == 1

    def test_two(self):
        f()
"""
    asserts = {u.name: u.asserts for u in parse_candidate(code).units}
    assert asserts == {
        "test_plain": True,
        "test_raises": True,
        "test_helper": True,
        "test_mock_style": True,
        "test_same_sides": False,
        "test_true": False,
        "test_isinstance_object": False,
        "test_nothing": False,
        "test_len_never_negative": False,
        "test_or_true": False,
        "test_len_positive": True,
        "TestGroup": True,
        "TestHalf": False,
    }


def test_flaky_is_found_on_one_core_too(
    project: Project, make_target: MakeTarget
) -> None:
    code = (
        "from pkg.calc import sign\nfrom pkg.env import hash_seed\n\nSEEN = []\n\n\n"
        "def test_first():\n    SEEN.append(1)\n    assert sign(-1) == -1\n\n\n"
        "def test_second():\n    assert SEEN == [1]\n    assert sign(0) == 0\n\n\n"
        "def test_seed():\n    assert hash_seed() != '2'\n"
        "    assert sign(3) == 1\n"
    )
    candidate = Candidate(make_target(), code, "chat")
    validation = validate(candidate, project, reruns=2, jobs=1)
    reasons = {v.name: v.reason for v in validation.verdicts}
    assert reasons == {
        "test_first": Reason.ACCEPTED,
        "test_second": Reason.FLAKY,
        "test_seed": Reason.FLAKY,
    }
    seed = next(v for v in validation.verdicts if v.name == "test_seed")
    assert "rerun 2 (shuffled order, PYTHONHASHSEED=2)" in seed.detail


def test_suite_fixtures_and_ini_reach_the_sandbox(
    project: Project, make_target: MakeTarget
) -> None:
    conftest = "import pytest\n\n\n@pytest.fixture\ndef number():\n    return -4\n"
    ini = "[pytest]\nfilterwarnings =\n    error\n"
    code = (
        "import pytest\n\nfrom pkg.calc import parse, sign\n"
        "from pkg.env import warn_old\n\n\n"
        "@pytest.fixture\ndef test_data():\n    return '7'\n\n\n"
        "def test_with_fixture(number):\n    assert sign(number) == -1\n\n\n"
        "def test_warns_once():\n    warn_old()\n"
        "    assert sign(0) == 0\n\n\n"
        "def test_uses_data(test_data):\n    assert parse(test_data) == 7\n"
    )
    validation = validate(
        Candidate(make_target(), code, "chat"),
        project,
        reruns=1,
        extra_files={"conftest.py": conftest},
        ini_text=ini,
    )
    reasons = {v.name: v.reason for v in validation.verdicts}
    assert reasons == {
        "test_with_fixture": Reason.ACCEPTED,
        "test_warns_once": Reason.FAILS,
        "test_uses_data": Reason.ACCEPTED,
    }
    assert validation.accepted_code is not None
    assert "def test_data():" in validation.accepted_code


def test_a_test_class_is_judged_as_one_unit(
    project: Project, make_target: MakeTarget
) -> None:
    code = (
        "import pytest\n\nfrom pkg.calc import sign\n\n\n"
        "class TestSign:\n"
        "    @pytest.mark.parametrize('v', [-2, -9])\n"
        "    def test_negative(self, v):\n        assert sign(v) == -1\n\n"
        "    def test_zero(self):\n        assert sign(0) == 0\n\n\n"
        "class TestBroken:\n"
        "    def test_ok(self):\n        assert sign(5) == 1\n\n"
        "    def test_wrong(self):\n        assert sign(5) == 0\n"
    )
    validation = validate(Candidate(make_target(), code, "chat"), project, reruns=1)
    by_name = {v.name: v for v in validation.verdicts}
    assert by_name["TestSign"].reason is Reason.ACCEPTED
    assert by_name["TestSign"].new_lines >= {2, 3, 4, 5}
    assert by_name["TestBroken"].reason is Reason.FAILS
    assert "assert 1 == 0" in by_name["TestBroken"].detail
    assert validation.accepted_code is not None
    assert "class TestBroken" not in validation.accepted_code


@pytest.mark.parametrize(
    ("tests", "lines"),
    [
        (["test_one", "test_injected"], {1, 2}),
        (["test_one"], {1, 2, 999}),
    ],
)
def test_a_result_the_candidate_could_not_have_produced_is_rejected(
    project: Project,
    make_target: MakeTarget,
    tests: list[str],
    lines: set[int],
) -> None:
    """A forged result (other tests, lines the file lacks) never accepts."""
    code = "from pkg.calc import sign\n\n\ndef test_one():\n    assert sign(1) == 1\n"

    def forged(*args: object, **kwargs: object) -> SandboxResult:
        runs = {name: TestRun(name, "passed") for name in tests}
        cover = {name: Covered(frozenset(lines)) for name in tests}
        return SandboxResult("ok", runs, cover)

    candidate = Candidate(make_target(), code, "chat")
    validation = validate(candidate, project, runner=forged)
    (verdict,) = validation.verdicts
    assert verdict.reason is Reason.UNSAFE
    assert "its result" in verdict.detail
    assert validation.accepted_code is None

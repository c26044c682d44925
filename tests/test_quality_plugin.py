"""The ``ruvqe quality`` section, the quality gate, flaky detection and mutation,
through pytest itself."""

from __future__ import annotations

import json
import os

import pytest
from report_project import PACKAGE_ROOT, PRICES
from smell_cases import CASES


@pytest.fixture
def project(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> pytest.Pytester:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("NO_COLOR", "1")
    path = os.environ.get("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONPATH", PACKAGE_ROOT + (os.pathsep + path if path else ""))
    pytester.makepyfile(prices=PRICES)
    return pytester


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "-p", "pytest_ruvqe.plugin", "--ruvqe", "--ruvqe-source=prices.py", *args
    )


def test_no_assertions_fail_the_quality_gate(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_prices="from prices import net, over_limit\n\n"
        "def test_net():\n    net(10, 0.25)\n    net(10, 0)\n\n"
        "def test_negative():\n    try:\n        net(-1, 0)\n    except ValueError:\n"
        "        pass\n\ndef test_limit():\n    over_limit(5)\n"
    )
    result = _run(project, "--ruvqe-fail-under=quality:0.7")
    result.stdout.fnmatch_lines(
        [
            "*= ruvqe quality =*",
            "quality 0.* (coverage 1.00, oracle 0.00, stability 1.00)",
            "*`test_net` has no assertion: assert on the result or the effect it tests",
            "FAIL ruvqe: quality score 0.* is below --ruvqe-fail-under=quality:0.7",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_good_suite_passes_the_gate_and_lists_gaps(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_prices="from prices import net\n\n"
        "def test_net():\n    assert net(10, 1) == 5\n"
    )
    result = _run(project, "--ruvqe-fail-under=quality:0.5")
    result.stdout.fnmatch_lines(
        [
            "quality 0.* (coverage 0.62, oracle 0.95, stability 1.00)",
            "*`net` line 3 (branch `gross < 0`) never run: "
            "add a test with a negative gross",
        ]
    )
    result.stdout.no_fnmatch_line("FAIL ruvqe*")
    assert result.ret == pytest.ExitCode.OK


def test_flaky_test_is_found_in_history(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_prices="from pathlib import Path\nfrom prices import net\n\n"
        "def test_flaky():\n"
        "    counter = Path(__file__).with_name('runs.txt')\n"
        "    runs = int(counter.read_text()) if counter.exists() else 0\n"
        "    counter.write_text(str(runs + 1))\n"
        "    assert runs % 2 == 0\n\n"
        "def test_stable():\n    assert net(10, 1) == 5\n"
    )
    for _ in range(2):
        _run(project)
    result = _run(project)
    result.stdout.fnmatch_lines(
        [
            "quality * stability 0.50)",
            "*`test_flaky` is flaky (2 flips in 3 runs, order-dependent?)*",
        ]
    )
    result.stdout.no_fnmatch_line("*test_stable` is flaky*")


def test_mutation_reports_survivors_and_refuses_on_failures(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        test_prices="from prices import net, over_limit\nimport pytest\n\n"
        "def test_net():\n    assert net(10, 1) == 5\n\n"
        "def test_negative():\n    with pytest.raises(ValueError):\n"
        "        net(-1, 0)\n\n"
        "def test_limit():\n    assert over_limit(500)\n    assert not over_limit(5)\n"
    )
    result = _run(project, "--ruvqe-mutation", "--ruvqe-jobs=2")
    result.stdout.fnmatch_lines(
        [
            "quality 0.* (coverage 1.00, mutation 0.* [[]0.*-*[]], oracle *",
            "mutation: * mutants, * killed, * survived, 0 without tests, *judged/s)",
            "*mutant `amount > limit` → `amount >= limit` at prices.py:8 survived: "
            "add a boundary test at the limit",
            "surviving mutants (first 3):",
            "  @@ prices.py:2 (boundary) @@",
            "  -     if gross < 0:",
            "  +     if gross <= 0:",
        ]
    )
    project.makepyfile(test_broken="def test_broken():\n    assert False\n")
    refused = _run(project, "--ruvqe-mutation")
    refused.stdout.fnmatch_lines(
        [
            "*RuvqeMutationWarning: mutation refused: 1 test(s) fail before mutation: "
            "test_broken.py::test_broken; fix or deselect them*"
        ]
    )


def test_mutation_works_under_the_projects_error_filter(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # plugins load from their entry points, as for a user: pytest then marks
    # this package for assertion rewriting in the mutation host, which has
    # already imported it; the project's "error" filter must not stop the host
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    project.makeini("[pytest]\nfilterwarnings =\n    error\n")
    project.makepyfile(
        test_prices="from prices import over_limit\n\n"
        "def test_limit():\n    assert over_limit(500)\n"
    )
    result = project.runpytest_subprocess(
        "--ruvqe", "--ruvqe-source=prices.py", "--ruvqe-mutation", "--ruvqe-jobs=2"
    )
    result.stdout.fnmatch_lines(
        ["mutation: 11 mutants, 1 killed, 2 survived, 8 without tests, *judged/s)"]
    )
    result.stdout.no_fnmatch_line("*mutation refused*")
    assert result.ret == pytest.ExitCode.OK


@pytest.mark.parametrize("kind", sorted(CASES))
@pytest.mark.parametrize("shows", [True, False], ids=["positive", "negative"])
def test_each_smell_through_pytest(
    project: pytest.Pytester, kind: str, shows: bool
) -> None:
    project.makepyfile(test_sample=CASES[kind][0 if shows else 1])
    _run(project, "--ruvqe-report=json:out.json")
    data = json.loads((project.path / "out.json").read_text())
    kinds = {smell["kind"] for smell in data["quality"]["smells"]}
    assert (kind in kinds) is shows


FLAKY_TESTS = (
    "from pathlib import Path\nfrom prices import net\n\n"
    "def test_flaky():\n"
    "    counter = Path(__file__).with_name('runs.txt')\n"
    "    runs = int(counter.read_text()) if counter.exists() else 0\n"
    "    counter.write_text(str(runs + 1))\n"
    "    assert runs % 2 == 0\n"
)


def test_history_can_be_forgotten(project: pytest.Pytester) -> None:
    project.makepyfile(test_prices=FLAKY_TESTS)
    for _ in range(2):
        _run(project)
    result = _run(project, "--ruvqe-forget-history")
    result.stdout.fnmatch_lines(["quality * stability 1.00)"])
    result.stdout.no_fnmatch_line("*`test_flaky` is flaky*")


def test_a_flip_with_other_options_is_not_flakiness(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_prices=FLAKY_TESTS)
    for option in ("-q", "-v", "-q"):
        result = _run(project, option)
    # three runs and two flips, but each flip came with other options
    result.stdout.no_fnmatch_line("*`test_flaky` is flaky*")


def test_an_unwritable_store_is_a_warning(project: pytest.Pytester) -> None:
    project.makepyfile(test_prices="def test_ok():\n    assert True\n")
    store = project.path / ".ruvqe" / "store"
    store.parent.mkdir()
    store.write_text("not a directory")
    result = _run(project)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        ["*RuvqeStoreWarning: no outcome history: cannot open the store at *"]
    )
    assert store.read_text() == "not a directory"  # nothing moved or replaced
    assert not list(store.parent.glob("store.corrupt-*"))


def test_run_context_keeps_what_changes_outcomes() -> None:
    from pytest_ruvqe.session.quality_step import _options

    same = _options(["-q", "--basetemp=/tmp/a", "tests", "--ruvqe-top=3"])
    assert same == _options(["-q", "--basetemp=/tmp/b", "tests/test_x.py"])
    assert _options(["-p", "xdist", "-W", "error"]) == ["-W=error", "-p=xdist"]
    assert _options(["-Werror", "-vv", "-x"]) == ["-Werror", "-vv", "-x"]
    assert _options(["-q"]) != _options(["-q", "-p", "no:randomly"])

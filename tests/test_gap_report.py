"""The coverage-gap report end to end, through pytest."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import RunPytest


def test_summary_lists_worst_functions_files_and_total(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    result = run("--ruvqe")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*= ruvqe coverage gaps =*",
            "measured: calc (inferred from the rootdir)",
            "worst 3 of 3 functions with gaps (risk = CRAP score):",
            "  1. safe_div  calc/core.py:10-13",
            "       cc 2, cov 16.6%, risk 4.3; missing lines 11-13; "
            "branches 11->12, 11->13",
            "  2. classify  calc/core.py:2-7",
            "       cc 3, cov 60.0%, risk 3.6; missing lines 4, 6; branches 3->4, 5->6",
            "  3. Stack.pop  calc/core.py:23-26",
            "file * stmts  miss branch brmiss   cover",
            "calc/__init__.py * 0     0      0      0  100.0%",
            "calc/core.py * 19     6      8      5   59.2%",
            "TOTAL 59.2% line+branch of measured code: 19 stmts, 8 branches, *",
        ]
    )


def test_top_bounds_the_list(calc_project: pytest.Pytester, run: RunPytest) -> None:
    result = run("--ruvqe", "--ruvqe-top=1")
    result.stdout.fnmatch_lines(["worst 1 of 3 functions with gaps*", "  1. safe_div*"])
    result.stdout.no_fnmatch_line("  2. classify*")


def test_plugin_off_changes_nothing(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    result = run()
    result.assert_outcomes(passed=2)
    result.stdout.no_fnmatch_line("*ruvqe*")
    assert not calc_project.path.joinpath(".ruvqe").exists()


def test_json_report_schema(calc_project: pytest.Pytester, run: RunPytest) -> None:
    result = run("--ruvqe", "--ruvqe-report=term,json:out/r.json")
    result.stdout.fnmatch_lines(["ruvqe: wrote json report: *out/r.json"])
    data = json.loads(calc_project.path.joinpath("out/r.json").read_text())
    assert data["schema"] == "pytest-ruvqe/report"
    assert data["schema_version"] == 2
    assert data["measured"] == {"sources": ["calc"], "how": "inferred from the rootdir"}
    assert data["tests_run"] == 2
    assert data["totals"]["statements"] == 19 and data["totals"]["missing"] == 11
    functions = {f["qualname"]: f for f in data["functions"]}
    assert functions["classify"]["missing_lines"] == [4, 6]
    assert functions["classify"]["missing_branches"] == [[3, 4], [5, 6]]
    assert functions["classify"]["complexity"] == 3
    assert functions["safe_div"]["rank"] == 1
    assert functions["Stack.push"]["coverage"] == 1.0  # covered ones are listed too
    assert data["files"][1]["file"] == "calc/core.py"
    last = json.loads(calc_project.path.joinpath(".ruvqe/last-run.json").read_text())
    assert last["totals"] == data["totals"]
    assert calc_project.path.joinpath(".ruvqe/.gitignore").read_text().endswith("*\n")


def test_markdown_report_for_ci_summary(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    result = run("--ruvqe", "--ruvqe-report=md:summary.md")
    result.stdout.no_fnmatch_line("*= ruvqe coverage gaps =*")  # term not asked for
    text = calc_project.path.joinpath("summary.md").read_text()
    assert text.startswith("## ruvqe coverage gaps\n")
    assert "| 2 | `calc/core.py::classify` | 2-7 | 3 | 60.0% | 3.6 | 4, 6 |" in text
    assert "| **total** | 19 | 6 | 8 | 5 | **59.2%** |" in text


def test_fail_under_fails_the_run_with_a_reason(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    result = run("--ruvqe", "--ruvqe-fail-under=90")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["FAIL ruvqe: total line+branch coverage 59.25% is below --ruvqe-fail-under=90"]
    )
    assert run("--ruvqe", "--ruvqe-fail-under=59").ret == pytest.ExitCode.OK


def test_fail_under_from_ini(calc_project: pytest.Pytester, run: RunPytest) -> None:
    calc_project.makeini("[pytest]\npythonpath = .\nruvqe_fail_under = 95\n")
    assert run("--ruvqe").ret == pytest.ExitCode.TESTS_FAILED


def test_explicit_source(calc_project: pytest.Pytester, run: RunPytest) -> None:
    calc_project.path.joinpath("other.py").write_text("def f():\n    return 1\n")
    result = run("--ruvqe", "--ruvqe-source=other.py", "--ruvqe-source=calc")
    result.stdout.fnmatch_lines(["measured: other.py, calc (--ruvqe-source)"])
    result.stdout.fnmatch_lines(["  4. f  other.py:1-2", "other.py * 2     2 *  0.0%"])


def test_unparseable_and_non_utf8_sources_are_skipped_with_a_warning(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    calc_project.path.joinpath("calc", "broken.py").write_text("def broken(:\n")
    calc_project.path.joinpath("calc", "latin.py").write_bytes(b"x = '\xe9'\n")
    result = run("--ruvqe", "--ruvqe-report=term,json:r.json")
    result.assert_outcomes(passed=2, warnings=2)
    result.stdout.fnmatch_lines(
        [
            "*RuvqeSourceWarning: skipped calc/broken.py: does not parse*",
            "*RuvqeSourceWarning: skipped calc/latin.py: is not UTF-8",
        ]
    )
    data = json.loads(calc_project.path.joinpath("r.json").read_text())
    assert data["warnings"] == [
        "RuvqeSourceWarning: skipped calc/broken.py: does not parse: "
        "invalid syntax (broken.py, line 1)",
        "RuvqeSourceWarning: skipped calc/latin.py: is not UTF-8",
    ]


def test_warnings_follow_the_users_filters(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    calc_project.path.joinpath("calc", "latin.py").write_bytes(b"x = '\xe9'\n")
    ignored = run("--ruvqe", "-W", "ignore::pytest_ruvqe.RuvqeSourceWarning")
    ignored.assert_outcomes(passed=2)
    assert "RuvqeSourceWarning" not in ignored.stdout.str()
    assert ignored.ret == pytest.ExitCode.OK
    escalated = run("--ruvqe", "-W", "error::pytest_ruvqe.RuvqeWarning")
    escalated.stdout.fnmatch_lines(
        ["ERROR ruvqe: RuvqeSourceWarning: skipped calc/latin.py: is not UTF-8"]
    )
    assert escalated.ret == pytest.ExitCode.TESTS_FAILED
    assert "Traceback" not in escalated.stdout.str() + escalated.stderr.str()


def test_no_tests_keeps_pytest_exit_code(
    pytester: pytest.Pytester, run: RunPytest
) -> None:
    pytester.mkpydir("pkg")
    pytester.path.joinpath("pkg", "m.py").write_text("def f():\n    return 1\n")
    result = run("--ruvqe", "--ruvqe-fail-under=100")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(["no tests ran: coverage below is from imports alone"])


def test_no_measured_code_is_said_plainly(
    pytester: pytest.Pytester, run: RunPytest
) -> None:
    pytester.makepyfile(test_x="def test_x():\n    assert 1 + 1 == 2\n")
    result = run("--ruvqe")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["measured: nothing (no source found)", "no code measured: nothing to report"]
    )


def test_conftest_imports_are_measured(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    calc_project.path.joinpath("calc", "early.py").write_text(
        "def used_at_import():\n    return 1\n\nVALUE = used_at_import()\n"
    )
    calc_project.makeconftest("import calc.early\n")
    result = run("--ruvqe")
    result.stdout.fnmatch_lines(["calc/early.py * 3     0      0      0  100.0%"])


def test_xdist_gives_the_same_report(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    run("--ruvqe", "--ruvqe-report=json:serial.json")
    parallel = run(
        "--ruvqe",
        "-n",
        "2",
        "--ruvqe-report=term,json:par.json",
        plugins=("xdist.plugin",),
    )
    parallel.assert_outcomes(passed=2)
    load = lambda name: json.loads(calc_project.path.joinpath(name).read_text())  # noqa: E731
    a, b = load("serial.json"), load("par.json")
    assert a["functions"] == b["functions"] and a["totals"] == b["totals"]
    assert parallel.stdout.str().count("ruvqe coverage gaps") == 1


def test_coexists_with_pytest_cov(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    result = run(
        "--ruvqe",
        "--cov=calc",
        "--cov-branch",
        "--cov-report=term",
        plugins=("pytest_cov.plugin",),
    )
    result.assert_outcomes(passed=2)
    # pytest-cov's own report is intact
    result.stdout.fnmatch_lines(
        ["*coverage: platform*", "calc/core.py * 19 * 6 * 8 *59%"]
    )
    result.stdout.fnmatch_lines(
        [
            "*= ruvqe coverage gaps =*",
            "measured: calc (measured by pytest-cov)",
            "TOTAL 59.2% line+branch*",
        ]
    )


def test_plugin_off_imports_no_heavy_library(calc_project: pytest.Pytester) -> None:
    code = textwrap.dedent(
        """
        import sys, pytest
        pytest.main(["-q", "-p", "pytest_ruvqe.plugin", "--co"])
        pytest.main(["--version"])
        heavy = {"litellm", "llama_cpp", "torch", "hnswlib", "coverage"}
        heavy |= {"detect_secrets", "stdnum", "phonenumbers"}
        print("HEAVY:", sorted(heavy & set(sys.modules)))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=calc_project.path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "HEAVY: []" in proc.stdout, proc.stdout + proc.stderr

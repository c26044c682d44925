"""Bad input becomes a usage error that names the option and what is allowed."""

from __future__ import annotations

import pytest

from pytest_ruvqe.settings import FailUnder, parse_fail_under, parse_reports
from tests.conftest import RunPytest


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--ruvqe-report=pdf:x"],
            "*--ruvqe-report: invalid value 'pdf:x'; use term, json:PATH, md:PATH, "
            "html:DIR, xml:PATH, lcov:PATH or stryker:PATH*",
        ),
        (["--ruvqe-report=json"], "*--ruvqe-report: *json needs a path (json:PATH)*"),
        (["--ruvqe-fail-under=abc"], "*--ruvqe-fail-under: invalid value 'abc'; use *"),
        (["--ruvqe-fail-under=120"], "*--ruvqe-fail-under: invalid value '120'*"),
        (["--ruvqe-fail-under=quality:2"], "*--ruvqe-fail-under: invalid value*"),
        (
            ["--ruvqe-source=nowhere"],
            "*--ruvqe-source: invalid value 'nowhere'; give *",
        ),
        (["--ruvqe-diff=no-such-ref"], "*--ruvqe-diff: invalid value 'no-such-ref'*"),
        (["--ruvqe-top=0"], "*--ruvqe-top: invalid value '0'; use an integer >= 1*"),
        (["--ruvqe-strategy=cheap"], "*--ruvqe-strategy: invalid value 'cheap'; use *"),
        (["--ruvqe-time-budget=nan"], "*--ruvqe-time-budget: invalid value 'nan'*"),
        (["--ruvqe-time-budget=inf"], "*--ruvqe-time-budget: invalid value 'inf'*"),
        (["--ruvqe-max-cost=1e309"], "*--ruvqe-max-cost: invalid value '1e309'*"),
        (["--ruvqe-max-tokens=1e3"], "*--ruvqe-max-tokens: invalid value '1e3'*"),
        (["--ruvqe-source="], "*--ruvqe-source: invalid value ''; give *"),
        (["--ruvqe-source=/usr"], "*--ruvqe-source: invalid value '/usr'; *inside*"),
        (["--ruvqe-report=term,,term"], "*--ruvqe-report: *an empty item*"),
        (["--ruvqe-report=term,term"], "*--ruvqe-report: *name each output once*"),
        (
            ["--ruvqe-report=json:/proc/version"],
            "*--ruvqe-report: invalid value '/proc/version'; give a path where*",
        ),
        (
            ["--ruvqe-report=html:/proc/version"],
            "*--ruvqe-report: invalid value '/proc/version'; html needs a directory*",
        ),
        (
            ["--ruvqe-report=html:/proc/ruvqe-report"],
            "*--ruvqe-report: invalid value '/proc/ruvqe-report'; give a directory*",
        ),
        (
            ["--ruvqe-report=html:calc/report"],
            "*--ruvqe-report: invalid value 'html:calc/report'; it is inside the "
            "measured source */calc; write reports outside it*",
        ),
        (
            ["--ruvqe-report=xml:calc/coverage.xml"],
            "*--ruvqe-report: invalid value 'xml:calc/coverage.xml'; it is inside*",
        ),
        (
            ["--ruvqe-report=stryker:mutation.json"],
            "*--ruvqe-report: invalid value 'stryker:mutation.json'; the stryker "
            "report holds mutation results: add --ruvqe-mutation*",
        ),
    ],
)
def test_bad_values_are_usage_errors(
    calc_project: pytest.Pytester, run: RunPytest, args: list[str], message: str
) -> None:
    result = run("--ruvqe", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert "Traceback" not in result.stderr.str()


def test_bad_ini_value_is_a_usage_error(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    calc_project.makeini("[pytest]\nruvqe_top = many\n")
    result = run("--ruvqe")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ruvqe-top: invalid value 'many'*"])


def test_flag_overrides_ini(calc_project: pytest.Pytester, run: RunPytest) -> None:
    calc_project.makeini("[pytest]\npythonpath = .\nruvqe_top = 1\n")
    result = run("--ruvqe", "--ruvqe-top=2")
    result.stdout.fnmatch_lines(["worst 2 of 3 functions with gaps*"])


def test_missing_local_model_is_a_usage_error(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    result = run("--ruvqe-generate", "--ruvqe-local-model=models/none.gguf")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--ruvqe-local-model: invalid value 'models/none.gguf'; no such file*"]
    )


def test_generate_value_that_looks_like_a_path(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    result = run("--ruvqe-generate", "tests")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ruvqe-generate: invalid value 'tests'*"])


def test_parsers() -> None:
    reports = parse_reports("term, json:a.json,md:b.md")
    assert [(r.format, str(r.path)) for r in reports] == [
        ("term", "None"),
        ("json", "a.json"),
        ("md", "b.md"),
    ]
    assert parse_fail_under("80") == FailUnder(80.0, None)
    assert parse_fail_under("quality:0.7") == FailUnder(None, 0.7)
    assert parse_fail_under("85.5%,quality:0.6") == FailUnder(85.5, 0.6)


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("../elsewhere", "*a directory inside the rootdir*"),
        (".git/tests", "*.git/ is not for tests*"),
        (".ruvqe/tests", "*.ruvqe/ is not for tests*"),
        ("calc/generated", "*inside the measured source *calc; use tests/*"),
        ("tests/test_calc.py", "*it is a file; give a directory*"),
    ],
)
def test_generated_dir_is_checked_before_the_run(
    calc_project: pytest.Pytester, run: RunPytest, where: str, message: str
) -> None:
    calc_project.mkdir(".git")
    result = run(
        "--ruvqe-generate", "--ruvqe-source=calc", f"--ruvqe-generated-dir={where}"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--ruvqe-generated-dir: invalid value*{message}"])
    assert "collected" not in result.stdout.str()  # stopped before the run


def test_ini_key_enables_the_report(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    calc_project.makeini("[pytest]\npythonpath = .\nruvqe = true\n")
    result = run()
    result.stdout.fnmatch_lines(["*ruvqe coverage gaps*", "TOTAL *line+branch*"])
    assert "PytestConfigWarning" not in result.stdout.str()


def test_gate_without_the_report_says_it_is_ignored(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    result = run("--ruvqe-fail-under=99")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*RuvqeWarning: --ruvqe-fail-under is ignored*"])
    assert "ruvqe coverage gaps" not in result.stdout.str()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("nowhere.py", "*--ruvqe-target: invalid value 'nowhere.py'; give a file*"),
        ("../x", "*--ruvqe-target: invalid value '../x'*"),
        ("calc/core.py::not-a-name", "*--ruvqe-target: *QUALNAME is a dotted name*"),
    ],
)
def test_bad_targets_are_usage_errors(
    calc_project: pytest.Pytester, run: RunPytest, value: str, message: str
) -> None:
    result = run("--ruvqe-generate", f"--ruvqe-target={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])

"""Bad input becomes a usage error that names the option and what is allowed."""

from __future__ import annotations

import pytest

from pytest_ruvqe.settings import FailUnder, parse_fail_under, parse_reports
from tests.conftest import RunPytest


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--ruvqe-report=html:x"],
            "*--ruvqe-report: invalid value 'html:x'; use term, json:PATH or md:PATH*",
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

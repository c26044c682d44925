"""Learning across runs: the second generation recalls what the first accepted."""

from __future__ import annotations

import importlib.util
import shutil

import pytest

from pytest_ruvqe.settings import Settings, load_settings
from tests.conftest import RunPytest


def test_a_second_run_recalls_the_patterns_of_the_first(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    args = ("--ruvqe-generate", "--ruvqe-generators=characterize", "--ruvqe-learn")
    first = run(*args)
    first.stdout.fnmatch_lines(
        ["note: learning: 0 patterns recalled, 0 used, * added*"]
    )
    added = int(first.stdout.str().split(" used, ")[1].split(" added")[0])
    assert added >= 3  # one pattern per target with accepted tests
    assert (calc_project.path / ".ruvqe" / "bank").is_dir()

    # the generated tests are gone: the gaps are back, the bank remembers
    shutil.rmtree(calc_project.path / "tests" / "ruvqe_generated")
    second = run(*args)
    line = next(x for x in second.stdout.lines if x.startswith("note: learning:"))
    recalled = int(line.split("learning: ")[1].split(" patterns")[0])
    used = int(line.split("recalled, ")[1].split(" used")[0])
    assert recalled >= 3 and used >= 3
    assert f"0 added; {added} of {added} replayed tests kept" in line
    second.stdout.fnmatch_lines(["suite line+branch coverage 59.2% -> 100.0%"])
    # what came back needed no search: every target is done at round 0
    assert second.stdout.str().count("0 rounds (nothing missing)") == 3


def test_no_learning_leaves_no_bank(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    result = run(
        "--ruvqe-generate", "--ruvqe-generators=characterize", "--no-ruvqe-learn"
    )
    assert "learning:" not in result.stdout.str()
    assert not (calc_project.path / ".ruvqe" / "bank").exists()


def settings_of(pytester: pytest.Pytester, *args: str) -> Settings:
    config = pytester.parseconfig("-p", "pytest_ruvqe.plugin", *args)
    return load_settings(config, config.option)


def test_learn_flags_ini_and_the_bank_directory(calc_project: pytest.Pytester) -> None:
    assert settings_of(calc_project, "--ruvqe-learn").learn is True
    assert settings_of(calc_project, "--no-ruvqe-learn").learn is False
    default = settings_of(calc_project)
    assert default.learn is (importlib.util.find_spec("torch") is not None)
    assert default.bank_dir is None
    calc_project.makeini("[pytest]\nruvqe_learn = false\n")
    assert settings_of(calc_project).learn is False
    assert settings_of(calc_project, "--ruvqe-learn").learn is True  # flag wins
    shared = settings_of(calc_project, "--ruvqe-bank=../shared-bank")
    assert shared.bank_dir == (calc_project.path.parent / "shared-bank").resolve()


def test_a_bank_that_is_a_file_is_a_usage_error(calc_project: pytest.Pytester) -> None:
    calc_project.path.joinpath("bank.txt").write_text("not a directory")
    with pytest.raises(pytest.UsageError, match="--ruvqe-bank: invalid value"):
        settings_of(calc_project, "--ruvqe-bank=bank.txt")


def test_a_bad_learn_ini_value_is_a_usage_error(calc_project: pytest.Pytester) -> None:
    calc_project.makeini("[pytest]\nruvqe_learn = sometimes\n")
    with pytest.raises(pytest.UsageError, match="ruvqe_learn: invalid value"):
        settings_of(calc_project)


def test_tune_asks_for_seconds_and_only_trains_after_generating(
    calc_project: pytest.Pytester,
) -> None:
    generate = "--ruvqe-generate"
    assert settings_of(calc_project, generate).tune_seconds is None
    assert settings_of(calc_project, generate, "--ruvqe-tune").tune_seconds == 900.0
    assert settings_of(calc_project, generate, "--ruvqe-tune=60").tune_seconds == 60.0
    for bad in ("--ruvqe-tune=soon", "--ruvqe-tune=0.5"):
        with pytest.raises(pytest.UsageError, match="give seconds"):
            settings_of(calc_project, generate, bad)
    with pytest.raises(pytest.UsageError, match="add --ruvqe-generate"):
        settings_of(calc_project, "--ruvqe", "--ruvqe-tune")
    calc_project.makeini("[pytest]\nruvqe_tune = 120\n")
    assert settings_of(calc_project, generate).tune_seconds == 120.0
    assert settings_of(calc_project, "--ruvqe").tune_seconds is None  # not an error
    calc_project.makeini("[pytest]\nruvqe_tune = false\n")
    assert settings_of(calc_project, generate).tune_seconds is None

"""``pytest --ruvqe-generate`` end to end with the deterministic no-model path."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import subprocess
import warnings
from pathlib import Path

import pytest

from tests.conftest import RunPytest

GENERATED = "tests/ruvqe_generated/test_calc_core_ruvqe.py"


def test_generate_writes_proven_tests_once(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    source = calc_project.path.joinpath("calc", "core.py").read_text()
    result = run(
        "--ruvqe-generate",
        "--ruvqe-generators=characterize",
        "--ruvqe-report=term,json:r.json",
    )
    result.assert_outcomes(passed=2)  # the user's run is untouched
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "*= ruvqe generated tests =*",
            "safe_div  calc/core.py  16.6% -> 100.0%  +3 lines +2 branches",
            "*accepted *; rejected: *characterize*",
            "accepted * tests; rejected *",
            f"wrote */{GENERATED}",
            "suite line+branch coverage 59.2% -> 100.0%",
            "0 tokens, $0.0000, model: none, * s",
        ]
    )
    generated = calc_project.path / GENERATED
    text = generated.read_text()
    assert "# ruvqe: target calc.core:safe_div | generator characterize" in text
    assert "pytest.raises(ZeroDivisionError)" in text
    assert calc_project.path.joinpath("calc", "core.py").read_text() == source
    data = json.loads(calc_project.path.joinpath("r.json").read_text())["generation"]
    assert data["suite_after"] == 1.0 and data["tokens"] == 0
    assert data["trajectory"] and data["trajectory"][0]["arm"] == "characterize"
    assert {t["qualname"] for t in data["targets"]} == {
        "safe_div",
        "classify",
        "Stack.pop",
    }

    # the written tests pass in the user's own run and cover everything
    after = run("--ruvqe")
    after.assert_outcomes(passed=2 + data["reasons"]["accepted"])
    after.stdout.fnmatch_lines(["no gaps*", "*", "*", "*", "TOTAL 100.0% line+branch*"])

    # nothing is missing any more: a second generation writes nothing new
    again = run("--ruvqe-generate", "--ruvqe-generators=characterize")
    again.stdout.fnmatch_lines(["nothing to generate: no function has a gap"])
    assert generated.read_text() == text


def test_patch_mode_writes_a_patch_not_tests(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    subprocess.run(["git", "init", "-q"], cwd=calc_project.path, check=True)
    result = run("--ruvqe-generate=patch", "--ruvqe-generators=characterize")
    result.stdout.fnmatch_lines(
        [
            "wrote a patch with * tests: *.ruvqe/generated.patch",
            "apply it with: git apply *.ruvqe/generated.patch",
        ]
    )
    assert not calc_project.path.joinpath(GENERATED).exists()
    patch = calc_project.path / ".ruvqe" / "generated.patch"
    subprocess.run(["git", "apply", str(patch)], cwd=calc_project.path, check=True)
    assert "def test_safe_div" in calc_project.path.joinpath(GENERATED).read_text()


def test_target_budget_stops_cleanly(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    result = run(
        "--ruvqe-generate", "--ruvqe-generators=characterize", "--ruvqe-max-targets=1"
    )
    result.stdout.fnmatch_lines(
        ["safe_div  calc/core.py  *", "stopped by the target budget of 1"]
    )
    result.stdout.no_fnmatch_line("classify  calc/core.py*")


def test_target_option_limits_generation_to_one_function(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    result = run(
        "--ruvqe-generate",
        "--ruvqe-generators=characterize",
        "--ruvqe-target=calc/core.py::classify",
    )
    result.stdout.fnmatch_lines(["classify  calc/core.py  *"])
    result.stdout.no_fnmatch_line("safe_div  calc/core.py*")
    written = calc_project.path.joinpath(GENERATED).read_text()
    assert "def test_classify" in written and "safe_div" not in written


@pytest.mark.model
def test_embedded_model_end_to_end(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    """The real embedded Gemma through the whole pipeline (acceptance may be 0)."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("needs the local extra (llama-cpp-python)")
    result = run(
        "--ruvqe-generate",
        "--ruvqe-generators=scaffold",
        "--ruvqe-privacy-local",
        "--ruvqe-max-targets=1",
        "--ruvqe-max-rounds=1",
        "--ruvqe-report=term,json:r.json",
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "safe_div  calc/core.py  16.6% -> *",
            "*round*scaffold*tokens",
            "accepted * tests; rejected *",
            "* tokens, $0.0000, model: local, * s",
        ]
    )
    data = json.loads(calc_project.path.joinpath("r.json").read_text())["generation"]
    assert data["model_location"] == "local"
    assert data["tokens"] > 0 and data["cost_usd"] == 0.0
    step = data["trajectory"][0]
    assert step["arm"].startswith("scaffold/") and step["tokens"] > 0
    judged = sum(data["reasons"].values())
    assert judged >= 1  # every sample got a verdict, accepted or a reason
    assert set(data["reasons"]) <= {
        "accepted",
        "syntax",
        "import",
        "fails",
        "flaky",
        "no gain",
        "no assert",
        "timeout",
        "unsafe",
    }


def test_a_file_that_is_not_a_model_is_the_model_error(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("needs the local extra (llama-cpp-python)")
    not_a_model = calc_project.path / "model.gguf"
    not_a_model.write_text("root:x:0:0:root:/root:/bin/bash\n")
    result = run(
        "--ruvqe-generate",
        "--ruvqe-generators=chat",
        f"--ruvqe-local-model={not_a_model}",
    )
    assert result.ret == pytest.ExitCode.OK  # the user's tests passed
    out = result.stdout.str()
    assert "IndexError" not in out and "INTERNALERROR" not in out
    result.stdout.fnmatch_lines(["*RuvqeGenerationWarning: no model: *model.gguf*"])


@pytest.fixture
def without_bubblewrap(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runs below find no ``bwrap`` on PATH (as on macOS)."""
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("emptybin")))
    monkeypatch.delenv("RUVQE_REQUIRE_ISOLATION", raising=False)


def test_a_run_without_isolation_says_so_once(
    calc_project: pytest.Pytester, run: RunPytest, without_bubblewrap: None
) -> None:
    result = run("--ruvqe-generate", "--ruvqe-generators=characterize")
    assert result.ret == pytest.ExitCode.OK
    text = result.stdout.str()
    assert text.count("untrusted code is not isolated: bwrap is not installed") == 1
    assert (calc_project.path / GENERATED).exists()  # the search still ran


def test_isolation_required_but_missing_stops_before_the_run(
    calc_project: pytest.Pytester,
    run: RunPytest,
    without_bubblewrap: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RUVQE_REQUIRE_ISOLATION", "1")
    result = run("--ruvqe-generate", "--ruvqe-generators=characterize")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*RUVQE_REQUIRE_ISOLATION*apt-get install bubbl*"])
    assert not (calc_project.path / GENERATED).exists()


@pytest.mark.parametrize(
    ("changes", "isolated", "allowed"),
    [
        ({"cloud_model": "openai/x"}, "none", False),
        ({"cloud_model": "openai/x", "allow_unisolated": True}, "none", True),
        ({"api_base": "http://127.0.0.1:9/v1"}, "none", False),
        ({"cloud_model": "openai/x"}, "bubblewrap", True),
        ({"cloud_model": "openai/x", "privacy_local": True}, "none", True),
        ({}, "none", True),
    ],
)
def test_cloud_models_need_isolation_or_consent(
    changes: dict[str, object],
    isolated: str,
    allowed: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pytest_ruvqe.session import generation_step
    from pytest_ruvqe.settings import Settings

    monkeypatch.setattr(generation_step.isolation, "isolation", lambda: isolated)
    monkeypatch.setattr(generation_step.isolation, "why_not", lambda: "no bwrap")
    settings = dataclasses.replace(Settings(rootdir=tmp_path), **changes)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert generation_step._cloud_allowed(settings) is allowed
    refused = [w for w in seen if "cloud model refused" in str(w.message)]
    assert len(refused) == (0 if allowed else 1)
    if refused:
        assert "--ruvqe-allow-unisolated" in str(refused[0].message)

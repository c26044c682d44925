"""The ``ruvqe`` command over what a real ``pytest --ruvqe`` run left."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_ruvqe.cli import build_parser, main
from pytest_ruvqe.cli.mutants import patched
from pytest_ruvqe.memory.store import open_store
from tests.conftest import RunPytest


def _ruvqe(
    root: Path, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    code = main(["--rootdir", str(root), *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def measured(calc_project: pytest.Pytester, run: RunPytest) -> pytest.Pytester:
    """The calc project after ``pytest --ruvqe --ruvqe-mutation``."""
    result = run("--ruvqe", "--ruvqe-mutation", "--ruvqe-jobs=1")
    assert result.ret == 0, result.stdout.str()
    return calc_project


def test_report_renders_the_last_run_again(
    measured: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _ruvqe(measured.path, capsys, "report")
    assert code == 0
    assert "ruvqe coverage gaps" in out
    assert "safe_div" in out and "calc/core.py" in out
    assert "TOTAL 59.2% line+branch" in out
    assert "mutation score" in out and "quality 0." in out and "coverage 0." in out
    code, md, _ = _ruvqe(measured.path, capsys, "report", "--format", "md")
    assert md.startswith("## ruvqe coverage gaps")
    assert "`calc/core.py::safe_div`" in md and "- quality 0." in md
    code, text, _ = _ruvqe(measured.path, capsys, "report", "--format", "json")
    last = measured.path / ".ruvqe" / "last-run.json"
    assert json.loads(text) == json.loads(last.read_text())


def test_mutants_list_show_and_apply(
    measured: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads((measured.path / ".ruvqe" / "last-run.json").read_text())
    mutants = data["mutation"]["mutants"]
    survivor = next(m for m in mutants if m["status"] == "survived")
    code, out, _ = _ruvqe(measured.path, capsys, "mutants", "--survived")
    assert code == 0
    assert len(out.splitlines()) == data["mutation"]["survived"]
    assert all(" survived " in line for line in out.splitlines())
    code, out, _ = _ruvqe(measured.path, capsys, "mutants", "show", survivor["id"])
    assert survivor["diff"].strip() in out
    tests = data["mutation"]["tests"]
    reached = [tests[i] for i in survivor["covered_by"]]
    assert reached and f"reached by {len(reached)} test" in out
    assert all(f"  {t}\n" in out + "\n" for t in reached)
    killed = next(m for m in mutants if m["status"] == "killed" and m["killed_by"])
    code, out, _ = _ruvqe(measured.path, capsys, "mutants", "show", killed["id"])
    assert f"  {tests[killed['killed_by'][0]]}  (killed it)" in out

    source = measured.path / survivor["file"]
    before = source.read_text()
    code, out, _ = _ruvqe(measured.path, capsys, "mutants", "apply", survivor["id"])
    assert code == 0 and "applied mutant" in out
    after = source.read_text()
    changed = [
        (a, b)
        for a, b in zip(before.splitlines(), after.splitlines(), strict=True)
        if a != b
    ]
    assert changed and all(f"+ {b}" in survivor["diff"] for _, b in changed)
    # applied once, the file no longer holds the original lines
    code, _, err = _ruvqe(measured.path, capsys, "mutants", "apply", survivor["id"])
    assert code == 2 and "changed since the mutation run" in err
    assert source.read_text() == after


def test_patched_applies_only_where_the_lines_still_are() -> None:
    diff = "@@ m.py:2 (compare) @@\n- if a < b:\n+ if a <= b:"
    text = "def f(a, b):\nif a < b:\n    pass\n"
    assert patched(text, diff, 2) == "def f(a, b):\nif a <= b:\n    pass\n"
    assert patched(text, diff, 1) is None
    assert patched("x = 1\n", diff, 2) is None


def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    code = main(["report"])  # /tmp/... has no project marker above it
    _, err = capsys.readouterr()
    assert code == 2 and "no project here" in err
    (tmp_path / "pyproject.toml").write_text("")
    code, _, err = _ruvqe(tmp_path, capsys, "report")
    assert code == 2 and "run `pytest --ruvqe` first" in err
    store = tmp_path / ".ruvqe"
    store.mkdir()
    (store / "last-run.json").write_text(
        json.dumps({"schema": "pytest-ruvqe/report", "schema_version": 1})
    )
    code, _, err = _ruvqe(tmp_path, capsys, "report")
    assert code == 2 and "schema version 1" in err
    code, _, err = _ruvqe(tmp_path, capsys, "mutants")
    assert code == 2 and "schema version 1" in err
    assert len(err.strip().splitlines()) == 1


def test_store_verify_gc_and_clear(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    code, out, _ = _ruvqe(tmp_path, capsys, "store", "verify")
    assert code == 0 and "nothing to check" in out
    directory = tmp_path / ".ruvqe" / "store"
    with open_store(directory) as store:
        store.put("history", "a", {"runs": 3})
        store.put("history", "b", {"runs": 1})
        store._set_raw("mutation\x1fx", b"\xc1garbage")
    code, out, _ = _ruvqe(tmp_path, capsys, "store", "verify")
    assert code == 1
    assert "history: 2 entries" in out and "bad entry mutation/x" in out
    code, out, _ = _ruvqe(tmp_path, capsys, "store", "gc")
    assert code == 0 and "removed 1" in out
    code, out, _ = _ruvqe(tmp_path, capsys, "store", "verify")
    assert code == 0 and "store ok" in out
    with open_store(directory) as store:
        assert store.get("history", "a") == {"runs": 3}  # the good ones stay
    code, _, err = _ruvqe(tmp_path, capsys, "store", "clear")
    assert code == 2 and "--yes" in err and directory.exists()
    code, _, _ = _ruvqe(tmp_path, capsys, "store", "clear", "--yes")
    assert code == 0 and not directory.exists()


def test_store_that_is_not_a_database_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    directory = tmp_path / ".ruvqe" / "store"
    directory.mkdir(parents=True)
    (directory / "cache.db").write_bytes(b"this is not sqlite" * 100)
    code, out, _ = _ruvqe(tmp_path, capsys, "store", "verify")
    assert code == 1 and "not a readable database" in out
    assert (directory / "cache.db").read_bytes().startswith(b"this is not")


def test_doctor_names_keys_but_never_their_values(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACME_API_KEY", "sk-very-secret-value-123")
    monkeypatch.setenv("RUVQE_LOCAL_MODEL", str(tmp_path / "missing.gguf"))
    code, out, _ = _ruvqe(tmp_path, capsys, "doctor")
    assert "ACME_API_KEY" in out and "sk-very-secret" not in out
    assert out.splitlines()[0].startswith("coverage.py")
    # a configured model that does not exist is a problem the doctor reports
    assert code == 1 and "missing.gguf" in out and "does not exist" in out


@pytest.mark.parametrize(
    "argv",
    [[], ["report"], ["mutants"], ["mutants", "show"], ["store"], ["store", "gc"]],
)
def test_every_level_has_help(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args([*argv, "--help"])
    assert stop.value.code == 0


def _workflow_commands(tool: str) -> list[list[str]]:
    import shlex

    import yaml

    path = Path(__file__).parents[1] / "examples" / "github-actions.yml"
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    commands = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            words = shlex.split(step.get("run", ""))
            if words[:1] == [tool]:
                commands.append(words[1:])
    return commands


def test_the_ci_recipe_runs_real_options(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    """Every pytest line of the example workflow parses and validates here."""
    commands = _workflow_commands("pytest")
    assert len(commands) == 2
    for words in commands:
        args = [w.replace("$GITHUB_STEP_SUMMARY", "summary.md") for w in words]
        result = run(*args, "--collect-only", "-q")
        assert result.ret == 0, (args, result.stderr.str())


def _bank_with(directory: Path, count: int) -> None:
    from pytest_ruvqe.memory.bank import BANK_STORE, INDEX_FILE, ReasoningBank
    from pytest_ruvqe.memory.patterns import Pattern
    from pytest_ruvqe.memory.store import DiskStore

    with DiskStore(directory / BANK_STORE) as store:
        bank = ReasoningBank(store, index_path=directory / INDEX_FILE)
        for i in range(count):
            code = f"def f{i}(x):\n    return x + {i}\n"
            bank.add(
                Pattern(
                    kind="test",
                    signature=f"m:f{i}(x)",
                    payload=f"def test_f{i}():\n    assert f{i}(1) == {i + 1}\n",
                    embedding=bank.embed(code),
                    generator="characterize",
                    alpha=3.0,
                    beta=1.0,
                )
            )
        bank.save_index()


def test_patterns_stats_export_import_and_prune(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    _bank_with(tmp_path / ".ruvqe", 6)
    code, out, _ = _ruvqe(tmp_path, capsys, "patterns", "stats")
    assert code == 0 and out.startswith("6 patterns")
    assert "characterize" in out and "mean success 0.75" in out
    export = tmp_path / "bank.msgpack"
    code, out, _ = _ruvqe(tmp_path, capsys, "patterns", "export", str(export))
    assert code == 0 and "exported 6" in out
    other = tmp_path / "other"
    code, out, _ = _ruvqe(
        tmp_path, capsys, "patterns", "--bank", str(other), "import", str(export)
    )
    assert code == 0 and "added 6, merged 0, rejected 0" in out
    code, out, _ = _ruvqe(
        tmp_path, capsys, "patterns", "--bank", str(other), "import", str(export)
    )
    assert "added 0, merged 6" in out  # the same patterns again gain counts
    code, out, _ = _ruvqe(tmp_path, capsys, "patterns", "prune", "--cap", "4")
    assert code == 0 and "4 kept" in out
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x00\x01 not msgpack")
    code, _, err = _ruvqe(tmp_path, capsys, "patterns", "import", str(garbage))
    assert code == 2 and "not a pattern export" in err

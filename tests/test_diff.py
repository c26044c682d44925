"""Diff coverage: only gaps on lines changed since a git ref."""

from __future__ import annotations

import json
import subprocess

import pytest

from pytest_ruvqe.analyse.diff import parse_unified_diff
from tests.conftest import RunPytest


def git(cwd: object, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def test_parse_unified_diff() -> None:
    diff = (
        "diff --git a/p/m.py b/p/m.py\n--- a/p/m.py\n+++ b/p/m.py\n"
        "@@ -3,0 +4,2 @@ def f():\n+    x\n+    y\n@@ -10 +12 @@\n-a\n+b\n"
        "diff --git a/gone.py b/gone.py\n--- a/gone.py\n+++ /dev/null\n"
        "@@ -1 +0,0 @@\n-x\n"
    )
    assert parse_unified_diff(diff) == {"p/m.py": frozenset({4, 5, 12})}


@pytest.fixture
def repo(calc_project: pytest.Pytester) -> pytest.Pytester:
    git(calc_project.path, "init", "-q", "-b", "main")
    git(calc_project.path, "add", "-A")
    git(calc_project.path, "commit", "-qm", "base")
    return calc_project


def test_diff_mode_reports_only_changed_lines(
    repo: pytest.Pytester, run: RunPytest
) -> None:
    core = repo.path / "calc" / "core.py"
    core.write_text(
        core.read_text()
        + "\n\ndef added(flag):\n    if flag:\n        return 1\n    return 0\n"
    )
    (repo.path / "calc" / "fresh.py").write_text("def new():\n    return 2\n")
    result = run("--ruvqe", "--ruvqe-diff=main", "--ruvqe-report=term,json:d.json")
    result.stdout.fnmatch_lines(
        [
            "worst 2 of 2 functions with gaps*",
            "  1. added  calc/core.py:29-32",
            "*",
            "  2. new  calc/fresh.py:1-2",
            "*",
            "TOTAL 12.5% line+branch of lines changed since main: 6 stmts, 2 branches*",
        ]
    )
    data = json.loads((repo.path / "d.json").read_text())
    assert data["diff_ref"] == "main"
    assert {f["qualname"] for f in data["functions"]} == {"added", "new"}


def test_diff_mode_with_no_changes(repo: pytest.Pytester, run: RunPytest) -> None:
    result = run("--ruvqe", "--ruvqe-diff=HEAD")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["no code changed since HEAD: nothing to report"])

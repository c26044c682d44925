"""Mutation operators: what gets mutated, what never does, and the diffs."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from pytest_ruvqe.analyse.mutation.engine import source_files
from pytest_ruvqe.analyse.mutation.operators import apply, diff, find_mutants
from pytest_ruvqe.analyse.mutation.types import wilson_interval
from pytest_ruvqe.testpaths import is_test_file

SOURCE = textwrap.dedent(
    '''
    """Module docstring."""
    import logging

    log = logging.getLogger(__name__)
    LIMIT = 10
    VERSION = "1.0"


    def check(x, flag=True):
        """Docstring: no mutants here."""
        log.warning("odd value %s", x)
        if x < LIMIT and not flag:
            return x + 1
        notify(x)
        return "done"
    '''
)


def _pairs(source: str) -> set[tuple[str, str, str]]:
    return {(m.operator, m.original, m.shown) for m in find_mutants(source, "m.py")}


def test_each_operator_kind() -> None:
    pairs = _pairs(SOURCE)
    assert ("boundary", "x < LIMIT", "x <= LIMIT") in pairs
    assert ("boolean", "x < LIMIT and not flag", "x < LIMIT or not flag") in pairs
    assert ("boolean", "not flag", "flag") in pairs
    assert ("arithmetic", "x + 1", "x - 1") in pairs
    assert ("constant", "1", "2") in pairs
    assert ("constant", "True", "False") in pairs
    assert ("constant", "10", "11") in pairs
    assert ("constant", '"done"', "'XXdoneXX'") in pairs
    assert ("return_value", "x + 1", "None") in pairs
    assert ("statement_deletion", "notify(x)", "None") in pairs


def test_no_mutants_in_docstrings_logging_or_module_strings() -> None:
    originals = {m.original for m in find_mutants(SOURCE, "m.py")}
    assert not any("docstring" in o.lower() for o in originals)
    assert not any("odd value" in o for o in originals)
    assert '"1.0"' not in originals  # module-level strings are names, not logic


def test_runtime_and_import_time_are_told_apart() -> None:
    by_original = {m.original: m for m in find_mutants(SOURCE, "m.py")}
    assert by_original["x < LIMIT"].runtime
    assert by_original["x < LIMIT"].patch_target == "check"
    assert not by_original["10"].runtime  # LIMIT = 10 runs at import
    assert not by_original["True"].runtime  # a default is evaluated by the def


def test_nested_functions_patch_the_outermost() -> None:
    source = "class A:\n    def f(self):\n        def g(y):\n            return y - 1\n"
    (minus,) = [m for m in find_mutants(source, "m.py") if m.shown == "y + 1"]
    assert minus.function == "A.f.<locals>.g"
    assert minus.patch_target == "A.f"


def test_applied_mutants_parse_and_keep_line_numbers() -> None:
    source = "def f(a, b):\n    return max(a,\n               b) > 2\n"
    for mutant in find_mutants(source, "m.py"):
        mutated = apply(source, mutant)
        ast.parse(mutated)
        assert mutated.count("\n") == source.count("\n")


def test_diff_shows_the_changed_line() -> None:
    source = "def f(a):\n    return a >= 18\n"
    (boundary,) = [m for m in find_mutants(source, "m.py") if m.operator == "boundary"]
    assert diff(source, boundary) == (
        "@@ m.py:2 (boundary) @@\n-     return a >= 18\n+     return a > 18"
    )


def test_test_files_are_never_mutated(tmp_path: Path) -> None:
    for rel in ("pkg/mod.py", "pkg/test_mod.py", "tests/helpers.py", "conftest.py"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")
    assert source_files([tmp_path], tmp_path) == ["pkg/mod.py"]
    assert is_test_file(Path("a/b_test.py"))
    assert not is_test_file(Path("a/b.py"))


def test_wilson_interval() -> None:
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.490, abs=1e-3)
    assert high == pytest.approx(0.943, abs=1e-3)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_call_assignment_and_condition_operators() -> None:
    source = (
        "def g(s, n):\n"
        "    total = s.lower().strip()\n"
        "    n += 2\n"
        "    return total if n else fmt(total, width=n)\n"
    )
    pairs = _pairs(source)
    assert ("assignment", "s.lower().strip()", "None") in pairs
    assert ("string_method", "s.lower()", "s.upper()") in pairs
    assert ("assignment", "n += 2", "n = 2") in pairs
    assert ("argument", "fmt(total, width=n)", "fmt(None, width=n)") in pairs
    assert ("argument", "fmt(total, width=n)", "fmt(total, width=None)") in pairs
    condition = "total if n and False else fmt(total, width=n)"
    assert ("condition", "total if n else fmt(total, width=n)", condition) in pairs

"""A static view of a candidate test module: its tests, salvage, and asserts.

Model output is often cut off mid-test, repeats a test name, or holds tests that
assert nothing. This module finds the test units (top-level ``test_*``
functions and ``Test*`` classes), drops top-level blocks that do not parse,
renames duplicates, tells whether a unit asserts something that could fail, and
cuts a module down to chosen units. Nothing here runs code.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass

# calls that assert by themselves: pytest.raises(...), self.assertEqual(...), ...
_ASSERTING_CALL = re.compile(r"^(raises|warns|deprecated_call|fail|assert\w*)$")


@dataclass(frozen=True)
class Unit:
    """One test function or test class of a candidate module."""

    name: str
    first_line: int  # first decorator line, 1-based
    last_line: int
    asserts: bool


@dataclass(frozen=True)
class ParsedCandidate:
    """A candidate's code after salvage, its units and what could not be parsed."""

    code: str
    units: tuple[Unit, ...]
    unparsable: tuple[str, ...] = ()  # test names lost to a syntax error
    error: str = ""


def parse_candidate(code: str) -> ParsedCandidate:
    """Parse, drop top-level blocks that do not parse, rename duplicate tests."""
    lines = code.splitlines()
    error = ""
    lost: list[str] = []
    tree: ast.Module | None = None
    while lines:
        try:
            tree = ast.parse("\n".join(lines) + "\n")
            break
        except SyntaxError as exc:
            error = error or f"SyntaxError: {exc.msg} (line {exc.lineno})"
            # model output often stops mid-test or breaks one test: drop that block
            first, last = _block_around(lines, (exc.lineno or len(lines)) - 1)
            lost.extend(_test_names("\n".join(lines[first:last])))
            del lines[first:last]
    if tree is None:
        return ParsedCandidate("", (), tuple(lost) or ("<module>",), error)
    kept, tree = _rename_duplicates("\n".join(lines) + "\n", tree)
    helpers = {
        node.name
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and not node.name.startswith("test")
        and _has_real_assert(node, frozenset())
    }
    units = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if not is_test(node):
                continue
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            last = node.end_lineno or node.lineno
            units.append(Unit(node.name, first, last, _asserts(node, helpers)))
    return ParsedCandidate(kept, tuple(units), tuple(lost), error)


def _top_level(text: str) -> bool:
    return bool(text) and not text[0].isspace() and not text.startswith(("#", ")"))


def _block_around(lines: list[str], row: int) -> tuple[int, int]:
    """The top-level block (with its decorators) that holds line ``row``."""
    row = max(0, min(row, len(lines) - 1))
    first = next((i for i in range(row, -1, -1) if _top_level(lines[i])), 0)
    while first > 0 and lines[first - 1].startswith("@"):
        first -= 1
    if lines[first].startswith("@"):
        # the error sits in a decorator: the block ends after the decorated def
        row = next((i for i in range(first, len(lines)) if lines[i][:1] != "@"), row)
    last = next(
        (
            i
            for i in range(max(row, first) + 1, len(lines))
            if _top_level(lines[i]) and not lines[i].startswith(("]", "}"))
        ),
        len(lines),
    )
    return first, last


def _test_names(code: str) -> list[str]:
    return re.findall(r"^(?:async\s+def|def|class)\s+((?:test|Test)\w*)", code, re.M)


def is_test(node: ast.stmt) -> bool:
    """A top-level statement pytest collects as a test (fixtures are not)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return node.name.startswith("test") and not _is_fixture(node)
    return isinstance(node, ast.ClassDef) and node.name.startswith("Test")


def _is_fixture(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for deco in node.decorator_list:
        func = deco.func if isinstance(deco, ast.Call) else deco
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name == "fixture":
            return True
    return False


def _rename_duplicates(code: str, tree: ast.Module) -> tuple[str, ast.Module]:
    """A later ``def test_x`` silently replaces an earlier one: give it a new name."""
    lines = code.splitlines()
    seen: dict[str, int] = {}
    changed = False
    for node in tree.body:
        if not is_test(node):
            continue
        assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        count = seen.get(node.name, 0) + 1
        seen[node.name] = count
        if count > 1:
            new = f"{node.name}_{count}"
            while new in seen:
                new += "_"
            seen[new] = 1
            row = node.lineno - 1
            lines[row] = re.sub(
                rf"\b{re.escape(node.name)}\b", new, lines[row], count=1
            )
            changed = True
    if not changed:
        return code, tree
    code = "\n".join(lines) + "\n"
    return code, ast.parse(code)


def _tautology(test: ast.expr) -> bool:
    """An assert condition that holds whatever the code under test does."""
    if isinstance(test, ast.Constant):
        return bool(test.value)
    if isinstance(test, ast.BoolOp):
        parts = [_tautology(v) for v in test.values]
        return any(parts) if isinstance(test.op, ast.Or) else all(parts)
    if isinstance(test, ast.Compare) and len(test.comparators) == 1:
        left, op, right = test.left, test.ops[0], test.comparators[0]
        same = ast.dump(left) == ast.dump(right)
        if same and isinstance(op, (ast.Eq, ast.Is, ast.GtE, ast.LtE)):
            return True
        # len(x) >= 0 and len(x) > -1 hold for every sized x
        is_len = (
            isinstance(left, ast.Call)
            and isinstance(left.func, ast.Name)
            and left.func.id == "len"
        )
        bound = right.value if isinstance(right, ast.Constant) else None
        if is_len and isinstance(bound, int) and not isinstance(bound, bool):
            return (isinstance(op, ast.GtE) and bound <= 0) or (
                isinstance(op, ast.Gt) and bound < 0
            )
        return False
    # isinstance(x, object) holds for everything
    if (
        isinstance(test, ast.Call)
        and isinstance(test.func, ast.Name)
        and test.func.id == "isinstance"
        and len(test.args) == 2
    ):
        kind = test.args[1]
        return isinstance(kind, ast.Name) and kind.id == "object"
    return False


def _has_real_assert(node: ast.AST, helpers: set[str] | frozenset[str]) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Assert) and not _tautology(sub.test):
            return True
        if isinstance(sub, ast.Call):
            func = sub.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            if _ASSERTING_CALL.match(name) or name in helpers:
                return True
    return False


def _asserts(
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, helpers: set[str]
) -> bool:
    if isinstance(node, ast.ClassDef):
        methods = [
            m
            for m in node.body
            if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
            and m.name.startswith("test")
        ]
        return bool(methods) and all(_has_real_assert(m, helpers) for m in methods)
    return _has_real_assert(node, helpers)


def only_units(code: str, keep: Sequence[Unit], units: Sequence[Unit]) -> str:
    """The module without the units not in ``keep`` (imports and helpers stay)."""
    names = {u.name for u in keep}
    drop: set[int] = set()
    for unit in units:
        if unit.name not in names:
            drop.update(range(unit.first_line, unit.last_line + 1))
    lines = [t for i, t in enumerate(code.splitlines(), 1) if i not in drop]
    text = "\n".join(lines).strip("\n")
    return re.sub(r"\n{4,}", "\n\n\n", text) + "\n"

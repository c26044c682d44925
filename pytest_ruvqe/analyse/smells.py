"""Test smells found in the AST of test files, and the oracle quality they imply.

Every smell kind and its weight live in :data:`SMELL_WEIGHTS`, the one table the
quality score and the documentation (``docs/quality.md``) use.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

SmellKind = Literal[
    "no_assertion",
    "empty_test",
    "tautological_assert",
    "redundant_assert",
    "swallowed_exception",
    "sleep",
    "duplicate_assert",
    "conditional_logic",
    "duplicate_test",
    "assertion_roulette",
    "magic_number",
]

# kind -> weight; a test's oracle quality is 1 minus the sum of the weights of the
# distinct kinds it shows (floored at 0).
SMELL_WEIGHTS: Mapping[SmellKind, float] = {
    "no_assertion": 1.0,
    "empty_test": 1.0,
    "tautological_assert": 0.8,
    "redundant_assert": 0.8,
    "swallowed_exception": 0.6,
    "sleep": 0.5,
    "duplicate_assert": 0.3,
    "conditional_logic": 0.3,
    "duplicate_test": 0.3,
    "assertion_roulette": 0.1,
    "magic_number": 0.05,
}

# more bare asserts than this in one test make a failure hard to read
ROULETTE_THRESHOLD = 3
# numbers so common in tests that they say nothing about intent
PLAIN_NUMBERS = frozenset({0, 1, -1, 2})

_ASSERT_CALL_PREFIXES = ("assert", "fail")
_PYTEST_ORACLES = frozenset({"raises", "warns", "fail", "deprecated_call"})


@dataclass(frozen=True)
class Smell:
    """One smell of one test: what, where and how much it costs."""

    kind: SmellKind
    file: str
    line: int
    test: str  # qualified name in its file, e.g. ``TestCart.test_total``
    detail: str

    @property
    def weight(self) -> float:
        """The weight of this kind from :data:`SMELL_WEIGHTS`."""
        return SMELL_WEIGHTS[self.kind]


@dataclass(frozen=True)
class TestInfo:
    """One test function found in a test file, with its oracle quality."""

    __test__ = False  # not a pytest test class

    file: str
    qualname: str
    line: int
    end: int
    oracle: float


@dataclass(frozen=True)
class SmellReport:
    """Smells and tests of a set of test files, plus files that did not parse."""

    smells: tuple[Smell, ...]
    tests: tuple[TestInfo, ...]
    warnings: tuple[str, ...] = ()

    @property
    def oracle(self) -> float:
        """Mean oracle quality of all tests, 1.0 when there are none."""
        if not self.tests:
            return 1.0
        return sum(t.oracle for t in self.tests) / len(self.tests)


def oracle_quality(kinds: Iterable[SmellKind]) -> float:
    """1 minus the summed weights of the distinct smell kinds, floored at 0."""
    return max(0.0, 1.0 - sum(SMELL_WEIGHTS[k] for k in set(kinds)))


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return _dotted(node.value) + "." + node.attr
    return ""


def _walk_body(nodes: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Every node under ``nodes``, nested function and class bodies excluded."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
            ):
                stack.append(child)


def _is_oracle_call(call: ast.Call, helpers: frozenset[str]) -> bool:
    name = _dotted(call.func)
    last = name.rsplit(".", 1)[-1]
    if last.lower().startswith(_ASSERT_CALL_PREFIXES) and "." in name:
        return True  # self.assertEqual, mock.assert_called_once_with, pytest.fail
    if name.startswith("pytest.") and last in _PYTEST_ORACLES:
        return True
    return name in helpers or last in helpers


def _asserting_helpers(tree: ast.Module) -> frozenset[str]:
    """Non-test functions of the file that assert: calling them is an oracle."""
    names = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and not (node.name.startswith("test"))
            and any(isinstance(n, ast.Assert) for n in ast.walk(node))
        ):
            names.add(node.name)
    return frozenset(names)


_LITERAL_NODES = (
    ast.Constant,
    ast.BinOp,
    ast.UnaryOp,
    ast.Compare,
    ast.BoolOp,
    ast.Tuple,
    ast.List,
    ast.expr_context,
    ast.operator,
    ast.cmpop,
    ast.unaryop,
    ast.boolop,
)


def _is_constant_expr(node: ast.expr) -> bool:
    return all(isinstance(n, _LITERAL_NODES) for n in ast.walk(node))


def _assert_smell(node: ast.Assert) -> tuple[SmellKind, str] | None:
    test = node.test
    if isinstance(test, ast.Constant):
        if test.value:
            return "tautological_assert", f"`assert {ast.unparse(test)}` always passes"
        return None  # `assert False` is a deliberate failure
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        left, right = ast.unparse(test.left), ast.unparse(test.comparators[0])
        if left == right and isinstance(
            test.ops[0], (ast.Eq, ast.Is, ast.GtE, ast.LtE)
        ):
            return (
                "tautological_assert",
                f"`{ast.unparse(test)}` compares a value to itself",
            )
    if _is_constant_expr(test):
        return "redundant_assert", f"`assert {ast.unparse(test)}` checks only literals"
    return None


def _magic_numbers(asserts: list[ast.Assert]) -> list[str]:
    found = []
    for node in asserts:
        for sub in ast.walk(node.test):
            if (
                isinstance(sub, ast.Constant)
                and isinstance(sub.value, (int, float))
                and not isinstance(sub.value, bool)
                and sub.value not in PLAIN_NUMBERS
            ):
                found.append(repr(sub.value))
    return found


def _body_without_docstring(
    func: ast.FunctionDef | ast.AsyncFunctionDef,
) -> list[ast.stmt]:
    body = list(func.body)
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    return body


def _is_empty(body: list[ast.stmt]) -> bool:
    return all(
        isinstance(s, ast.Pass)
        or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        for s in body
    )


@dataclass
class _Found:
    """The smells of one test, in the order they are found."""

    file: str
    test: str
    smells: list[Smell] = field(default_factory=list)

    def add(self, kind: SmellKind, line: int, detail: str) -> None:
        self.smells.append(Smell(kind, self.file, line, self.test, detail))


def _test_smells(
    func: ast.FunctionDef | ast.AsyncFunctionDef,
    qualname: str,
    file: str,
    helpers: frozenset[str],
) -> list[Smell]:
    found = _Found(file, qualname)
    body = _body_without_docstring(func)
    if _is_empty(body):
        found.add("empty_test", func.lineno, f"`{func.name}` has an empty body")
        return found.smells
    nodes = list(_walk_body(body))
    asserts = [n for n in nodes if isinstance(n, ast.Assert)]
    if not asserts and not any(
        isinstance(n, ast.Call) and _is_oracle_call(n, helpers) for n in nodes
    ):
        found.add("no_assertion", func.lineno, f"`{func.name}` has no assertion")
    _assert_smells(found, asserts)
    _statement_smells(found, nodes)
    _roulette_and_magic(found, func.lineno, asserts)
    return found.smells


def _assert_smells(found: _Found, asserts: list[ast.Assert]) -> None:
    """Asserts that prove nothing, and asserts that repeat an earlier one."""
    seen: dict[str, int] = {}
    for node in sorted(asserts, key=lambda n: n.lineno):
        smell = _assert_smell(node)
        if smell:
            found.add(smell[0], node.lineno, smell[1])
        text = ast.unparse(node.test)
        if text in seen:
            found.add(
                "duplicate_assert",
                node.lineno,
                f"`assert {text}` repeats line {seen[text]}",
            )
        seen.setdefault(text, node.lineno)


_CONTROL_FLOW = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Match)


def _statement_smells(found: _Found, nodes: list[ast.AST]) -> None:
    """Swallowed exceptions, sleeps and branching in the test body."""
    for node in nodes:
        if isinstance(node, ast.Try):
            handler = _swallowing_handler(node)
            if handler is not None:
                found.add(
                    "swallowed_exception",
                    handler.lineno,
                    "try/except hides failures: use `pytest.raises`",
                )
        elif isinstance(node, ast.Call) and _dotted(node.func) in (
            "time.sleep",
            "sleep",
        ):
            found.add(
                "sleep",
                node.lineno,
                "`time.sleep` makes the test slow and timing-bound",
            )
        elif isinstance(node, _CONTROL_FLOW):
            kind = type(node).__name__.lower()
            found.add(
                "conditional_logic",
                node.lineno,
                f"`{kind}` in a test hides which path ran",
            )


def _swallowing_handler(node: ast.Try) -> ast.ExceptHandler | None:
    """The first ``except`` that neither re-raises nor calls ``pytest.fail``."""
    for handler in node.handlers:
        inner = list(_walk_body(handler.body))
        reraises = any(isinstance(n, ast.Raise) for n in inner) or any(
            isinstance(n, ast.Call) and _dotted(n.func) == "pytest.fail" for n in inner
        )
        if not reraises:
            return handler
    return None


def _roulette_and_magic(found: _Found, line: int, asserts: list[ast.Assert]) -> None:
    """Too many asserts without a message; numbers asserts do not explain."""
    bare = [a for a in asserts if a.msg is None]
    if len(bare) > ROULETTE_THRESHOLD:
        found.add(
            "assertion_roulette",
            line,
            f"{len(bare)} asserts without a message: split the test or add messages",
        )
    magic = _magic_numbers(asserts)
    if magic:
        found.add(
            "magic_number",
            line,
            "unexplained numbers in asserts: " + ", ".join(dict.fromkeys(magic)),
        )


def _tests_of(
    tree: ast.Module,
) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name.startswith("test"):
                yield node.name, node
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            for item in node.body:
                if isinstance(
                    item, (ast.FunctionDef, ast.AsyncFunctionDef)
                ) and item.name.startswith("test"):
                    yield f"{node.name}.{item.name}", item


def _fingerprint(func: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    return "\n".join(ast.dump(s) for s in _body_without_docstring(func))


def file_smells(file: str, text: str) -> dict[str, Any]:
    """The smells of one test file as plain data (what the file cache keeps).

    Duplicates across tests are found later, from each test's body
    fingerprint; a file that does not parse gives ``{"error": message}``.
    """
    try:
        tree = ast.parse(text, filename=file)
    except (SyntaxError, ValueError) as exc:
        return {"error": f"skipped smells of {file}: does not parse ({exc})"}
    helpers = _asserting_helpers(tree)
    tests = []
    for qualname, func in _tests_of(tree):
        found = _test_smells(func, qualname, file, helpers)
        digest = hashlib.sha256(_fingerprint(func).encode()).hexdigest()
        tests.append(
            {
                "test": qualname,
                "line": func.lineno,
                "end": func.end_lineno or func.lineno,
                "smells": [[s.kind, s.line, s.detail] for s in found],
                "body": digest,
                "empty": _is_empty(_body_without_docstring(func)),
            }
        )
    return {"tests": tests}


FileSmells = Callable[[str, str], Mapping[str, Any]]


def find_smells(
    files: Mapping[str, str], per_file: FileSmells = file_smells
) -> SmellReport:
    """Smells of the tests in ``files`` (relative path -> source text).

    ``per_file`` analyses one file (a cache may stand in for
    :func:`file_smells`). Files that do not parse are listed in the report's
    warnings, never raised.
    """
    smells: list[Smell] = []
    tests: list[TestInfo] = []
    warnings: list[str] = []
    bodies: dict[str, tuple[str, str, int]] = {}
    for file in sorted(files):
        data = per_file(file, files[file])
        if "error" in data:
            warnings.append(str(data["error"]))
            continue
        for entry in data["tests"]:
            qualname, line = str(entry["test"]), int(entry["line"])
            found = [
                Smell(_smell_kind(kind), file, int(at), qualname, str(detail))
                for kind, at, detail in entry["smells"]
            ]
            key = str(entry["body"])
            if not entry["empty"] and key in bodies:
                other_file, other, other_line = bodies[key]
                where = other if other_file == file else f"{other_file}::{other}"
                found.append(
                    Smell(
                        "duplicate_test",
                        file,
                        line,
                        qualname,
                        f"same body as `{where}` (line {other_line})",
                    )
                )
            bodies.setdefault(key, (file, qualname, line))
            smells.extend(found)
            tests.append(
                TestInfo(
                    file,
                    qualname,
                    line,
                    int(entry["end"]),
                    oracle_quality(s.kind for s in found),
                )
            )
    return SmellReport(tuple(smells), tuple(tests), tuple(warnings))


def _smell_kind(value: object) -> SmellKind:
    """``value`` as a smell kind, ``ValueError`` otherwise (a foreign cache)."""
    for kind in SMELL_WEIGHTS:
        if value == kind:
            return kind
    raise ValueError(f"unknown smell kind {value!r}")


def read_test_files(paths: Iterable[Path], rootdir: Path) -> dict[str, str]:
    """Read test files as UTF-8 into a mapping keyed by rootdir-relative path."""
    texts: dict[str, str] = {}
    for path in paths:
        try:
            rel = path.resolve().relative_to(rootdir.resolve()).as_posix()
        except ValueError:
            rel = path.as_posix()
        try:
            texts[rel] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
    return texts

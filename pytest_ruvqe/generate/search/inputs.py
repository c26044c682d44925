"""Argument values for characterization, mined from the source without a model.

Every value is a Python source expression, so the same text is evaluated by
the probe and written into the generated test. Values come from type hints,
defaults, constants in the function body (``x < 0`` gives -1, 0 and 1),
``len`` comparisons, ``>>>`` examples in docstrings and calls in the tests.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

FuncNode = ast.FunctionDef | ast.AsyncFunctionDef
# how an argument is passed: by position, by name (keyword-only parameters), or
# as the rest of the positional ones (``*args``: a value is a comma-joined list)
ParamKind = Literal["positional", "keyword", "star"]

INTS = ("0", "1", "-1", "2", "10")
FLOATS = ("0.0", "1.5", "-2.5")
STRS = (
    "''",
    "'a'",
    "' '",
    "'hello world'",
    "'Hello World'",
    "'hello_world'",
    "'HelloWorld'",
    "'foo-bar'",
    "'123'",
    "'1.5'",
    "'<b>hi</b>'",
    "'a@b.com'",
    "'  x  '",
    "'\\n'",
    "'see http://www.example.com now'",
)
CALLABLES = (
    "lambda *a, **k: a[0] if a else None",
    "lambda *a, **k: True",
    "lambda *a, **k: False",
    "lambda *a, **k: str(a)",
)
LISTS = ("[]", "[1, 2, 3]", "['a', 'b']")
SLICES = ("slice(1, 3)", "slice(None, 2)", "slice(-2, None)", "slice(0, None, 2)")
DICTS = ("{}", "{'a': 1}")
# values of the wrong type reach the input checks most functions start with
WRONG = ("None", "0")

_TOKEN_POOLS: dict[str, tuple[str, ...]] = {
    "int": INTS,
    "float": FLOATS + INTS[:2],
    "complex": ("1j",),
    "str": STRS,
    "bool": ("True", "False"),
    "bytes": ("b''", "b'abc'"),
    "list": LISTS,
    "List": LISTS,
    "Sequence": LISTS,
    "Iterable": LISTS,
    "Collection": LISTS,
    "tuple": ("()", "(1, 2)"),
    "Tuple": ("()", "(1, 2)"),
    "set": ("set()", "{1, 2}"),
    "Set": ("set()", "{1, 2}"),
    "frozenset": ("frozenset()",),
    "slice": SLICES,
    "dict": DICTS,
    "Dict": DICTS,
    "Mapping": DICTS,
    "Callable": CALLABLES,
    "None": ("None",),
    "Optional": ("None",),
    # standard value types (each call gets the import it names)
    "date": ("datetime.date(2020, 1, 31)", "datetime.date(1999, 12, 1)"),
    "time": ("datetime.time(12, 30)", "datetime.time(0, 0, 1, 500)"),
    "datetime": (
        "datetime.datetime(2020, 1, 31, 12, 30)",
        "datetime.datetime(2020, 1, 31, 12, 30, 5, 10, tzinfo=datetime.timezone.utc)",
        "datetime.datetime(1999, 12, 1, 0, 0, tzinfo="
        "datetime.timezone(datetime.timedelta(hours=-5)))",
    ),
    "timedelta": ("datetime.timedelta(seconds=90)", "datetime.timedelta(0)"),
    "Decimal": ("decimal.Decimal('1.5')", "decimal.Decimal('0')"),
    "Fraction": ("fractions.Fraction(1, 3)",),
    "UUID": ("uuid.UUID('12345678-1234-5678-1234-567812345678')",),
}


@dataclass
class Example:
    """Arguments of one real call found in a docstring or a test."""

    args: tuple[str, ...]
    kwargs: tuple[tuple[str, str], ...] = ()


@dataclass
class Param:
    """One parameter with the values to try, best first."""

    name: str
    values: list[str]
    default: str | None = None
    kind: ParamKind = "positional"
    # values of a type the hint (or the body's use) does not allow: tried, to
    # reach input checks, but a test of the right type is preferred
    wrong: frozenset[str] = frozenset()


def first_value(param: Param) -> str:
    """The value a parameter gets when nothing else is chosen for it."""
    if param.default is not None:
        return param.default
    if param.kind == "star":
        return ""
    return param.values[0] if param.values else "None"


@dataclass
class ModuleFacts:
    """What the whole module offers: constants, examples per name, instances."""

    alias: str
    strings: list[str] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    examples: dict[str, list[Example]] = field(default_factory=dict)
    # values seen for a parameter name anywhere (``input_string`` ...)
    by_param: dict[str, list[str]] = field(default_factory=dict)
    instances: dict[str, list[str]] = field(default_factory=dict)  # class -> exprs
    # faithful results seen for earlier targets: outputs that feed other inputs
    observed: list[str] = field(default_factory=list)
    # multi-line texts built from the module's headings (see plan.structured_texts)
    documents: list[str] = field(default_factory=list)
    # the module's classes by name, nested ones included (base classes, owners)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    # the module-level functions by name (what a parameter is handed to)
    functions: dict[str, FuncNode] = field(default_factory=dict)


def add_unique(pool: list[str], values: Iterable[str], limit: int = 60) -> None:
    """Append values not yet in the pool, up to ``limit`` entries."""
    for value in values:
        if len(pool) >= limit:
            return
        if value not in pool:
            pool.append(value)


def _number_neighbours(value: int | float) -> list[str]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [repr(value - 1), repr(value), repr(value + 1)]
    return [repr(value), repr(value - 1.0), repr(value + 1.0)]


def body_constants(node: ast.AST) -> tuple[list[str], list[str]]:
    """String and number constants of a body; numbers with their neighbours."""
    strings: list[str] = []
    numbers: list[str] = []
    docstrings = {
        id(n.body[0].value)
        for n in ast.walk(node)
        if isinstance(
            n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)
        )
        and n.body
        and isinstance(n.body[0], ast.Expr)
    }
    for child in ast.walk(node):
        if isinstance(child, ast.Constant) and id(child) not in docstrings:
            if isinstance(child.value, str) and len(child.value) <= 80:
                add_unique(strings, [repr(child.value)], 200)
            elif isinstance(child.value, (int, float)):
                add_unique(numbers, _number_neighbours(child.value), 200)
    return strings, numbers


def _param_of(expr: ast.expr, params: set[str]) -> str | None:
    """The parameter an expression stands for: ``x`` or ``len(x)`` or ``x.attr``."""
    if isinstance(expr, ast.Name) and expr.id in params:
        return expr.id
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.args:
        inner = _param_of(expr.args[0], params)
        return f"len:{inner}" if inner and expr.func.id == "len" else None
    return None


def comparison_values(func: FuncNode, params: set[str]) -> dict[str, list[str]]:
    """Values per parameter from comparisons with constants in the body."""
    found: dict[str, list[str]] = {}
    for node in ast.walk(func):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for left, right in itertools.pairwise(operands):
            for side, other in ((left, right), (right, left)):
                name = _param_of(side, params)
                if name is None:
                    continue
                for const in _constants_in(other):
                    if name.startswith("len:"):
                        size = const if isinstance(const, int) else 0
                        for n in (size - 1, size, size + 1):
                            if 0 <= n <= 64:
                                add_unique(
                                    found.setdefault(name[4:], []),
                                    [repr("a" * n), repr(list(range(n)))],
                                )
                    elif isinstance(const, (int, float)) and not isinstance(
                        const, bool
                    ):
                        add_unique(
                            found.setdefault(name, []), _number_neighbours(const)
                        )
                    else:
                        add_unique(found.setdefault(name, []), [repr(const)])
    return found


def _constants_in(node: ast.expr) -> list[object]:
    if isinstance(node, ast.Constant):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [e.value for e in node.elts if isinstance(e, ast.Constant)]
    if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
        value = node.operand.value
        if isinstance(node.op, ast.USub) and isinstance(value, (int, float)):
            return [-value]
    return []


def is_generator(func: FuncNode) -> bool:
    """Whether calling ``func`` gives a generator (then tests consume it)."""
    return any(isinstance(node, (ast.Yield, ast.YieldFrom)) for node in ast.walk(func))

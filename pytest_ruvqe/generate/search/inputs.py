"""Argument values for characterization, mined from the source without a model.

Every value is a Python source expression, so the same text is evaluated by
the probe and written into the generated test. Values come from type hints,
defaults, constants in the function body (``x < 0`` gives -1, 0 and 1),
``len`` comparisons, ``>>>`` examples in docstrings and calls in the tests.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from pytest_ruvqe.generate.search.kinds import (
    callables,
    containers,
    namespace,
    usage_of,
)

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
DICTS = ("{}", "{'a': 1}")
# values of the wrong type reach the input checks most functions start with
WRONG = ("None", "0")
# hints that say nothing: Any, object, a type variable (``T``, not ``T.List``)
_OPAQUE = re.compile(r"(?<![\w.])(Any|object|[A-Z]|[A-Z]_co|[A-Z]_contra)(?![\w.])")
# generic origins by the kind of container they are
_CONTAINER_ORIGINS = {
    "list": "list",
    "List": "list",
    "MutableSequence": "list",
    "Sequence": "list",
    "sequence": "list",
    "Collection": "list",
    "Iterable": "iterable",
    "iterable": "iterable",
    "Iterator": "iterable",
    "Generator": "iterable",
    "tuple": "tuple",
    "Tuple": "tuple",
    "set": "set",
    "Set": "set",
    "FrozenSet": "set",
    "frozenset": "set",
    "AbstractSet": "set",
    "MutableSet": "set",
    "dict": "dict",
    "Dict": "dict",
    "Mapping": "dict",
    "MutableMapping": "dict",
    "DefaultDict": "dict",
    "OrderedDict": "dict",
}

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
    "dict": DICTS,
    "Dict": DICTS,
    "Mapping": DICTS,
    "Callable": CALLABLES,
    "None": ("None",),
    "Optional": ("None",),
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


def calls_in_text(text: str, name: str) -> list[Example]:
    """Arguments of calls to ``name`` in ``>>>`` lines or in test source."""
    found: list[Example] = []
    chunks = [line.split(">>>", 1)[1] for line in text.splitlines() if ">>>" in line]
    for chunk in chunks or [text]:
        try:
            tree = ast.parse(chunk.strip() if chunks else chunk)
        except SyntaxError:
            # doc lines often end in prose: ``f('x') # returns 'y'``
            try:
                tree = ast.parse(chunk.split("#", 1)[0].strip())
            except SyntaxError:
                continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            callee = node.func
            called = (
                callee.attr
                if isinstance(callee, ast.Attribute)
                else (callee.id if isinstance(callee, ast.Name) else None)
            )
            if called != name or not _literal_only(node):
                continue
            found.append(
                Example(
                    tuple(ast.unparse(a) for a in node.args),
                    tuple(
                        (k.arg, ast.unparse(k.value)) for k in node.keywords if k.arg
                    ),
                )
            )
    return found


_SAFE_BUILTINS = frozenset(
    [
        "abs",
        "all",
        "any",
        "bool",
        "dict",
        "enumerate",
        "filter",
        "float",
        "frozenset",
        "int",
        "iter",
        "len",
        "list",
        "map",
        "max",
        "min",
        "range",
        "repr",
        "reversed",
        "set",
        "sorted",
        "str",
        "sum",
        "tuple",
        "zip",
    ]
)
_SAFE_NODES = (
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Subscript,
    ast.Slice,
    ast.List,
    ast.Tuple,
    ast.Set,
    ast.Dict,
    ast.Constant,
    ast.Starred,
    ast.operator,
    ast.unaryop,
    ast.boolop,
    ast.cmpop,
    ast.expr_context,
)


def _literal_only(call: ast.Call) -> bool:
    """Arguments a test can hold as they are: literals, and small pure
    expressions of them (``range(10)``, ``lambda x: x > 5``, ``operator.add``,
    ``len``), so they mean the same in a test."""
    return all(
        _safe(arg, frozenset())
        for arg in [*call.args, *(k.value for k in call.keywords)]
    )


def hint_values(hint: str | None, facts: ModuleFacts) -> list[str]:
    """Values for a type hint; a mixed pool when there is none or it is opaque.

    Generics are followed a level or two (``list[str]``, ``Dict[str, int]``,
    ``Optional[Callable[[int], bool]]``, ``A | B``) so containers hold values
    of their element type and callables take the right number of arguments.
    """
    node: ast.expr | None = None
    if hint:
        try:
            node = ast.parse(hint, mode="eval").body
        except SyntaxError:
            node = None
    pool = _values_of(node, facts, 0) if node is not None else []
    if not pool or _OPAQUE.search(hint or ""):
        add_unique(pool, [*INTS[:3], *STRS[:4], "None", "True", "[1, 2]", "{}"])
        for exprs in facts.instances.values():
            add_unique(pool, exprs[:3])
    return pool


def function_params(
    func: FuncNode, facts: ModuleFacts, *, skip_first: bool, extra_strings: list[str]
) -> list[Param]:
    """Parameters of ``func`` with values to try, best first."""
    args = func.args
    positional = [*args.posonlyargs, *args.args]
    defaults: dict[str, str] = {}
    for arg, default in zip(
        positional[len(positional) - len(args.defaults) :], args.defaults, strict=False
    ):
        defaults[arg.arg] = ast.unparse(default)
    for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=False):
        if kw_default is not None:
            defaults[arg.arg] = ast.unparse(kw_default)
    if skip_first:
        positional = positional[1:]
    names = {a.arg for a in [*positional, *args.kwonlyargs]}
    compared = comparison_values(func, names)
    strings, numbers = body_constants(func)
    # values a docstring lists as choices ("- VISA", "MASTERCARD") are valid keys
    doc = ast.get_docstring(func) or ""
    add_unique(
        strings, [repr(w) for w in re.findall(r"\b[A-Z][A-Z0-9_]{2,}\b", doc)], 80
    )
    params = []
    passed: list[tuple[ast.arg, ParamKind]] = [
        *((a, "positional") for a in positional),
        *((a, "keyword") for a in args.kwonlyargs),
    ]
    for arg, kind in passed:
        hint = ast.unparse(arg.annotation) if arg.annotation else None
        values: list[str] = []
        add_unique(values, compared.get(arg.arg, []))
        add_unique(values, facts.by_param.get(arg.arg, [])[:20])
        typed = hint_values(hint, facts)
        if hint is None:
            used = usage_values(func, arg.arg, facts)
            typed = [*used, *(v for v in typed if v not in used)]
        add_unique(values, typed[:3])
        wants_str = any(v.startswith(("'", '"')) for v in typed)
        if wants_str:
            add_unique(
                values, [v for v in facts.observed[-12:] if v.startswith(("'", '"'))]
            )
            add_unique(values, facts.documents)
        add_unique(values, typed)
        if wants_str:
            add_unique(values, strings + extra_strings)
        if any(v.lstrip("-").isdigit() for v in typed):
            add_unique(values, numbers)
        # values of the wrong type reach the input checks, after the right ones
        wrong = frozenset(v for v in WRONG if v not in typed and v not in values)
        add_unique(values, WRONG)
        given = defaults.get(arg.arg)
        if given is not None:
            values = [given, *(v for v in values if v != given)]
            wrong -= {given}
        params.append(Param(arg.arg, values, given, kind, wrong))
    if args.vararg is not None:
        params.append(_star_param(args.vararg, facts, strings + extra_strings))
    return params


def _star_param(arg: ast.arg, facts: ModuleFacts, strings: list[str]) -> Param:
    """``*args``: nothing, one value, or two, from the hint's pool."""
    hint = ast.unparse(arg.annotation) if arg.annotation else None
    pool = hint_values(hint, facts)
    if hint is None or any(v.startswith(("'", '"')) for v in pool):
        add_unique(pool, strings[:20])
    values = ["", *pool[:12]]
    values += [f"{a}, {b}" for a, b in itertools.pairwise(pool[:8])]
    return Param(arg.arg, values, "", "star")


def is_generator(func: FuncNode) -> bool:
    """Whether calling ``func`` gives a generator (then tests consume it)."""
    return any(isinstance(node, (ast.Yield, ast.YieldFrom)) for node in ast.walk(func))


def _values_of(node: ast.expr, facts: ModuleFacts, depth: int) -> list[str]:
    """Values of one (parsed) hint."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:  # a forward reference: "Doc"
            return _values_of(ast.parse(node.value, mode="eval").body, facts, depth)
        except SyntaxError:
            return []
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union([node.left, node.right], facts, depth)
    if isinstance(node, ast.Subscript):
        return _generic(node, facts, depth)
    name = ast.unparse(node).rsplit(".", 1)[-1]
    pool = list(_TOKEN_POOLS.get(name, ()))
    if name in facts.instances:
        add_unique(pool, facts.instances[name])
    return pool


def _union(parts: list[ast.expr], facts: ModuleFacts, depth: int) -> list[str]:
    pools = [_values_of(p, facts, depth) for p in parts]
    merged: list[str] = []
    for group in itertools.zip_longest(*pools):
        add_unique(merged, [v for v in group if v is not None])
    return merged


def _generic(node: ast.Subscript, facts: ModuleFacts, depth: int) -> list[str]:
    """``X[...]``: unions and optionals, containers of typed items, callables."""
    origin = ast.unparse(node.value).rsplit(".", 1)[-1]
    args = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
    if origin in ("Optional", "Union"):
        return _union(args, facts, depth) + (["None"] if origin == "Optional" else [])
    if origin == "Callable":
        params = args[0] if args else None
        arity = len(params.elts) if isinstance(params, ast.List) else None
        returns = _values_of(args[-1], facts, depth + 1) if len(args) > 1 else []
        products = [v for v in returns if "(" in v][:3]
        return callables(arity, products)
    if origin in ("Type", "type") and args:
        return [v.split("(")[0] for v in _values_of(args[0], facts, depth) if "(" in v][
            :3
        ]
    kind = _CONTAINER_ORIGINS.get(origin)
    if kind is None:
        return _values_of(node.value, facts, depth)
    if depth >= 2:
        return list(containers(kind, [])[:2])
    item = args[-1] if kind in ("dict", "mapping") else args[0]
    if kind == "tuple" and len(args) > 1 and not _is_ellipsis(args[-1]):
        firsts = [(_values_of(a, facts, depth + 1) or ["None"])[0] for a in args]
        return [
            f"({', '.join(firsts)},)" if len(firsts) == 1 else f"({', '.join(firsts)})"
        ]
    items = [v for v in _values_of(item, facts, depth + 1) if v != "None"][:3]
    return containers(kind, items)


def _is_ellipsis(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is Ellipsis


def usage_values(func: FuncNode, name: str, facts: ModuleFacts) -> list[str]:
    """Values for an unhinted parameter from how the body uses it."""
    usage = usage_of(func, name)
    pool: list[str] = []
    for kind in usage.kinds:
        if kind == "callable":
            add_unique(pool, callables(usage.arity))
        elif kind in ("str", "number", "sized"):
            add_unique(
                pool,
                {"str": STRS, "number": INTS + FLOATS[1:2]}.get(kind, STRS[:6] + LISTS),
            )
        elif kind in ("iterable", "sequence", "list", "dict", "tuple", "set"):
            add_unique(pool, containers(_CONTAINER_ORIGINS.get(kind, kind), []))
        elif kind == "object":
            add_unique(pool, namespace(usage.attributes, ["1", "'a'", "None"]))
        elif kind.startswith("class:"):
            add_unique(pool, facts.instances.get(kind[6:], [])[:6])
        elif kind in _TOKEN_POOLS:
            add_unique(pool, _TOKEN_POOLS[kind])
    if usage.keys:
        add_unique(
            pool, [repr({k: 1 for k in usage.keys[:4]}), repr({usage.keys[0]: None})]
        )
    return pool


def _safe(node: ast.AST, names: frozenset[str]) -> bool:
    """Whether ``node`` is a pure expression of literals, builtins and ``names``."""
    if isinstance(node, ast.Lambda):
        args = node.args
        params = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
        if args.vararg is not None or args.kwarg is not None or args.defaults:
            return False
        return _safe(node.body, names | params)
    if isinstance(node, ast.Name):
        return node.id in names or node.id in _SAFE_BUILTINS or node.id == "None"
    if isinstance(node, ast.Attribute):
        return (
            isinstance(node.value, ast.Name)
            and node.value.id in ("operator", "math")
            and not node.attr.startswith("_")
        )
    if isinstance(node, ast.Call):
        ok_func = isinstance(node.func, ast.Name) and node.func.id in _SAFE_BUILTINS
        ok_func = ok_func or (
            _safe(node.func, names) and isinstance(node.func, ast.Attribute)
        )
        return ok_func and all(
            _safe(a, names) for a in [*node.args, *(k.value for k in node.keywords)]
        )
    if isinstance(node, _SAFE_NODES):
        return all(_safe(child, names) for child in ast.iter_child_nodes(node))
    return False

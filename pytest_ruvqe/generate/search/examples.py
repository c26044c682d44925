"""Real calls of a function found in docstring ``>>>`` lines and in tests,
kept when their arguments mean the same in a generated test."""

from __future__ import annotations

import ast

from pytest_ruvqe.generate.search.inputs import Example


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
            found.append(call_example(node))
    return found


def call_example(node: ast.Call) -> Example:
    """The arguments of a call, as source text."""
    return Example(
        tuple(ast.unparse(a) for a in node.args),
        tuple((k.arg, ast.unparse(k.value)) for k in node.keywords if k.arg),
    )


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

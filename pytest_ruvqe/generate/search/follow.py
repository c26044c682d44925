"""What to do with a call's result when the code worth reaching runs later.

A target that returns a function it defines (a decorator, a factory of
handlers) or an object holding one (``return Lazy(compute)``) runs that code
only when the result is called or driven. A follow-up is the suffix a test
adds to the call to get there: ``(1)`` calls the returned function,
``.get()`` drives the returned object.
"""

from __future__ import annotations

import ast

from pytest_ruvqe.generate.search.inputs import FuncNode, ModuleFacts, first_value
from pytest_ruvqe.generate.search.params import function_params
from pytest_ruvqe.generate.search.spec import render_args

MAX_FOLLOWERS = 8
_OWN_CLASS = ("self.__class__", "type(self)", "cls")


def followers(
    node: FuncNode, owner: ast.ClassDef | None, facts: ModuleFacts, depth: int = 0
) -> list[str]:
    """Suffixes that reach the code ``node`` defines but does not run itself;
    a decorator factory's two levels too (``(fn)(1)``)."""
    inner = _inner_functions(node)
    if not inner:
        return []
    found: list[str] = []
    for value in (r.value for r in ast.walk(node) if isinstance(r, ast.Return)):
        if value is None:
            continue
        if isinstance(value, ast.Lambda) or (
            isinstance(value, ast.Name) and value.id in inner
        ):
            func = inner.get(value.id) if isinstance(value, ast.Name) else value
            calls = _calls_of(func, facts)
            found += calls
            if depth == 0 and isinstance(func, ast.FunctionDef):
                found += [calls[0] + d for d in followers(func, None, facts, 1)]
        elif isinstance(value, ast.Call):
            cls = _class_built(value.func, owner, facts)
            if cls is not None:
                found += _methods_of(cls, facts)
    return list(dict.fromkeys(found))[:MAX_FOLLOWERS]


def _inner_functions(node: FuncNode) -> dict[str, FuncNode | ast.Lambda]:
    """The functions (and lambdas, under a placeholder name) ``node`` defines."""
    found: dict[str, FuncNode | ast.Lambda] = {}
    for sub in ast.walk(node):
        if sub is node:
            continue
        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[sub.name] = sub
        elif isinstance(sub, ast.Lambda):
            found[f"<lambda {len(found)}>"] = sub
    return found


def _class_built(
    func: ast.expr, owner: ast.ClassDef | None, facts: ModuleFacts
) -> ast.ClassDef | None:
    """The module class a ``return X(...)`` builds, if it is one."""
    text = ast.unparse(func)
    if text in _OWN_CLASS:
        return owner
    return facts.classes.get(text.rsplit(".", 1)[-1])


def _calls_of(func: FuncNode | ast.Lambda | None, facts: ModuleFacts) -> list[str]:
    """Calls of a returned function: its first values, then one varied."""
    if func is None:
        return []
    if isinstance(func, ast.Lambda):
        wrapper = ast.FunctionDef(
            name="_", args=func.args, body=[ast.Pass()], decorator_list=[]
        )
        func = ast.fix_missing_locations(wrapper)
    params = function_params(func, facts, skip_first=False, extra_strings=[])
    base = [first_value(p) for p in params]
    calls = [f"({render_args(params, base)})"]
    for i, param in enumerate(params[:2]):
        for value in param.values[1:3]:
            chosen = list(base)
            chosen[i] = value
            calls.append(f"({render_args(params, chosen)})")
    if not params or params[0].kind == "star":
        calls += ["(1)", "('a')"]
    return calls


def _methods_of(cls: ast.ClassDef, facts: ModuleFacts) -> list[str]:
    """Public methods of the built object, called with their first values."""
    calls = []
    for node in cls.body:
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
            continue
        if any(isinstance(d, ast.Name) for d in node.decorator_list):
            continue  # a property, static or class method: not what drives it
        params = function_params(node, facts, skip_first=True, extra_strings=[])
        required = [p for p in params if p.default is None and p.kind != "star"]
        if len(required) <= 1:
            base = [first_value(p) for p in params]
            calls.append(f".{node.name}({render_args(params, base)})")
    return calls

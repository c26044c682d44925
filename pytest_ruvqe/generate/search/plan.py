"""Plan the calls characterization tries for one target function or method."""

from __future__ import annotations

import ast
import random
import zlib
from dataclasses import dataclass
from typing import Literal

from pytest_ruvqe.generate.search.inputs import (
    Example,
    FuncNode,
    ModuleFacts,
    Param,
    add_unique,
    body_constants,
    function_params,
    hint_values,
    is_generator,
)
from pytest_ruvqe.generate.search.probe import PlannedCall

MAX_RECEIVERS = 12
CalleeKind = Literal["function", "method", "static", "classmethod", "property", "init"]


@dataclass(frozen=True)
class Callee:
    """A target resolved in the module's syntax tree."""

    node: FuncNode
    cls: ast.ClassDef | None
    kind: CalleeKind


def resolve(tree: ast.Module, qualname: str) -> Callee | None:
    """Find a module-level function or a method of a module-level class."""
    parts = qualname.split(".")
    body = tree.body
    if len(parts) == 1:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                node.name == parts[0]
            ):
                return Callee(node, None, "function")
        return None
    if len(parts) != 2:
        return None  # nested functions are reached through their owner
    for cls in body:
        if isinstance(cls, ast.ClassDef) and cls.name == parts[0]:
            for node in cls.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                    node.name == parts[1]
                ):
                    return Callee(node, cls, _method_kind(node))
    return None


def _method_kind(node: FuncNode) -> CalleeKind:
    names = {
        ast.unparse(d).split("(")[0].rsplit(".", 1)[-1] for d in node.decorator_list
    }
    if "staticmethod" in names:
        return "static"
    if "classmethod" in names:
        return "classmethod"
    if "property" in names or "cached_property" in names:
        return "property"
    return "init" if node.name == "__init__" else "method"


def _attr(cls: ast.ClassDef, name: str) -> str:
    """The attribute name to use from outside (private names are mangled)."""
    if name.startswith("__") and not name.endswith("__"):
        return f"_{cls.name.lstrip('_')}{name}"
    return name


def render_args(params: list[Param], chosen: list[str]) -> str:
    """Call arguments; trailing defaults left out, keyword-only ones by name."""
    positional = [
        (p, v) for p, v in zip(params, chosen, strict=False) if p.kind == "positional"
    ]
    while positional and positional[-1][1] == positional[-1][0].default:
        positional.pop()
    parts = [v for _, v in positional]
    parts += [
        f"{p.name}={v}"
        for p, v in zip(params, chosen, strict=False)
        if p.kind == "keyword" and v != p.default
    ]
    return ", ".join(parts)


def _example_args(example: Example, params: list[Param]) -> list[str] | None:
    chosen = [p.default or p.values[0] if p.values else "None" for p in params]
    if len(example.args) > len(params):
        return None
    for i, value in enumerate(example.args):
        chosen[i] = value
    for key, value in example.kwargs:
        for i, param in enumerate(params):
            if param.name == key:
                chosen[i] = value
    return chosen


def dataclass_params(cls: ast.ClassDef, facts: ModuleFacts) -> list[Param] | None:
    """Constructor parameters of a ``@dataclass`` from its annotated fields."""
    if not any("dataclass" in ast.unparse(d) for d in cls.decorator_list):
        return None
    params = []
    for node in cls.body:
        if not isinstance(node, ast.AnnAssign) or not isinstance(node.target, ast.Name):
            continue
        hint = ast.unparse(node.annotation)
        default = ast.unparse(node.value) if node.value is not None else None
        if "ClassVar" in hint or (default and "init=False" in default.replace(" ", "")):
            continue
        if default and default.startswith(("field(", "dataclasses.field(")):
            default = None
        values = hint_values(hint, facts)
        if default is not None:
            values = [default, *(v for v in values if v != default)]
        params.append(Param(node.target.id, values, default))
    return params


def receivers(
    cls: ast.ClassDef,
    facts: ModuleFacts,
    strings: list[str],
    variants: int = 3,
    limit: int = MAX_RECEIVERS,
) -> list[str]:
    """Expressions that build an instance: constructor variants and factories."""
    alias = facts.alias
    init = next(
        (
            n
            for n in cls.body
            if isinstance(n, ast.FunctionDef) and n.name == "__init__"
        ),
        None,
    )
    params = dataclass_params(cls, facts)
    if params is None:
        params = (
            function_params(init, facts, skip_first=True, extra_strings=strings)
            if init is not None
            else []
        )
    base = [p.default or (p.values[0] if p.values else "None") for p in params]
    found: list[str] = []
    for example in facts.examples.get(cls.name, []):
        chosen = _example_args(example, params)
        if chosen is not None:
            add_unique(found, [f"{alias}.{cls.name}({render_args(params, chosen)})"])
    add_unique(found, [f"{alias}.{cls.name}({render_args(params, base)})"])
    for i, param in enumerate(params):
        for value in param.values[1 : variants + 1]:
            chosen = list(base)
            chosen[i] = value
            add_unique(found, [f"{alias}.{cls.name}({render_args(params, chosen)})"])
    for node in cls.body:
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
            continue
        kind = _method_kind(node)
        returns = ast.unparse(node.returns) if node.returns else ""
        if kind in ("static", "classmethod") and cls.name in returns:
            fparams = function_params(
                node, facts, skip_first=kind == "classmethod", extra_strings=strings
            )
            for value in [p.values[0] for p in fparams[:1] if p.values] or [""]:
                rest = [p.default or p.values[0] for p in fparams[1:] if p.values]
                args = ", ".join(v for v in [value, *rest] if v)
                add_unique(found, [f"{alias}.{cls.name}.{node.name}({args})"])
            for p in fparams[:1]:
                for value in p.values[1:4]:
                    add_unique(found, [f"{alias}.{cls.name}.{node.name}({value})"])
    return found[:limit]


def plan_calls(
    tree: ast.Module,
    facts: ModuleFacts,
    qualname: str,
    max_calls: int,
    seed: int,
) -> list[PlannedCall]:
    """Calls to try for ``qualname``, deterministic for a given seed."""
    callee = resolve(tree, qualname)
    if callee is None:
        return []
    node, cls, kind = callee.node, callee.cls, callee.kind
    strings, _ = body_constants(node)
    add_unique(strings, facts.strings, 120)
    params = function_params(
        node,
        facts,
        skip_first=kind in ("method", "classmethod", "property", "init"),
        extra_strings=strings,
    )
    alias = facts.alias
    # with few arguments to vary, the receiver's state is what varies
    many = len(params) <= 1
    recv = (
        receivers(
            cls,
            facts,
            strings,
            variants=30 if many else 3,
            limit=60 if many else MAX_RECEIVERS,
        )
        if cls is not None
        else []
    )
    setup_prefix: tuple[str, ...] = ()
    wrap = "{}"
    if isinstance(node, ast.AsyncFunctionDef):
        setup_prefix, wrap = ("import asyncio",), "asyncio.run({})"
    elif is_generator(node):
        setup_prefix, wrap = ("import itertools",), "list(itertools.islice({}, 20))"

    def call_text(owner: str, chosen: list[str]) -> str:
        args = render_args(params, chosen)
        if cls is None:
            return wrap.format(f"{alias}.{node.name}({args})")
        name = _attr(cls, node.name)
        if kind == "init":
            return f"{alias}.{cls.name}({args})"
        if kind == "property":
            return f"{owner}.{name}"
        if kind in ("static", "classmethod"):
            return wrap.format(f"{alias}.{cls.name}.{name}({args})")
        return wrap.format(f"{owner}.{name}({args})")

    needs_obj = cls is not None and kind in ("method", "property")
    pool = recv or ([f"{alias}.{cls.name}()"] if cls is not None else [])
    base = [p.default or (p.values[0] if p.values else "None") for p in params]
    combos: list[tuple[str, tuple[str, ...], list[str]]] = []

    def add(receiver: str, chosen: list[str], extra: tuple[str, ...] = ()) -> None:
        combos.append((receiver, extra, chosen))

    names = [node.name, _attr(cls, node.name)] if cls is not None else [node.name]
    for example in facts.examples.get(node.name, []):
        chosen = _example_args(example, params)
        if chosen is not None:
            add(pool[0] if pool else "", chosen)
    for receiver in pool or [""]:
        add(receiver, base)
    for i, param in enumerate(params):
        for value in param.values[1:30]:
            chosen = list(base)
            chosen[i] = value
            add(pool[0] if pool else "", chosen)
    if needs_obj and cls is not None:
        # methods that need a prior call (stop after start): one-step prefixes
        for other in cls.body:
            if (
                isinstance(other, ast.FunctionDef)
                and other.name not in names
                and _method_kind(other) == "method"
                and other.name != "__init__"
                and len(other.args.args) - len(other.args.defaults) <= 1
            ):
                for receiver in pool[:4]:
                    add(receiver, base, (f"obj.{_attr(cls, other.name)}()",))
    rng = random.Random(seed ^ zlib.crc32(qualname.encode()))
    for _ in range(max_calls * 2):
        chosen = [rng.choice(p.values) if p.values else "None" for p in params]
        add(rng.choice(pool) if pool else "", chosen)
    planned: list[PlannedCall] = []
    seen: set[tuple[tuple[str, ...], str]] = set()
    for receiver, extra, chosen in combos:
        setup = setup_prefix + ((f"obj = {receiver}",) if needs_obj else ()) + extra
        expr = call_text("obj", chosen)
        key = (setup, expr)
        if key in seen:
            continue
        seen.add(key)
        planned.append(PlannedCall(f"c{len(planned)}", setup, expr))
        if len(planned) >= max_calls:
            break
    return planned

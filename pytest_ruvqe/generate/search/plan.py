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


# one call to plan: the receiver expression, setup steps after it, the arguments
Combo = tuple[str, tuple[str, ...], list[str]]


@dataclass(frozen=True)
class _Shape:
    """How a call of one callee is written: its setup and its expression."""

    callee: Callee
    alias: str
    params: list[Param]
    setup_prefix: tuple[str, ...] = ()
    wrap: str = "{}"  # async calls are run, generators consumed

    @property
    def needs_obj(self) -> bool:
        return self.callee.cls is not None and self.callee.kind in (
            "method",
            "property",
        )

    def setup(self, receiver: str, extra: tuple[str, ...]) -> tuple[str, ...]:
        built = (f"obj = {receiver}",) if self.needs_obj else ()
        return self.setup_prefix + built + extra

    def expression(self, chosen: list[str]) -> str:
        node, cls, kind = self.callee.node, self.callee.cls, self.callee.kind
        args = render_args(self.params, chosen)
        if cls is None:
            return self.wrap.format(f"{self.alias}.{node.name}({args})")
        name = _attr(cls, node.name)
        if kind == "init":
            return f"{self.alias}.{cls.name}({args})"
        if kind == "property":
            return f"obj.{name}"
        if kind in ("static", "classmethod"):
            return self.wrap.format(f"{self.alias}.{cls.name}.{name}({args})")
        return self.wrap.format(f"obj.{name}({args})")


def _shape(callee: Callee, alias: str, params: list[Param]) -> _Shape:
    if isinstance(callee.node, ast.AsyncFunctionDef):
        return _Shape(callee, alias, params, ("import asyncio",), "asyncio.run({})")
    if is_generator(callee.node):
        wrap = "list(itertools.islice({}, 20))"
        return _Shape(callee, alias, params, ("import itertools",), wrap)
    return _Shape(callee, alias, params)


def _receiver_pool(
    callee: Callee, facts: ModuleFacts, strings: list[str], params: list[Param]
) -> list[str]:
    """Expressions that build the method's instance (none for a function)."""
    cls = callee.cls
    if cls is None:
        return []
    # with few arguments to vary, the receiver's state is what varies
    many = len(params) <= 1
    recv = receivers(
        cls,
        facts,
        strings,
        variants=30 if many else 3,
        limit=60 if many else MAX_RECEIVERS,
    )
    return recv or [f"{facts.alias}.{cls.name}()"]


def _prefixed(
    callee: Callee, cls: ast.ClassDef, pool: list[str], base: list[str]
) -> list[Combo]:
    """Methods that need a prior call (stop after start): one-step prefixes."""
    names = [callee.node.name, _attr(cls, callee.node.name)]
    combos: list[Combo] = []
    for other in cls.body:
        if (
            isinstance(other, ast.FunctionDef)
            and other.name not in names
            and _method_kind(other) == "method"
            and other.name != "__init__"
            and len(other.args.args) - len(other.args.defaults) <= 1
        ):
            for receiver in pool[:4]:
                combos.append((receiver, (f"obj.{_attr(cls, other.name)}()",), base))
    return combos


def _combos(
    shape: _Shape, facts: ModuleFacts, pool: list[str], rng: random.Random, n: int
) -> list[Combo]:
    """Examples, defaults, one argument varied at a time, then ``n`` random ones."""
    params, node = shape.params, shape.callee.node
    base = [p.default or (p.values[0] if p.values else "None") for p in params]
    first = pool[0] if pool else ""
    combos: list[Combo] = []
    for example in facts.examples.get(node.name, []):
        chosen = _example_args(example, params)
        if chosen is not None:
            combos.append((first, (), chosen))
    combos += [(receiver, (), base) for receiver in pool or [""]]
    for i, param in enumerate(params):
        for value in param.values[1:30]:
            chosen = list(base)
            chosen[i] = value
            combos.append((first, (), chosen))
    if shape.needs_obj and shape.callee.cls is not None:
        combos += _prefixed(shape.callee, shape.callee.cls, pool, base)
    for _ in range(n):
        chosen = [rng.choice(p.values) if p.values else "None" for p in params]
        combos.append((rng.choice(pool) if pool else "", (), chosen))
    return combos


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
    strings, _ = body_constants(callee.node)
    add_unique(strings, facts.strings, 120)
    params = function_params(
        callee.node,
        facts,
        skip_first=callee.kind in ("method", "classmethod", "property", "init"),
        extra_strings=strings,
    )
    shape = _shape(callee, facts.alias, params)
    pool = _receiver_pool(callee, facts, strings, params)
    rng = random.Random(seed ^ zlib.crc32(qualname.encode()))
    planned: list[PlannedCall] = []
    seen: set[tuple[tuple[str, ...], str]] = set()
    for receiver, extra, chosen in _combos(shape, facts, pool, rng, max_calls * 2):
        key = (shape.setup(receiver, extra), shape.expression(chosen))
        if key in seen:
            continue
        seen.add(key)
        planned.append(PlannedCall(f"c{len(planned)}", *key))
        if len(planned) >= max_calls:
            break
    return planned

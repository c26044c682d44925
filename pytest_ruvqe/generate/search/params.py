"""The values of one parameter: from its hint (generics followed a level or
two), from how the body uses it when it has none, from the body's constants
and comparisons, examples and the module's own objects, best first."""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Sequence

from pytest_ruvqe.generate.search.inputs import (
    _TOKEN_POOLS,
    FLOATS,
    INTS,
    LISTS,
    SLICES,
    STRS,
    WRONG,
    FuncNode,
    ModuleFacts,
    Param,
    ParamKind,
    add_unique,
    body_constants,
    comparison_values,
)
from pytest_ruvqe.generate.search.kinds import (
    attribute_usage,
    callables,
    containers,
    namespace,
    stored_as,
    usage_of,
)

# hints that say nothing: Any, object, a type variable (``T``, not ``T.List``),
# also spelt through the module they come from (``typing.Any``, ``t.Any``)
_OPAQUE = re.compile(
    r"(?<![\w.])(?:(?:typing|typing_extensions|t|builtins)\.)?"
    r"(Any|object|[A-Z]|[A-Z]_co|[A-Z]_contra)(?![\w.])"
)
# a mixed pool for what a hint does not narrow down
_ANYTHING = (
    *INTS[:3],
    *STRS[:4],
    "None",
    "True",
    "False",
    FLOATS[1],
    "[1, 2]",
    "['a', 'b']",
    "{}",
    "{'a': 1}",
)


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
        add_unique(pool, _ANYTHING)
        for exprs in facts.instances.values():
            add_unique(pool, exprs[:3])
    return pool


def function_params(
    func: FuncNode,
    facts: ModuleFacts,
    *,
    skip_first: bool,
    extra_strings: list[str],
    overloads: Sequence[FuncNode] = (),
) -> list[Param]:
    """Parameters of ``func`` with values to try, best first; an unhinted one
    takes the hints its ``@overload`` stubs give it, as a union."""
    args = func.args
    positional = [*args.posonlyargs, *args.args]
    stub_hints = _stub_hints(positional, args.kwonlyargs, overloads)
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
        hint = (
            ast.unparse(arg.annotation) if arg.annotation else stub_hints.get(arg.arg)
        )
        values: list[str] = []
        add_unique(values, compared.get(arg.arg, []))
        add_unique(values, facts.by_param.get(arg.arg, [])[:20])
        typed = hint_values(hint, facts)
        # a hint that says nothing (none, ``Any``): the body says more
        opaque = hint is not None and _OPAQUE.fullmatch(hint) is not None
        used = usage_values(func, arg.arg, facts) if hint is None or opaque else []
        typed = [*used, *(v for v in typed if v not in used)]
        add_unique(values, typed[:3])
        # texts for a parameter that takes text; ``Any`` only when used as text
        wants_str = any(_is_text(v) for v in (used if opaque else typed))
        if wants_str:
            add_unique(values, [v for v in facts.observed[-12:] if _is_text(v)])
            add_unique(values, facts.documents)
        add_unique(values, typed)
        if wants_str:
            add_unique(values, strings + extra_strings)
        if any(v.lstrip("-").isdigit() for v in typed):
            add_unique(values, numbers)
        # values of the wrong type reach the input checks, after the right ones
        wrong = frozenset(v for v in WRONG if v not in typed and v not in values)
        # however full the pool: an input check is a branch of its own
        add_unique(values, WRONG, len(values) + len(WRONG))
        if func.name in _ITEM_METHODS and arg is positional[0]:
            add_unique(values, SLICES)  # a container is indexed by slices too
        given = defaults.get(arg.arg)
        if given is not None:
            values = [given, *(v for v in values if v != given)]
            wrong -= {given}
        params.append(Param(arg.arg, values, given, kind, wrong))
    if args.vararg is not None:
        star = _star_param(args.vararg, facts, strings + extra_strings)
        # the argument lists the stubs spell out: ``Range(10)``, ``Range(1, 10, 2)``
        spelt = _stub_calls(len(positional) + skip_first, overloads, facts)
        star.values = [*star.values[:1], *spelt, *star.values[1:]]
        params.append(star)
    return params


def _stub_calls(
    taken: int, overloads: Sequence[FuncNode], facts: ModuleFacts
) -> list[str]:
    """For ``*args``: each stub's positional parameters past the ``taken``
    the real function names, filled with the first value of their hints."""
    calls: list[str] = []
    for stub in overloads:
        extra = [*stub.args.posonlyargs, *stub.args.args][taken:]
        if not extra:
            continue
        firsts = []
        for arg in extra:
            hint = ast.unparse(arg.annotation) if arg.annotation else None
            firsts.append((hint_values(hint, facts) or ["None"])[0])
        add_unique(calls, [", ".join(firsts)])
    return calls


_ITEM_METHODS = frozenset({"__getitem__", "__setitem__", "__delitem__"})


def _stub_hints(
    positional: list[ast.arg], keywords: list[ast.arg], overloads: Sequence[FuncNode]
) -> dict[str, str]:
    """Per parameter name, the union of the hints the stubs give its place
    (positional parameters by position, keyword-only ones by name)."""
    found: dict[str, list[str]] = {}
    for stub in overloads:
        theirs = [*stub.args.posonlyargs, *stub.args.args]
        pairs = list(zip(positional, theirs, strict=False))
        named = {a.arg: a for a in stub.args.kwonlyargs}
        pairs += [(a, named[a.arg]) for a in keywords if a.arg in named]
        for mine, other in pairs:
            if other.annotation is not None:
                hints = found.setdefault(mine.arg, [])
                add_unique(hints, [ast.unparse(other.annotation)])
    return {name: " | ".join(hints) for name, hints in found.items()}


def _is_text(value: str) -> bool:
    return value.startswith(("'", '"'))


def _star_param(arg: ast.arg, facts: ModuleFacts, strings: list[str]) -> Param:
    """``*args``: nothing, one value, or two, from the hint's pool."""
    hint = ast.unparse(arg.annotation) if arg.annotation else None
    pool = hint_values(hint, facts)
    if hint is None or any(_is_text(v) for v in pool):
        add_unique(pool, strings[:20])
    values = ["", *pool[:12]]
    values += [f"{a}, {b}" for a, b in itertools.pairwise(pool[:8])]
    return Param(arg.arg, values, "", "star")


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
    text = ast.unparse(node)
    if _OPAQUE.fullmatch(text):
        # not the module's own class of that name (``typing.Any``, not ``Any``)
        return list(_ANYTHING)
    name = text.rsplit(".", 1)[-1]
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


def usage_values(
    func: FuncNode, name: str, facts: ModuleFacts, depth: int = 0
) -> list[str]:
    """Values for an unhinted parameter from how the body uses it; when the
    body only hands it on to a function of the module, from how that one
    uses it (two calls deep at most)."""
    usage = usage_of(func, name)
    if not usage.kinds:
        # kept on the object (``self.fn = fn``): how the class's methods use it
        stored = stored_as(func, name)
        owner = _owner_of(func, facts) if stored else None
        if owner is not None:
            usage.merge(attribute_usage(owner, stored))
    pool: list[str] = []
    if not usage.kinds and depth < 2:
        for called, position in usage.passed_to:
            callee = facts.functions.get(called)
            if callee is None or callee is func:
                continue
            names = [a.arg for a in [*callee.args.posonlyargs, *callee.args.args]]
            if position < len(names):
                add_unique(
                    pool, usage_values(callee, names[position], facts, depth + 1)
                )
    if usage.unpacked and depth < 2:
        add_unique(pool, _unpacked_items(func, usage.unpacked, facts, depth + 1))
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
        elif kind == "type":
            module_classes = [f"{facts.alias}.{c}" for c in list(facts.classes)[:3]]
            add_unique(pool, ["int", "str", "list", "object", *module_classes])
        elif kind.startswith("class:"):
            add_unique(pool, facts.instances.get(kind[6:], [])[:6])
        elif kind in _TOKEN_POOLS:
            add_unique(pool, _TOKEN_POOLS[kind])
    if usage.keys:
        add_unique(
            pool, [repr({k: 1 for k in usage.keys[:4]}), repr({usage.keys[0]: None})]
        )
    return pool


def _unpacked_items(
    func: FuncNode, names: list[str], facts: ModuleFacts, depth: int
) -> list[str]:
    """Lists of tuples for ``for a, b in param``: each place of the tuple
    filled from how the loop body uses its name."""
    places = []
    for name in names:
        found = usage_values(func, name, facts, depth) if name else []
        places.append([v for v in found if v != "None"][:3] or ["1", "'a'"])
    first = [p[0] for p in places]
    second = [p[min(1, len(p) - 1)] for p in places]
    third = [p[-1] for p in places]
    one, two, three = (f"({', '.join(t)})" for t in (first, second, third))
    return [f"[{one}]", f"[{two}, {one}]", f"[{three}]", "[]"]


def _owner_of(func: FuncNode, facts: ModuleFacts) -> ast.ClassDef | None:
    """The module class ``func`` is a method of, if it is one."""
    for cls in facts.classes.values():
        if func in cls.body:
            return cls
    return None

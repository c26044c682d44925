"""What kind of value a parameter takes, from its hint or from how the body
uses it, and values of each kind: callables, containers nested a level or
two, objects with the attributes the body reads.

A hint wins; without one, uses speak: ``f(x)`` makes a callable of one
argument, ``for a in x`` an iterable, ``x['k']`` a mapping, ``x.split()`` a
string, ``x.name`` an object with a ``name``. Every value is source text a
test can hold.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass, field

# methods that tell what a receiver is
_STR_METHODS = frozenset(
    [
        "split",
        "rsplit",
        "strip",
        "lstrip",
        "rstrip",
        "startswith",
        "endswith",
        "lower",
        "upper",
        "title",
        "replace",
        "format",
        "join",
        "encode",
        "find",
        "rfind",
        "index",
        "splitlines",
        "isdigit",
        "isalpha",
        "isalnum",
        "isspace",
        "isupper",
        "islower",
        "partition",
        "rpartition",
        "casefold",
        "zfill",
        "center",
        "ljust",
        "rjust",
        "count",
        "expandtabs",
    ]
)
_DICT_METHODS = frozenset(
    ["items", "keys", "values", "get", "setdefault", "update", "popitem"]
)
_LIST_METHODS = frozenset(["append", "extend", "insert", "remove", "sort", "reverse"])
_ITERATING = frozenset(
    [
        "list",
        "tuple",
        "set",
        "frozenset",
        "iter",
        "enumerate",
        "zip",
        "sorted",
        "reversed",
        "any",
        "all",
        "sum",
        "min",
        "max",
        "map",
        "filter",
        "dict",
    ]
)
_STR_SINKS = frozenset(
    [
        "compile",
        "cleandoc",
        "dedent",
        "indent",
        "loads",
        "fromisoformat",
        "b64decode",
        "unquote",
        "quote",
        "urlparse",
        "match",
        "fullmatch",
        "search",
        "findall",
        "finditer",
        "sub",
        "split",
        "escape",
    ]
)
_NUMBER_SINKS = frozenset(
    ["range", "abs", "round", "divmod", "pow", "hex", "oct", "bin", "chr"]
)
# attributes only a class has: the parameter is a class
_CLASS_ATTRIBUTES = frozenset(
    ["__mro__", "__bases__", "__subclasses__", "__qualname__", "mro"]
)
_BUILTIN_TYPES = frozenset(
    [
        "str",
        "int",
        "float",
        "bool",
        "bytes",
        "list",
        "tuple",
        "dict",
        "set",
        "frozenset",
        "complex",
    ]
)


@dataclass
class Usage:
    """What the body does with one parameter."""

    kinds: list[str] = field(default_factory=list)  # best guess first
    arity: int | None = None  # when called
    attributes: list[str] = field(default_factory=list)  # attributes read
    keys: list[str] = field(default_factory=list)  # constant keys looked up
    # names a loop unpacks each item into (``for key, value in param``)
    unpacked: list[str] = field(default_factory=list)
    # (function name, argument position) of plain calls it is handed to
    passed_to: list[tuple[str, int]] = field(default_factory=list)

    def add(self, kind: str) -> None:
        if kind not in self.kinds:
            self.kinds.append(kind)

    def merge(self, other: Usage) -> None:
        """Take in what another use of the same value tells."""
        for kind in other.kinds:
            self.add(kind)
        self.arity = self.arity if self.arity is not None else other.arity
        self.attributes += [a for a in other.attributes if a not in self.attributes]
        self.keys += [k for k in other.keys if k not in self.keys]


def _is(node: ast.AST, name: str) -> bool:
    """``node`` is the name, or the dotted attribute (``self.compute``)."""
    owner, dot, attr = name.rpartition(".")
    if dot:
        return (
            isinstance(node, ast.Attribute)
            and node.attr == attr
            and _is(node.value, owner)
        )
    return isinstance(node, ast.Name) and node.id == name


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def usage_of(func: ast.AST, name: str) -> Usage:
    """How the body of ``func`` uses the parameter ``name``."""
    usage = Usage()
    for node in ast.walk(func):
        if isinstance(node, ast.Call):
            _call_use(node, name, usage)
        elif isinstance(node, ast.Attribute) and _is(node.value, name):
            _attribute_use(node.attr, usage)
        elif isinstance(node, ast.Subscript) and _is(node.value, name):
            _subscript_use(node.slice, usage)
        elif isinstance(node, (ast.For, ast.comprehension)) and _is(node.iter, name):
            usage.add("iterable")
            if isinstance(node.target, ast.Tuple) and not usage.unpacked:
                usage.unpacked = [
                    e.id if isinstance(e, ast.Name) else "" for e in node.target.elts
                ]
        elif isinstance(node, ast.Compare):
            _compare_use(node, name, usage)
        elif isinstance(node, ast.BinOp) and (
            _is(node.left, name) or _is(node.right, name)
        ):
            other = node.right if _is(node.left, name) else node.left
            if isinstance(other, ast.Constant) and isinstance(
                other.value, (int, float)
            ):
                usage.add("number")
            elif isinstance(other, ast.Constant) and isinstance(other.value, str):
                usage.add("str")
    return usage


def _call_use(node: ast.Call, name: str, usage: Usage) -> None:
    if _is(node.func, name):
        usage.add("callable")
        usage.arity = len(node.args) if not node.keywords else None
        return
    called = _call_name(node)
    args = [a for a in node.args if _is(a, name)]
    if isinstance(node.func, ast.Name):
        usage.passed_to += [
            (called, i) for i, a in enumerate(node.args) if _is(a, name)
        ]
    if not args and not any(_is(k.value, name) for k in node.keywords):
        return
    if called == "isinstance" and len(node.args) == 2 and _is(node.args[0], name):
        for kind in _isinstance_kinds(node.args[1]):
            usage.add(kind)
    elif called == "len":
        usage.add("sized")
    elif called in _ITERATING:
        usage.add("iterable")
    elif called in _STR_SINKS or (
        called in ("int", "float") and node.args and _is(node.args[0], name)
    ):
        usage.add("str")
    elif called in _NUMBER_SINKS:
        usage.add("number")
    elif (
        called in ("getattr", "hasattr", "setattr", "vars")
        and node.args
        and _is(node.args[0], name)
    ):
        usage.add("object")
        if len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
            value = node.args[1].value
            if isinstance(value, str) and value.isidentifier():
                usage.attributes.append(value)


def _isinstance_kinds(spec: ast.expr) -> list[str]:
    names = [spec] if not isinstance(spec, ast.Tuple) else list(spec.elts)
    kinds = []
    for item in names:
        text = ast.unparse(item).rsplit(".", 1)[-1]
        if text == "type":
            kinds.append("type")
        else:
            kinds.append(text if text in _BUILTIN_TYPES else f"class:{text}")
    return kinds


def _attribute_use(attr: str, usage: Usage) -> None:
    if attr in _CLASS_ATTRIBUTES:
        usage.add("type")
    elif attr in _STR_METHODS:
        usage.add("str")
    elif attr in _DICT_METHODS:
        usage.add("dict")
    elif attr in _LIST_METHODS:
        usage.add("list")
    elif not attr.startswith("__"):
        usage.add("object")
        if attr not in usage.attributes:
            usage.attributes.append(attr)


def _subscript_use(key: ast.expr, usage: Usage) -> None:
    if isinstance(key, ast.Slice):
        usage.add("sequence")
    elif isinstance(key, ast.Constant) and isinstance(key.value, str):
        usage.add("dict")
        usage.keys.append(key.value)
    elif isinstance(key, ast.Constant) and isinstance(key.value, int):
        usage.add("sequence")
    else:
        usage.add("sequence")


def _compare_use(node: ast.Compare, name: str, usage: Usage) -> None:
    operands = [node.left, *node.comparators]
    for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
        if isinstance(op, (ast.In, ast.NotIn)) and _is(right, name):
            usage.add("iterable")
        elif _is(left, name) or _is(right, name):
            other = right if _is(left, name) else left
            if isinstance(other, ast.Constant) and type(other.value) in (int, float):
                usage.add("number")
            elif isinstance(other, ast.Constant) and isinstance(other.value, str):
                usage.add("str")


def callables(arity: int | None, products: Sequence[str] = ()) -> list[str]:
    """Functions to pass: identity, constants, predicates, a raising one,
    builtins, and ones that give the module's own objects."""
    if arity == 0:
        found = ["lambda: None", "lambda: 0", "lambda: 'a'", "lambda: True"]
    elif arity == 1:
        found = [
            "lambda x: x",
            "lambda x: True",
            "lambda x: False",
            "str",
            "lambda x: x * 2",
            "bool",
            "len",
            "lambda x: None",
            "lambda x: 1 // 0",
        ]
    elif arity == 2:
        found = [
            "lambda a, b: a + b",
            "lambda a, b: a",
            "lambda a, b: b",
            "max",
            "lambda a, b: a == b",
            "lambda a, b: None",
        ]
    else:
        found = [
            "lambda *args, **kwargs: args[0] if args else None",
            "lambda *args, **kwargs: True",
            "lambda *args, **kwargs: False",
            "lambda *args, **kwargs: None",
            "lambda *args, **kwargs: str(args)",
        ]
    found += [f"lambda *args, **kwargs: {p}" for p in products[:3]]
    return found


def containers(kind: str, items: list[str]) -> list[str]:
    """Values of a container kind filled with ``items`` (empty, one, several,
    nested one level)."""
    a, b, c = [*items, "1", "2", "3"][:3]
    if kind in ("dict", "mapping"):
        return [
            "{}",
            f"{{'a': {a}}}",
            f"{{'a': {a}, 'b': {b}}}",
            f"{{'a': {{'b': {a}}}}}",
        ]
    if kind == "tuple":
        return ["()", f"({a},)", f"({a}, {b})", f"(({a}, {b}), ({c},))"]
    if kind == "set":
        return ["set()", f"{{{a}}}", f"{{{a}, {b}}}"]
    if kind == "iterable":
        return [
            f"[{a}, {b}, {c}]",
            "[]",
            "range(5)",
            f"iter([{a}, {b}])",
            f"({a}, {b})",
            "'abc'",
            f"[[{a}, {b}], [{c}]]",
        ]
    return ["[]", f"[{a}]", f"[{a}, {b}, {c}]", f"[[{a}, {b}], [{c}]]", f"[{a}, {a}]"]


def namespace(attributes: list[str], values: list[str]) -> list[str]:
    """Objects with the attributes the body reads (``types.SimpleNamespace``)."""
    if not attributes:
        return []
    attrs = attributes[:6]
    first = ", ".join(
        f"{n}={values[i % len(values)] if values else '1'}" for i, n in enumerate(attrs)
    )
    none = ", ".join(f"{n}=None" for n in attrs)
    return [f"types.SimpleNamespace({first})", f"types.SimpleNamespace({none})"]


def stored_as(func: ast.AST, name: str) -> list[str]:
    """Attributes of the first parameter ``name`` is kept in (``self.x = x``)."""
    args = getattr(func, "args", None)
    if args is None or not args.args:
        return []
    me = args.args[0].arg
    found = []
    for node in ast.walk(func):
        if isinstance(node, ast.Assign) and _is(node.value, name):
            found += [
                t.attr
                for t in node.targets
                if isinstance(t, ast.Attribute) and _is(t.value, me)
            ]
    return found


def attribute_usage(cls: ast.ClassDef, attrs: list[str]) -> Usage:
    """How the methods of ``cls`` use ``self.<attr>`` for each of ``attrs``."""
    usage = Usage()
    for method in cls.body:
        if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if not method.args.args:
            continue
        me = method.args.args[0].arg
        for attr in attrs:
            usage.merge(usage_of(method, f"{me}.{attr}"))
    return usage

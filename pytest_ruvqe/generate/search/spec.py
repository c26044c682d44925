"""Calls as the search builds and mutates them: a receiver, a sequence of
steps on it, then the target call with one value per parameter.

A :class:`CallSpec` is plain data; :class:`Shape` knows how a call of one
target is written (a function, a method through ``obj``, a protocol such as
``obj[key]`` or ``len(obj)``, a generator consumed into a list) and turns a
spec into the :class:`~.probe.PlannedCall` the probe runs and the test shows.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from pytest_ruvqe.generate.search.inputs import FuncNode, Param
from pytest_ruvqe.generate.search.probe import PlannedCall

# protocol methods written as a reader would: {obj} is the receiver, {0} ... the
# arguments; anything else is called by name
PROTOCOL_FORMS: dict[str, str] = {
    "__len__": "len({obj})",
    "__iter__": "list(itertools.islice(iter({obj}), 50))",
    "__next__": "next({obj})",
    "__reversed__": "list(reversed({obj}))",
    "__getitem__": "{obj}[{0}]",
    "__contains__": "{0} in {obj}",
    "__eq__": "{obj} == {0}",
    "__ne__": "{obj} != {0}",
    "__lt__": "{obj} < {0}",
    "__le__": "{obj} <= {0}",
    "__gt__": "{obj} > {0}",
    "__ge__": "{obj} >= {0}",
    "__hash__": "hash({obj})",
    "__bool__": "bool({obj})",
    "__str__": "str({obj})",
    "__repr__": "repr({obj})",
    "__add__": "{obj} + {0}",
    "__radd__": "{0} + {obj}",
    "__sub__": "{obj} - {0}",
    "__mul__": "{obj} * {0}",
    "__rmul__": "{0} * {obj}",
    "__truediv__": "{obj} / {0}",
    "__floordiv__": "{obj} // {0}",
    "__mod__": "{obj} % {0}",
    "__and__": "{obj} & {0}",
    "__or__": "{obj} | {0}",
    "__xor__": "{obj} ^ {0}",
    "__neg__": "-{obj}",
    "__abs__": "abs({obj})",
    "__int__": "int({obj})",
    "__float__": "float({obj})",
    "__call__": "{obj}({args})",
    "__format__": "format({obj}, {0})",
}
# protocol methods that change the receiver: the call is a statement, and the
# receiver is what the test looks at
PROTOCOL_STATEMENTS: dict[str, str] = {
    "__setitem__": "{obj}[{0}] = {1}",
    "__delitem__": "del {obj}[{0}]",
    "__iadd__": "{obj} += {0}",
}
# standard modules a value or a call may name (``types.SimpleNamespace(...)``,
# ``operator.add``): each gets its import when the call uses it
STDLIB_NAMES = (
    "asyncio",
    "collections",
    "datetime",
    "decimal",
    "fractions",
    "functools",
    "itertools",
    "math",
    "operator",
    "re",
    "string",
    "types",
    "uuid",
)
_STDLIB_USE = re.compile(r"(?<![\w.])(" + "|".join(STDLIB_NAMES) + r")\.")
MAX_REPR = 400  # the longest value expression the search writes into a test


@dataclass(frozen=True)
class Step:
    """One call on the receiver before the target call: ``obj.method(args)``."""

    method: str  # the name as written from outside (private names mangled)
    args: tuple[str, ...] = ()
    # how it is written when not as a call: ``{obj}.name = {0}`` for a
    # property's setter, ``{obj}.name`` for reading a property
    form: str = ""

    def render(self) -> str:
        form = self.form or PROTOCOL_STATEMENTS.get(self.method)
        if form is not None:
            return form.format(*self.args, obj="obj")
        return f"obj.{self.method}({', '.join(self.args)})"


# how a property's accessors are written, as the target or as a step
ACCESSOR_FORMS = {
    "property": "{obj}.%s",
    "setter": "{obj}.%s = {0}",
    "deleter": "del {obj}.%s",
}


@dataclass(frozen=True)
class CallSpec:
    """One call to try: how the receiver is built, steps on it, the arguments."""

    receiver: str = ""  # expression building ``obj``; "" when there is none
    steps: tuple[Step, ...] = ()
    args: tuple[str, ...] = ()  # one source expression per parameter
    then: str = ""  # a follow-up on the result: ``(1)``, ``.get()``

    @property
    def size(self) -> int:
        """How big the call reads: smaller specs are kept over bigger ones."""
        text = self.receiver + "".join(a for a in self.args) + self.then
        text += "".join(s.method + "".join(s.args) for s in self.steps)
        return len(text) + 40 * len(self.steps)


CalleeKind = str  # function, method, static, classmethod, property, init


@dataclass(frozen=True)
class Shape:
    """How a call of one target is written."""

    node: FuncNode
    cls_name: str | None
    kind: CalleeKind
    name: str  # the callee's name from outside (mangled when private)
    alias: str  # the module's name in the test
    params: tuple[Param, ...]
    wrap: str = "{}"  # async calls are run, generators consumed

    @property
    def needs_obj(self) -> bool:
        return self.cls_name is not None and self.kind in (
            "method",
            "property",
            "setter",
            "deleter",
        )

    def planned(self, spec: CallSpec, call_id: str) -> PlannedCall:
        """The spec as setup statements and one expression."""
        expr = self.expression(spec.args)
        setup: list[str] = []
        if self.needs_obj:
            setup.append(f"obj = {spec.receiver or self._default_receiver()}")
        setup.extend(step.render() for step in spec.steps)
        form = PROTOCOL_STATEMENTS.get(self.node.name)
        if form is not None and self.needs_obj:
            args = spec.args
            if args and "[{0}]" in form:
                args = (subscript(args[0]), *args[1:])
            expr = form.format(*args, obj="obj")
        elif spec.then:
            expr = f"{expr}{spec.then}"
        used = _STDLIB_USE.findall(" ".join([*setup, expr]))
        imports = [
            f"import {name}" for name in dict.fromkeys(used) if name != self.alias
        ]
        observe = "obj" if self.needs_obj else ""
        return PlannedCall(
            call_id, tuple(dict.fromkeys([*imports, *setup])), expr, observe
        )

    def _default_receiver(self) -> str:
        return f"{self.alias}.{self.cls_name}()"

    def expression(self, args: tuple[str, ...]) -> str:
        """The call itself, with ``obj`` as the receiver of a method."""
        rendered = render_args(self.params, args)
        owner = f"{self.alias}.{self.cls_name}" if self.cls_name else self.alias
        if self.kind == "init":
            return f"{owner}({rendered})"
        if self.kind in ACCESSOR_FORMS:
            return (ACCESSOR_FORMS[self.kind] % self.name).format(*args, obj="obj")
        if self.kind in ("static", "classmethod", "function"):
            return self.wrap.format(f"{owner}.{self.name}({rendered})")
        form = PROTOCOL_FORMS.get(self.node.name)
        if form is not None and len(args) >= _arity(form):
            if form.startswith("{obj}["):
                args = (subscript(args[0]), *args[1:])
            return self.wrap.format(form.format(*args, obj="obj", args=rendered))
        return self.wrap.format(f"obj.{self.name}({rendered})")


_SLICE = re.compile(r"slice\(([^(),]*)(?:, ([^(),]*))?(?:, ([^(),]*))?\)")


def subscript(value: str) -> str:
    """A slice as a reader writes it inside brackets: ``slice(1, 3)`` → ``1:3``."""
    match = _SLICE.fullmatch(value)
    if match is None:
        return value
    parts = [p for p in match.groups() if p is not None]
    if len(parts) == 1:
        parts = ["None", *parts]  # slice(stop)
    shown = ["" if p.strip() == "None" else p.strip() for p in parts]
    return ":".join(shown)


def _arity(form: str) -> int:
    return sum(1 for i in range(3) if "{" + str(i) + "}" in form)


def render_args(
    params: tuple[Param, ...] | list[Param], chosen: tuple[str, ...] | list[str]
) -> str:
    """Call arguments; trailing defaults left out, keyword-only ones by name."""
    pairs = list(zip(params, chosen, strict=False))
    positional = [(p, v) for p, v in pairs if p.kind == "positional"]
    while positional and positional[-1][1] == positional[-1][0].default:
        positional.pop()
    parts = [v for _, v in positional]
    parts += [
        f"{p.name}={v}" for p, v in pairs if p.kind == "keyword" and v != p.default
    ]
    parts += [v for p, v in pairs if p.kind == "star" and v]
    return ", ".join(parts)


def is_literal(text: str) -> bool:
    """Whether a value expression is a plain literal (it can be perturbed)."""
    try:
        ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True

"""What the search of one target may draw on, and its first calls.

:func:`vocabulary` resolves the target in the module's syntax tree and
gathers, for it, the values of each parameter (:mod:`.inputs`), the ways to
build its receiver (constructors, factories, dataclass fields, examples),
and the other methods of its class that can run before it (steps of a call
sequence). :class:`Vocabulary` then gives the first, deterministic calls
(examples, defaults, one value varied at a time, one-step sequences) and
fresh random ones; :mod:`.mutate` derives new calls from kept ones.
"""

from __future__ import annotations

import ast
import dataclasses
import itertools
import random
from dataclasses import dataclass, field
from typing import Literal

from pytest_ruvqe.generate.search.follow import followers
from pytest_ruvqe.generate.search.inputs import (
    Example,
    FuncNode,
    ModuleFacts,
    Param,
    add_unique,
    body_constants,
    first_value,
    is_generator,
)
from pytest_ruvqe.generate.search.params import function_params, hint_values
from pytest_ruvqe.generate.search.probe import PlannedCall
from pytest_ruvqe.generate.search.spec import (
    ACCESSOR_FORMS,
    PROTOCOL_FORMS,
    PROTOCOL_STATEMENTS,
    CallSpec,
    Shape,
    Step,
    render_args,
)

MAX_RECEIVERS = 40
MAX_STEPS = 3
CalleeKind = Literal[
    "function",
    "method",
    "static",
    "classmethod",
    "property",
    "setter",
    "deleter",
    "init",
]
_ON_OBJECT = ("method", "property", "setter", "deleter")


@dataclass(frozen=True)
class Callee:
    """A target resolved in the module's syntax tree."""

    node: FuncNode
    cls: ast.ClassDef | None
    kind: CalleeKind


def _last_def(body: list[ast.stmt], name: str) -> FuncNode | None:
    # the last definition wins at run time (``@overload`` stubs come first)
    found = None
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
            node.name == name
        ):
            found = node
    return found


def resolve(tree: ast.Module, qualname: str) -> Callee | None:
    """Find a module-level function or a method of a class (nested classes too)."""
    parts = qualname.split(".")
    if len(parts) == 1:
        node = _last_def(tree.body, parts[0])
        return Callee(node, None, "function") if node is not None else None
    body, cls = tree.body, None
    for name in parts[:-1]:
        cls = next(
            (n for n in body if isinstance(n, ast.ClassDef) and n.name == name), None
        )
        if cls is None:
            return None  # nested functions are reached through their owner
        body = cls.body
    method = _last_def(body, parts[-1])
    if method is None or cls is None:
        return None
    return Callee(method, cls, _method_kind(method))


def overloads(body: list[ast.stmt], node: FuncNode) -> list[FuncNode]:
    """The ``@overload`` stubs of ``node`` beside it in ``body``."""
    return [
        n
        for n in body
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
        and n is not node
        and n.name == node.name
        and any(
            ast.unparse(d).rsplit(".", 1)[-1] == "overload" for d in n.decorator_list
        )
    ]


def _method_kind(node: FuncNode) -> CalleeKind:
    names = {
        ast.unparse(d).split("(")[0].rsplit(".", 1)[-1] for d in node.decorator_list
    }
    if "staticmethod" in names:
        return "static"
    if "classmethod" in names:
        return "classmethod"
    if names & {"property", "cached_property", "getter"}:
        return "property"
    if names & {"setter", "deleter"}:
        return "setter" if "setter" in names else "deleter"
    return "init" if node.name == "__init__" else "method"


def _attr(cls: ast.ClassDef, name: str) -> str:
    """The attribute name to use from outside (private names are mangled)."""
    if name.startswith("__") and not name.endswith("__"):
        return f"_{cls.name.lstrip('_')}{name}"
    return name


def example_args(
    example: Example, params: list[Param] | tuple[Param, ...]
) -> list[str] | None:
    """The value of each parameter in a call given as ``example`` (its first
    value where the call gives none); None when the call passes too many."""
    chosen = [first_value(p) for p in params]
    if len(example.args) > len([p for p in params if p.kind != "keyword"]):
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


def _init_of(cls: ast.ClassDef, facts: ModuleFacts) -> ast.FunctionDef | None:
    for owner in class_chain(cls, facts.classes):
        for node in owner.body:
            if isinstance(node, ast.FunctionDef) and node.name == "__init__":
                return node
    return None


def constructor_params(
    cls: ast.ClassDef, facts: ModuleFacts, strings: list[str]
) -> list[Param]:
    """What the class is called with: dataclass fields or ``__init__``'s
    parameters (inherited from a base class of the module if it has none)."""
    params = dataclass_params(cls, facts)
    if params is not None:
        return params
    init = _init_of(cls, facts)
    if init is None:
        return []
    return function_params(init, facts, skip_first=True, extra_strings=strings)


def receivers(
    cls: ast.ClassDef,
    facts: ModuleFacts,
    strings: list[str],
    variants: int = 3,
    limit: int = MAX_RECEIVERS,
    owner: str = "",
) -> list[str]:
    """Expressions that build an instance: constructor variants and factories."""
    path = f"{facts.alias}.{owner}{cls.name}"
    params = constructor_params(cls, facts, strings)
    base = [first_value(p) for p in params]
    found: list[str] = []
    for example in facts.examples.get(cls.name, []):
        chosen = example_args(example, params)
        if chosen is not None:
            add_unique(found, [f"{path}({render_args(params, chosen)})"], limit)
    add_unique(found, [f"{path}({render_args(params, base)})"], limit)
    singles, pairs = [], []
    for i, param in enumerate(params):
        for value in param.values[1 : variants + 1]:
            chosen = list(base)
            chosen[i] = value
            singles.append(f"{path}({render_args(params, chosen)})")
    # every two of the first few parameters changed together: what an option
    # does often depends on another one
    for i, j in itertools.combinations(range(min(len(params), 6)), 2):
        if len(params[i].values) > 1 and len(params[j].values) > 1:
            chosen = list(base)
            chosen[i], chosen[j] = params[i].values[1], params[j].values[1]
            pairs.append(f"{path}({render_args(params, chosen)})")
    add_unique(found, singles[: limit // 2], limit)
    add_unique(found, pairs, limit)
    add_unique(found, _factories(cls, facts, strings, path), limit)
    add_unique(found, singles, limit)
    return found[:limit]


def _factories(
    cls: ast.ClassDef, facts: ModuleFacts, strings: list[str], path: str
) -> list[str]:
    """Static and class methods that return an instance of the class."""
    found: list[str] = []
    for node in cls.body:
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
            continue
        kind = _method_kind(node)
        returns = ast.unparse(node.returns) if node.returns else ""
        if kind not in ("static", "classmethod") or cls.name not in returns + (
            "cls" if kind == "classmethod" and _returns_cls(node) else ""
        ):
            continue
        fparams = function_params(
            node, facts, skip_first=kind == "classmethod", extra_strings=strings
        )
        base = [first_value(p) for p in fparams]
        add_unique(found, [f"{path}.{node.name}({render_args(fparams, base)})"])
        for i, param in enumerate(fparams[:2]):
            for value in param.values[1:4]:
                chosen = list(base)
                chosen[i] = value
                args = render_args(fparams, chosen)
                add_unique(found, [f"{path}.{node.name}({args})"])
    return found


def _returns_cls(node: ast.FunctionDef) -> bool:
    for child in ast.walk(node):
        if isinstance(child, ast.Return) and isinstance(child.value, ast.Call):
            func = child.value.func
            if isinstance(func, ast.Name) and func.id == "cls":
                return True
    return False


@dataclass(frozen=True)
class StepMethod:
    """A method of the receiver's class that may run before the target."""

    name: str
    params: tuple[Param, ...]
    form: str = ""  # a property read or set, as :class:`Step` writes it


@dataclass
class Vocabulary:
    """What the search of one target draws its calls from."""

    shape: Shape
    receivers: list[str] = field(default_factory=list)
    steps: list[StepMethod] = field(default_factory=list)
    strings: list[str] = field(default_factory=list)  # the module's text pieces
    examples: list[tuple[str, ...]] = field(default_factory=list)
    # how the receiver's class is called (its path and parameters), so that
    # the search can vary a receiver's arguments in combination
    builder: str = ""
    build_params: tuple[Param, ...] = ()
    # follow-ups on the result that reach code the target defines but does
    # not run (:mod:`.follow`)
    followers: list[str] = field(default_factory=list)

    @property
    def params(self) -> tuple[Param, ...]:
        return self.shape.params

    def cost(self, spec: CallSpec) -> int:
        """How much a kept call costs a reader: its size, and much more for each
        argument of a type the function does not take."""
        wrong = sum(
            1 for p, a in zip(self.params, spec.args, strict=False) if a in p.wrong
        )
        return spec.size + 200 * wrong

    def base_args(self) -> tuple[str, ...]:
        return tuple(first_value(p) for p in self.params)

    def planned(self, spec: CallSpec, call_id: str) -> PlannedCall:
        return self.shape.planned(spec, call_id)

    def initial(self) -> list[CallSpec]:
        """Examples, the defaults, one value varied at a time, one-step sequences."""
        base = self.base_args()
        first = self.receivers[0] if self.receivers else ""
        specs = [CallSpec(first, (), args) for args in self.examples]
        specs += [CallSpec(r, (), base) for r in self.receivers or [""]]
        for i, param in enumerate(self.params):
            # the wrong types too, however long the pool: input checks first
            late = [v for v in param.values[30:] if v in param.wrong]
            for value in [*param.values[1:30], *late]:
                args = list(base)
                args[i] = value
                specs.append(CallSpec(first, (), tuple(args)))
        for method in self.steps:
            for receiver in self.receivers[:4] or [""]:
                specs.append(CallSpec(receiver, (self.step(method, None),), base))
        specs += [CallSpec(first, (), base, then) for then in self.followers]
        return specs

    def step(self, method: StepMethod, rng: random.Random | None) -> Step:
        """A call of ``method`` with its first values, or random ones."""
        values = []
        for param in method.params:
            if param.kind != "positional":
                continue
            pool = param.values or ["None"]
            values.append(rng.choice(pool) if rng else first_value(param))
        return Step(method.name, tuple(values), method.form)

    def fresh(self, rng: random.Random) -> CallSpec:
        """A random call: random receiver, up to ``MAX_STEPS`` steps, random values."""
        args = tuple(
            rng.choice(p.values) if p.values else first_value(p) for p in self.params
        )
        receiver = rng.choice(self.receivers) if self.receivers else ""
        steps: tuple[Step, ...] = ()
        if self.steps and rng.random() < 0.5:
            count = rng.randint(1, MAX_STEPS)
            steps = tuple(self.step(rng.choice(self.steps), rng) for _ in range(count))
        then = rng.choice(self.followers) if self.followers else ""
        return CallSpec(receiver, steps, args, then)


def _shape(callee: Callee, alias: str, params: list[Param], owner: str) -> Shape:
    node, cls = callee.node, callee.cls
    cls_name = None if cls is None else owner + cls.name
    name = node.name if cls is None else _attr(cls, node.name)
    shape = Shape(node, cls_name, callee.kind, name, alias, tuple(params))
    if isinstance(node, ast.AsyncFunctionDef):
        return dataclasses.replace(shape, wrap="asyncio.run({})")
    if is_generator(node) and node.name not in PROTOCOL_FORMS:
        return dataclasses.replace(shape, wrap="list(itertools.islice({}, 50))")
    return shape


def _step_methods(
    callee: Callee, facts: ModuleFacts, strings: list[str]
) -> list[StepMethod]:
    """Public methods and mutating protocols of the class (and its bases in
    the module); the target too when it changes its object (a second call
    meets what the first left: a key taken, a timer already running)."""
    cls = callee.cls
    if cls is None or callee.kind not in _ON_OBJECT:
        return []
    found = []
    seen = set() if changes_self(callee.node) else {(callee.node.name, callee.kind)}
    for node in (n for c in class_chain(cls, facts.classes) for n in c.body):
        if not isinstance(node, ast.FunctionDef):
            continue
        kind = _method_kind(node)
        if (node.name, kind) in seen:
            continue
        seen.add((node.name, kind))
        private = node.name.startswith("_") and not node.name.endswith("__")
        mutating = node.name in PROTOCOL_STATEMENTS
        if (private or node.name.startswith("__")) and not mutating:
            continue
        if kind not in ("method", "property", "setter"):
            continue
        params = function_params(node, facts, skip_first=True, extra_strings=strings)
        name = _attr(cls, node.name)
        # reading a property (a cached one fills its cache), setting one
        form = ACCESSOR_FORMS[kind] % name if kind != "method" else ""
        found.append(StepMethod(name, tuple(params), form))
    return found


def _owner_path(tree: ast.Module, cls: ast.ClassDef) -> str:
    """``Outer.`` for a class nested in another, "" at module level."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and cls in node.body:
            return _owner_path(tree, node) + node.name + "."
    return ""


def vocabulary(
    tree: ast.Module, facts: ModuleFacts, qualname: str
) -> Vocabulary | None:
    """Everything the search may try for ``qualname``, or None if not callable."""
    callee = resolve(tree, qualname)
    if callee is None:
        return None
    strings, _ = body_constants(callee.node)
    add_unique(strings, facts.strings, 160)
    body = callee.cls.body if callee.cls is not None else tree.body
    params = function_params(
        callee.node,
        facts,
        skip_first=callee.kind in (*_ON_OBJECT, "classmethod", "init"),
        extra_strings=strings,
        overloads=overloads(body, callee.node),
    )
    if callee.cls is not None and callee.kind in _ON_OBJECT:
        params = _receiver_as_argument(params, facts.instances.get(callee.cls.name, []))
    owner = _owner_path(tree, callee.cls) if callee.cls is not None else ""
    shape = _shape(callee, facts.alias, params, owner)
    pool: list[str] = []
    builder = ""
    build_params: tuple[Param, ...] = ()
    if callee.cls is not None:
        builder = f"{facts.alias}.{owner}{callee.cls.name}"
        build_params = tuple(constructor_params(callee.cls, facts, strings))
        many = len(params) <= 1  # few arguments: the receiver's state is what varies
        pool = receivers(
            callee.cls,
            facts,
            strings,
            variants=30 if many else 3,
            owner=owner,
        ) or [f"{facts.alias}.{owner}{callee.cls.name}()"]
    examples = [
        tuple(chosen)
        for example in facts.examples.get(callee.node.name, [])
        if (chosen := example_args(example, params)) is not None
    ]
    return Vocabulary(
        shape,
        pool,
        _step_methods(callee, facts, strings),
        strings,
        examples,
        builder,
        build_params,
        followers(callee.node, callee.cls, facts),
    )


def _receiver_as_argument(params: list[Param], instances: list[str]) -> list[Param]:
    """Where a parameter takes instances of the receiver's class, the
    receiver itself too (``obj == obj``, ``obj.merge(obj)``)."""
    out = []
    for param in params:
        at = next((i for i, v in enumerate(param.values) if v in instances), None)
        if at is not None and "obj" not in param.values:
            values = [*param.values[: at + 1], "obj", *param.values[at + 1 :]]
            param = dataclasses.replace(param, values=values)
        out.append(param)
    return out


def class_chain(
    cls: ast.ClassDef, classes: dict[str, ast.ClassDef]
) -> list[ast.ClassDef]:
    """``cls`` and its base classes defined in the same module, nearest first."""
    chain: list[ast.ClassDef] = []
    todo = [cls]
    while todo:
        current = todo.pop(0)
        if current in chain:
            continue
        chain.append(current)
        for base in current.bases:
            name = ast.unparse(base).rsplit(".", 1)[-1]
            if name in classes:
                todo.append(classes[name])
    return chain


_MUTATORS = frozenset(
    {
        "append",
        "extend",
        "add",
        "update",
        "pop",
        "remove",
        "clear",
        "insert",
        "setdefault",
        "discard",
        "popitem",
    }
)


def changes_self(node: FuncNode) -> bool:
    """Whether a method assigns, deletes or mutates in place what hangs off
    its first parameter (``self.x = ...``, ``self.items[k] = v``,
    ``self.log.append(...)``)."""
    if not node.args.args:
        return False
    me = node.args.args[0].arg
    for sub in ast.walk(node):
        targets: list[ast.expr] = []
        if isinstance(sub, ast.Assign):
            targets = sub.targets
        elif isinstance(sub, (ast.AugAssign, ast.AnnAssign)):
            targets = [sub.target]
        elif isinstance(sub, ast.Delete):
            targets = sub.targets
        elif (
            isinstance(sub, ast.Call)
            and isinstance(sub.func, ast.Attribute)
            and sub.func.attr in _MUTATORS
        ):
            targets = [sub.func.value]
        if any(_rooted_at(t, me) for t in targets):
            return True
    return False


def _rooted_at(node: ast.expr, name: str) -> bool:
    """``name.a``, ``name.a[k]``, ``name[k].b``: a place inside ``name``."""
    if not isinstance(node, (ast.Attribute, ast.Subscript)):
        return False
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return isinstance(node, ast.Name) and node.id == name

"""Kept calls as tests a reviewer keeps: named for the function and the case,
asserting behaviour, importing only what they use.

A value whose repr gives it back is asserted exactly (short ones only); an
object by its type, length and a few public attributes; a method's effect by
the receiver's attributes after the call; an exception only when the code
raises it itself (a ``raise`` in the module or an error the docstring names)
or it is one of the lookups' own (``IndexError``, ``KeyError``...), never a
``TypeError`` of a wrong argument.
"""

from __future__ import annotations

import ast
import dataclasses
import re

from pytest_ruvqe.generate.allowlist import check
from pytest_ruvqe.generate.search.probe import CallOutcome
from pytest_ruvqe.generate.source import import_line
from pytest_ruvqe.generate.types import Target

# what one assertion checks: ("result", ""), ("field", "name"), ("len", "")...
Check = tuple[str, str]
MAX_ASSERTED_REPR = 300  # longer values are asserted by type, length, fields
MAX_FIELDS = 3
_SINGLETONS = ("None", "True", "False")
# exceptions a lookup or an arithmetic raises without a ``raise``: behaviour
_IMPLICIT = frozenset(
    {"IndexError", "KeyError", "LookupError", "StopIteration", "ZeroDivisionError"}
)
_UNSTABLE = re.compile(r" at 0x[0-9a-fA-F]+|<[^<>]*object at|\bid=\d{6,}")


def _raised_in(node: ast.AST) -> set[str]:
    names = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Raise) and child.exc is not None:
            exc = child.exc.func if isinstance(child.exc, ast.Call) else child.exc
            names.add(ast.unparse(exc).rsplit(".", 1)[-1])
    return names


def raised_names(tree: ast.Module, qualname: str) -> frozenset[str]:
    """Exceptions the target raises itself (or a function of the module it
    calls does), those its docstring names, and the lookups' own."""
    names: set[str] = set(_IMPLICIT)
    target = _find(tree, qualname)
    if target is None:
        return frozenset(names)
    names |= _raised_in(target)
    called = {
        n.func.id if isinstance(n.func, ast.Name) else n.func.attr
        for n in ast.walk(target)
        if isinstance(n, ast.Call) and isinstance(n.func, (ast.Name, ast.Attribute))
    }
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
            node.name in called
        ):
            names |= _raised_in(node)
    doc = ast.get_docstring(target)
    if doc:
        names.update(re.findall(r"\b([A-Z]\w*(?:Error|Exception|Warning))\b", doc))
    return frozenset(names | _made_by(tree, names))


def _made_by(tree: ast.Module, raised: set[str]) -> set[str]:
    """What the module's error factories make: ``raise self.error("format")``
    raises what ``error`` returns (its hint, or the class it calls)."""
    made: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if node.name not in raised:
            continue
        if node.returns is not None:
            made.add(ast.unparse(node.returns).strip("'\"").rsplit(".", 1)[-1])
        for ret in ast.walk(node):
            if isinstance(ret, ast.Return) and isinstance(ret.value, ast.Call):
                made.add(ast.unparse(ret.value.func).rsplit(".", 1)[-1])
    return made


Defined = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def _find(tree: ast.Module, qualname: str) -> Defined | None:
    body: list[ast.stmt] = tree.body
    found: Defined | None = None
    for part in qualname.split("."):
        # the last definition wins at run time (``@overload`` stubs come first)
        named = [n for n in body if isinstance(n, Defined) and n.name == part]
        if not named:
            return None
        found = named[-1]
        body = found.body
    return found


def assertable(outcome: CallOutcome, raises: frozenset[str]) -> bool:
    """Whether a kept call can become a test that asserts real behaviour."""
    if not outcome.stable:
        return False
    if outcome.kind == "raise":
        return (outcome.type or "").rsplit(".", 1)[-1] in raises
    if outcome.call.is_statement:  # its effect on the receiver, or nothing
        return bool(outcome.state) or outcome.state_length is not None
    if outcome.kind == "value":
        text = outcome.repr or ""
        return len(text) <= MAX_ASSERTED_REPR and not _UNSTABLE.search(text)
    return outcome.kind == "object"


def _snake(name: str) -> str:
    name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    return re.sub(r"\W+", "_", name).strip("_").lower()


def _describe_value(node: ast.expr) -> str:
    """A word or two for an argument, as a test name would say it."""
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        if isinstance(node, ast.Call):
            return _snake(ast.unparse(node.func).rsplit(".", 1)[-1])[:20]
        if isinstance(node, ast.Lambda):
            return "function"
        return _snake(ast.unparse(node))[:20]
    if value is None or isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        if value == 0:
            return "zero"
        return "negative" if value < 0 else ("large" if value > 1000 else "positive")
    if isinstance(value, str):
        if not value:
            return "empty"
        if not value.strip():
            return "blank"
        if "\n" in value.strip():
            return "multiline_text"
        word = _snake(value.split()[0])[:16]
        return word or "symbols"
    if isinstance(value, (list, tuple, set, dict)):
        return f"empty_{type(value).__name__}" if not value else type(value).__name__
    return type(value).__name__


def _call_args(expr: str) -> list[ast.expr]:
    try:
        node = ast.parse(expr, mode="eval").body
    except SyntaxError:
        return []
    # the target's own call: inside ``islice(...)``, before a follow-up
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        method = node.func
        if method.attr == "islice" and node.args:
            node = node.args[0]
        elif isinstance(method.value, ast.Call):
            node = method.value
        else:
            break
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Call):
        node = node.func  # a returned function called: ``deco(f)(1)``
    calls = [n for n in ast.walk(node) if isinstance(n, ast.Call)]
    call = calls[0] if calls else None
    if isinstance(node, ast.Subscript):
        return [node.slice]
    if call is None:
        return []
    return [*call.args, *(k.value for k in call.keywords)]


def case_name(outcome: CallOutcome) -> str:
    """``raises_value_error_for_empty``, ``negative``, ``after_add``..."""
    call = outcome.call
    words = [_describe_value(a) for a in _call_args(call.expr)[:2]]
    steps = [s for s in call.setup if s.startswith("obj.")]
    if steps:
        words.append("after_" + _snake(steps[-1][4:].split("(")[0])[:16])
    if outcome.kind == "raise":
        exc = _snake((outcome.type or "error").rsplit(".", 1)[-1])
        return f"raises_{exc}" + ("_for_" + "_".join(words) if words else "")
    return "_".join(w for w in words if w) or "default"


def _function_word(qualname: str) -> str:
    parts = [p.strip("_") for p in qualname.split(".") if p != "__init__"]
    return _snake("_".join(p for p in parts if p)) or "call"


def _assertions(
    outcome: CallOutcome, checks: tuple[Check, ...] | None = None
) -> list[str]:
    """What the test asserts about ``result`` and the receiver: the ``checks``
    chosen (by the mutants they kill), or a few of each kind by default."""
    observed = checks_of(outcome)
    if checks is None:
        fields = [c for c in observed if c[0] == "field"][:MAX_FIELDS]
        state = [c for c in observed if c[0] == "state"][:MAX_FIELDS]
        checks = (
            tuple(c for c in observed if c[0] not in ("field", "state"))
            + tuple(fields)
            + tuple(state)
        )
    lines = [
        line
        for check in checks
        if check in observed
        and (line := _assertion(check, observed[check], outcome)) is not None
    ]
    return lines or ["assert result is not None"]


def render_test(
    outcome: CallOutcome, name: str, checks: tuple[Check, ...] | None = None
) -> str:
    """One test function asserting what the call was observed to do."""
    body = [f"    {line}" for line in outcome.call.setup if not _is_import(line)]
    expr = outcome.call.expr
    if outcome.kind == "raise":
        body.append(f"    with pytest.raises({outcome.type or 'Exception'}):")
        body.append(f"        {expr}")
    elif outcome.call.is_statement:
        body.append(f"    {expr}")
        body += [f"    {line}" for line in _assertions(outcome, checks)]
    else:
        lines = _assertions(outcome, checks)
        if lines == ["assert result is None"]:
            body.append(f"    assert {expr} is None")
        else:
            body.append(f"    result = {expr}")
            body += [f"    {line}" for line in lines]
    return f"def {name}() -> None:\n" + "\n".join(body) + "\n"


def _is_import(line: str) -> bool:
    return line.startswith(("import ", "from "))


def test_names(target: Target, kept: list[CallOutcome]) -> list[str]:
    """One name per test: the function and its case, numbered only when equal."""
    base = _function_word(target.qualname)
    names: list[str] = []
    for outcome in kept:
        name = f"test_{base}_{case_name(outcome)}"[:70].rstrip("_")
        candidate, n = name, 2
        while candidate in names:
            candidate, n = f"{name}_{n}", n + 1
        names.append(candidate)
    return names


def render_module(
    target: Target,
    kept: list[CallOutcome],
    checks: dict[str, tuple[Check, ...]] | None = None,
) -> str:
    """A complete test module for the kept calls of one target."""
    names = test_names(target, kept)
    tests = [
        render_test(o, n, (checks or {}).get(o.call.id))
        for o, n in zip(kept, names, strict=True)
    ]
    imports = {line for o in kept for line in o.call.setup if _is_import(line)}
    imports |= {o.needs for o in kept if o.kind == "value" and o.needs}
    if any(o.kind == "raise" for o in kept):
        imports.add("import pytest")
    header = "\n".join(sorted(imports))
    header = (
        f"{header}\n\n{import_line(target.module)}\n"
        if header
        else (f"{import_line(target.module)}\n")
    )
    return header + "\n\n" + "\n\n".join(tests)


def checks_of(outcome: CallOutcome) -> dict[Check, str]:
    """Each thing a test could assert of a call, with what was observed."""
    found: dict[Check, str] = {}
    if outcome.kind == "raise":
        found[("raises", "")] = outcome.type or "Exception"
    elif outcome.call.is_statement:
        pass  # a statement has no result, only its effect on the receiver
    elif outcome.kind == "value" and outcome.repr is not None:
        found[("result", "")] = outcome.repr
    elif outcome.kind == "object":
        found[("type", "")] = "None" if outcome.is_none else (outcome.type or "")
        if outcome.length is not None:
            found[("len", "")] = str(outcome.length)
        for name, text in outcome.fields:
            found[("field", name)] = text
    else:
        found[("outcome", "")] = outcome.kind
    if outcome.state_length is not None:
        found[("state_len", "")] = str(outcome.state_length)
    for name, text in outcome.state:
        found[("state", name)] = text
    return found


def _assertion(check: Check, value: str, outcome: CallOutcome) -> str | None:
    kind, name = check
    if kind == "result":
        return (
            f"assert result is {value}"
            if value in _SINGLETONS
            else f"assert result == {value}"
        )
    if kind == "type":
        if value == "None":
            return "assert result is None"
        return f"assert isinstance(result, {value})" if value else None
    if kind == "len":
        return f"assert len(result) == {value}"
    if kind in ("field", "state"):
        owner = "result" if kind == "field" else "obj"
        if name.startswith("len(") and name.endswith(")"):
            return f"assert len({owner}.{name[4:-1]}) == {value}"
        same = "is" if value in _SINGLETONS else "=="
        return f"assert {owner}.{name} {same} {value}"
    if kind == "state_len":
        return f"assert len(obj) == {value}"
    return None


def within_allowlist(
    target: Target,
    kept: list[CallOutcome],
    checks: dict[str, tuple[Check, ...]] | None = None,
) -> list[CallOutcome]:
    """The kept calls as tests may assert them under the allowlist.

    An assertion the allowlist refuses (a repr that needs a refused import, a
    type reached through one) becomes a plainer one; a call it refuses itself
    is left out.
    """
    out = []
    for outcome in kept:
        kind = "object" if outcome.kind == "value" else outcome.kind
        plainer = dataclasses.replace(outcome, kind=kind, needs="")
        for option in (outcome, plainer, dataclasses.replace(plainer, type=None)):
            imports = [line for line in option.call.setup if line.startswith("import ")]
            header = [
                "import pytest",
                option.needs,
                *imports,
                import_line(target.module),
            ]
            test = render_test(option, "test_x", (checks or {}).get(option.call.id))
            code = "\n".join([*header, test])
            if not check(code, target.module, target.file):
                out.append(option)
                break
    return out

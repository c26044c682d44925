"""Mutation operators: every small change of a module's AST worth testing for.

Each mutation replaces the source text of one AST node. Expressions are
replaced by a parenthesised expression padded to the same number of lines, so
the mutated module keeps its line numbers and code objects can be matched by
name and line.
"""

from __future__ import annotations

import ast
import copy
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar, cast

from pytest_ruvqe.analyse.mutation.types import Mutant, Operator

MODULE = "<module>"

# what a mutant changes (``Mutant.operator``)

_BINOP: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.Mult,
    ast.Pow: ast.Mult,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
    ast.BitXor: ast.BitAnd,
}
_CMP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
# string methods and their mirror image
_MIRROR_METHODS = {
    "lower": "upper",
    "upper": "lower",
    "lstrip": "rstrip",
    "rstrip": "lstrip",
    "find": "rfind",
    "rfind": "find",
    "index": "rindex",
    "rindex": "index",
    "ljust": "rjust",
    "rjust": "ljust",
    "partition": "rpartition",
    "rpartition": "partition",
    "removeprefix": "removesuffix",
    "removesuffix": "removeprefix",
}
_LOGGING = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
)


@dataclass
class _Scope:
    function: str  # qualified name of the innermost function, or MODULE
    outermost: str  # outermost function (what gets patched), or MODULE
    runtime: bool  # code that runs when the function is called


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _is_logging_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _LOGGING
    )


def _is_unreachable_block(node: ast.If) -> bool:
    """``if __name__ == "__main__":`` and ``if TYPE_CHECKING:`` never run in tests."""
    text = ast.unparse(node.test)
    return text in ("TYPE_CHECKING", "typing.TYPE_CHECKING") or (
        "__name__" in text and "__main__" in text
    )


class _Finder:
    """Walks one module and yields ``(node, new_node, operator, scope)``."""

    def __init__(self) -> None:
        self.found: list[tuple[ast.AST, ast.AST, Operator, _Scope]] = []

    def module(self, tree: ast.Module) -> None:
        self._body(tree.body, _Scope(MODULE, MODULE, False), [])

    def _body(self, body: list[ast.stmt], scope: _Scope, names: list[str]) -> None:
        for stmt in body:
            if _is_docstring(stmt):
                continue
            self._stmt(stmt, scope, names)

    def _stmt(self, stmt: ast.stmt, scope: _Scope, names: list[str]) -> None:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self._def(stmt, scope, names)
        elif isinstance(stmt, ast.ClassDef):
            self._body(stmt.body, scope, [*names, stmt.name])
        elif isinstance(stmt, ast.If) and _is_unreachable_block(stmt):
            pass  # never runs under test
        elif not scope.runtime:
            self._import_time(stmt, scope, names)
        elif not _is_docstring(stmt) and not (
            isinstance(stmt, ast.Expr) and _is_logging_call(stmt.value)
        ):
            self._mutate(stmt, scope)
            self._stmt_children(stmt, scope, names)

    def _def(
        self,
        stmt: ast.FunctionDef | ast.AsyncFunctionDef,
        scope: _Scope,
        names: list[str],
    ) -> None:
        qual = ".".join([*names, stmt.name])
        outer = scope.outermost if scope.runtime else qual
        for default in [*stmt.args.defaults, *stmt.args.kw_defaults]:
            if default is not None:  # evaluated when the def runs
                self._expr(default, scope)
        inner = _Scope(qual, outer, True)
        self._body(stmt.body, inner, [*names, stmt.name, "<locals>"])

    def _import_time(self, stmt: ast.stmt, scope: _Scope, names: list[str]) -> None:
        """At import time only plain numeric or boolean settings are worth it."""
        value = getattr(stmt, "value", None)
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and isinstance(
            value, ast.Constant
        ):
            if not isinstance(value.value, str):
                self._expr(value, scope)
        elif isinstance(stmt, (ast.If, ast.For, ast.While, ast.With, ast.Try)):
            for field in ("body", "orelse", "finalbody"):
                self._body(getattr(stmt, field, []), scope, names)
            for handler in getattr(stmt, "handlers", []):
                self._body(handler.body, scope, names)

    def _stmt_children(self, stmt: ast.stmt, scope: _Scope, names: list[str]) -> None:
        for field, value in ast.iter_fields(stmt):
            if field in _SKIPPED_FIELDS:
                continue
            if isinstance(stmt, ast.Match) and field == "cases":
                for case in value:
                    if case.guard is not None:
                        self._expr(case.guard, scope)
                    self._body(case.body, scope, names)
                continue
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, ast.stmt):
                    self._stmt(item, scope, names)
                elif isinstance(item, ast.expr):
                    self._expr(item, scope)
                elif isinstance(item, ast.ExceptHandler):
                    self._body(item.body, scope, names)
                elif isinstance(item, (ast.withitem, ast.comprehension)):
                    self._sub_exprs(item, scope)

    def _expr(self, node: ast.expr, scope: _Scope) -> None:
        if isinstance(node, ast.JoinedStr) or _is_logging_call(node):
            return  # f-string parts have no usable positions; logging is noise
        self._mutate(node, scope)
        if isinstance(node, ast.Lambda):
            self._expr(node.body, scope)
            return
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self._expr(child, scope)
            elif isinstance(child, ast.comprehension):
                self._sub_exprs(child, scope)
            elif isinstance(child, ast.keyword):
                self._expr(child.value, scope)

    def _mutate(self, node: ast.AST, scope: _Scope) -> None:
        """The mutants of ``node`` itself, from the rule for its type."""
        rule = _RULES.get(type(node))
        if rule is not None:
            self.found.extend((*change, scope) for change in rule(node))

    def _sub_exprs(self, node: ast.withitem | ast.comprehension, scope: _Scope) -> None:
        for sub in ast.iter_child_nodes(node):
            if isinstance(sub, ast.expr):
                self._expr(sub, scope)


# fields of a statement that hold no code run by the statement itself
_SKIPPED_FIELDS = frozenset({"annotation", "returns", "decorator_list", "type_comment"})

# -- the mutation rules: one small function per node type --------------------------

# the node replaced (the one given or a part of it), its replacement, the operator
_Change = tuple[ast.AST, ast.AST, Operator]
_Rule = Callable[[ast.AST], Iterator[_Change]]
_N = TypeVar("_N", bound=ast.AST)


def _rule(
    kind: type[_N], rule: Callable[[_N], Iterator[_Change]]
) -> tuple[type[ast.AST], _Rule]:
    """A table entry; the table is looked up by ``type(node)``, so ``rule`` gets
    only nodes of ``kind``."""
    return kind, cast(_Rule, rule)


def _deleted_call(stmt: ast.Expr) -> Iterator[_Change]:
    if isinstance(stmt.value, ast.Call):
        yield stmt.value, ast.Constant(None), "statement_deletion"


def _returned_none(stmt: ast.Return) -> Iterator[_Change]:
    if stmt.value is not None and not _is_none(stmt.value):
        yield stmt.value, ast.Constant(None), "return_value"


def _aug_assigned(stmt: ast.AugAssign) -> Iterator[_Change]:
    if stmt.lineno != stmt.end_lineno:
        return
    if type(stmt.op) in _BINOP:
        new = copy.copy(stmt)
        new.op = _BINOP[type(stmt.op)]()
        yield stmt, new, "arithmetic"
    yield stmt, ast.Assign([stmt.target], stmt.value, lineno=stmt.lineno), "assignment"


def _assigned(stmt: ast.Assign | ast.AnnAssign) -> Iterator[_Change]:
    if stmt.value is not None:
        yield (
            stmt.value,
            ast.Constant("" if _is_none(stmt.value) else None),
            "assignment",
        )


def _arithmetic(node: ast.BinOp) -> Iterator[_Change]:
    if type(node.op) in _BINOP:
        yield (
            node,
            ast.BinOp(node.left, _BINOP[type(node.op)](), node.right),
            "arithmetic",
        )


def _compared(node: ast.Compare) -> Iterator[_Change]:
    for i, op in enumerate(node.ops):
        if type(op) in _CMP:
            ops = list(node.ops)
            ops[i] = _CMP[type(op)]()
            operator: Operator = (
                "boundary"
                if isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE))
                else "comparison"
            )
            yield node, ast.Compare(node.left, ops, node.comparators), operator


def _bool_swapped(node: ast.BoolOp) -> Iterator[_Change]:
    other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    yield node, ast.BoolOp(other, node.values), "boolean"


def _not_dropped(node: ast.UnaryOp) -> Iterator[_Change]:
    if isinstance(node.op, ast.Not):
        yield node, node.operand, "boolean"


def _constant_changed(node: ast.Constant) -> Iterator[_Change]:
    new = _constant(node.value)
    if new is not None:
        yield node, ast.Constant(new), "constant"


def _condition_forced(node: ast.IfExp) -> Iterator[_Change]:
    forcing: tuple[tuple[ast.boolop, bool], ...] = (
        (ast.And(), False),
        (ast.Or(), True),
    )
    for bool_op, value in forcing:
        forced = ast.BoolOp(bool_op, [node.test, ast.Constant(value)])
        yield node, ast.IfExp(forced, node.body, node.orelse), "condition"


def _call(node: ast.Call) -> Iterator[_Change]:
    """Arguments replaced by ``None``; string methods by their mirror."""
    for i, arg in enumerate(node.args):
        if isinstance(arg, ast.Starred) or _is_none(arg):
            continue
        args = [*node.args[:i], ast.Constant(None), *node.args[i + 1 :]]
        yield node, ast.Call(node.func, args, node.keywords), "argument"
    for i, keyword in enumerate(node.keywords):
        if keyword.arg is None or _is_none(keyword.value):
            continue
        keywords = list(node.keywords)
        keywords[i] = ast.keyword(keyword.arg, ast.Constant(None))
        yield node, ast.Call(node.func, node.args, keywords), "argument"
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr in _MIRROR_METHODS:
        mirrored = ast.Attribute(func.value, _MIRROR_METHODS[func.attr], func.ctx)
        yield node, ast.Call(mirrored, node.args, node.keywords), "string_method"


# the rule for a node by its type; statement and expression types never overlap
_RULES: dict[type[ast.AST], _Rule] = dict(
    [
        _rule(ast.Expr, _deleted_call),
        _rule(ast.Return, _returned_none),
        _rule(ast.AugAssign, _aug_assigned),
        _rule(ast.Assign, _assigned),
        _rule(ast.AnnAssign, _assigned),
        _rule(ast.BinOp, _arithmetic),
        _rule(ast.Compare, _compared),
        _rule(ast.BoolOp, _bool_swapped),
        _rule(ast.UnaryOp, _not_dropped),
        _rule(ast.Constant, _constant_changed),
        _rule(ast.Call, _call),
        _rule(ast.IfExp, _condition_forced),
    ]
)


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _constant(value: object) -> str | bool | int | float | None:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 1.0
    if isinstance(value, str):
        return "XX" + value + "XX"
    return None


def _line_offsets(data: bytes) -> list[int]:
    offsets = [0, 0]  # 1-based lines
    for i, byte in enumerate(data):
        if byte == 0x0A:
            offsets.append(i + 1)
    return offsets


def find_mutants(text: str, file: str) -> list[Mutant]:
    """All mutants of one module's source ``text`` (``file`` is its relative path).

    Raises ``SyntaxError`` if the text does not parse.
    """
    tree = ast.parse(text)
    finder = _Finder()
    finder.module(tree)
    data = text.encode("utf-8")
    offsets = _line_offsets(data)
    mutants: list[Mutant] = []
    seen: set[str] = set()
    for node, new, operator, scope in finder.found:
        line, end_line = node.lineno, node.end_lineno or node.lineno  # type: ignore[attr-defined]
        col, end_col = node.col_offset, node.end_col_offset or 0  # type: ignore[attr-defined]
        original = data[offsets[line] + col : offsets[end_line] + end_col].decode()
        shown = ast.unparse(new)
        if isinstance(node, ast.stmt):
            replacement = shown
        else:
            replacement = "(" + shown + "\n" * (end_line - line) + ")"
        key = f"{file}:{line}:{col}:{end_line}:{end_col}:{operator}:{shown}"
        ident = hashlib.sha1(key.encode()).hexdigest()[:12]
        if ident in seen:
            continue
        seen.add(ident)
        mutants.append(
            Mutant(
                id=ident,
                file=file,
                line=line,
                end_line=end_line,
                col=col,
                end_col=end_col,
                operator=operator,
                original=original,
                replacement=replacement,
                shown=shown,
                function=scope.function,
                runtime=scope.runtime,
                patch_target=scope.outermost,
            )
        )
    return mutants


def apply(text: str, mutant: Mutant) -> str:
    """The module source with ``mutant`` applied; line numbers are unchanged."""
    data = text.encode("utf-8")
    offsets = _line_offsets(data)
    start = offsets[mutant.line] + mutant.col
    end = offsets[mutant.end_line] + mutant.end_col
    return (data[:start] + mutant.replacement.encode() + data[end:]).decode()


def diff(text: str, mutant: Mutant) -> str:
    """A small unified-style diff of the mutated lines."""
    lines = text.splitlines()
    before = lines[mutant.line - 1 : mutant.end_line]
    data = "\n".join(before).encode()
    first = mutant.col
    last = len(data) - (len(before[-1].encode()) - mutant.end_col)
    after = (data[:first] + mutant.shown.encode() + data[last:]).decode()
    minus = "\n".join(f"- {line}" for line in before)
    plus = "\n".join(f"+ {line}" for line in after.splitlines())
    return f"@@ {mutant.file}:{mutant.line} ({mutant.operator}) @@\n{minus}\n{plus}"

"""Source index built with the stdlib ``ast``: functions, line ranges, complexity."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

MODULE_SCOPE = "<module>"


@dataclass(frozen=True)
class FunctionInfo:
    """One function or method: where it is and how tangled it is."""

    qualname: str
    name: str
    start: int  # first line, decorators included
    end: int
    def_line: int
    complexity: int
    is_method: bool
    is_async: bool
    class_name: str | None
    params: tuple[str, ...]


@dataclass(frozen=True)
class ModuleIndex:
    """All functions of one source file, with their owner lookup."""

    path: Path
    module: str
    functions: tuple[FunctionInfo, ...]
    line_count: int
    # index into ``functions`` of the innermost owner of each line, -1 for none
    owners: tuple[int, ...] = field(default=(), repr=False, compare=False)

    def owner(self, line: int) -> FunctionInfo | None:
        """The innermost function whose lines include ``line``, if any."""
        if 0 <= line < len(self.owners) and self.owners[line] >= 0:
            return self.functions[self.owners[line]]
        return None

    def function(self, qualname: str) -> FunctionInfo | None:
        """Look a function up by its qualified name."""
        for func in self.functions:
            if func.qualname == qualname:
                return func
        return None


class SourceSkipped(Exception):
    """A source file that cannot be indexed; the message says why."""


_DECISIONS = (
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.ExceptHandler,
    ast.IfExp,
    ast.Assert,
    ast.comprehension,
    ast.match_case,
)


def cyclomatic_complexity(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """McCabe complexity of one function, nested functions excluded."""
    collector = _Collector()
    collector.visit(node)
    return next(f.complexity for f in collector.functions if f.def_line == node.lineno)


class _Collector(ast.NodeVisitor):
    """One pass over the tree: functions, qualified names and complexity."""

    def __init__(self) -> None:
        self.scope: list[str] = []
        self.classes: list[str | None] = []
        # decision counters; the innermost function's is last, others are dummies
        self.counters: list[list[int]] = [[0]]
        self.functions: list[FunctionInfo] = []

    def generic_visit(self, node: ast.AST) -> None:
        if isinstance(node, _DECISIONS):
            self.counters[-1][0] += 1 + (
                len(node.ifs) if isinstance(node, ast.comprehension) else 0
            )
        elif isinstance(node, ast.BoolOp):
            self.counters[-1][0] += len(node.values) - 1
        super().generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.scope.append(node.name)
        self.classes.append(node.name)
        self.counters.append([0])  # class bodies count for no function
        self.generic_visit(node)
        self.counters.pop()
        self.classes.pop()
        self.scope.pop()

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.counters.append([0])
        self.generic_visit(node)
        self.counters.pop()

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        class_name = self.classes[-1] if self.classes else None
        qualname = ".".join([*self.scope, node.name])
        self.scope.append(node.name)
        self.classes.append(None)  # names defined inside are not methods
        self.counters.append([1])
        self.generic_visit(node)
        complexity = self.counters.pop()[0]
        self.classes.pop()
        self.scope.pop()
        args = node.args
        params = tuple(
            a.arg
            for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]
            + ([args.vararg] if args.vararg else [])
            + ([args.kwarg] if args.kwarg else [])
        )
        self.functions.append(
            FunctionInfo(
                qualname=qualname,
                name=node.name,
                start=min([node.lineno] + [d.lineno for d in node.decorator_list]),
                end=node.end_lineno or node.lineno,
                def_line=node.lineno,
                complexity=complexity,
                is_method=class_name is not None,
                is_async=isinstance(node, ast.AsyncFunctionDef),
                class_name=class_name,
                params=params,
            )
        )

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function


def parse_source(text: str, path: Path) -> ast.Module:
    """The syntax tree of ``text``; :class:`SourceSkipped` if it does not parse."""
    try:
        return ast.parse(text, filename=str(path))
    except (SyntaxError, ValueError) as exc:
        raise SourceSkipped(f"does not parse: {exc}") from None


def index_source(text: str, path: Path, module: str) -> ModuleIndex:
    """Index source text; raise :class:`SourceSkipped` if it does not parse."""
    return index_tree(parse_source(text, path), text, path, module)


def index_tree(tree: ast.Module, text: str, path: Path, module: str) -> ModuleIndex:
    """Index an already parsed module."""
    collector = _Collector()
    collector.visit(tree)
    return make_index(path, module, collector.functions, text.count("\n") + 1)


def make_index(
    path: Path, module: str, found: Iterable[FunctionInfo], line_count: int
) -> ModuleIndex:
    """The index of ``found`` functions, with its line owners."""
    functions = tuple(sorted(found, key=lambda f: (f.start, -f.end)))
    owners = [-1] * (line_count + 2)
    # sorted by start, so an inner function overwrites its outer one
    for i, func in enumerate(functions):
        end = min(func.end, line_count + 1)
        owners[func.start : end + 1] = [i] * (end + 1 - func.start)
    return ModuleIndex(path, module, functions, line_count, tuple(owners))


def index_file(path: Path, module: str, max_bytes: int) -> ModuleIndex:
    """Read and index one file; raise :class:`SourceSkipped` with the reason."""
    return index_source(read_source(path, max_bytes), path, module)


def read_source(path: Path, max_bytes: int) -> str:
    """The text of a source file; :class:`SourceSkipped` says why it is not."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SourceSkipped(
                f"too large ({size // 1024} KiB > {max_bytes // 1024} KiB)"
            )
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise SourceSkipped("is not UTF-8") from None
    except OSError as exc:
        raise SourceSkipped(f"cannot be read: {exc.strerror}") from None
    return text

"""Source index built with the stdlib ``ast``: functions, line ranges, complexity."""

from __future__ import annotations

import ast
import bisect
from dataclasses import dataclass
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

    def owner(self, line: int) -> FunctionInfo | None:
        """The innermost function whose lines include ``line``, if any."""
        best: FunctionInfo | None = None
        starts = [f.start for f in self.functions]
        # functions are sorted by start; only those starting before the line qualify
        for func in self.functions[: bisect.bisect_right(starts, line)]:
            if func.start <= line <= func.end and (
                best is None or func.start >= best.start
            ):
                best = func
        return best

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


def cyclomatic_complexity(node: ast.AST) -> int:
    """McCabe complexity of a function body, nested functions excluded."""
    count = 1
    stack = list(ast.iter_child_nodes(node))
    while stack:
        child = stack.pop()
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(child, ast.ClassDef):
            continue
        if isinstance(child, _DECISIONS):
            count += 1
            if isinstance(child, ast.comprehension):
                count += len(child.ifs)
        elif isinstance(child, ast.BoolOp):
            count += len(child.values) - 1
        stack.extend(ast.iter_child_nodes(child))
    return count


class _Collector(ast.NodeVisitor):
    def __init__(self) -> None:
        self.scope: list[str] = []
        self.classes: list[str | None] = []
        self.functions: list[FunctionInfo] = []

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.scope.append(node.name)
        self.classes.append(node.name)
        self.generic_visit(node)
        self.classes.pop()
        self.scope.pop()

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        class_name = self.classes[-1] if self.classes else None
        start = min([node.lineno] + [d.lineno for d in node.decorator_list])
        args = node.args
        params = tuple(
            a.arg
            for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]
            + ([args.vararg] if args.vararg else [])
            + ([args.kwarg] if args.kwarg else [])
        )
        self.functions.append(
            FunctionInfo(
                qualname=".".join([*self.scope, node.name]),
                name=node.name,
                start=start,
                end=node.end_lineno or node.lineno,
                def_line=node.lineno,
                complexity=cyclomatic_complexity(node),
                is_method=class_name is not None,
                is_async=isinstance(node, ast.AsyncFunctionDef),
                class_name=class_name,
                params=params,
            )
        )
        self.scope.append(node.name)
        self.classes.append(None)  # names defined inside are not methods
        self.generic_visit(node)
        self.classes.pop()
        self.scope.pop()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function


def index_source(text: str, path: Path, module: str) -> ModuleIndex:
    """Index source text; raise :class:`SourceSkipped` if it does not parse."""
    try:
        tree = ast.parse(text, filename=str(path))
    except (SyntaxError, ValueError) as exc:
        raise SourceSkipped(f"does not parse: {exc}") from None
    collector = _Collector()
    collector.visit(tree)
    functions = tuple(sorted(collector.functions, key=lambda f: (f.start, -f.end)))
    return ModuleIndex(path, module, functions, text.count("\n") + 1)


def index_file(path: Path, module: str, max_bytes: int) -> ModuleIndex:
    """Read and index one file; raise :class:`SourceSkipped` with the reason."""
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
    return index_source(text, path, module)


def module_name(path: Path) -> str:
    """Dotted import name of ``path``, walking up through packages."""
    path = path.resolve()
    parts = [path.stem] if path.stem != "__init__" else []
    parent = path.parent
    while (parent / "__init__.py").exists():
        parts.insert(0, parent.name)
        parent = parent.parent
    return ".".join(parts) or path.parent.name

"""Reading the code under test and the suite: names, imports, branch points."""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

# names a generated test uses itself: the module under test must not take them
_RESERVED = frozenset({"pytest", "obj", "result", "subject"})


def module_alias(module: str) -> str:
    """The name generated tests import the module under.

    The module's own name, unless it would shadow the standard library, a
    builtin or a keyword (``humanize.time`` is ``humanize_time``, never
    ``time``).
    """
    parts = module.split(".")
    alias = parts[-1]
    if not _shadows(alias):
        return alias
    joined = "_".join(parts[-2:]) if len(parts) > 1 else f"{alias}_module"
    return joined if not _shadows(joined) else "subject"


def _shadows(name: str) -> bool:
    import builtins
    import keyword
    import sys

    return (
        name in _RESERVED
        or name in sys.stdlib_module_names
        or hasattr(builtins, name)
        or keyword.iskeyword(name)
    )


def import_line(module: str) -> str:
    """How a generated test imports the module."""
    alias = module_alias(module)
    return f"import {module}" if alias == module else f"import {module} as {alias}"


def module_names(tree: ast.Module) -> frozenset[str]:
    """Names a module defines at top level."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return frozenset(names)


def defined_names(path: Path) -> frozenset[str]:
    """Names the source file at ``path`` defines at top level (cached by mtime)."""
    return _defined_names(str(path), path.stat().st_mtime)


@lru_cache(maxsize=64)
def _defined_names(path: str, mtime: float) -> frozenset[str]:
    return module_names(ast.parse(Path(path).read_text("utf-8")))


def branch_lines(path: Path) -> frozenset[int]:
    """Branch points of a source file (cached by modification time)."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return frozenset()
    return _branch_lines(str(path), mtime)


@lru_cache(maxsize=64)
def _branch_lines(path: str, mtime: float) -> frozenset[int]:
    """Lines of the file with more than one possible next line."""
    from coverage.parser import PythonParser

    try:
        parser = PythonParser(filename=path)
        parser.parse_source()
    except Exception:  # unparsable target: no branch can be credited
        return frozenset()
    return frozenset(line for line, n in parser.exit_counts().items() if n > 1)


def read_tests(paths: tuple[Path, ...], limit: int = 200_000) -> tuple[str, ...]:
    """Text of existing test files, for call sites; unreadable ones skipped."""
    texts = []
    for path in paths:
        try:
            texts.append(path.read_text("utf-8")[:limit])
        except (OSError, UnicodeDecodeError):
            continue
    return tuple(texts)

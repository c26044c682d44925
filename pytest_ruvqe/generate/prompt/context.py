"""What a model needs to know about a target, gathered from the source tree.

The context holds the target's source with line numbers and its missing lines
and branches marked, the module's imports, signatures of module names the
target calls, how tests import the module, trimmed existing tests of the
module, and exemplar tests recalled from memory (through :class:`ExemplarSource`).
:class:`Feedback` is the latent state z of the refine loop: what the last round
taught.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pytest_ruvqe.generate.source import import_line, module_alias, read_tests
from pytest_ruvqe.generate.types import Project, Target
from pytest_ruvqe.measure.types import Arc

MAX_TEST_CHARS = 2500


@dataclass(frozen=True)
class Exemplar:
    """A test that worked for a similar target, offered as an example."""

    code: str
    target: str = ""  # qualified name it was written for
    score: float = 0.0


class ExemplarSource(Protocol):
    """Recalls up to ``k`` exemplar tests for a target (memory implements it)."""

    def recall(self, target: Target, k: int) -> Sequence[Exemplar]:
        """Exemplars for ``target``, best first."""


class NoExemplars:
    """The exemplar source used until memory has learned something."""

    def recall(self, target: Target, k: int) -> Sequence[Exemplar]:
        """Nothing to recall."""
        return ()


@dataclass(frozen=True)
class TargetContext:
    """Everything a prompt says about one target."""

    target: Target
    numbered_source: str
    imports: tuple[str, ...]
    signatures: tuple[str, ...]
    import_hint: str  # the import statement tests should use
    alias: str
    existing_tests: str
    exemplars: tuple[Exemplar, ...]
    function_name: str


def numbered_source(
    lines: list[str],
    start: int,
    end: int,
    missing_lines: frozenset[int],
    missing_branches: frozenset[Arc],
) -> str:
    """Target lines with numbers; missing lines and untaken branches marked."""
    branch_notes: dict[int, list[str]] = {}
    for src, dst in sorted(missing_branches):
        where = "the function exit" if dst < 0 else f"line {dst}"
        branch_notes.setdefault(src, []).append(where)
    out = []
    for number in range(start, min(end, len(lines)) + 1):
        text = lines[number - 1].rstrip()
        mark = ">>" if number in missing_lines else "  "
        note = ""
        if number in branch_notes:
            note = "  # MISSING branch to " + ", ".join(branch_notes[number])
        elif number in missing_lines:
            note = "  # MISSING"
        out.append(f"{mark}{number:5d}  {text}{note}")
    return "\n".join(out)


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> str:
    if isinstance(node, ast.ClassDef):
        init = next(
            (
                n
                for n in node.body
                if isinstance(n, ast.FunctionDef) and n.name == "__init__"
            ),
            None,
        )
        args = ast.unparse(init.args) if init is not None else ""
        return f"class {node.name}({args})"
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return f"def {node.name}({ast.unparse(node.args)}){returns}"


def called_signatures(tree: ast.Module, func: ast.AST) -> tuple[str, ...]:
    """Signatures of functions and classes of the module that ``func`` calls."""
    defined = {
        n.name: n
        for n in tree.body
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }
    found: list[str] = []
    for node in ast.walk(func):
        if isinstance(node, ast.Call):
            name = (
                node.func.id
                if isinstance(node.func, ast.Name)
                else node.func.attr
                if isinstance(node.func, ast.Attribute)
                else None
            )
            if name in defined:
                sig = _signature(defined[name])
                if sig not in found:
                    found.append(sig)
    return tuple(found[:12])


def find_definition(tree: ast.Module, qualname: str) -> ast.AST | None:
    """The function or class ``qualname`` (``Class.method``) of a module."""
    parts = qualname.split(".")
    scope: list[ast.stmt] = tree.body
    node: ast.AST | None = None
    for part in parts:
        node = next(
            (
                n
                for n in scope
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and n.name == part
            ),
            None,
        )
        if node is None:
            return None
        scope = node.body
    return node


def existing_tests_of(target: Target, texts: tuple[str, ...], limit: int) -> str:
    """Existing tests that import the module, those naming the target first."""
    short = target.module.rsplit(".", 1)[-1]
    name = target.qualname.rsplit(".", 1)[-1]
    chosen = [t for t in texts if target.module in t or f"import {short}" in t]
    chosen.sort(key=lambda t: name not in t)
    out = ""
    for text in chosen:
        if len(out) + len(text) > limit:
            out += text[: max(0, limit - len(out))]
            break
        out += text + "\n"
    return out.strip()


def build_context(
    target: Target,
    project: Project,
    exemplars: ExemplarSource | None = None,
    k: int = 3,
    test_texts: tuple[str, ...] | None = None,
) -> TargetContext:
    """Gather the context of ``target`` from its file and the project's tests."""
    text = Path(target.file).read_text("utf-8")
    lines = text.splitlines()
    tree = ast.parse(text)
    node = find_definition(tree, target.qualname)
    imports = tuple(
        ast.unparse(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
    )
    texts = read_tests(project.test_files) if test_texts is None else test_texts
    return TargetContext(
        target=target,
        numbered_source=numbered_source(
            lines,
            target.start,
            target.end,
            target.missing_lines,
            target.missing_branches,
        ),
        imports=imports,
        signatures=called_signatures(tree, node) if node is not None else (),
        import_hint=import_line(target.module),
        alias=module_alias(target.module),
        existing_tests=existing_tests_of(target, texts, MAX_TEST_CHARS),
        exemplars=tuple((exemplars or NoExemplars()).recall(target, k))[:k],
        function_name=target.qualname.rsplit(".", 1)[-1],
    )

"""Accepted tests from the bank as examples to tune a local model on: each
the scaffold prompt the ``scaffold`` generator sends for the test's target,
and the test as its continuation.

The prompt shows the target's source (found under the project's import
roots without importing anything) when it can be found, as the generator's
own prompt does; patterns from imported banks may have none.
"""

from __future__ import annotations

import ast
import importlib.machinery
from collections.abc import Iterable, Sequence
from pathlib import Path

from pytest_ruvqe.generate.prompt.context import find_definition
from pytest_ruvqe.generate.prompt.requests import scaffold_text
from pytest_ruvqe.generate.source import import_line
from pytest_ruvqe.learn.tune.examples import TuneExample
from pytest_ruvqe.memory.patterns import Pattern


def module_file(module: str, roots: Sequence[Path]) -> Path | None:
    """The source file of ``module`` under ``roots``, found without importing."""
    path: list[str] | None = [str(r) for r in roots]
    spec = None
    parts = module.split(".")
    for i in range(len(parts)):
        spec = importlib.machinery.PathFinder.find_spec(".".join(parts[: i + 1]), path)
        if spec is None:
            return None
        path = list(spec.submodule_search_locations or [])
    origin = spec.origin if spec is not None else None
    return Path(origin) if origin and origin.endswith(".py") else None


def target_lines(file: Path | None, qualname: str) -> list[str]:
    """The source lines of ``qualname`` in ``file`` (none when not found)."""
    if file is None:
        return []
    try:
        text = file.read_text("utf-8")
        tree = ast.parse(text)
    except (OSError, SyntaxError, UnicodeDecodeError):
        return []
    node = find_definition(tree, qualname)
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return []
    start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    end = node.end_lineno or start
    return text.splitlines()[start - 1 : end]


def _tests(code: str) -> list[ast.FunctionDef]:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    return [
        n
        for n in tree.body
        if isinstance(n, ast.FunctionDef) and n.name.startswith("test")
    ]


def examples_of(pattern: Pattern, roots: Sequence[Path]) -> list[TuneExample]:
    """One example per test function of the pattern's accepted module."""
    module, _, qualname = pattern.signature.partition(":")
    if not module or not qualname:
        return []
    function = qualname.rsplit(".", 1)[-1]
    lines = target_lines(module_file(module, roots), qualname)
    prompt = scaffold_text(import_line(module), qualname, lines, "", function)
    found = []
    for number, test in enumerate(_tests(pattern.payload), 1):
        test.name = f"test_{function}_{number}"
        body = ast.unparse(test)
        head = f"def test_{function}_"
        found.append(
            TuneExample(
                signature=pattern.signature,
                prompt=prompt,
                completion=body[len(head) :] + "\n",
                project=pattern.project,
            )
        )
    return found


def tuning_examples(
    patterns: Iterable[Pattern], roots: Sequence[Path], project: str
) -> list[TuneExample]:
    """The examples of every accepted pattern: this project's first."""
    ordered = sorted(patterns, key=lambda p: (p.project != project, p.signature))
    return [e for p in ordered for e in examples_of(p, roots)]

"""Turning a model's reply into a test module: code blocks, cut-offs, imports."""

from __future__ import annotations

import ast
import re

from pytest_ruvqe.generate.prompt.context import TargetContext
from pytest_ruvqe.generate.prompt.requests import scaffold_prefix
from pytest_ruvqe.generate.source import module_names

# module names models invent when they do not know the real one
_PLACEHOLDERS = frozenset(
    {
        "module",
        "mymodule",
        "my_module",
        "your_module",
        "target",
        "code",
        "solution",
        "main",
    }
)
_BLOCK = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)


def longest_parsable(code: str) -> str | None:
    """Drop trailing lines until the module parses; None if nothing does."""
    lines = code.rstrip().splitlines()
    while lines:
        text = "\n".join(lines) + "\n"
        try:
            ast.parse(text)
            return text
        except SyntaxError:
            lines.pop()
    return None


def scaffold_module(ctx: TargetContext, continuation: str) -> str | None:
    """The test module a base model's continuation completes, cut where it breaks."""
    prefix = scaffold_prefix(ctx)
    code = longest_parsable(prefix + continuation)
    if (
        code is None
        or "def test_" not in code[len(prefix) - len(ctx.function_name) - 10 :]
    ):
        return None
    return code


def extract_code(reply: str) -> str | None:
    """The test module in a chat reply: the code block with tests, or bare code."""
    blocks = [b.strip("\n") for b in _BLOCK.findall(reply)]
    with_tests = [b for b in blocks if "def test" in b]
    if with_tests:
        return str(max(with_tests, key=len)) + "\n"
    if "def test" in reply:
        lines = reply.splitlines()
        for i, line in enumerate(lines):
            if line.startswith(("import ", "from ", "def test", "@pytest")):
                return longest_parsable("\n".join(lines[i:]))
    return None


def _wrong_path(path: str, module: str) -> bool:
    """Whether an import path is a mangled spelling of ``module``."""
    if path == module:
        return False
    last = module.rsplit(".", 1)[-1]
    return (
        path in _PLACEHOLDERS
        or path.rsplit(".", 1)[-1] == last
        or path.endswith("." + module)
        or module.endswith("." + path)
    )


def fix_imports(code: str, module: str, defined: frozenset[str], alias: str) -> str:
    """Point imports of the target's names at the real module; add missing ones."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    lines = code.splitlines()
    replace: dict[int, tuple[int, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = {a.name for a in node.names}
            if _wrong_path(node.module, module) and (names <= defined or "*" in names):
                fixed = ast.ImportFrom(module=module, names=node.names, level=0)
                replace[node.lineno] = (
                    node.end_lineno or node.lineno,
                    ast.unparse(fixed),
                )
        elif isinstance(node, ast.Import):
            aliases = []
            for a in node.names:
                if _wrong_path(a.name, module):
                    aliases.append(
                        ast.alias(module, a.asname or a.name.rsplit(".", 1)[-1])
                    )
                else:
                    aliases.append(a)
            fixed_import = ast.unparse(ast.Import(names=aliases))
            if fixed_import != ast.unparse(node):
                replace[node.lineno] = (node.end_lineno or node.lineno, fixed_import)
    out: list[str] = []
    number = 1
    while number <= len(lines):
        if number in replace:
            end, text = replace[number]
            out.append(text)
            number = end + 1
            continue
        out.append(lines[number - 1])
        number += 1
    fixed_code = "\n".join(out) + "\n"
    imported = module_names(ast.parse(fixed_code))
    header = []
    if "pytest." in fixed_code and "pytest" not in imported:
        header.append("import pytest")
    if f"{alias}." in fixed_code and alias not in imported:
        header.append(
            f"import {module}" if alias == module else f"import {module} as {alias}"
        )
    return "\n".join(header) + ("\n" if header else "") + fixed_code

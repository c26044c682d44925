"""Prompts for chat and base models, and turning replies into test modules."""

from __future__ import annotations

import ast
import re

from pytest_ruvqe.generate.context import TargetContext
from pytest_ruvqe.generate.source import module_names
from pytest_ruvqe.generate.trimming import FEEDBACK_CHARS, keep_tail
from pytest_ruvqe.generate.types import Feedback
from pytest_ruvqe.llm.base import CompletionRequest, Message

SYSTEM = (
    "You write pytest tests for existing Python code. Reply with one complete "
    "test module in a single ```python code block and nothing else. Import the "
    "code under test exactly as shown. Tests must be deterministic, must not use "
    "the network, must write files only under pytest's tmp_path, and must assert "
    "concrete results (values, raised exceptions), never just that code ran."
)
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


def _feedback_text(z: Feedback) -> str:
    parts = []
    if z.errors:
        parts.append(
            "Your previous tests failed as follows; fix or drop them:\n"
            + "\n".join(f"- {keep_tail(e, FEEDBACK_CHARS)}" for e in z.errors[:6])
        )
    if z.flaky:
        parts.append(
            "These tests were flaky (passed, then failed): " + ", ".join(z.flaky)
        )
    if z.accepted:
        parts.append("Already kept, do not repeat: " + ", ".join(z.accepted[:20]))
    if z.missing_lines or z.missing_branches:
        lines = ", ".join(str(n) for n in sorted(z.missing_lines)[:40])
        branches = ", ".join(f"{a}->{b}" for a, b in sorted(z.missing_branches)[:20])
        parts.append(
            f"Still not covered: lines [{lines}]"
            + (f"; branches [{branches}]" if branches else "")
        )
    return "\n\n".join(parts)


def chat_messages(ctx: TargetContext, z: Feedback | None = None) -> tuple[Message, ...]:
    """System and user messages asking for tests that reach the missing code."""
    t = ctx.target
    sections = [
        f"Tests import module `{t.module}` like this:\n    {ctx.import_hint}",
    ]
    if ctx.imports:
        sections.append("The module's own imports:\n" + "\n".join(ctx.imports))
    if ctx.signatures:
        sections.append(
            "Signatures of names the target calls:\n" + "\n".join(ctx.signatures)
        )
    sections.append(
        f"Target `{t.qualname}`. Lines marked >> and '# MISSING' are not executed by "
        f"any test yet:\n```python\n{ctx.numbered_source}\n```"
    )
    if ctx.existing_tests:
        sections.append(
            f"Existing tests of this module (follow their style):\n```python\n"
            f"{ctx.existing_tests}\n```"
        )
    for i, ex in enumerate(ctx.exemplars, 1):
        sections.append(
            f"Example {i} of an accepted test for similar code:\n"
            f"```python\n{ex.code}\n```"
        )
    if z is not None:
        text = _feedback_text(z)
        if text:
            sections.append(text)
    sections.append(
        f"Write new pytest test functions named test_{ctx.function_name}_<case> that "
        "execute the missing lines and branches. Reply with the complete test module."
    )
    return (Message("system", SYSTEM), Message("user", "\n\n".join(sections)))


def chat_request(
    ctx: TargetContext,
    z: Feedback | None = None,
    *,
    max_tokens: int = 1024,
    temperature: float = 0.2,
    seed: int | None = 0,
    features: dict[str, float] | None = None,
) -> CompletionRequest:
    """A chat request for an instruct model."""
    return CompletionRequest(
        messages=chat_messages(ctx, z),
        max_tokens=max_tokens,
        temperature=temperature,
        seed=seed,
        features=features or {},
    )


def _first_test(text: str, name: str) -> str:
    """One existing test function, preferring one that mentions ``name``."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return ""
    tests = [
        n
        for n in tree.body
        if isinstance(n, ast.FunctionDef) and n.name.startswith("test")
    ]
    tests.sort(key=lambda n: name not in ast.unparse(n))
    return ast.unparse(tests[0]) if tests else ""


def scaffold_prefix(ctx: TargetContext) -> str:
    """The start of a test file for a base model to continue."""
    source = "\n".join(
        "# " + line[8:] if len(line) > 8 else "#"
        for line in ctx.numbered_source.splitlines()
    )
    example = _first_test(ctx.existing_tests, ctx.function_name)
    if not example and ctx.exemplars:
        example = ctx.exemplars[0].code.strip()
    parts = [
        "import pytest",
        ctx.import_hint,
        "",
        f"# Code under test ({ctx.target.qualname}):",
        source,
        "",
    ]
    if example:
        parts += [example, ""]
    parts += ["", f"def test_{ctx.function_name}_"]
    return "\n".join(parts)


def scaffold_request(
    ctx: TargetContext,
    *,
    temperature: float = 0.8,
    seed: int = 0,
    max_tokens: int = 256,
    features: dict[str, float] | None = None,
) -> CompletionRequest:
    """A completion request: the prefix, stopped before the model leaves test code."""
    return CompletionRequest(
        prompt=scaffold_prefix(ctx),
        max_tokens=max_tokens,
        temperature=temperature,
        seed=seed,
        stop=("\nif __name__", "\n```", "\nclass ", "\n# Code under test"),
        features=features or {},
    )


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

"""Requests to chat and base models: the prompt of a target and its feedback.

What earlier runs left in a prompt (the feedback's errors, accepted tests among
the existing ones) passes through :mod:`~pytest_ruvqe.generate.sanitize`: the
errors fully, the whole text for the host's secrets and paths.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

from pytest_ruvqe.generate.prompt.context import TargetContext
from pytest_ruvqe.generate.sanitize import host_values, sanitize
from pytest_ruvqe.generate.trimming import FEEDBACK_CHARS, keep_tail
from pytest_ruvqe.generate.types import Feedback
from pytest_ruvqe.llm.base import CompletionRequest, Message

SYSTEM = (
    "You write pytest tests for existing Python code. Reply with one complete "
    "test module in a single ```python code block and nothing else. Import the "
    "code under test exactly as shown. Tests must be deterministic and must "
    "assert concrete results (values, raised exceptions), never just that code "
    "ran. Import only the module under test, its package, pytest and pure "
    "standard modules (math, re, datetime, decimal, collections, itertools, "
    "functools, json, dataclasses, io.StringIO, unittest.mock without patch); "
    "no os, sys, pathlib, subprocess, time, open(), eval, getattr with computed "
    "names or dunders such as __class__; no tmp_path; monkeypatch only for "
    "setattr on the module under test. Never read the environment, files or "
    "the clock."
)


def _feedback_text(z: Feedback) -> str:
    parts = []
    if z.errors:
        parts.append(
            "Your previous tests failed as follows; fix or drop them:\n"
            + "\n".join(
                f"- {keep_tail(sanitize(e), FEEDBACK_CHARS)}" for e in z.errors[:6]
            )
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
    user = host_values("\n\n".join(sections))
    return (Message("system", SYSTEM), Message("user", user))


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
    source = [line[8:] for line in ctx.numbered_source.splitlines()]
    example = _first_test(ctx.existing_tests, ctx.function_name)
    if not example and ctx.exemplars:
        example = ctx.exemplars[0].code.strip()
    return host_values(
        scaffold_text(
            ctx.import_hint, ctx.target.qualname, source, example, ctx.function_name
        )
    )


def scaffold_text(
    import_hint: str,
    qualname: str,
    source: Sequence[str],
    example: str,
    function_name: str,
) -> str:
    """The scaffold prompt: imports, the code under test as comments, an
    example test, and the start of the test the model writes. Local models
    are tuned on exactly this shape (``generate/prompt/tuning``)."""
    commented = "\n".join("# " + line if line else "#" for line in source)
    parts = ["import pytest", import_hint, "", f"# Code under test ({qualname}):"]
    parts += [commented, ""]
    if example:
        parts += [example, ""]
    parts += ["", f"def test_{function_name}_"]
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

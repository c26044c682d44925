"""Swap a function's code object for its mutated twin, and trace lines per test.

A mutant inside a function body is judged by compiling the mutated module and
putting the matching code object into the live function (``__code__``), in a
forked child, so nothing is re-imported. Mutants the swap cannot reach (import
time code, functions the tests hold in an unusual way) run in a fresh process
with :mod:`pytest_ruvqe.analyse.mutation.loader` instead.
"""

from __future__ import annotations

import os
import sys
import textwrap
import threading
import types
from collections.abc import Iterator
from types import CodeType, FrameType, FunctionType
from typing import Any

from pytest_ruvqe.analyse.mutation.types import Mutant


def _candidates(raw: Any) -> Iterator[FunctionType]:
    """Functions reachable from a module or class attribute, wrappers unwrapped."""
    if isinstance(raw, (staticmethod, classmethod)):
        raw = raw.__func__
    if isinstance(raw, property):
        for part in (raw.fget, raw.fset, raw.fdel):
            if part is not None:
                yield from _candidates(part)
        return
    seen = 0
    while raw is not None and seen < 10:  # __wrapped__ chains are short
        if isinstance(raw, FunctionType):
            yield raw
        raw = getattr(raw, "__wrapped__", None)
        seen += 1


def find_live_function(
    module: types.ModuleType, qualname: str, first_lines: frozenset[int]
) -> FunctionType | None:
    """The live function object for ``qualname`` whose code starts on one of
    ``first_lines`` (decorator or ``def`` line), or ``None``."""
    parts = qualname.split(".")
    owner: Any = module
    for part in parts[:-1]:
        owner = getattr(owner, part, None)
        if not isinstance(owner, type):
            return None
    namespace = vars(owner) if isinstance(owner, type) else vars(module)
    for func in _candidates(namespace.get(parts[-1])):
        code = func.__code__
        if code.co_name == parts[-1] and code.co_firstlineno in first_lines:
            return func
    return None


def find_code(code: CodeType, name: str, first_line: int) -> CodeType | None:
    """The code object named ``name`` starting on ``first_line`` inside ``code``."""
    stack = [code]
    while stack:
        current = stack.pop()
        if current.co_name == name and current.co_firstlineno == first_line:
            return current
        stack.extend(c for c in current.co_consts if isinstance(c, CodeType))
    return None


def function_snippet(text: str, start: int, end: int, in_class: bool) -> str:
    """Lines ``start..end`` of ``text`` as a module that compiles on its own,
    on the same line numbers (blank lines before it).

    Compiling one function is much cheaper than the whole module. A method is
    put back into a class so that ``super()`` still finds ``__class__``.
    """
    body = textwrap.dedent("\n".join(text.splitlines()[start - 1 : end]))
    if in_class:
        body = textwrap.indent(body, "    ", lambda line: True)
        return "\n" * (start - 2) + "class _Owner:\n" + body + "\n"
    return "\n" * (start - 1) + body + "\n"


def swap_code(
    module: types.ModuleType,
    path: str,
    mutated_text: str,
    mutant: Mutant,
    first_lines: frozenset[int],
    end: int,
) -> bool:
    """Put the mutated code of ``mutant.patch_target`` into the live function.

    Returns ``False`` when the function cannot be reached this way.
    """
    live = find_live_function(module, mutant.patch_target, first_lines)
    if live is None:
        return False
    try:
        source = function_snippet(
            mutated_text, min(first_lines), end, "." in mutant.patch_target
        )
        compiled = compile(source, path, "exec", dont_inherit=True)
    except SyntaxError:  # e.g. a multi-line string that defeats dedent
        compiled = compile(mutated_text, path, "exec", dont_inherit=True)
    name = mutant.patch_target.rsplit(".", 1)[-1]
    new = find_code(compiled, name, live.__code__.co_firstlineno)
    if new is None or new.co_freevars != live.__code__.co_freevars:
        return False
    live.__code__ = new
    return True


class LineTracer:
    """Records which lines of the target files each test runs (first hits only)."""

    def __init__(self, targets: dict[str, str]) -> None:
        self.targets = targets  # real path -> relative path
        self.current: dict[str, set[int]] = {}
        self._known: dict[str, str | None] = {}

    def _relative(self, filename: str) -> str | None:
        try:
            return self._known[filename]
        except KeyError:
            rel = self.targets.get(os.path.realpath(filename))
            self._known[filename] = rel
            return rel

    def _global(self, frame: FrameType, event: str, arg: object) -> Any:
        rel = self._relative(frame.f_code.co_filename)
        if rel is None:
            return None
        lines = self.current.setdefault(rel, set())
        lines.add(frame.f_lineno)

        def local(frame: FrameType, event: str, arg: object) -> Any:
            if event == "line":
                lines.add(frame.f_lineno)
            return local

        return local

    def start(self) -> None:
        """Trace this thread and threads started from now on."""
        sys.settrace(self._global)
        threading.settrace(self._global)

    def stop(self) -> None:
        """Stop tracing."""
        sys.settrace(None)
        threading.settrace(None)

    def take(self) -> dict[str, list[int]]:
        """Lines hit since the last call, per relative path."""
        taken = {rel: sorted(lines) for rel, lines in self.current.items()}
        self.current = {}
        return taken

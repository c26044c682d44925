"""The ``if`` and ``while`` conditions of a module, with a hint for each outcome.

Plain data, so the file cache can keep them with the source index: the
suggestions then name the input that takes a missing branch without parsing
the file again.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass(frozen=True)
class Condition:
    """The test of one ``if``/``while`` statement and what makes it go each way."""

    line: int
    text: str  # the condition as written (unparsed)
    body_line: int  # first line of the body: a branch to it means "taken"
    hint_taken: str
    hint_not_taken: str

    def hint(self, dest: int) -> str:
        """The hint for the branch from this condition's line to ``dest``."""
        return self.hint_taken if dest == self.body_line else self.hint_not_taken


def condition_hint(test: ast.expr, taken: bool) -> str:
    """A concrete hint for the input that makes ``test`` come out as ``taken``."""
    text = ast.unparse(test)
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        left, op, right = test.left, test.ops[0], test.comparators[0]
        name = ast.unparse(left)
        if isinstance(right, ast.Constant) and right.value == 0 and taken:
            if isinstance(op, ast.Lt):
                return f"add a test with a negative {name}"
            if isinstance(op, ast.Gt):
                return f"add a test with a positive {name}"
            if isinstance(op, (ast.Eq, ast.LtE, ast.GtE)):
                return f"add a test with {name} = 0"
        if isinstance(right, ast.Constant) and right.value is None:
            is_none = isinstance(op, ast.Is) == taken
            return f"add a test where {name} is {'' if is_none else 'not '}None"
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and taken:
        return f"add a test where `{ast.unparse(test.operand)}` is empty or false"
    return f"add a test where `{text}` is {'true' if taken else 'false'}"


def conditions_of(tree: ast.Module) -> dict[int, Condition]:
    """Every ``if`` and ``while`` of a parsed module, by line."""
    found: dict[int, Condition] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.If, ast.While)):
            found[node.lineno] = Condition(
                line=node.lineno,
                text=ast.unparse(node.test),
                body_line=node.body[0].lineno if node.body else -1,
                hint_taken=condition_hint(node.test, True),
                hint_not_taken=condition_hint(node.test, False),
            )
    return found

"""Planned characterization calls and what running them in a separate process
tells: the call executor interface (the guarded one is
:class:`~pytest_ruvqe.generate.search.executor.SandboxExecutor`)."""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from pytest_ruvqe.measure.types import Arc

# what a call did: a value that can be asserted, an object, an exception, a hang
# (or a refused operation), or an exception of its setup rather than of the call
CallKind = Literal["value", "object", "raise", "timeout", "setup_error"]


@dataclass(frozen=True)
class PlannedCall:
    """One call to try: statements that build the receiver, then the call.

    ``observe`` names the receiver (``obj``) when its state after the call
    is worth asserting: a method's effect, not only its result.
    """

    id: str
    setup: tuple[str, ...]
    expr: str
    observe: str = ""

    @property
    def is_statement(self) -> bool:
        """The call is a statement (``obj[k] = v``): only its effect on the
        receiver, or what it raises, can be asserted."""
        return is_statement(self.expr)


@functools.lru_cache(maxsize=4096)
def is_statement(text: str) -> bool:
    """Whether ``text`` is a statement rather than an expression."""
    try:
        ast.parse(text, mode="eval")
    except SyntaxError:
        return True
    return False


@dataclass(frozen=True)
class CallOutcome:
    """What one call did: its result kind, assertable facts and coverage."""

    call: PlannedCall
    kind: CallKind
    repr: str | None = None
    type: str | None = None
    needs: str = ""  # an import the asserted repr needs
    is_none: bool = False
    stable: bool = True
    lines: frozenset[int] = frozenset()
    arcs: frozenset[Arc] = frozenset()
    message: str = ""  # of a raised exception
    # a result whose repr does not give it back: attributes that do, its length
    fields: tuple[tuple[str, str], ...] = ()
    length: int | None = None
    # the receiver after the call (PlannedCall.observe): attributes, length
    state: tuple[tuple[str, str], ...] = ()
    state_length: int | None = None


@dataclass(frozen=True)
class ProbePlan:
    """The planned calls of one target's module, and their time limits."""

    module: str
    alias: str  # the name tests import the module under
    source_file: Path  # whose coverage each call reports
    calls: tuple[PlannedCall, ...]
    call_timeout: float
    timeout: float  # the whole probe
    # code run once after the imports (helpers of our own, never a candidate's)
    prelude: str = ""
    # evaluate each call twice (unstable results are not asserted) and its
    # setup alone (an error there is not the call's); False: once, as is
    repeat: bool = True


class CallExecutor(Protocol):
    """Runs planned calls in a separate process; outcomes in call order."""

    def execute(self, plan: ProbePlan) -> list[CallOutcome]:
        """Outcome, assertable facts and coverage of each call."""


class ProbeError(Exception):
    """The probe process failed as a whole (the message has its error output)."""

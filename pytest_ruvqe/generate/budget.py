"""The limits of one generation run, and the limit that ran out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

BudgetKind = Literal["targets", "time", "tokens", "cost"]
T = TypeVar("T")


@dataclass(frozen=True)
class Exhausted:
    """A budget that ran out: which one, and its limit."""

    kind: BudgetKind
    limit: float

    def __str__(self) -> str:
        if self.kind == "targets":
            return f"target budget of {self.limit}"
        if self.kind == "time":
            return f"time budget of {self.limit:g} s"
        if self.kind == "tokens":
            return f"token budget of {self.limit}"
        return f"cost budget of ${self.limit:g}"


@dataclass(frozen=True)
class Budget:
    """Limits of one generation run; None means no limit."""

    max_targets: int | None = None
    seconds: float | None = None
    tokens: int | None = None
    dollars: float | None = None

    def first(self, targets: Sequence[T]) -> tuple[list[T], Exhausted | None]:
        """The targets the run may take, and the target budget if it cut some."""
        if self.max_targets is not None and len(targets) > self.max_targets:
            return list(targets[: self.max_targets]), Exhausted(
                "targets", self.max_targets
            )
        return list(targets), None

    def exhausted(
        self, elapsed: Callable[[], float], tokens: int, cost: float
    ) -> Exhausted | None:
        """The budget that has run out after ``elapsed()`` seconds, if one has."""
        if self.seconds is not None and elapsed() >= self.seconds:
            return Exhausted("time", self.seconds)
        if self.tokens is not None and tokens >= self.tokens:
            return Exhausted("tokens", self.tokens)
        if self.dollars is not None and cost >= self.dollars:
            return Exhausted("cost", self.dollars)
        return None

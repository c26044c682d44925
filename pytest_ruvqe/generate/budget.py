"""The limits of one generation run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    """Limits of one generation run; None means no limit."""

    max_targets: int | None = None
    seconds: float | None = None
    tokens: int | None = None
    dollars: float | None = None

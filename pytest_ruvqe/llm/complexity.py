"""How hard a request is, judged from the target's code features.

All thresholds live in :data:`THRESHOLDS`. Each feature is placed on the
scale by the highest threshold it reaches; the request takes the highest
level of any of its features, because one very long function or one very
branchy function is enough to overwhelm a small model.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping


class Complexity(enum.IntEnum):
    """Difficulty levels, ordered."""

    SIMPLE = 0
    MODERATE = 1
    COMPLEX = 2
    VERY_COMPLEX = 3


# feature name -> minimum value for MODERATE, COMPLEX, VERY_COMPLEX
THRESHOLDS: Mapping[str, tuple[float, float, float]] = {
    "cyclomatic": (5, 10, 20),  # McCabe complexity of the target function
    "lines": (30, 80, 200),  # source lines of the target
    "callees": (5, 12, 25),  # distinct functions it calls
    "imports": (5, 12, 25),  # imports of its module
    "prompt_tokens": (1500, 4000, 12000),  # size of the prompt we send
}


def feature_level(name: str, value: float) -> Complexity:
    """Level reached by one feature (unknown features count as SIMPLE)."""
    limits = THRESHOLDS.get(name)
    if limits is None:
        return Complexity.SIMPLE
    level = Complexity.SIMPLE
    for index, limit in enumerate(limits, start=1):
        if value >= limit:
            level = Complexity(index)
    return level


def assess(
    features: Mapping[str, float], prompt_tokens: int | None = None
) -> Complexity:
    """Complexity of a request: the highest level any feature reaches."""
    values = dict(features)
    if prompt_tokens is not None:
        values.setdefault("prompt_tokens", prompt_tokens)
    return max(
        (feature_level(name, value) for name, value in values.items()),
        default=Complexity.SIMPLE,
    )


def estimate_tokens(text: str) -> int:
    """Cheap token estimate (about four characters per token for code and prose)."""
    return (len(text) + 3) // 4

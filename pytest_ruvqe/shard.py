"""``--ruvqe-shard=K/N``: a deterministic, balanced 1/N of the work.

Every shard computes the same partition on its own (no coordination): the
items are ordered by their key and dealt by the longest-processing-time
rule, each to the shard with the least cost so far, so shards differ by at
most one item's cost. Costs must be the same on every shard (derived from
the code, not from timings of this machine); without costs each item
counts one and the shards get equal counts.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``"2/4"`` → ``Shard(2, 4)``; ``ValueError`` saying what is wrong."""
    left, sep, right = text.partition("/")
    try:
        index, count = int(left), int(right)
    except ValueError:
        index = count = 0
    if not sep or count < 1 or not 1 <= index <= count:
        raise ValueError(f"{text!r}: use K/N with 1 <= K <= N, e.g. 2/4")
    return Shard(index, count)


def take(
    items: Sequence[T],
    shard: Shard | None,
    key: Callable[[T], str],
    cost: Callable[[T], float] = lambda _: 1.0,
) -> list[T]:
    """The items of ``shard`` (all of them when ``shard`` is None), in input order."""
    if shard is None or shard.count == 1:
        return list(items)
    order = sorted(items, key=lambda item: (-cost(item), key(item)))
    loads = [(0.0, s) for s in range(shard.count)]
    mine: set[str] = set()
    for item in order:
        load, s = heapq.heappop(loads)
        if s == shard.index - 1:
            mine.add(key(item))
        heapq.heappush(loads, (load + cost(item), s))
    return [item for item in items if key(item) in mine]

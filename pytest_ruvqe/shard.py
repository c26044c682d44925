"""``--ruvqe-shard=K/N``: a deterministic, balanced 1/N of the work.

Every shard computes the same partition on its own (no coordination): the
items are ordered by their cost and key and dealt by the longest-processing-
time rule, each to the shard with the least cost so far, so shards differ by
at most one item's cost. Costs must be the same on every shard: they are the
seconds each item took in the previous run, read from the same restored
``.ruvqe/`` (items it did not have cost the median), or, with no previous
run, derived from the code or one per item. Each shard reports the digest of
the costs it dealt by, so shards that disagreed are caught when merged.
"""

from __future__ import annotations

import hashlib
import heapq
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeVar

T = TypeVar("T")
# what the shards' shares were balanced by: the previous run's seconds per
# item, a cost derived from the code, or one per item
DealtBy = Literal["seconds", "code", "count"]


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


@dataclass(frozen=True)
class MeasuredCosts:
    """Seconds per item key from the previous run; the median for new items."""

    seconds: Mapping[str, float] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        return bool(self.seconds)

    def of(self, key: str) -> float:
        if key in self.seconds:
            return self.seconds[key]
        return statistics.median(self.seconds.values()) if self.seconds else 1.0

    def digest(self) -> str:
        """What the partition was dealt by, the same on shards that agree."""
        text = "\n".join(f"{k}\t{v:.3f}" for k, v in sorted(self.seconds.items()))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Dealt:
    """How one shard's share was dealt, as its report says; shards whose
    digests differ dealt differently and cannot be merged."""

    index: int
    count: int
    by: DealtBy
    digest: str

    def as_dict(self) -> dict[str, object]:
        return {
            "index": self.index,
            "count": self.count,
            "by": self.by,
            "digest": self.digest,
        }


def deal(
    items: Sequence[T],
    shard: Shard | None,
    key: Callable[[T], str],
    costs: MeasuredCosts,
    derived: Callable[[T], float] | None = None,
) -> tuple[list[T], Dealt | None]:
    """This shard's items, balanced by the measured ``costs`` when there are
    any, else by the ``derived`` cost, else by count."""
    if shard is None:
        return list(items), None
    by: DealtBy
    if costs.known:
        by, digest = "seconds", costs.digest()
        cost: Callable[[T], float] = lambda item: costs.of(key(item))  # noqa: E731
    elif derived is not None:
        by, digest, cost = "code", "code", derived
    else:
        by, digest, cost = "count", "count", lambda _: 1.0
    return take(items, shard, key, cost), Dealt(shard.index, shard.count, by, digest)

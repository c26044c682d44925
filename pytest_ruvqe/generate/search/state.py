"""One target's search in progress: its queue, archive, pace and counts."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from pytest_ruvqe.generate.search.archive import Archive
from pytest_ruvqe.generate.search.mutate import mutate
from pytest_ruvqe.generate.search.plan import Vocabulary
from pytest_ruvqe.generate.search.probe import CallOutcome
from pytest_ruvqe.generate.search.spec import CallSpec

_PROBE_SECONDS = 4.0  # what one probe of a batch should take
SMALLEST_BATCH = 8
_STACKED = (0, 0, 1, 2)  # more changes after the first, drawn per mutant


@dataclass
class SearchState:
    """One target's search in progress."""

    vocab: Vocabulary
    archive: Archive
    rng: random.Random
    deadline: float
    queue: list[CallSpec]
    seen: set[tuple[tuple[str, ...], str]] = field(default_factory=set)
    outcomes: list[CallOutcome] = field(default_factory=list)
    specs: dict[str, CallSpec] = field(default_factory=dict)
    tried: int = 0
    batches: int = 0
    stale: int = 0
    began: float = 0.0
    last_gain: float = 0.0
    kinds: Counter[str] = field(default_factory=Counter)
    # seconds a call of this target takes in the probe; a first small batch
    # measures it
    per_call: float = 0.02

    startup: float = 1.0  # seconds a probe takes before its first call (at most)

    def paced(self, seconds: float, calls: int) -> None:
        """Learn the pace from a probe of ``calls`` calls that took ``seconds``."""
        self.startup = min(self.startup, seconds)
        pace = max(1e-4, (seconds - 0.8 * self.startup) / calls)
        self.per_call = 0.5 * self.per_call + 0.5 * pace

    def batch_size(self, most: int) -> int:
        """Calls for the next probe: as many as run in a few seconds, within
        the time left."""
        pace = max(self.per_call, 1e-4)
        fits = min(_PROBE_SECONDS, max(1.0, self.deadline - self.began) / 3) / pace
        return max(SMALLEST_BATCH, min(most, int(fits)))

    def stagnated(self, now: float, patience: int, share: float) -> bool:
        """Nothing new for ``patience`` batches and ``share`` of the time given."""
        waited = now - self.last_gain
        return self.stale >= patience and waited >= share * (self.deadline - self.began)

    def next_batch(self, size: int, fresh_share: float) -> list[CallSpec]:
        """Queued calls first, then mutations of kept calls and fresh ones."""
        batch: list[CallSpec] = []
        attempts = 0
        while len(batch) < size and attempts < size * 8:
            attempts += 1
            spec = self.queue.pop(0) if self.queue else self._generated(fresh_share)
            key = self._key(spec)
            if key in self.seen:
                continue
            self.seen.add(key)
            batch.append(spec)
        return batch

    def _generated(self, fresh_share: float) -> CallSpec:
        parent = self.archive.pick(self.rng)
        if parent is None or self.rng.random() < fresh_share:
            return self.vocab.fresh(self.rng)
        other = self.archive.pick(self.rng)
        # one change or a few stacked: a branch behind two changes at once
        # (two constructor arguments together) has no covering call between
        spec = mutate(parent, self.vocab, self.rng, other)
        for _ in range(self.rng.choice(_STACKED)):
            spec = mutate(spec, self.vocab, self.rng)
        return spec

    def _key(self, spec: CallSpec) -> tuple[tuple[str, ...], str]:
        planned = self.vocab.planned(spec, "")
        return planned.setup, planned.expr

"""The ReasoningBank: accepted recipes and tests, recalled for similar targets.

Patterns live in the store (namespace ``patterns``, one entry each, keyed by
content address), so a killed run loses at most what it had not written. The
vector index is a cache of the store: kept on disk beside it, rebuilt from the
store whenever it is missing, stale or damaged.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pytest_ruvqe.memory import consolidate as consolidation
from pytest_ruvqe.memory.embedding import Embedder, HashingEmbedder
from pytest_ruvqe.memory.index import (
    ExactIndex,
    HnswIndex,
    VectorIndex,
    hnswlib_available,
    load_index,
    save_index,
)
from pytest_ruvqe.memory.patterns import (
    Pattern,
    PatternError,
    PatternKind,
    Vector,
    from_plain,
    to_plain,
)
from pytest_ruvqe.memory.store import Store, StoreError

NAMESPACE = "patterns"
DEFAULT_FLOOR = 0.35
_log = logging.getLogger("pytest_ruvqe.bank")


@dataclass(frozen=True)
class Recall:
    """A recalled pattern, how near it is to the query, and its ranking score."""

    pattern: Pattern
    similarity: float
    score: float


@dataclass(frozen=True)
class Query:
    """What to recall for: a target's code, and what to leave out."""

    source: str
    k: int = 5
    floor: float = DEFAULT_FLOOR
    kind: PatternKind | None = None
    exclude_signature: str | None = None  # e.g. the target itself, in benchmarks


BANK_STORE = "bank"  # under the bank directory: the store, and the index beside it
INDEX_FILE = "patterns.hnsw"


class ReasoningBank:
    """Patterns in a :class:`Store`, searched by embedding."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder | None = None,
        index_path: Path | None = None,
        use_hnsw: bool | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.embedder = embedder or HashingEmbedder()
        self.index_path = index_path
        self.use_hnsw = hnswlib_available() if use_hnsw is None else use_hnsw
        self.clock = clock
        self.problems: list[str] = []
        self._patterns: dict[str, Pattern] = {}
        self._ids: list[str] = []  # index label -> pattern id
        self._by_signature: dict[str, set[str]] = {}  # target -> pattern ids
        self._load()
        self._index = self._open_index()

    def _load(self) -> None:
        skipped = 0
        for key in self.store.keys(NAMESPACE):
            try:
                pattern = from_plain(self.store.get(NAMESPACE, key), self.embedder.dim)
            except PatternError as exc:
                skipped += 1
                _log.debug("pattern %s skipped: %s", key, exc)
                continue
            self._held(pattern)
        if skipped:
            self.problems.append(
                f"{skipped} pattern(s) in the bank were unreadable or of another "
                "schema and were ignored"
            )
        self._ids = sorted(self._patterns)

    def _open_index(self) -> VectorIndex:
        dim = self.embedder.dim
        if self.use_hnsw and self.index_path is not None:
            loaded = load_index(self.index_path, dim, self._ids)
            if loaded is not None:
                graph, self._ids = loaded
                return graph
        index: VectorIndex = (
            HnswIndex(dim, capacity=len(self._ids) + 64)
            if self.use_hnsw
            else ExactIndex(dim)
        )
        if self._ids:
            rows = np.stack([self._patterns[i].embedding for i in self._ids])
            index.add(np.arange(len(self._ids), dtype=np.int64), rows)
        return index

    def __len__(self) -> int:
        return len(self._patterns)

    def patterns(self) -> list[Pattern]:
        """Every pattern, by id."""
        return [self._patterns[i] for i in sorted(self._patterns)]

    def get(self, pattern_id: str) -> Pattern | None:
        """The pattern with this id, if the bank holds it."""
        return self._patterns.get(pattern_id)

    def of_signature(
        self, signature: str, kind: PatternKind | None = None
    ) -> list[Pattern]:
        """The patterns written for exactly this target, best first (posterior
        mean, then the most recently used)."""
        found = [self._patterns[i] for i in self._by_signature.get(signature, ())]
        if kind is not None:
            found = [p for p in found if p.kind == kind]
        found.sort(key=lambda p: (-p.posterior_mean, -p.last_used, p.id))
        return found

    def _held(self, pattern: Pattern) -> None:
        self._patterns[pattern.id] = pattern
        self._by_signature.setdefault(pattern.signature, set()).add(pattern.id)

    def embed(self, source: str) -> Vector:
        """The embedding of one target's code."""
        vector: Vector = self.embedder.embed([source])[0]
        return vector

    def add(self, pattern: Pattern) -> Pattern:
        """Keep ``pattern``; one already held gains its counts instead."""
        held = self._patterns.get(pattern.id)
        if held is not None:
            pattern = consolidation.merged(held, [pattern])
        self._write(pattern)
        if held is None:
            self._ids.append(pattern.id)
            label = np.array([len(self._ids) - 1], dtype=np.int64)
            self._index.add(label, pattern.embedding[None, :])
        return pattern

    def add_many(self, patterns: Sequence[Pattern]) -> int:
        """:meth:`add` for many, indexed in one batch; return how many were new."""
        fresh: list[Pattern] = []
        for pattern in patterns:
            held = self._patterns.get(pattern.id)
            if held is not None:
                self._write(consolidation.merged(held, [pattern]))
                continue
            self._write(pattern)
            fresh.append(pattern)
        if fresh:
            first = len(self._ids)
            self._ids.extend(p.id for p in fresh)
            labels = np.arange(first, first + len(fresh), dtype=np.int64)
            self._index.add(labels, np.stack([p.embedding for p in fresh]))
        return len(fresh)

    def _write(self, pattern: Pattern) -> None:
        try:
            self.store.put(NAMESPACE, pattern.id, to_plain(pattern))
        except StoreError as exc:
            self.problems.append(f"pattern not saved: {exc}")
        self._held(pattern)

    def recall(
        self, query: Query, rng: np.random.Generator | None = None
    ) -> list[Recall]:
        """The ``k`` nearest patterns above the floor, ranked by similarity
        times the posterior mean, or times a Thompson draw from
        Beta(alpha + 1, beta + 1) when ``rng`` is given (exploring)."""
        return self.recall_vector(self.embed(query.source), query, rng)

    def recall_vector(
        self, vector: Vector, query: Query, rng: np.random.Generator | None = None
    ) -> list[Recall]:
        """:meth:`recall` for an embedding already computed."""
        wide = min(len(self._ids), max(4 * query.k, 32))
        found: list[tuple[float, str, Recall]] = []
        for label, similarity in self._index.search(vector, wide):
            if similarity < query.floor:
                break  # most similar first: the rest are below it too
            pattern_id = self._ids[label]
            pattern = self._patterns.get(pattern_id)
            if pattern is None or (
                query.kind is not None and pattern.kind != query.kind
            ):
                continue
            if pattern.signature == query.exclude_signature:
                continue
            if rng is None:
                worth = pattern.posterior_mean
            else:
                worth = float(rng.beta(pattern.alpha + 1.0, pattern.beta + 1.0))
            score = similarity * worth
            found.append((-score, pattern_id, Recall(pattern, similarity, score)))
        found.sort(key=lambda entry: entry[:2])
        return [recall for *_, recall in found[: query.k]]

    def record(self, pattern_id: str, accepted: bool) -> Pattern | None:
        """Count one use of a recalled pattern: alpha if it led to acceptance,
        beta if not."""
        held = self._patterns.get(pattern_id)
        if held is None:
            return None
        updated = dataclasses.replace(
            held,
            alpha=held.alpha + (1.0 if accepted else 0.0),
            beta=held.beta + (0.0 if accepted else 1.0),
            last_used=self.clock(),
        )
        self._write(updated)
        return updated

    def replace_one(self, pattern: Pattern) -> None:
        """Overwrite a held pattern's counts and times (same id, same vector)."""
        if pattern.id not in self._patterns:
            raise KeyError(f"pattern {pattern.id} is not in the bank")
        self._write(pattern)

    def replace_all(self, patterns: Iterable[Pattern]) -> None:
        """Make the bank hold exactly ``patterns`` (after consolidation or pruning)."""
        keep = {p.id: p for p in patterns}
        for gone in set(self._patterns) - set(keep):
            self.store.delete(NAMESPACE, gone)
            self._by_signature[self._patterns.pop(gone).signature].discard(gone)
        for pattern in keep.values():
            if pattern != self._patterns.get(pattern.id):
                self._write(pattern)
        self._ids = sorted(self._patterns)
        self._index = self._rebuilt()

    def _rebuilt(self) -> VectorIndex:
        path, self.index_path = self.index_path, None  # never reload a stale file
        try:
            return self._open_index()
        finally:
            self.index_path = path

    def maintain(self, size: int, cap: int, seconds: float = 10.0) -> tuple[int, int]:
        """Consolidate past ``size`` patterns and prune past ``cap``; return
        (merged, pruned)."""
        merged = pruned = 0
        if len(self) > size:
            result = consolidation.consolidate(self.patterns(), seconds=seconds)
            merged = result.merged
            kept: Sequence[Pattern] = result.patterns
        else:
            kept = self.patterns()
        kept, dropped = consolidation.prune(kept, cap, self.clock())
        pruned = len(dropped)
        if merged or pruned:
            self.replace_all(kept)
        return merged, pruned

    def save_index(self) -> None:
        """Persist the graph beside the store (nothing for the exact index)."""
        if isinstance(self._index, HnswIndex) and self.index_path is not None:
            try:
                save_index(self._index, self.index_path, self._ids)
            except OSError as exc:
                self.problems.append(f"pattern index not saved: {exc}")

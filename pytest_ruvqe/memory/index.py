"""Nearest-neighbour search over the bank's embeddings.

:class:`HnswIndex` (hnswlib, the ``learn`` extra) is the fast one and is kept
on disk beside the store; :class:`ExactIndex` is numpy brute force, used when
hnswlib is not installed and as the ground truth in tests. Rows are unit
vectors, so similarity is the inner product.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import numpy.typing as npt

from pytest_ruvqe.fileio import write_atomic
from pytest_ruvqe.memory.patterns import Vector

_log = logging.getLogger("pytest_ruvqe.bank")
Labels = npt.NDArray[np.int64]
INDEX_FORMAT = 1
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 100


class VectorIndex(ABC):
    """Integer labels to unit vectors, searched by inner product."""

    def __init__(self, dim: int) -> None:
        self.dim = dim

    @abstractmethod
    def add(self, labels: Labels, vectors: Vector) -> None:
        """Insert rows under ``labels`` (unique, not yet present)."""

    @abstractmethod
    def search(self, query: Vector, k: int) -> list[tuple[int, float]]:
        """Up to ``k`` (label, similarity) pairs, most similar first."""

    @abstractmethod
    def __len__(self) -> int: ...


class ExactIndex(VectorIndex):
    """Brute-force inner products with numpy."""

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self._labels: Labels = np.zeros(0, dtype=np.int64)
        self._rows: Vector = np.zeros((0, dim), dtype=np.float32)

    def add(self, labels: Labels, vectors: Vector) -> None:
        """Append rows."""
        self._labels = np.concatenate([self._labels, np.asarray(labels, np.int64)])
        self._rows = np.vstack([self._rows, np.asarray(vectors, np.float32)])

    def search(self, query: Vector, k: int) -> list[tuple[int, float]]:
        """The exact top ``k``."""
        if not len(self) or k <= 0:
            return []
        sims = self._rows @ np.asarray(query, np.float32)
        k = min(k, len(sims))
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(int(self._labels[i]), float(sims[i])) for i in top]

    def __len__(self) -> int:
        return int(self._labels.shape[0])


class HnswIndex(VectorIndex):
    """An hnswlib graph over inner products; grows as rows are added."""

    def __init__(self, dim: int, capacity: int = 1024, raw: Any = None) -> None:
        super().__init__(dim)
        import hnswlib  # lazy: the ``learn`` extra

        if raw is None:
            raw = hnswlib.Index(space="ip", dim=dim)
            raw.init_index(
                max_elements=max(capacity, 16),
                ef_construction=HNSW_EF_CONSTRUCTION,
                M=HNSW_M,
                random_seed=7,
            )
        self._raw = raw
        self._raw.set_ef(HNSW_EF_SEARCH)

    def add(self, labels: Labels, vectors: Vector) -> None:
        """Insert rows, doubling the capacity when full."""
        need = len(self) + len(labels)
        if need > self._raw.get_max_elements():
            self._raw.resize_index(max(need, 2 * self._raw.get_max_elements()))
        self._raw.add_items(np.asarray(vectors, np.float32), np.asarray(labels))

    def search(self, query: Vector, k: int) -> list[tuple[int, float]]:
        """The approximate top ``k``."""
        k = min(k, len(self))
        if k <= 0:
            return []
        self._raw.set_ef(max(HNSW_EF_SEARCH, k))
        # one query: threads cost more than they save
        labels, distances = self._raw.knn_query(
            np.asarray(query, np.float32), k=k, num_threads=1
        )
        return [
            (int(label), 1.0 - float(d))
            for label, d in zip(labels[0], distances[0], strict=True)
        ]

    def __len__(self) -> int:
        return int(self._raw.get_current_count())

    def save(self, path: Path) -> str:
        """Write the graph atomically; return its checksum."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        os.close(fd)
        try:
            self._raw.save_index(tmp)
            digest = _checksum(Path(tmp))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    @classmethod
    def load(cls, path: Path, dim: int, count: int) -> HnswIndex:
        """A saved graph (the caller has checked its checksum)."""
        import hnswlib

        raw = hnswlib.Index(space="ip", dim=dim)
        raw.load_index(str(path), max_elements=max(count, 16))
        return cls(dim, raw=raw)


def _checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def hnswlib_available() -> bool:
    """Whether the ``learn`` extra's hnswlib imports."""
    try:
        import hnswlib  # noqa: F401
    except ImportError:
        return False
    return True


def save_index(index: HnswIndex, path: Path, ids: list[str]) -> None:
    """The graph and, beside it, the pattern ids its labels stand for."""
    digest = index.save(path)
    meta = {"format": INDEX_FORMAT, "dim": index.dim, "sha256": digest, "ids": ids}
    write_atomic(path.with_suffix(".ids"), msgpack.packb(meta, use_bin_type=True))


def load_index(
    path: Path, dim: int, ids: list[str]
) -> tuple[HnswIndex, list[str]] | None:
    """The saved graph and its label order, if it is whole and labels exactly
    the patterns ``ids``; else None."""
    sidecar = path.with_suffix(".ids")
    if not path.exists() or not sidecar.exists():
        return None
    try:
        meta = msgpack.unpackb(sidecar.read_bytes(), raw=False)
        whole = (
            isinstance(meta, dict)
            and meta.get("format") == INDEX_FORMAT
            and meta.get("dim") == dim
            and isinstance(meta.get("ids"), list)
            and sorted(meta["ids"]) == sorted(ids)
            and meta.get("sha256") == _checksum(path)
        )
        if not whole:
            _log.warning("pattern index at %s is stale or damaged; rebuilt", path)
            return None
        return HnswIndex.load(path, dim, len(ids)), list(meta["ids"])
    except Exception as exc:  # msgpack and hnswlib raise several types on garbage
        _log.warning("pattern index at %s is unreadable (%s); rebuilt", path, exc)
        return None

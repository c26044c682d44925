"""Binary key-value store: diskcache on disk, msgpack values with a schema version.

Values are plain data (dicts, lists, strings, numbers, bytes). Each one is stored
as ``msgpack([SCHEMA_VERSION, value])``; an entry that does not decode, or that
was written by another schema version, is skipped with a logged warning and
reported in :attr:`Store.problems` — reading never crashes a run.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack

SCHEMA_VERSION = 1
_log = logging.getLogger("pytest_ruvqe.store")


class StoreError(Exception):
    """The store cannot be opened or written; the message says what to do."""


def encode(value: Any) -> bytes:
    """Serialise a plain-data value with the schema version."""
    try:
        packed: bytes = msgpack.packb([SCHEMA_VERSION, value], use_bin_type=True)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"value is not plain data msgpack can store: {exc}") from None
    return packed


def decode(raw: bytes) -> Any:
    """Inverse of :func:`encode`; raise ``ValueError`` on corrupt or foreign data."""
    try:
        item = msgpack.unpackb(raw, raw=False, strict_map_key=False)
    except Exception as exc:  # msgpack raises several unrelated types on garbage
        raise ValueError(f"not msgpack: {exc}") from None
    if not (isinstance(item, list) and len(item) == 2):
        raise ValueError("not a versioned entry")
    if item[0] != SCHEMA_VERSION:
        raise ValueError(f"schema version {item[0]!r}, expected {SCHEMA_VERSION}")
    return item[1]


class Store(ABC):
    """Namespaced key-value store of plain data."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    @abstractmethod
    def _get_raw(self, key: str) -> bytes | None: ...

    @abstractmethod
    def _set_raw(self, key: str, raw: bytes) -> None: ...

    @abstractmethod
    def _delete(self, key: str) -> None: ...

    @abstractmethod
    def _keys(self) -> Iterator[str]: ...

    @abstractmethod
    def close(self) -> None:
        """Release files; the store is unusable afterwards."""

    @staticmethod
    def _key(namespace: str, key: str) -> str:
        return f"{namespace}\x1f{key}"

    def get(self, namespace: str, key: str, default: Any = None) -> Any:
        """The value under ``key``, or ``default`` if absent or unreadable."""
        full = self._key(namespace, key)
        raw = self._get_raw(full)
        if raw is None:
            return default
        try:
            return decode(raw)
        except ValueError as exc:
            message = f"skipped corrupt store entry {namespace}/{key}: {exc}"
            _log.warning(message)
            self.problems.append(message)
            return default

    def put(self, namespace: str, key: str, value: Any) -> None:
        """Store ``value`` (plain data) under ``key``, atomically."""
        self._set_raw(self._key(namespace, key), encode(value))

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group the writes inside into one transaction (where the backend has
        them): a thousand small writes then cost one commit, not a thousand."""
        yield

    def delete(self, namespace: str, key: str) -> None:
        """Remove ``key`` if present."""
        self._delete(self._key(namespace, key))

    def keys(self, namespace: str) -> list[str]:
        """All keys of one namespace, sorted."""
        prefix = namespace + "\x1f"
        return sorted(k[len(prefix) :] for k in self._keys() if k.startswith(prefix))

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MemoryStore(Store):
    """In-memory store with the same encoding, for tests and dry runs."""

    def __init__(self) -> None:
        super().__init__()
        self._data: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def _get_raw(self, key: str) -> bytes | None:
        return self._data.get(key)

    def _set_raw(self, key: str, raw: bytes) -> None:
        with self._lock:
            self._data[key] = raw

    def _delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def _keys(self) -> Iterator[str]:
        return iter(list(self._data))

    def close(self) -> None:
        """Nothing to release."""


class DiskStore(Store):
    """The ``.ruvqe/store`` directory: a diskcache (SQLite, transactional) cache.

    Each write is one SQLite transaction, so a killed process leaves either the
    old or the new value. A file that is not a database is moved aside and a
    fresh store is started, with a warning; a healthy store that cannot be
    written (read-only files or filesystem, locked) is left as it is and
    :class:`StoreError` says why.
    """

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = Path(directory)
        self._cache = self._open()

    def _open(self) -> Any:
        import sqlite3

        import diskcache  # lazy: only runs that keep state need it

        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            return diskcache.Cache(
                str(self.directory), eviction_policy="none", size_limit=2**40
            )
        except (OSError, sqlite3.OperationalError, diskcache.Timeout) as exc:
            # read-only, locked or missing permissions: the data may be fine
            raise StoreError(
                f"cannot open the store at {self.directory}: {exc}; "
                "check that it is writable (or delete it)"
            ) from None
        except sqlite3.DatabaseError as exc:  # the file is not a database
            aside = self.directory.with_name(
                f"{self.directory.name}.corrupt-{int(time.time())}"
            )
            shutil.move(str(self.directory), str(aside))
            message = (
                f"store at {self.directory} was unreadable ({exc}); moved to {aside}"
            )
            _log.warning(message)
            self.problems.append(message)
            self.directory.mkdir(parents=True, exist_ok=True)
            return diskcache.Cache(
                str(self.directory), eviction_policy="none", size_limit=2**40
            )

    def _get_raw(self, key: str) -> bytes | None:
        value = self._cache.get(key, default=None, retry=True)
        if value is None or isinstance(value, bytes):
            return value
        return b""  # something else wrote here: decodes as corrupt

    def _set_raw(self, key: str, raw: bytes) -> None:
        with self._writing():
            self._cache.set(key, raw, retry=True)

    def _delete(self, key: str) -> None:
        with self._writing():
            self._cache.delete(key, retry=True)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        import sqlite3

        import diskcache

        try:
            yield
        except (OSError, sqlite3.Error, diskcache.Timeout) as exc:
            raise StoreError(
                f"cannot write the store at {self.directory}: {exc}; "
                "check that it is writable"
            ) from None

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """One SQLite transaction for every write inside."""
        with self._writing(), self._cache.transact(retry=True):
            yield

    def _keys(self) -> Iterator[str]:
        return (k for k in self._cache.iterkeys() if isinstance(k, str))

    def close(self) -> None:
        """Close the SQLite connection."""
        self._cache.close()


def open_store(directory: Path) -> DiskStore:
    """The store under ``directory`` (usually ``<rootdir>/.ruvqe/store``)."""
    return DiskStore(directory)

"""Checking and repairing the store: what ``ruvqe store verify | gc`` do."""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pytest_ruvqe.memory.store import Store, decode

DATABASE = "cache.db"  # diskcache's SQLite file inside the store directory


@dataclass(frozen=True)
class StoreHealth:
    """What a look through every entry of the store found."""

    entries: Counter[str] = field(default_factory=Counter)  # readable, by namespace
    bad: tuple[tuple[str, str], ...] = ()  # (key, why) of entries that do not decode

    @property
    def healthy(self) -> bool:
        return not self.bad


def database_problem(directory: Path) -> str:
    """Why the store's database is unusable, or '' (a missing one is fine)."""
    path = directory / DATABASE
    if not path.exists():
        return ""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            verdict = db.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as exc:
        return f"{path} is not a readable database ({exc})"
    if verdict is None or verdict[0] != "ok":
        return f"{path} fails SQLite's integrity check ({verdict})"
    return ""


def verify(store: Store) -> StoreHealth:
    """Read and decode every entry; count them and name those that fail."""
    entries: Counter[str] = Counter()
    bad: list[tuple[str, str]] = []
    for key in list(store._keys()):
        namespace = key.split("\x1f", 1)[0]
        raw = store._get_raw(key)
        if raw is None:
            continue  # removed meanwhile
        try:
            decode(raw)
        except ValueError as exc:
            bad.append((key.replace("\x1f", "/"), str(exc)))
        else:
            entries[namespace] += 1
    return StoreHealth(entries, tuple(bad))


def collect_garbage(store: Store) -> int:
    """Remove the entries that do not decode (corrupt or another version)."""
    health = verify(store)
    for key, _ in health.bad:
        store._delete(key.replace("/", "\x1f", 1))
    return len(health.bad)

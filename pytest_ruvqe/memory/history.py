"""Outcome history of tests across runs, kept in the store for flaky detection.

Each entry records the outcome of one test in one run together with a
fingerprint of the code it ran against (the measured sources and the test's
own file), so a flip of outcome can be told apart from a change of code.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pytest_ruvqe.memory.store import Store

NAMESPACE = "outcomes"
KEEP_RUNS = 20  # entries kept per test; older runs say little about today


@dataclass(frozen=True)
class OutcomeRecord:
    """One test's outcome in one run."""

    outcome: str  # passed / failed / error / skipped
    fingerprint: str
    at: float
    run: str = ""


def fingerprint_text(*parts: str) -> str:
    """A short hash of ``parts`` (e.g. the plugins and options of a run)."""
    digest = hashlib.sha256("\x1f".join(parts).encode())
    return digest.hexdigest()[:16]


def fingerprint_files(paths: Iterable[Path]) -> str:
    """A short hash of the contents of ``paths`` (missing files hash as empty)."""
    digest = hashlib.sha256()
    for path in sorted({Path(p) for p in paths}):
        digest.update(str(path).encode())
        try:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            digest.update(b"-")
    return digest.hexdigest()[:16]


class OutcomeHistory:
    """Per-test outcome records in a :class:`Store`, newest last."""

    def __init__(self, store: Store, keep: int = KEEP_RUNS) -> None:
        self.store = store
        self.keep = keep

    def record(
        self,
        outcomes: Mapping[str, str],
        fingerprints: Mapping[str, str],
        run: str = "",
        at: float | None = None,
    ) -> dict[str, list[OutcomeRecord]]:
        """Append one run: ``outcomes`` and ``fingerprints`` keyed by test id.

        Returns every test's records after the run (all writes in one batch).
        """
        now = time.time() if at is None else at
        known: dict[str, list[OutcomeRecord]] = {}
        with self.store.batch():
            for nodeid, outcome in outcomes.items():
                entries = self.store.get(NAMESPACE, nodeid, [])
                if not isinstance(entries, list):
                    entries = []
                if outcome != "skipped":  # a skip says nothing about stability
                    entries.append([outcome, fingerprints.get(nodeid, ""), now, run])
                    entries = entries[-self.keep :]
                    self.store.put(NAMESPACE, nodeid, entries)
                known[nodeid] = _records(entries)
        return known

    def of(self, nodeid: str) -> list[OutcomeRecord]:
        """The records of one test, oldest first; malformed entries are dropped."""
        return _records(self.store.get(NAMESPACE, nodeid, []))

    def forget(self) -> int:
        """Drop every record; return how many tests had a history."""
        keys = self.store.keys(NAMESPACE)
        for nodeid in keys:
            self.store.delete(NAMESPACE, nodeid)
        return len(keys)

    def all(self) -> dict[str, list[OutcomeRecord]]:
        """Records of every test in the history."""
        return {nodeid: self.of(nodeid) for nodeid in self.store.keys(NAMESPACE)}


def _records(entries: object) -> list[OutcomeRecord]:
    """Stored entries as records, oldest first; malformed ones dropped."""
    records = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, list) and len(entry) == 4:
            outcome, fingerprint, at, run = entry
            records.append(
                OutcomeRecord(str(outcome), str(fingerprint), float(at), str(run))
            )
    return records

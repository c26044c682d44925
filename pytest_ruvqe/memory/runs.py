"""One record per run in the store: the figures the HTML report charts over
time (coverage, quality, mutation score, generation's acceptance)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from pytest_ruvqe.memory.store import Store, StoreError, open_store

NAMESPACE = "runs"
KEY = "all"
KEEP_RUNS = 100


@dataclass(frozen=True)
class RunRecord:
    """The headline figures of one run; None where the run did not measure it."""

    at: float  # seconds since the epoch
    coverage: float  # line+branch, 0..1
    tests: int
    diff: bool = False  # --ruvqe-diff: only changed lines were counted
    quality: float | None = None
    mutation: float | None = None
    accepted: int | None = None  # generated tests kept, with --ruvqe-generate
    rejected: int | None = None

    @property
    def acceptance(self) -> float | None:
        """Share of generation's candidate tests that were kept."""
        if self.accepted is None or self.rejected is None:
            return None
        tried = self.accepted + self.rejected
        return self.accepted / tried if tried else None


_FIELDS = tuple(f.name for f in dataclasses.fields(RunRecord))


class RunHistory:
    """The run records in a :class:`Store`, oldest first, the last ``keep``."""

    def __init__(self, store: Store, keep: int = KEEP_RUNS) -> None:
        self.store = store
        self.keep = keep

    def all(self) -> tuple[RunRecord, ...]:
        """Every kept record; malformed entries are dropped."""
        entries = self.store.get(NAMESPACE, KEY, [])
        return tuple(_records(entries if isinstance(entries, list) else []))

    def record(self, run: RunRecord) -> tuple[RunRecord, ...]:
        """Append ``run``; return the history with it."""
        entries = self.store.get(NAMESPACE, KEY, [])
        if not isinstance(entries, list):
            entries = []
        entries = [*entries, list(dataclasses.astuple(run))][-self.keep :]
        self.store.put(NAMESPACE, KEY, entries)
        return tuple(_records(entries))


def stored_runs(directory: Path) -> tuple[RunRecord, ...]:
    """The history in the store at ``directory``, read only: nothing is
    created where there is no store, nothing is said when it cannot be read."""
    if not directory.is_dir():
        return ()
    try:
        store = open_store(directory)
    except StoreError:
        return ()
    try:
        return RunHistory(store).all()
    except StoreError:
        return ()
    finally:
        store.close()


def _records(entries: list[object]) -> list[RunRecord]:
    return [r for r in map(_record, entries) if r is not None]


def _record(entry: object) -> RunRecord | None:
    if not isinstance(entry, list) or len(entry) != len(_FIELDS):
        return None
    at, coverage, tests, diff, quality, mutation, accepted, rejected = entry
    try:
        return RunRecord(
            at=float(at),
            coverage=float(coverage),
            tests=int(tests),
            diff=bool(diff),
            quality=None if quality is None else float(quality),
            mutation=None if mutation is None else float(mutation),
            accepted=None if accepted is None else int(accepted),
            rejected=None if rejected is None else int(rejected),
        )
    except (TypeError, ValueError):
        return None


COSTS_NAMESPACE = "costs"  # seconds per mutant / target of the last whole run


def stored_costs(store: Store, kind: str) -> dict[str, float]:
    """Seconds per item of ``kind`` ("mutants", "targets") kept by the last
    run that was not a shard; malformed entries are dropped."""
    found = store.get(COSTS_NAMESPACE, kind, {})
    if not isinstance(found, dict):
        return {}
    return {
        str(k): float(v)
        for k, v in found.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def keep_costs(store: Store, kind: str, seconds: dict[str, float]) -> None:
    """Replace the kept costs of ``kind`` (nothing to keep: left as they were)."""
    if seconds:
        store.put(COSTS_NAMESPACE, kind, seconds)

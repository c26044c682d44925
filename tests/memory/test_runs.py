"""The run history and the shard costs kept in the store."""

from __future__ import annotations

from pathlib import Path

from pytest_ruvqe.memory.runs import (
    COSTS_NAMESPACE,
    NAMESPACE,
    RunHistory,
    RunRecord,
    keep_costs,
    stored_costs,
    stored_runs,
)
from pytest_ruvqe.memory.store import MemoryStore, open_store


def test_runs_are_kept_oldest_first_up_to_the_limit() -> None:
    history = RunHistory(MemoryStore(), keep=3)
    for i in range(5):
        kept = history.record(RunRecord(at=float(i), coverage=i / 10, tests=i))
    assert [r.at for r in kept] == [2.0, 3.0, 4.0]
    assert history.all() == kept


def test_malformed_entries_are_dropped_not_fatal() -> None:
    store = MemoryStore()
    good = [1.0, 0.5, 3, False, 0.7, None, 2, 1]
    store.put(NAMESPACE, "all", [good, ["x", 0.5, 3, False, None, None, None, None], 7])
    (record,) = RunHistory(store).all()
    assert record == RunRecord(1.0, 0.5, 3, False, 0.7, None, 2, 1)
    assert record.acceptance == 2 / 3
    store.put(NAMESPACE, "all", "not a list")
    assert RunHistory(store).all() == ()


def test_acceptance_needs_generation() -> None:
    assert RunRecord(0.0, 0.5, 1).acceptance is None
    assert RunRecord(0.0, 0.5, 1, accepted=0, rejected=0).acceptance is None
    assert RunRecord(0.0, 0.5, 1, accepted=1, rejected=3).acceptance == 0.25


def test_stored_runs_reads_without_creating_a_store(tmp_path: Path) -> None:
    missing = tmp_path / "store"
    assert stored_runs(missing) == ()
    assert not missing.exists()
    store = open_store(missing)
    RunHistory(store).record(RunRecord(5.0, 0.9, 10))
    store.close()
    assert [r.coverage for r in stored_runs(missing)] == [0.9]


def test_costs_are_replaced_whole_and_bad_values_dropped() -> None:
    store = MemoryStore()
    keep_costs(store, "mutants", {"a": 1.5, "b": 0.25})
    keep_costs(store, "mutants", {})  # nothing measured: the old costs stay
    assert stored_costs(store, "mutants") == {"a": 1.5, "b": 0.25}
    keep_costs(store, "mutants", {"c": 2.0})
    assert stored_costs(store, "mutants") == {"c": 2.0}
    store.put(COSTS_NAMESPACE, "targets", {"t": "slow", "u": True, "v": 3})
    assert stored_costs(store, "targets") == {"v": 3.0}
    assert stored_costs(store, "nothing") == {}

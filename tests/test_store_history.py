"""The binary store, the outcome history and flaky detection."""

from __future__ import annotations

import logging
from pathlib import Path

import msgpack
import pytest

from pytest_ruvqe.memory.history import OutcomeHistory, fingerprint_files
from pytest_ruvqe.memory.store import (
    SCHEMA_VERSION,
    DiskStore,
    MemoryStore,
    Store,
    StoreError,
    decode,
    encode,
)
from pytest_ruvqe.quality.flaky import find_flaky, stability


@pytest.fixture(params=["memory", "disk"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "memory":
        return MemoryStore()
    disk = DiskStore(tmp_path / "store")
    request.addfinalizer(disk.close)
    return disk


def test_round_trip_and_namespaces(store: Store) -> None:
    store.put("a", "k", {"x": [1, 2.5, "s", b"\x00"], "n": None})
    store.put("b", "k", 7)
    assert store.get("a", "k") == {"x": [1, 2.5, "s", b"\x00"], "n": None}
    assert store.get("b", "k") == 7
    assert store.keys("a") == ["k"]
    store.delete("a", "k")
    assert store.get("a", "k", "gone") == "gone"


def test_corrupt_entry_is_skipped_with_warning(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    store.put("ns", "good", 1)
    store._set_raw(store._key("ns", "bad"), b"\xc1garbage")
    store._set_raw(
        store._key("ns", "old"), msgpack.packb([SCHEMA_VERSION + 1, "future"])
    )
    with caplog.at_level(logging.WARNING, logger="pytest_ruvqe.store"):
        assert store.get("ns", "bad") is None
        assert store.get("ns", "old", "default") == "default"
    assert store.get("ns", "good") == 1
    assert len(store.problems) == 2
    assert "ns/bad" in caplog.text


def test_values_that_are_not_plain_data_are_refused() -> None:
    with pytest.raises(StoreError, match="plain data"):
        encode(object())
    assert decode(encode([1, {"a": 2}])) == [1, {"a": 2}]


def test_disk_store_survives_reopen(tmp_path: Path) -> None:
    with DiskStore(tmp_path / "s") as first:
        first.put("ns", "k", "kept")
    with DiskStore(tmp_path / "s") as second:
        assert second.get("ns", "k") == "kept"


def test_unreadable_database_is_moved_aside(tmp_path: Path) -> None:
    directory = tmp_path / "s"
    directory.mkdir()
    (directory / "cache.db").write_bytes(b"this is not sqlite" * 100)
    with DiskStore(directory) as fresh:
        fresh.put("ns", "k", 1)
        assert fresh.get("ns", "k") == 1
        assert "moved to" in fresh.problems[0]
    assert list(tmp_path.glob("s.corrupt-*"))


def test_read_only_database_is_an_error_not_corruption(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    import diskcache

    directory = tmp_path / "s"
    with DiskStore(directory) as first:
        first.put("ns", "k", "kept")

    def read_only(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(diskcache, "Cache", read_only)
    with pytest.raises(StoreError, match="check that it is writable"):
        DiskStore(directory)
    assert not list(tmp_path.glob("s.corrupt-*"))
    monkeypatch.undo()
    with DiskStore(directory) as again:
        assert again.get("ns", "k") == "kept"


def test_failed_write_is_a_store_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    with DiskStore(tmp_path / "s") as store:

        def refuse(*args: object, **kwargs: object) -> None:
            raise sqlite3.OperationalError("attempt to write a readonly database")

        monkeypatch.setattr(store._cache, "set", refuse)
        with pytest.raises(StoreError, match="cannot write the store"):
            store.put("ns", "k", 1)


def test_a_batch_is_written_whole_or_not_at_all(store: Store) -> None:
    with store.batch():
        store.put("ns", "a", 1)
        store.put("ns", "b", 2)
    assert store.keys("ns") == ["a", "b"]
    if isinstance(store, DiskStore):  # a transaction: nothing half-written
        with pytest.raises(RuntimeError), store.batch():
            store.put("ns", "c", 3)
            raise RuntimeError("interrupted")
        assert store.get("ns", "c") is None


def test_history_record_returns_every_tests_records() -> None:
    history = OutcomeHistory(MemoryStore())
    history.record({"t::a": "passed"}, {"t::a": "f"}, at=1)
    known = history.record({"t::a": "failed", "t::s": "skipped"}, {"t::a": "f"}, at=2)
    assert [(r.outcome, r.at) for r in known["t::a"]] == [
        ("passed", 1.0),
        ("failed", 2.0),
    ]
    assert known["t::s"] == []
    assert known["t::a"] == history.of("t::a")


def test_history_can_forget() -> None:
    history = OutcomeHistory(MemoryStore())
    history.record({"a": "passed", "b": "failed"}, {})
    assert history.forget() == 2
    assert history.all() == {}


def test_history_keeps_last_runs_and_skips_skips() -> None:
    history = OutcomeHistory(MemoryStore(), keep=3)
    for i in range(5):
        history.record({"t::a": "passed", "t::s": "skipped"}, {"t::a": "f"}, at=i)
    records = history.of("t::a")
    assert [r.at for r in records] == [2.0, 3.0, 4.0]
    assert history.of("t::s") == []


def test_flaky_needs_flips_on_unchanged_code() -> None:
    history = OutcomeHistory(MemoryStore())
    runs = [
        ({"a": "passed", "b": "passed", "c": "passed"}, "v1"),
        ({"a": "failed", "b": "passed", "c": "passed"}, "v1"),
        ({"a": "passed", "b": "passed", "c": "failed"}, "v2"),
        ({"a": "failed", "b": "passed", "c": "failed"}, "v2"),
    ]
    for outcomes, version in runs:
        # c fails after the code changed and keeps failing: a regression, not flaky
        prints = {k: version for k in outcomes}
        history.record(outcomes, prints)
    flaky = find_flaky(history.all())
    assert [f.nodeid for f in flaky] == ["a"]
    assert flaky[0].flips == 1
    assert flaky[0].runs == 2
    assert stability(flaky, 3) == pytest.approx(2 / 3)
    assert stability((), 0) == 1.0


def test_fingerprint_changes_with_content(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("x = 1\n")
    before = fingerprint_files([path])
    assert fingerprint_files([path]) == before
    path.write_text("x = 2\n")
    assert fingerprint_files([path]) != before

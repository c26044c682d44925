"""The ReasoningBank: recall against exact search, ranking, counts, persistence."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import pytest
from bank_cases import pattern, random_patterns, unit

from pytest_ruvqe.memory.bank import Query, ReasoningBank
from pytest_ruvqe.memory.embedding import HashingEmbedder
from pytest_ruvqe.memory.index import ExactIndex, HnswIndex, hnswlib_available
from pytest_ruvqe.memory.patterns import PATTERN_SCHEMA, to_plain
from pytest_ruvqe.memory.store import DiskStore, MemoryStore

needs_hnsw = pytest.mark.skipif(not hnswlib_available(), reason="needs hnswlib")
DIM = 32


def small_bank(use_hnsw: bool = False, dim: int = DIM) -> ReasoningBank:
    return ReasoningBank(MemoryStore(), HashingEmbedder(dim), use_hnsw=use_hnsw)


@needs_hnsw
def test_hnsw_recall_at_10_matches_exact_search() -> None:
    dim = 64
    patterns = random_patterns(3000, dim)
    exact = ExactIndex(dim)
    graph = HnswIndex(dim)
    rows = np.stack([p.embedding for p in patterns])
    labels = np.arange(len(patterns), dtype=np.int64)
    exact.add(labels, rows)
    graph.add(labels, rows)
    rng = np.random.default_rng(9)
    hits = 0
    for _ in range(100):
        q = unit(rng.normal(size=dim))
        truth = {label for label, _ in exact.search(q, 10)}
        hits += len(truth & {label for label, _ in graph.search(q, 10)})
    assert hits / 1000 >= 0.95


def test_exact_search_orders_by_similarity() -> None:
    index = ExactIndex(2)
    index.add(
        np.array([5, 6, 7], dtype=np.int64),
        np.stack([unit([1, 0]), unit([1, 1]), unit([0, 1])]),
    )
    found = index.search(unit([1, 0.1]), 2)
    assert [label for label, _ in found] == [5, 6]
    assert found[0][1] > found[1][1]


@pytest.mark.parametrize("use_hnsw", [False, pytest.param(True, marks=needs_hnsw)])
def test_recall_ranks_by_similarity_times_posterior(use_hnsw: bool) -> None:
    bank = small_bank(use_hnsw)
    q = unit(np.eye(DIM)[0] + 0.01)
    nearest = bank.add(pattern("near", q, alpha=0, beta=8))  # sim 1, mean 0.1
    proven = bank.add(pattern("proven", q + 0.3 * np.eye(DIM)[1], alpha=8))
    bank.add(pattern("far", -q, alpha=50))  # below the floor
    found = bank.recall_vector(q, Query("", k=5))
    assert [r.pattern.id for r in found] == [proven.id, nearest.id]
    assert found[1].similarity == pytest.approx(1.0, abs=1e-4)
    assert found[0].score == pytest.approx(
        found[0].similarity * proven.posterior_mean, rel=1e-5
    )


def test_recall_filters_kind_and_excluded_target() -> None:
    bank = small_bank()
    v = np.ones(DIM)
    bank.add(pattern("a", v, kind="inputs"))
    bank.add(pattern("b", v, kind="test"))
    found = bank.recall_vector(unit(v), Query("", kind="test"))
    assert [r.pattern.signature for r in found] == ["mod:b()"]
    found = bank.recall_vector(unit(v), Query("", exclude_signature="mod:b()"))
    assert [r.pattern.signature for r in found] == ["mod:a()"]


def test_thompson_draws_explore_but_favour_the_proven() -> None:
    bank = small_bank()
    v = np.ones(DIM)
    good = bank.add(pattern("good", v, alpha=9, beta=1))
    bank.add(pattern("unsure", v, alpha=1, beta=1))
    rng = np.random.default_rng(0)
    firsts = [
        bank.recall_vector(unit(v), Query("", k=1), rng)[0].pattern.id
        for _ in range(400)
    ]
    share = firsts.count(good.id) / len(firsts)
    assert 0.6 < share < 0.97  # the unsure one still gets tried


def test_record_counts_uses_and_adding_again_merges() -> None:
    times = iter([10.0, 20.0])
    bank = ReasoningBank(
        MemoryStore(), HashingEmbedder(DIM), use_hnsw=False, clock=lambda: next(times)
    )
    p = bank.add(pattern("a", np.ones(DIM)))
    assert bank.record(p.id, accepted=True).alpha == 2.0
    after = bank.record(p.id, accepted=False)
    assert (after.alpha, after.beta, after.last_used) == (2.0, 1.0, 20.0)
    again = bank.add(pattern("a", np.ones(DIM)))
    assert (len(bank), again.alpha, again.beta) == (1, 3.0, 1.0)
    assert bank.record("missing", accepted=True) is None


@needs_hnsw
def test_learned_patterns_survive_a_reopen_with_the_saved_index(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    embedder = HashingEmbedder(DIM)
    index_path = tmp_path / "patterns.hnsw"
    with DiskStore(tmp_path / "store") as store:
        bank = ReasoningBank(store, embedder, index_path, use_hnsw=True)
        made = [bank.add(p) for p in random_patterns(50, DIM)]
        bank.record(made[3].id, accepted=False)
        bank.save_index()
    with DiskStore(tmp_path / "store") as store, caplog.at_level(logging.WARNING):
        again = ReasoningBank(store, embedder, index_path, use_hnsw=True)
        assert len(again) == 50
        assert again.get(made[3].id).beta == 1.0
        found = again.recall_vector(made[7].embedding, Query("", k=1, floor=0.9))
        assert [r.pattern.id for r in found] == [made[7].id]
    assert not caplog.records  # the saved graph was used as it was


@needs_hnsw
@pytest.mark.parametrize("damage", ["garbage", "truncated", "missing-ids"])
def test_a_damaged_index_is_rebuilt_from_the_store(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    embedder = HashingEmbedder(DIM)
    index_path = tmp_path / "patterns.hnsw"
    with DiskStore(tmp_path / "store") as store:
        bank = ReasoningBank(store, embedder, index_path, use_hnsw=True)
        made = [bank.add(p) for p in random_patterns(40, DIM)]
        bank.save_index()
    if damage == "garbage":
        index_path.write_bytes(b"\x00not a graph" * 100)
    elif damage == "truncated":
        index_path.write_bytes(index_path.read_bytes()[:200])
    else:
        index_path.with_suffix(".ids").unlink()
    with DiskStore(tmp_path / "store") as store, caplog.at_level(logging.WARNING):
        again = ReasoningBank(store, embedder, index_path, use_hnsw=True)
        found = again.recall_vector(made[5].embedding, Query("", k=1, floor=0.9))
    assert [r.pattern.id for r in found] == [made[5].id]
    if damage != "missing-ids":
        assert "rebuilt" in caplog.text


def test_unreadable_and_foreign_entries_are_skipped_with_a_count() -> None:
    store = MemoryStore()
    good = pattern("good", np.ones(DIM))
    store.put("patterns", good.id, to_plain(good))
    store.put("patterns", "x", {**to_plain(good), "v": PATTERN_SCHEMA + 1})
    store.put("patterns", "y", {**to_plain(good), "alpha": float("nan")})
    store.put("patterns", "z", {**to_plain(good), "embedding": b"\x00" * 8})  # 2 dims
    store._set_raw("patterns\x1fw", b"\xc1garbage")
    bank = ReasoningBank(store, HashingEmbedder(DIM), use_hnsw=False)
    assert [p.id for p in bank.patterns()] == [good.id]
    assert bank.problems == [
        "4 pattern(s) in the bank were unreadable or of another schema and were ignored"
    ]


@pytest.mark.parametrize("use_hnsw", [False, pytest.param(True, marks=needs_hnsw)])
def test_maintain_consolidates_then_prunes_past_the_cap(use_hnsw: bool) -> None:
    bank = ReasoningBank(
        MemoryStore(), HashingEmbedder(DIM), use_hnsw=use_hnsw, clock=lambda: 0.0
    )
    rng = np.random.default_rng(4)
    for g in range(30):
        centre = rng.normal(size=DIM)
        for i in range(4):
            bank.add(
                pattern(
                    f"g{g}_{i}",
                    centre + 0.005 * rng.normal(size=DIM),
                    alpha=float(g % 5),
                )
            )
    merged, pruned = bank.maintain(size=100, cap=25, seconds=5.0)
    assert (merged, pruned, len(bank)) == (90, 5, 25)
    # five of the six groups never used with success were the coldest
    assert sorted(p.alpha for p in bank.patterns())[:2] == [0.0, 4.0]
    probe = bank.patterns()[0]
    found = bank.recall_vector(probe.embedding, Query("", k=1, floor=0.9))
    assert [r.pattern.id for r in found] == [probe.id]
    # a target's own patterns are exactly those kept
    kept = {p.signature for p in bank.patterns()}
    for g in range(30):
        for i in range(4):
            held = bank.of_signature(f"mod:g{g}_{i}()")
            assert len(held) == (f"mod:g{g}_{i}()" in kept)


def test_recall_by_source_finds_the_function_of_the_same_shape() -> None:
    bank = ReasoningBank(MemoryStore(), HashingEmbedder(), use_hnsw=False)
    sources = {
        "parse_date": "def parse_date(text: str) -> date:\n"
        "    year, month, day = text.split('-')\n"
        "    return date(int(year), int(month), int(day))\n",
        "mean": "def mean(values: list[float]) -> float:\n"
        "    if not values:\n        raise ValueError('empty')\n"
        "    return sum(values) / len(values)\n",
    }
    for name, source in sources.items():
        bank.add(pattern(name, bank.embed(source)))
    query = (
        "def parse_time(text: str) -> time:\n"
        "    hour, minute = text.split(':')\n"
        "    return time(int(hour), int(minute))\n"
    )
    found = bank.recall(Query(query, k=2, floor=0.0))
    assert found[0].pattern.signature == "mod:parse_date()"
    assert found[0].similarity > found[1].similarity + 0.1


def test_of_signature_orders_a_targets_patterns_best_first() -> None:
    bank = ReasoningBank(MemoryStore(), HashingEmbedder(DIM), use_hnsw=False)
    v = np.ones(DIM)
    weak = pattern("f", v, alpha=1.0, beta=3.0)
    strong = dataclasses.replace(
        pattern("f", v, alpha=5.0), payload="def test_g(): ..."
    )
    bank.add_many([weak, strong, pattern("other", v, kind="inputs")])
    assert bank.of_signature("mod:f()") == [strong, weak]
    assert bank.of_signature("mod:f()", kind="inputs") == []
    assert [p.signature for p in bank.of_signature("mod:other()")] == ["mod:other()"]


def test_add_many_indexes_new_patterns_and_merges_held_ones() -> None:
    bank = small_bank()
    made = random_patterns(20, DIM)
    assert bank.add_many(made[:5]) == 5
    assert bank.add_many(made) == 15
    assert len(bank) == 20 and bank.get(made[0].id).alpha == 2.0
    found = bank.recall_vector(made[12].embedding, Query("", k=1, floor=0.9))
    assert [r.pattern.id for r in found] == [made[12].id]

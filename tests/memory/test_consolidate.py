"""k-means++ seeding, Lloyd iterations, merging near-duplicates, pruning order."""

from __future__ import annotations

import numpy as np
import pytest
from bank_cases import pattern

from pytest_ruvqe.memory import consolidate as consolidation
from pytest_ruvqe.memory.consolidate import (
    cluster_sums,
    consolidate,
    kmeans,
    kmeans_pp_seeds,
    merge_cluster,
    prune,
)


def blobs(rng: np.random.Generator, sizes: list[int], spread: float = 0.01):
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])[: len(sizes)]
    points = np.vstack(
        [
            c + spread * rng.normal(size=(n, 2))
            for c, n in zip(centres, sizes, strict=True)
        ]
    )
    truth = np.repeat(np.arange(len(sizes)), sizes)
    return points.astype(np.float32), truth, centres


def test_d2_seeding_finds_the_small_far_cluster() -> None:
    # 3 of 63 points sit in the third blob: uniform seeding would pick one of
    # them in under 15% of draws of 3 centres; D² seeding nearly always does
    rng = np.random.default_rng(1)
    points, truth, _ = blobs(rng, [30, 30, 3])
    covered = 0
    for seed in range(300):
        chosen = kmeans_pp_seeds(points, 3, np.random.default_rng(seed))
        covered += len({int(truth[i]) for i in chosen}) == 3
    assert covered / 300 > 0.95


def test_d2_seeding_draws_in_proportion_to_squared_distance() -> None:
    # after the first centre at 0, the second is x=1 or x=3 with odds 1 : 9
    points = np.array([[0.0], [1.0], [3.0]], dtype=np.float32)
    picks = []
    for seed in range(4000):
        rng = np.random.default_rng(seed)
        chosen = kmeans_pp_seeds(points, 2, rng)
        if chosen[0] == 0:
            picks.append(chosen[1])
    share_far = picks.count(2) / len(picks)
    assert abs(share_far - 0.9) < 0.03


def test_lloyd_moves_the_centres_to_the_blob_means() -> None:
    rng = np.random.default_rng(2)
    points, truth, _ = blobs(rng, [50, 50, 50], spread=1.0)
    result = kmeans(points, 3, np.random.default_rng(0))
    assert result.iterations >= 1
    found = sorted(map(tuple, np.round(result.centres, 0)))
    means = sorted(
        map(tuple, np.round([points[truth == c].mean(axis=0) for c in range(3)], 0))
    )
    assert found == means
    # every blob is one cluster
    for c in range(3):
        assert len(set(result.labels[truth == c].tolist())) == 1


def test_cluster_sums_are_the_grouped_sums_across_blocks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(consolidation, "ASSIGN_CHUNK", 7)  # several blocks
    rng = np.random.default_rng(3)
    points = rng.normal(size=(50, 4)).astype(np.float32)
    labels = rng.integers(0, 5, size=50)
    labels[labels == 3] = 4  # cluster 3 is empty
    expected = np.zeros((5, 4))
    np.add.at(expected, labels, points)
    sums = cluster_sums(points, labels, 5)
    np.testing.assert_allclose(sums, expected, atol=1e-5)
    assert not sums[3].any()


def test_merge_keeps_the_best_and_sums_the_counts() -> None:
    base = np.ones(16)
    dups = [
        pattern("a", base + 0.001 * i, alpha=a, beta=b, last_used=float(i))
        for i, (a, b) in enumerate([(1, 3), (5, 1), (2, 2)])
    ]
    other = pattern("z", -base)
    kept = merge_cluster([*dups, other], threshold=0.97)
    assert len(kept) == 2
    best = next(p for p in kept if p.signature == "mod:a()")
    assert (best.alpha, best.beta) == (8.0, 6.0)
    assert best.payload == dups[1].payload  # the one with posterior 6/8
    assert best.last_used == 2.0


def test_merge_never_joins_different_kinds() -> None:
    v = np.ones(8)
    kept = merge_cluster(
        [pattern("a", v, kind="test"), pattern("b", v, kind="inputs")], 0.9
    )
    assert len(kept) == 2


def test_consolidate_merges_duplicates_across_the_bank() -> None:
    rng = np.random.default_rng(3)
    groups = [rng.normal(size=32) for _ in range(20)]
    patterns = [
        pattern(f"g{g}_{i}", groups[g] + 0.01 * rng.normal(size=32), alpha=1, beta=1)
        for g in range(20)
        for i in range(5)
    ]
    result = consolidate(patterns, threshold=0.95, cluster_size=10)
    assert result.merged == 80
    assert len(result.patterns) == 20
    assert sorted(p.alpha for p in result.patterns) == [5.0] * 20
    assert result.clusters == 10


def test_prune_drops_the_coldest_first() -> None:
    day = 86400.0
    now = 100 * day
    v = np.ones(4)
    hot = pattern("hot", v, alpha=9, beta=0, last_used=now)
    stale_good = pattern("stale_good", v, alpha=9, beta=0, last_used=now - 90 * day)
    fresh_bad = pattern("fresh_bad", v, alpha=0, beta=9, last_used=now)
    old_bad = pattern("old_bad", v, alpha=0, beta=9, last_used=0.0)
    kept, dropped = prune([old_bad, fresh_bad, stale_good, hot], cap=2, now=now)
    assert [p.signature for p in kept] == ["mod:hot()", "mod:stale_good()"]
    assert [p.signature for p in dropped] == ["mod:fresh_bad()", "mod:old_bad()"]
    assert prune([hot], cap=2, now=now) == ([hot], [])

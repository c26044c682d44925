"""Keeping the bank small: near-duplicates merged, cold patterns pruned.

Consolidation clusters the embeddings with k-means (k-means++ D^2 seeding,
then Lloyd iterations) so near-duplicates are only looked for within a
cluster; each group of near-duplicates becomes its best member with the
group's counts summed. Both steps stop at a deadline with what they have.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pytest_ruvqe.memory.patterns import Pattern, Vector

SEED_SAMPLE = 8192  # D^2 seeding looks at this many points at most
ASSIGN_CHUNK = 16384


def kmeans_pp_seeds(points: Vector, k: int, rng: np.random.Generator) -> list[int]:
    """Indices of ``k`` initial centres: each next one drawn with probability
    proportional to its squared distance from the nearest centre so far."""
    n = points.shape[0]
    if n == 0 or k <= 0:
        return []
    chosen = [int(rng.integers(n))]
    d2 = np.sum((points - points[chosen[0]]) ** 2, axis=1)
    for _ in range(1, min(k, n)):
        total = float(d2.sum())
        if total <= 0.0:
            break  # every point sits on a centre already
        pick = int(rng.choice(n, p=d2 / total))
        chosen.append(pick)
        d2 = np.minimum(d2, np.sum((points - points[pick]) ** 2, axis=1))
    return chosen


def assign(points: Vector, centres: Vector) -> npt.NDArray[np.int64]:
    """The nearest centre of every point (squared Euclidean), in chunks."""
    c2 = np.sum(centres**2, axis=1)
    out = np.empty(points.shape[0], dtype=np.int64)
    for lo in range(0, points.shape[0], ASSIGN_CHUNK):
        block = points[lo : lo + ASSIGN_CHUNK]
        out[lo : lo + len(block)] = np.argmin(c2 - 2.0 * block @ centres.T, axis=1)
    return out


def cluster_sums(
    points: Vector, labels: npt.NDArray[np.int64], k: int
) -> npt.NDArray[np.float32]:
    """The sum of each cluster's points: one-hot blocks times the points (a
    matrix product, far faster than a grouped reduction)."""
    sums = np.zeros((k, points.shape[1]), dtype=np.float32)
    for lo in range(0, points.shape[0], ASSIGN_CHUNK):
        block = points[lo : lo + ASSIGN_CHUNK]
        onehot = np.zeros((k, len(block)), dtype=np.float32)
        onehot[labels[lo : lo + len(block)], np.arange(len(block))] = 1.0
        sums += onehot @ block
    return sums


@dataclass(frozen=True)
class Clustering:
    """Centres, each point's cluster, and how many Lloyd iterations ran."""

    centres: Vector
    labels: npt.NDArray[np.int64]
    iterations: int


def kmeans(
    points: Vector,
    k: int,
    rng: np.random.Generator,
    max_iterations: int = 20,
    deadline: float = math.inf,
) -> Clustering:
    """k-means++ seeding (on a sample) then Lloyd iterations until stable."""
    sample = points
    if points.shape[0] > SEED_SAMPLE:
        sample = points[rng.choice(points.shape[0], SEED_SAMPLE, replace=False)]
    centres = sample[kmeans_pp_seeds(sample, k, rng)].astype(np.float32)
    labels = assign(points, centres)
    done = 0
    while done < max_iterations and time.monotonic() < deadline:
        done += 1
        counts = np.bincount(labels, minlength=len(centres))
        alive = counts > 0  # an emptied centre stays where it was
        sums = cluster_sums(points, labels, len(centres))
        centres[alive] = sums[alive] / counts[alive, None]
        relabelled = assign(points, centres)
        if np.array_equal(relabelled, labels):
            break
        labels = relabelled
    return Clustering(centres, labels, done)


def merged(best: Pattern, others: Sequence[Pattern]) -> Pattern:
    """``best`` carrying the counts and times of its near-duplicates too."""
    group = [best, *others]
    return dataclasses.replace(
        best,
        alpha=sum(p.alpha for p in group),
        beta=sum(p.beta for p in group),
        created=min(p.created for p in group),
        last_used=max(p.last_used for p in group),
    )


def _rank(p: Pattern) -> tuple[float, float, float]:
    return (-p.posterior_mean, -p.alpha, -p.last_used)


def merge_cluster(members: Sequence[Pattern], threshold: float) -> list[Pattern]:
    """Greedy: the best pattern absorbs every same-kind one at least
    ``threshold`` similar to it, then the best of the rest, and so on."""
    ordered = sorted(members, key=_rank)
    if len(ordered) < 2:
        return list(ordered)
    rows = np.stack([p.embedding for p in ordered])
    sims = rows @ rows.T
    kinds = np.array([p.kind for p in ordered])
    free = np.ones(len(ordered), dtype=bool)
    kept = []
    for i, best in enumerate(ordered):
        if not free[i]:
            continue
        free[i] = False
        dups = np.flatnonzero(free & (sims[i] >= threshold) & (kinds == best.kind))
        free[dups] = False
        kept.append(merged(best, [ordered[j] for j in dups]))
    return kept


@dataclass(frozen=True)
class Consolidation:
    """What consolidation kept, and how many patterns it merged away."""

    patterns: tuple[Pattern, ...]
    merged: int
    clusters: int
    iterations: int


def consolidate(
    patterns: Sequence[Pattern],
    threshold: float = 0.97,
    cluster_size: int = 256,
    seed: int = 0,
    seconds: float = 10.0,
) -> Consolidation:
    """Near-duplicates (similarity >= ``threshold``) merged within k-means clusters."""
    end = time.monotonic() + seconds
    deadline = end - seconds * 0.4  # the rest is for the merging
    if len(patterns) < 2:
        return Consolidation(tuple(patterns), 0, len(patterns), 0)
    points = np.stack([p.embedding for p in patterns]).astype(np.float32)
    k = max(1, min(256, len(patterns) // cluster_size))
    clustering = kmeans(points, k, np.random.default_rng(seed), deadline=deadline)
    kept: list[Pattern] = []
    order = np.argsort(clustering.labels, kind="stable")
    bounds = np.searchsorted(
        clustering.labels[order], np.arange(len(clustering.centres) + 1)
    )
    for lo, hi in itertools.pairwise(bounds.tolist()):
        members = [patterns[int(i)] for i in order[lo:hi]]
        late = time.monotonic() > end  # out of time: the rest stays as it is
        kept.extend(members if late else merge_cluster(members, threshold))
    return Consolidation(
        tuple(kept),
        len(patterns) - len(kept),
        len(clustering.centres),
        clustering.iterations,
    )


def coldness(pattern: Pattern, now: float, half_life_s: float) -> float:
    """Lower is colder: the posterior mean, halved for every half-life unused."""
    idle = max(0.0, now - max(pattern.last_used, pattern.created))
    return float(pattern.posterior_mean * 0.5 ** (idle / half_life_s))


def prune(
    patterns: Sequence[Pattern],
    cap: int,
    now: float,
    half_life_s: float = 30 * 86400.0,
) -> tuple[list[Pattern], list[Pattern]]:
    """(kept, dropped): the ``cap`` warmest patterns kept, the coldest dropped."""
    if len(patterns) <= cap:
        return list(patterns), []
    ordered = sorted(patterns, key=lambda p: (-coldness(p, now, half_life_s), p.id))
    return ordered[:cap], ordered[cap:]

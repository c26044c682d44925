"""What learning costs and what it buys: speed, forgetting, learners, re-run lift.

    python bench/learning.py [--sections speed,forgetting,learners,rerun]
                             [--patterns 100000] [--seeds 5]

Sections (each prints its figures and ratios):

- ``speed``: SONA update p50/p95 per outcome; bank recall p95 at N patterns
  and recall@10 of the hnswlib index against exact numpy search; k-means++
  consolidation of N patterns; the process's peak memory. The embeddings are
  clustered (code comes in families): 2,000 centres, unit noise.
- ``forgetting``: SONA learns project A, then project B whose arms behave
  otherwise on other features; AUC of P(accept) on A's held-out outcomes
  after B, with EWC++ and without, over ``--seeds`` seeds.
- ``learners``: a simulated stream of targets whose best arm depends on the
  target's features; acceptance of the first arm tried under the fixed order,
  a context-free Thompson bandit and SONA, over ``--seeds`` seeds.
- ``rerun``: the demo project generated cold (empty bank), then again with the
  bank warm and the generated tests deleted: wall time and coverage of both.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_ruvqe.learn import Arm, ArmOutcome, BetaBandit, StaticPolicy  # noqa: E402
from pytest_ruvqe.learn.policy import ArmPolicy  # noqa: E402
from pytest_ruvqe.memory.bank import Query, ReasoningBank  # noqa: E402
from pytest_ruvqe.memory.consolidate import consolidate  # noqa: E402
from pytest_ruvqe.memory.embedding import HashingEmbedder  # noqa: E402
from pytest_ruvqe.memory.index import ExactIndex  # noqa: E402
from pytest_ruvqe.memory.patterns import Pattern  # noqa: E402
from pytest_ruvqe.memory.store import MemoryStore  # noqa: E402

DIM = 384


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def clustered(n: int, rng: np.random.Generator) -> np.ndarray:
    centres = rng.normal(size=(2000, DIM))
    rows = centres[rng.integers(2000, size=n)] + 0.5 * rng.normal(size=(n, DIM))
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows.astype(np.float32)


def bench_speed(n: int) -> None:
    """SONA update, recall at n patterns, consolidation of n patterns."""
    from pytest_ruvqe.learn.sona import Sona

    sona = Sona()
    rng = np.random.default_rng(0)
    arms = [Arm("characterize", "search"), Arm("chat", "model", "local")]
    times = []
    for i in range(2000):
        features = {"cyclomatic": float(rng.integers(1, 20)), "lines": 30.0}
        o = ArmOutcome(tuple(sorted(features.items())), arms[i % 2], i % 3 == 0, 2.0)
        began = time.perf_counter()
        sona.update(o)
        times.append(time.perf_counter() - began)
    p50, p95 = pct(times, 50) * 1e3, pct(times, 95) * 1e3
    print(
        f"SONA update: p50 {p50:.3f} ms, p95 {p95:.3f} ms per outcome "
        "(2000 outcomes, consolidation every 32 included)"
    )
    rows = clustered(n, rng)
    patterns = [
        Pattern("test", f"m:f{i}", f"def test_{i}(): pass", rows[i]) for i in range(n)
    ]
    began = time.perf_counter()
    bank = ReasoningBank(MemoryStore(), HashingEmbedder(DIM), use_hnsw=True)
    bank.add_many(patterns)
    print(
        f"bank: {n} patterns added and indexed in {time.perf_counter() - began:.1f} s"
    )
    exact = ExactIndex(DIM)
    exact.add(np.arange(n, dtype=np.int64), rows)
    queries = clustered(300, np.random.default_rng(1))
    took, hits = [], 0
    for q in queries:
        began = time.perf_counter()
        found = bank.recall_vector(q, Query("", k=10, floor=-1.0))
        took.append(time.perf_counter() - began)
        truth = {f"m:f{label}" for label, _ in exact.search(q, 10)}
        hits += len(truth & {r.pattern.signature for r in found})
    print(
        f"recall at {n}: p50 {pct(took, 50) * 1e3:.3f} ms, p95 "
        f"{pct(took, 95) * 1e3:.3f} ms; recall@10 vs exact {hits / 3000:.3f}"
    )
    began = time.perf_counter()
    result = consolidate(patterns, seconds=10.0)
    print(
        f"consolidation of {n}: {time.perf_counter() - began:.1f} s, "
        f"{result.clusters} clusters, {result.iterations} Lloyd iterations, "
        f"{result.merged} merged"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the process: {peak:.0f} MiB")


BRANCHY = {"cyclomatic": 12.0, "missing_branches": 20.0}
SIMPLE = {"cyclomatic": 1.0, "missing_branches": 0.0}
SEARCH = Arm("characterize", "search")
MODEL = Arm("chat", "model", "local")


def world(rng: np.random.Generator, features: dict[str, float] | None = None):
    features = features or (BRANCHY if rng.random() < 0.5 else SIMPLE)
    arm = SEARCH if rng.random() < 0.5 else MODEL
    wins = (arm == SEARCH) == (features is BRANCHY)
    accepted = bool(rng.random() < (0.85 if wins else 0.15))
    return ArmOutcome(tuple(sorted(features.items())), arm, accepted, 3.0 * accepted)


def auc(scores: list[float], labels: list[bool]) -> float:
    pos = np.array([s for s, y in zip(scores, labels, strict=True) if y])
    neg = np.array([s for s, y in zip(scores, labels, strict=True) if not y])
    greater = (pos[:, None] > neg[None, :]).mean()
    ties = (pos[:, None] == neg[None, :]).mean()
    return float(greater + 0.5 * ties)


def forgetting_once(seed: int, ewc: bool) -> float:
    from pytest_ruvqe.learn.sona import Sona, SonaConfig

    sona = Sona(SonaConfig(seed=seed), ewc=ewc)
    rng = np.random.default_rng(seed)
    for _ in range(480):
        sona.update(world(rng))
    sona.start_project()
    project_b = {"cyclomatic": 6.0, "nesting": 5.0, "params": 7.0}
    for _ in range(960):
        arm = SEARCH if rng.random() < 0.5 else MODEL
        wins = rng.random() < (0.9 if arm == MODEL else 0.1)
        features = tuple(sorted(project_b.items()))
        sona.update(ArmOutcome(features, arm, bool(wins), 3.0 * wins))
    held = [world(rng) for _ in range(400)]
    scores = [sona.predict(dict(o.features), [o.arm])[0].p_accept for o in held]
    return auc(scores, [o.accepted for o in held])


def bench_forgetting(seeds: int) -> None:
    """AUC on project A after learning project B, with and without EWC++."""
    with_ewc = [forgetting_once(s, True) for s in range(seeds)]
    without = [forgetting_once(s, False) for s in range(seeds)]
    print(
        f"forgetting: AUC on A after B with EWC++ {statistics.mean(with_ewc):.3f} "
        f"(sd {statistics.pstdev(with_ewc):.3f}), without "
        f"{statistics.mean(without):.3f} (sd {statistics.pstdev(without):.3f}); "
        f"ratio {statistics.mean(with_ewc) / statistics.mean(without):.2f}"
    )


def simulate(policy: ArmPolicy, seed: int, steps: int = 600) -> float:
    """Share of targets whose first arm was accepted."""
    rng = np.random.default_rng(seed)
    wins = 0
    for _ in range(steps):
        features = BRANCHY if rng.random() < 0.5 else SIMPLE
        arm = policy.rank(features, [MODEL, SEARCH])[0]
        good = (arm == SEARCH) == (features is BRANCHY)
        accepted = bool(rng.random() < (0.85 if good else 0.15))
        wins += accepted
        outcome = ArmOutcome(tuple(sorted(features.items())), arm, accepted)
        policy.update(outcome)
    return wins / steps


def bench_learners(seeds: int) -> None:
    """Fixed order vs context-free bandit vs SONA on a simulated stream."""
    from pytest_ruvqe.learn.sona import Sona, SonaConfig

    makers: dict[str, Callable[[int], ArmPolicy]] = {
        "static": lambda s: StaticPolicy(),
        "bandit": lambda s: BetaBandit(seed=s),
        "sona": lambda s: Sona(SonaConfig(seed=s)),
    }
    shares = {
        name: [simulate(make(s), s) for s in range(seeds)]
        for name, make in makers.items()
    }
    for name, values in shares.items():
        print(
            f"learners: {name}: first arm accepted {statistics.mean(values):.3f} "
            f"(sd {statistics.pstdev(values):.3f}) over {seeds} seeds"
        )
    ratio = statistics.mean(shares["sona"]) / statistics.mean(shares["bandit"])
    print(f"learners: sona / bandit {ratio:.2f}")


def _generate(project: Path, budget: int) -> tuple[float, str]:
    began = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "--ruvqe-generate", "--ruvqe-generators=characterize", "--ruvqe-learn",
            f"--ruvqe-time-budget={budget}",
        ],
        cwd=project, capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - began
    lines = [x for x in done.stdout.splitlines() if "coverage" in x or "learning" in x]
    return seconds, " | ".join(lines[-2:])


def bench_rerun(budget: int) -> None:
    """The demo project cold, then warm with the generated tests deleted."""
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "demo"
        shutil.copytree(ROOT / "examples" / "demo_project", project)
        shutil.rmtree(project / "tests" / "ruvqe_generated", ignore_errors=True)
        cold, cold_line = _generate(project, budget)
        shutil.rmtree(project / "tests" / "ruvqe_generated", ignore_errors=True)
        warm, warm_line = _generate(project, budget)
    print(f"rerun: cold {cold:.1f} s: {cold_line}")
    print(f"rerun: warm {warm:.1f} s: {warm_line}")
    print(f"rerun: warm / cold wall time {warm / cold:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default="speed,forgetting,learners,rerun")
    parser.add_argument("--patterns", type=int, default=100_000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=120)
    args = parser.parse_args()
    sections = set(args.sections.split(","))
    if "speed" in sections:
        bench_speed(args.patterns)
    if "forgetting" in sections:
        bench_forgetting(args.seeds)
    if "learners" in sections:
        bench_learners(args.seeds)
    if "rerun" in sections:
        bench_rerun(args.budget)


if __name__ == "__main__":
    main()

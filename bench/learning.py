"""What learning costs and what it buys: speed, forgetting, learners, re-run lift.

    python bench/learning.py [--sections speed,forgetting,learners,rerun]
                             [--patterns 100000] [--seeds 5] [--rounds 5]
                             [--budget 120] [--module-budget 15]

Sections (each prints its figures and ratios; ``budget``, ``embedders`` and
``transfer`` run only when named):

- ``speed``: SONA update p50/p95 per outcome (median over ``--rounds``); bank
  recall p50/p95 at N patterns and recall@10 of the hnswlib index against
  exact numpy search; k-means++ consolidation of N patterns; the process's
  peak memory. The patterns are the embeddings of N real functions of the
  standard library and the installed packages; the queries are 300 more
  functions held out of the bank.
- ``forgetting``: SONA learns project A, then project B whose arms behave
  otherwise on other features; AUC of P(accept) on A's held-out outcomes
  after B, with EWC++ and without, over ``--seeds`` seeds.
- ``learners``: a simulated stream of targets whose best arm depends on the
  target's features; acceptance of the first arm tried under the fixed order,
  a context-free Thompson bandit and SONA, over ``--seeds`` seeds.
- ``rerun``: the demo project generated cold (empty bank, ``--budget``
  seconds), then, with the generated tests deleted, warm with a third and
  with a sixth of the time the cold loop took: coverage and times of each,
  and whether the warm runs reached the cold run's coverage.
- ``budget``: the demo project twice with the embedded local model (the
  ``local`` extra), the generated tests deleted between: the model tokens the
  second run spends on targets where the model had no round accepted in the
  first, and the coverage of both (not in the default sections: it needs the
  model and several minutes).
- ``embedders``: the hashing embedding against the embedded local model's
  (llama.cpp, mean pooled) on up to ``--functions`` functions of the public
  modules: recall@1 of each function from an edited copy of it (a comparison
  flipped, an integer changed, a parameter renamed: what an edit between two
  runs does), and the share of each function's 5 nearest that are of its
  own file (the public modules' whole packages).
- ``transfer``: the public modules (``bench/public-modules.tsv``) split by
  package; ``bench/generate.py --bank`` learns on one half, then generates on
  the other half (``--module-budget`` seconds a module, the search alone)
  cold and with the bank frozen, once per seed: mean coverage of both, with
  the spread over seeds. Patterns of the held-out targets cannot be in the
  bank: their packages were never generated for.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
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
from pytest_ruvqe.memory.store import DiskStore, MemoryStore  # noqa: E402

DIM = 384


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def corpus(n: int) -> list[str]:
    """Up to ``n`` real functions (under 80 lines), dedented, from the standard
    library and the installed packages, in a fixed order."""
    roots = [sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"]]
    found: list[str] = []
    for root in roots:
        for path in sorted(Path(root).rglob("*.py")):
            try:
                text = path.read_text(encoding="utf-8")
                tree = ast.parse(text)
            except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
                continue
            lines = text.splitlines()
            for node in ast.walk(tree):
                if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                end = node.end_lineno or node.lineno
                if end - node.lineno < 80:
                    found.append(
                        textwrap.dedent("\n".join(lines[node.lineno - 1 : end]))
                    )
                if len(found) >= n:
                    return found
    return found


def sona_update_times(rounds: int) -> list[tuple[float, float]]:
    """(p50, p95) in ms of one SONA update, per round of 2,000 outcomes."""
    from pytest_ruvqe.learn.sona import Sona

    arms = [Arm("characterize", "search"), Arm("chat", "model", "local")]
    figures = []
    for seed in range(rounds):
        sona, rng, times = Sona(), np.random.default_rng(seed), []
        for i in range(2000):
            features = {"cyclomatic": float(rng.integers(1, 20)), "lines": 30.0}
            o = ArmOutcome(
                tuple(sorted(features.items())), arms[i % 2], i % 3 == 0, 2.0
            )
            began = time.perf_counter()
            sona.update(o)
            times.append(time.perf_counter() - began)
        figures.append((pct(times, 50) * 1e3, pct(times, 95) * 1e3))
    return figures


def bench_speed(n: int, rounds: int) -> None:
    """SONA update, recall at n patterns of real code, consolidation of them."""
    figures = sona_update_times(rounds)
    p95s = [p95 for _, p95 in figures]
    print(
        f"SONA update ({rounds} rounds of 2000 outcomes, consolidation every 32 "
        f"included): p50 median {statistics.median(p for p, _ in figures):.3f} ms; "
        f"p95 median {statistics.median(p95s):.3f} ms "
        f"(range {min(p95s):.3f}-{max(p95s):.3f})"
    )
    began = time.perf_counter()
    sources = corpus(n + 300)
    embedder = HashingEmbedder(DIM)
    rows = np.concatenate(
        [embedder.embed(sources[i : i + 1000]) for i in range(0, len(sources), 1000)]
    )
    print(
        f"corpus: {len(sources)} real functions embedded in "
        f"{time.perf_counter() - began:.1f} s"
    )
    order = np.random.default_rng(0).permutation(len(sources))
    held, kept = order[:300], order[300:]
    patterns = [
        Pattern("test", f"m:f{i}", f"def test_{i}(): pass", rows[i]) for i in kept
    ]
    began = time.perf_counter()
    bank = ReasoningBank(MemoryStore(), embedder, use_hnsw=True)
    bank.add_many(patterns)
    print(
        f"bank: {len(patterns)} patterns added and indexed in "
        f"{time.perf_counter() - began:.1f} s"
    )
    queries = rows[held]
    took, results = [], []
    for q in queries:
        began = time.perf_counter()
        results.append(bank.recall_vector(q, Query("", k=10, floor=-1.0)))
        took.append(time.perf_counter() - began)
    exact = ExactIndex(DIM)
    exact.add(kept.astype(np.int64), rows[kept])
    same = tied = 0
    for q, found in zip(queries, results, strict=True):
        truth = exact.search(q, 10)
        same += len(
            {f"m:f{i}" for i, _ in truth} & {r.pattern.signature for r in found}
        )
        tied += sum(r.similarity >= truth[-1][1] - 1e-5 for r in found)
    print(
        f"recall at {len(patterns)} (300 held-out functions, one at a time): p50 "
        f"{pct(took, 50) * 1e3:.3f} ms, p95 {pct(took, 95) * 1e3:.3f} ms; "
        f"recall@10 vs exact {tied / 3000:.3f} (counting ties with the 10th; "
        f"{same / 3000:.3f} by identity)"
    )
    began = time.perf_counter()
    result = consolidate(patterns, seconds=10.0)
    print(
        f"consolidation of {len(patterns)}: {time.perf_counter() - began:.1f} s, "
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


@dataclass(frozen=True)
class Run:
    """One generation run: wall time, the loop's own seconds, coverage after."""

    wall: float
    loop: float
    after: float
    learning: str


def _generate(project: Path, budget: float) -> Run:
    began = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "--ruvqe-generate", "--ruvqe-generators=characterize", "--ruvqe-learn",
            f"--ruvqe-time-budget={budget:.1f}",
        ],
        cwd=project, capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - began
    after = re.search(r"suite line\+branch coverage [\d.]+% -> ([\d.]+)%", done.stdout)
    loop = re.search(r"model: \S+, ([\d.]+) s", done.stdout)
    note = re.search(r"note: (learning: .*)", done.stdout)
    if after is None or loop is None:
        raise SystemExit(f"generation failed in {project}:\n{done.stdout[-2000:]}")
    return Run(wall, float(loop[1]), float(after[1]), note[1] if note else "")


def bench_rerun(budget: int) -> None:
    """The demo project cold; then, with the generated tests deleted, warm
    with a third and with a sixth of the cold loop's time: does each reach
    the cold coverage, and in what share of the cold run's wall time?"""
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "demo"
        shutil.copytree(ROOT / "examples" / "demo_project", project)
        generated = project / "tests" / "ruvqe_generated"
        shutil.rmtree(generated, ignore_errors=True)
        cold = _generate(project, budget)
        print(
            f"rerun: cold: {cold.wall:.1f} s wall, loop {cold.loop:.1f} s, "
            f"coverage after {cold.after:.1f}%; {cold.learning}"
        )
        for share in (3, 6):
            shutil.rmtree(generated, ignore_errors=True)
            warm = _generate(project, cold.loop / share)
            reached = "reached" if warm.after >= cold.after else "NOT reached"
            print(
                f"rerun: warm with 1/{share} of the cold loop's time: "
                f"{warm.wall:.1f} s wall, loop {warm.loop:.1f} s, coverage "
                f"{warm.after:.1f}% (cold's {reached}); warm / cold wall "
                f"{warm.wall / cold.wall:.2f}, loop {warm.loop / cold.loop:.2f}; "
                f"{warm.learning}"
            )


def _model_run(project: Path, budget: int, report: Path) -> dict[str, object]:
    """One run with the embedded local model; its JSON report's generation."""
    done = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "--ruvqe-generate", "--ruvqe-privacy-local", "--ruvqe-learn",
            f"--ruvqe-time-budget={budget}", f"--ruvqe-report=json:{report}",
        ],
        cwd=project, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if not report.exists():
        raise SystemExit(f"generation failed in {project}:\n{done.stdout[-2000:]}")
    generation: dict[str, object] = json.loads(report.read_text())["generation"]
    return generation


def _model_tokens(generation: dict[str, object]) -> tuple[dict[str, int], set[str]]:
    """Tokens the model spent per target, and the targets where it had a
    round accepted."""
    tokens: dict[str, int] = {}
    paid: set[str] = set()
    for step in generation["trajectory"]:  # type: ignore[attr-defined]
        if "/" not in step["arm"] or step["arm"].startswith("replay"):
            continue
        tokens[step["target"]] = tokens.get(step["target"], 0) + step["tokens"]
        if step["outcome"] == "accepted":
            paid.add(step["target"])
    return tokens, paid


def bench_budget(budget: int) -> None:
    """The demo project twice with the local model: tokens the second run
    spends on targets where the model had nothing accepted in the first."""
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "demo"
        shutil.copytree(ROOT / "examples" / "demo_project", project)
        generated = project / "tests" / "ruvqe_generated"
        shutil.rmtree(generated, ignore_errors=True)
        first = _model_run(project, budget, Path(tmp) / "first.json")
        shutil.rmtree(generated, ignore_errors=True)
        second = _model_run(project, budget, Path(tmp) / "second.json")
    spent, paid = _model_tokens(first)
    again, _ = _model_tokens(second)
    dry = [t for t in spent if t not in paid]
    before = sum(spent[t] for t in dry)
    after = sum(again.get(t, 0) for t in dry)
    drop = 1 - after / before if before else 0.0
    notes = [n for n in second["notes"] if n.startswith("learning")]  # type: ignore[attr-defined]
    print(
        f"budget: {len(dry)} targets where the model had nothing accepted in run 1 "
        f"({len(paid)} where it had); their model tokens {before} -> {after} "
        f"(drop {drop:.0%}); coverage after {first['suite_after']:.1%} -> "
        f"{second['suite_after']:.1%}; {notes[0] if notes else ''}"
    )


def _generate_modules(
    modules: list[str], budget: int, seed: int, out: Path, *extra: str
) -> dict[str, float]:
    """``bench/generate.py`` (search only, no mutation) on ``modules``:
    coverage after, per module."""
    command = [
        sys.executable, str(ROOT / "bench" / "generate.py"),
        "--only", ",".join(modules), "--modes", "characterize",
        "--budget", str(budget), "--fresh-runs", "1", "--mutants", "0",
        "--seed", str(seed), "--json", str(out), *extra,
    ]  # fmt: skip
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    rows = json.loads(out.read_text())["rows"]
    return {r["module"]: float(r["after"]) for r in rows}


def bench_transfer(budget: int, seeds: int) -> None:
    """Learn on one half of the public modules (by package), then generate on
    the other half cold (no bank) and warm (the bank, frozen), per seed."""
    from bench.generate import DEFAULT_TSV, halves, read_rows

    rows = read_rows(DEFAULT_TSV)
    learn, held = halves([(r.package, r.module) for r in rows])
    with tempfile.TemporaryDirectory() as tmp:
        bank = Path(tmp) / "bank"
        _generate_modules(
            learn, budget, 0, Path(tmp) / "learn.json", "--bank", str(bank)
        )
        patterns = len(ReasoningBank(DiskStore(bank / "bank"), use_hnsw=False))
        print(f"transfer: learned on {len(learn)} modules: {patterns} patterns")
        cold, warm = [], []
        for seed in range(seeds):
            out = Path(tmp) / f"{seed}"
            c = _generate_modules(held, budget, seed, out.with_suffix(".cold"))
            w = _generate_modules(
                held, budget, seed, out.with_suffix(".warm"),
                "--bank", str(bank), "--bank-frozen",
            )  # fmt: skip
            cold.append(statistics.mean(c.values()))
            warm.append(statistics.mean(w.values()))
            better = sum(w[m] > c[m] + 0.5 for m in c)
            worse = sum(w[m] < c[m] - 0.5 for m in c)
            print(
                f"transfer: seed {seed}: mean after cold {cold[-1]:.1f}%, warm "
                f"{warm[-1]:.1f}% ({better} modules up, {worse} down by > 0.5)"
            )
    print(
        f"transfer: {len(held)} held-out modules, {budget} s each, {seeds} seeds: "
        f"cold {statistics.mean(cold):.1f}% (sd {statistics.pstdev(cold):.1f}), "
        f"warm {statistics.mean(warm):.1f}% (sd {statistics.pstdev(warm):.1f}); "
        f"warm - cold {statistics.mean(warm) - statistics.mean(cold):+.1f} points"
    )


class _Edit(ast.NodeTransformer):
    """A small code edit: the first comparison flipped, the first integer
    changed, the first parameter renamed (what a refactor does to a function)."""

    def __init__(self) -> None:
        self.compared = self.counted = False
        self.renamed: dict[str, str] = {}

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        params = [a for a in node.args.args if a.arg not in ("self", "cls")]
        if params and not self.renamed:
            self.renamed[params[0].arg] = params[0].arg + "_value"
            params[0].arg += "_value"
        return self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self.renamed.get(node.id, node.id)
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        flips = {ast.Lt: ast.LtE, ast.Gt: ast.GtE, ast.Eq: ast.NotEq, ast.In: ast.NotIn}
        if not self.compared and type(node.ops[0]) in flips:
            node.ops[0] = flips[type(node.ops[0])]()
            self.compared = True
        return self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if not self.counted and type(node.value) is int:
            self.counted = True
            return ast.Constant(node.value + 1)
        return node


def edited(source: str) -> str:
    """``source`` after :class:`_Edit`."""
    return ast.unparse(_Edit().visit(ast.parse(source)))


def package_functions(limit: int) -> list[tuple[str, str]]:
    """(file, source) of up to ``limit`` functions (3 lines or more) of the
    packages of the public modules, their files in a fixed order."""
    from bench.generate import DEFAULT_TSV, module_file, read_rows

    rows = read_rows(DEFAULT_TSV)
    roots = {module_file(r.module).parents[r.module.count(".") - 1] for r in rows}
    found: list[tuple[str, str]] = []
    for path in sorted(p for root in roots for p in root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                end = node.end_lineno or node.lineno
                if end - node.lineno >= 2:
                    code = "\n".join(lines[node.lineno - 1 : end])
                    found.append((str(path), textwrap.dedent(code)))
    step = max(1, len(found) // limit)
    return found[::step][:limit]


def _retrieval(rows: np.ndarray, queries: np.ndarray, modules: list[str]) -> str:
    """Recall@1 of each function from its edited form; share of the 5 nearest
    other functions that are of the same file."""
    hits = int(np.sum(np.argmax(queries @ rows.T, axis=1) == np.arange(len(rows))))
    sims = rows @ rows.T
    np.fill_diagonal(sims, -np.inf)
    near = np.argsort(-sims, axis=1)[:, :5]
    same = np.mean(
        [[modules[j] == modules[i] for j in near[i]] for i in range(len(rows))]
    )
    return f"edited -> original recall@1 {hits / len(rows):.3f}, same-file@5 {same:.3f}"


def bench_embedders(limit: int) -> None:
    """The hashing embedding against the local model's (llama.cpp, mean
    pooled) on functions of the public modules' packages."""
    from bench.generate import local_provider

    functions = package_functions(limit)
    modules = [m for m, _ in functions]
    originals = [code for _, code in functions]
    edits = [edited(code) for code in originals]
    hashing = HashingEmbedder(DIM)
    began = time.perf_counter()
    figures = _retrieval(hashing.embed(originals), hashing.embed(edits), modules)
    took = time.perf_counter() - began
    print(f"embedders: hashing ({len(functions)} functions, {took:.1f} s): {figures}")
    router, why = local_provider()
    if router is None:
        print(f"embedders: local model skipped: {why}")
        return
    from pytest_ruvqe.memory.embedding import CallableEmbedder

    began = time.perf_counter()
    width = int(router.embed(["def f(): pass"]).shape[1])  # type: ignore[attr-defined]
    model = CallableEmbedder("local", width, router.embed)  # type: ignore[attr-defined]
    figures = _retrieval(model.embed(originals), model.embed(edits), modules)
    took = time.perf_counter() - began
    print(f"embedders: local model, {width} dims ({took:.1f} s): {figures}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default="speed,forgetting,learners,rerun")
    parser.add_argument("--patterns", type=int, default=100_000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=120)
    parser.add_argument("--module-budget", type=int, default=15)
    parser.add_argument("--functions", type=int, default=600)
    args = parser.parse_args()
    sections = set(args.sections.split(","))
    if "speed" in sections:
        bench_speed(args.patterns, args.rounds)
    if "forgetting" in sections:
        bench_forgetting(args.seeds)
    if "learners" in sections:
        bench_learners(args.seeds)
    if "rerun" in sections:
        bench_rerun(args.budget)
    if "budget" in sections:
        bench_budget(args.budget)
    if "embedders" in sections:
        bench_embedders(args.functions)
    if "transfer" in sections:
        bench_transfer(args.module_budget, args.seeds)


if __name__ == "__main__":
    main()

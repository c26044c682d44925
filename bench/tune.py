"""Does tuning the local model on accepted tests make its proposals count?

    python bench/tune.py [--budget 30] [--seeds 0,1,2] [--steps 60]
                         [--eval N] [--out bench/out/tune]

The public modules (``bench/public-modules.tsv``) are split by package in
two halves. On the first, the search alone writes tests (``bench/generate.py
--modes characterize``) and every accepted test is kept as a tuning example;
``ruvqe tune``'s trainer fits a LoRA on them (time, peak memory, loss before
and after on the training tests and on held-out targets). On ``--eval``
modules of the second half, generation then runs with the search followed by
the local model (``--modes both``), with the base model and with the
adapter, once per seed; the search alone (``characterize``) runs once per
seed as the baseline. Printed per variant, summed over modules and seeds:
tests a model proposed and that were accepted, its candidates and their
acceptance rate, tokens per accepted model test, and the mean coverage the
model stage added beyond the search alone; then llama.cpp's decoding speed
with and without the adapter (median of 5 runs of 64 tokens).

Needs the ``local`` and ``tune`` extras and the table's packages installed.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.generate import DEFAULT_TSV, halves, module_file, read_rows  # noqa: E402
from pytest_ruvqe.generate.prompt.tuning import tuning_examples  # noqa: E402
from pytest_ruvqe.learn.tune.examples import TuneExample, dedupe, split  # noqa: E402
from pytest_ruvqe.learn.tune.export import write_adapter  # noqa: E402
from pytest_ruvqe.learn.tune.train import TuneConfig, train  # noqa: E402
from pytest_ruvqe.llm.models import embedded_model_path  # noqa: E402
from pytest_ruvqe.memory.patterns import Pattern  # noqa: E402


def generate(args: argparse.Namespace, only: Sequence[str], *extra: str) -> list[Any]:
    """Run ``bench/generate.py`` on ``only``; its JSON rows."""
    out = args.out / f"gen-{time.monotonic_ns()}.json"
    command = [
        sys.executable,
        str(REPO / "bench" / "generate.py"),
        "--only",
        ",".join(only),
        "--budget",
        str(args.budget),
        "--fresh-runs",
        "1",
        "--mutants",
        "10",
        "--mutation-budget",
        "20",
        "--json",
        str(out),
        *extra,
    ]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    data = json.loads(out.read_text())
    return list(data["rows"])


def examples_from(path: Path) -> list[TuneExample]:
    """Tuning examples from the accepted tests ``generate.py`` kept."""
    patterns, roots = [], set()
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        source = module_file(entry["module"])
        roots.add(source.parents[len(entry["module"].split(".")) - 1])
        patterns.append(
            Pattern(
                kind="test",
                signature=f"{entry['module']}:{entry['qualname']}",
                payload=entry["code"],
                embedding=(),
            )
        )
    return dedupe(tuning_examples(patterns, sorted(roots), project=""))


def tune(args: argparse.Namespace, examples: list[TuneExample]) -> Path:
    """Train and export the adapter; print what it cost."""
    train_set, held = split(examples)
    config = TuneConfig(steps=args.steps, max_seconds=10**6)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = train(
        embedded_model_path(), train_set, held, config, args.out / "work.pt", "bench"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    path = args.out / "adapter.gguf"
    write_adapter(path, result.tensors, config.alpha, "gemma3")
    held_text = result.held_change() or "-"
    print(
        f"trained on {len(train_set)} tests ({len(held)} held out), "
        f"{result.steps} steps in {result.seconds:.0f} s, peak RSS "
        f"{max(peak, before) / 1024:.0f} MB; loss {result.loss_before:.3f} -> "
        f"{result.loss_after:.3f}, held-out {held_text}"
    )
    return path


def decode_speed(adapter: Path | None, runs: int = 5) -> float:
    """Median tokens/s of 64 greedy tokens after a fixed scaffold prompt."""
    from llama_cpp import Llama

    extra = {"lora_path": str(adapter)} if adapter else {}
    llm = Llama(model_path=embedded_model_path(), n_ctx=512, verbose=False, **extra)
    prompt = "import pytest\nimport text\n\n\ndef test_slug_"
    speeds = []
    try:
        for _ in range(runs):
            start = time.perf_counter()
            out = llm(prompt, max_tokens=64, temperature=0.0, stop=[])
            tokens = out["usage"]["completion_tokens"]
            speeds.append(tokens / (time.perf_counter() - start))
    finally:
        llm.close()
    return statistics.median(speeds)


def summary(rows: list[Any], search: dict[tuple[str, int], float]) -> dict[str, float]:
    """The model stage's figures over ``rows`` (one per module and seed)."""
    accepted = sum(r["model_accepted"] for r in rows)
    candidates = sum(r["model_candidates"] for r in rows)
    tokens = sum(r["tokens"] for r in rows)
    added = [r["after"] - search[(r["module"], r["seed"])] for r in rows]
    return {
        "accepted": accepted,
        "candidates": candidates,
        "rate": accepted / candidates if candidates else 0.0,
        "tokens_per_accepted": tokens / accepted if accepted else float("inf"),
        "added": statistics.mean(added) if added else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=30.0, help="s per module")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=60, help="training steps")
    parser.add_argument("--eval", type=int, default=5, help="held-out modules")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "tune")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = read_rows(DEFAULT_TSV)
    learn_on, held_out = halves([(r.package, r.module) for r in rows])
    kept = args.out / "examples.jsonl"
    if not kept.exists():
        print(f"search on {len(learn_on)} modules to learn from ...", flush=True)
        generate(
            args, learn_on, "--modes", "characterize", "--keep-examples", str(kept)
        )
    adapter = tune(args, examples_from(kept))
    evaluate = held_out[: args.eval]
    seeds = [int(s) for s in args.seeds.split(",")]
    search: dict[tuple[str, int], float] = {}
    variants: dict[str, list[Any]] = {"base": [], "adapter": []}
    for seed in seeds:
        for r in generate(args, evaluate, "--modes", "characterize"):
            search[(r["module"], seed)] = r["after"]
        for name, extra in (("base", []), ("adapter", ["--adapter", str(adapter)])):
            found = generate(
                args, evaluate, "--modes", "both", "--seed", str(seed), *extra
            )
            variants[name] += [dict(r, seed=seed) for r in found]
    print(f"held-out modules: {', '.join(evaluate)}; seeds {seeds}")
    print(
        "variant   model-accepted  candidates  rate    tokens/accepted  +cov vs search"
    )
    for name, found in variants.items():
        s = summary(found, search)
        per_test = s["tokens_per_accepted"]
        print(
            f"{name:<9} {s['accepted']:>14.0f}  {s['candidates']:>10.0f}  "
            f"{s['rate']:>5.1%}  {per_test:>15.0f}  {s['added']:>+13.2f}"
        )
    base, tuned = decode_speed(None), decode_speed(adapter)
    ratio = tuned / base
    print(f"llama.cpp tokens/s: base {base:.1f}, adapter {tuned:.1f} ({ratio:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Inference benchmark: our LocalProvider against raw llama_cpp.Llama, and router cost.

Run: python bench/inference.py [--reps N] [--max-tokens N]

Both sides use the same loaded model and the same prompts, interleaved (the
order alternates every repetition) and with the KV cache reset before every
call, so neither side profits from the other's cached prefix.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from pytest_ruvqe.llm.base import (
    Completion,
    CompletionRequest,
    Provider,
    ProviderMetadata,
)
from pytest_ruvqe.llm.local import LocalProvider
from pytest_ruvqe.llm.router import HybridRouter

PROMPTS = [
    "def fibonacci(n):\n    ",
    "import pytest\n\nfrom shop.cart import Cart\n\n\ndef test_empty_cart_total():\n",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(",
    "# Parse an ISO date string and return a datetime\ndef parse_date(text):\n",
    "def test_parse_handles_whitespace():\n    assert parse('  1 + 2 ') ==",
    "def merge_sorted(a, b):\n    result = []\n    i = j = 0\n    while",
    "# Read a CSV file and return the rows as dicts.\nimport csv\n\n\ndef read_rows(",
    "def is_prime(n: int) -> bool:\n    if n < 2:\n        return False\n",
]


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def timed_stream(pieces: Iterable[str]) -> tuple[float, float, str]:
    """(time to first token, total time, text) of one streamed answer."""
    start = time.perf_counter()
    first: float | None = None
    parts = []
    for piece in pieces:
        if first is None and piece:
            first = time.perf_counter() - start
        parts.append(piece)
    total = time.perf_counter() - start
    return (first if first is not None else total), total, "".join(parts)


def raw_stream(llm: object, prompt: str, max_tokens: int) -> Iterator[str]:
    for chunk in llm.create_completion(  # type: ignore[attr-defined]
        prompt, max_tokens=max_tokens, temperature=0.0, seed=0, stream=True
    ):
        yield chunk["choices"][0]["text"]


def bench_generation(reps: int, max_tokens: int) -> dict[str, dict[str, list[float]]]:
    provider = LocalProvider()
    llm = provider.llama()
    # warm-up: first calls pay for page faults and graph allocation
    for _ in timed_stream(raw_stream(llm, PROMPTS[0], 8))[2]:
        pass
    results: dict[str, dict[str, list[float]]] = {
        side: {"ttft": [], "tps": []} for side in ("provider", "raw")
    }

    def run(side: str, prompt: str) -> None:
        llm.reset()  # no prefix reuse between calls
        if side == "provider":
            request = CompletionRequest(
                prompt=prompt, max_tokens=max_tokens, temperature=0.0, seed=0
            )
            ttft, total, text = timed_stream(provider.stream(request))
        else:
            ttft, total, text = timed_stream(raw_stream(llm, prompt, max_tokens))
        tokens = len(llm.tokenize(text.encode("utf-8"), add_bos=False))
        results[side]["ttft"].append(ttft)
        if tokens > 1 and total > ttft:
            results[side]["tps"].append((tokens - 1) / (total - ttft))

    for rep in range(reps):
        for prompt in PROMPTS:
            order = ("provider", "raw") if rep % 2 == 0 else ("raw", "provider")
            for side in order:
                run(side, prompt)
    return results


class InstantProvider(Provider):
    """Answers at once: whatever the router call costs beyond it is overhead."""

    def __init__(self, name: str, location: str) -> None:
        self._meta = ProviderMetadata(name, "m", location, 8192, True, 1e-6, 2e-6)

    def complete(self, request: CompletionRequest) -> Completion:
        return Completion("ok", 1, 1, 0.0, 0.0, 0.0, self._meta.name, "m")

    def stream(self, request: CompletionRequest) -> Iterator[str]:
        yield "ok"

    def embed(self, texts: Sequence[str]) -> np.ndarray:  # type: ignore[type-arg]
        return np.zeros((len(texts), 1), dtype=np.float32)

    def health(self) -> bool:
        return True

    def metadata(self) -> ProviderMetadata:
        return self._meta


def bench_router(calls: int) -> dict[str, list[float]]:
    source = "\n".join(
        f"def helper_{i}(value):\n    return value * {i} + len(str(value))"
        for i in range(20)
    )
    requests = [
        CompletionRequest(
            prompt=f"{source}\n\ndef test_helper_{i}():\n",
            features={"cyclomatic": i % 30, "lines": 40 + i % 200, "callees": i % 9},
        )
        for i in range(64)
    ]
    local_only = HybridRouter([InstantProvider("local", "local")], "balanced")
    hybrid = HybridRouter(
        [InstantProvider("local", "local"), InstantProvider("cloud", "cloud")],
        "balanced",
    )
    out: dict[str, list[float]] = {"local_only": [], "hybrid_with_scan": []}
    for name, router in (("local_only", local_only), ("hybrid_with_scan", hybrid)):
        for i in range(calls):
            request = requests[i % len(requests)]
            start = time.perf_counter()
            router.complete(request)
            out[name].append(time.perf_counter() - start)
    return out


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        lines.append(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
        )
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--router-calls", type=int, default=3000)
    args = parser.parse_args(argv)

    load_before = os.getloadavg()[0]
    provider = LocalProvider()
    meta = provider.metadata()
    print(
        f"model: {meta.model}  context: {meta.context_size}  prompts: {len(PROMPTS)}"
        f" x {args.reps} reps, {args.max_tokens} new tokens, interleaved"
    )
    gen = bench_generation(args.reps, args.max_tokens)
    p, r = gen["provider"], gen["raw"]
    med = statistics.median
    rows: list[tuple[str, ...]] = [
        ("metric", "provider", "raw llama_cpp", "ratio", "target")
    ]
    tps_ratio = med(p["tps"]) / med(r["tps"])
    rows.append(
        (
            "tokens/s (median)",
            f"{med(p['tps']):.1f}",
            f"{med(r['tps']):.1f}",
            f"{tps_ratio:.3f}",
            ">= 0.95",
        )
    )
    for q in (50, 95):
        ours, raw = percentile(p["ttft"], q), percentile(r["ttft"], q)
        rows.append(
            (
                f"TTFT p{q} (ms)",
                f"{ours * 1e3:.1f}",
                f"{raw * 1e3:.1f}",
                f"{raw / ours:.3f}",
                ">= 0.95 (raw/provider)",
            )
        )
    print(table(rows))

    overhead = bench_router(args.router_calls)
    rows = [("router call overhead", "p50 (ms)", "p95 (ms)", "target")]
    for name, values in overhead.items():
        rows.append(
            (
                name,
                f"{percentile(values, 50) * 1e3:.3f}",
                f"{percentile(values, 95) * 1e3:.3f}",
                "p95 < 1 ms",
            )
        )
    print()
    print(table(rows))
    cores = os.cpu_count() or 1
    load_after = os.getloadavg()[0]
    print(f"\nload average {load_before:.1f} -> {load_after:.1f} on {cores} CPUs")
    if max(load_before, load_after) > cores:
        # llama.cpp threads wait on each other at every layer: on an
        # oversubscribed machine both sides slow down erratically
        print("warning: the machine was busy; ratios are not reliable")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

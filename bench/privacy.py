"""Privacy scanner benchmark: recall, false positives and speed on a generated corpus.

Run: python bench/privacy.py [--seeds N] [--reps N]

The corpus is tests/llm/privacy_corpus.py: per sensitive kind, N seeded fake
values in valid formats (Luhn-valid test card numbers, IBANs with correct
check digits, SSNs, phone numbers of several plans, API tokens of each
provider) embedded in code and text; per benign kind, N look-alikes (digit
runs, versions, UUIDs, digests in hash contexts, timestamps, placeholders…).
Recall: the share of samples where a finding of the sample's kind covers the
whole value. False positives: the share of benign samples with any finding.
Scan time: the median of --reps scans of 4 KB prompts (this repository's own
source, and the corpus texts joined), per KB.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import statistics
import sys
import time
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "llm"))

from inference import table  # noqa: E402
from privacy_corpus import BENIGN, POSITIVE, benign, detected, positive  # noqa: E402

from pytest_ruvqe.llm.privacy import (  # noqa: E402
    DEFAULT_PHONE_REGIONS,
    PrivacyScanner,
)

PROMPT_BYTES = 4096


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def recall_rows(scanner: PrivacyScanner, seeds: int) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [("kind", "samples", "found", "recall")]
    for kind in POSITIVE:
        samples = [positive(kind, seed) for seed in range(seeds)]
        found = sum(detected(s, scanner.scan(s.text)) for s in samples)
        rows.append((kind, str(seeds), str(found), f"{found / seeds:.3f}"))
    return rows


def false_positive_rows(scanner: PrivacyScanner, seeds: int) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [("benign kind", "samples", "flagged", "FP rate")]
    for kind in BENIGN:
        flagged = sum(bool(scanner.scan(benign(kind, s).text)) for s in range(seeds))
        rows.append((kind, str(seeds), str(flagged), f"{flagged / seeds:.3f}"))
    return rows


def prompts(texts: Iterable[str]) -> list[str]:
    """The texts joined and cut into prompts of PROMPT_BYTES characters."""
    joined = "\n".join(texts)
    return [
        joined[i : i + PROMPT_BYTES]
        for i in range(0, len(joined) - PROMPT_BYTES + 1, PROMPT_BYTES)
    ]


def median_scan_s(scanner: PrivacyScanner, texts: list[str], reps: int) -> float:
    for text in texts:  # warm-up: lazy imports, regex caches
        scanner.scan(text)
    times = []
    for rep in range(reps):
        text = texts[rep % len(texts)]
        start = time.perf_counter()
        scanner.scan(text)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def timing_rows(
    scanner: PrivacyScanner, seeds: int, reps: int
) -> list[tuple[str, ...]]:
    sources = sorted((ROOT / "pytest_ruvqe").rglob("*.py"))
    sets = {
        "this repo's source": prompts(p.read_text() for p in sources),
        "corpus, sensitive": prompts(
            positive(k, s).text for s in range(seeds) for k in POSITIVE
        ),
        "corpus, benign": prompts(
            benign(k, s).text for s in range(seeds) for k in BENIGN
        ),
    }
    rows: list[tuple[str, ...]] = [
        ("4 KB prompts", "prompts", "median (ms)", "per KB (us)")
    ]
    for name, texts in sets.items():
        if not texts:
            continue
        median = median_scan_s(scanner, texts, reps)
        per_kb = median / (PROMPT_BYTES / 1024)
        rows.append(
            (name, str(len(texts)), f"{median * 1e3:.3f}", f"{per_kb * 1e6:.0f}")
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=200, help="samples per kind")
    parser.add_argument("--reps", type=int, default=2000, help="timed scans per set")
    args = parser.parse_args(argv)

    scanner = PrivacyScanner()
    libraries = ", ".join(
        f"{name} {version(name)}"
        for name in ("detect-secrets", "python-stdnum", "phonenumbers")
    )
    print(f"{libraries}; phone regions {', '.join(DEFAULT_PHONE_REGIONS)}")
    for note in scanner.notes:
        print(f"note: {note}")
    print()
    print(table(recall_rows(scanner, args.seeds)))
    print()
    print(table(false_positive_rows(scanner, args.seeds)))
    print()
    print(table(timing_rows(scanner, args.seeds, args.reps)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

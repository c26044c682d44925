"""What OS isolation costs: a sandboxed run with bubblewrap vs the guard alone.

Runs the same small candidate test (and the same probe) in the sandbox,
alternating isolated and not, and prints the median wall time of each, the
spread, the ratio and the load average.

    python bench/sandbox.py [--repeat 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_ruvqe.generate.sandbox import isolation, run_probe, run_tests
from pytest_ruvqe.generate.types import Project

SOURCE = "def sign(x):\n    if x < 0:\n        return -1\n    return 1 if x else 0\n"
TEST = "from calc import sign\n\n\ndef test_sign():\n    assert sign(-2) == -1\n"


def _timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    if isolation.isolation() != "bubblewrap":
        raise SystemExit(f"no bubblewrap here: {isolation.why_not()}")
    root = Path(tempfile.mkdtemp(prefix="ruvqe-bench-"))
    (root / "calc.py").write_text(SOURCE, encoding="utf-8")
    project, target = Project(root, (root,)), root / "calc.py"
    jobs = {
        "pytest run": lambda: run_tests(project, TEST, target),
        "probe": lambda: run_probe(
            project, "from calc import sign", ["sign(-1)"], target
        ),
    }
    which = isolation.shutil.which
    load = os.getloadavg()[0]
    print(f"load average {load:.2f}; {args.repeat} rounds, modes alternating")
    for name, job in jobs.items():
        times: dict[str, list[float]] = {"bubblewrap": [], "guard only": []}
        for _ in range(args.repeat):
            for mode in times:
                isolation.shutil.which = which if mode == "bubblewrap" else _none
                isolation.why_not.cache_clear()
                isolation.isolation.cache_clear()
                times[mode].append(_timed(job))
        isolation.shutil.which = which
        iso, plain = (statistics.median(times[m]) for m in times)
        spread = {m: (min(t), max(t)) for m, t in times.items()}
        print(
            f"{name:<11} bubblewrap {iso:.3f}s ({spread['bubblewrap'][0]:.3f}-"
            f"{spread['bubblewrap'][1]:.3f})  guard only {plain:.3f}s "
            f"({spread['guard only'][0]:.3f}-{spread['guard only'][1]:.3f})  "
            f"ratio {iso / plain:.2f}"
        )
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


def _none(name: str) -> None:
    return None


if __name__ == "__main__":
    main()

"""Wall time of ``pytest``, ``pytest --cov --cov-branch`` and ``pytest --ruvqe``.

Runs each suite the three ways, interleaved, several times, and prints median
wall times and the ratio ruvqe / pytest-cov (target: <= 1.05).

    python bench/overhead.py [--repeat 7] [--real toolz==1.2.0]

Suites: the demo project's, and a real PyPI package's own tests taken from its
sdist (default toolz, whose tests live inside the package).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Suite:
    name: str
    cwd: Path
    tests: str
    source: str


def fetch_sdist(spec: str, into: Path) -> Path:
    """Download and unpack an sdist; return the unpacked directory."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-binary",
            ":all:",
            "--no-deps",
            spec,
            "-d",
            str(into),
        ],
        check=True,
    )
    archive = next(into.glob("*.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return next(p for p in into.iterdir() if p.is_dir())


def run_once(suite: Suite, mode: str) -> float:
    args = [sys.executable, "-m", "pytest", suite.tests, "-q", "-p", "no:cacheprovider"]
    if mode == "cov":
        args += [f"--cov={suite.source}", "--cov-branch", "--cov-report=term"]
    elif mode == "ruvqe":
        args += ["--ruvqe", f"--ruvqe-source={suite.source}"]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=suite.cwd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{suite.name} {mode} failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--real", default="toolz==1.2.0", help="PyPI sdist to test")
    parser.add_argument("--real-tests", default="toolz/tests")
    parser.add_argument("--real-source", default="toolz")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp) / "demo"
        shutil.copytree(ROOT / "examples" / "demo_project", demo)
        real = fetch_sdist(args.real, Path(tmp) / "real")
        suites = [
            Suite("demo_project", demo, "tests", "src/ledgerly"),
            Suite(args.real, real, args.real_tests, args.real_source),
        ]
        modes = ("plain", "cov", "ruvqe")
        times: dict[tuple[str, str], list[float]] = {}
        for suite in suites:
            run_once(suite, "ruvqe")  # warm caches, bytecode, imports
            for _ in range(args.repeat):
                for mode in modes:  # interleaved so drift hits all modes alike
                    times.setdefault((suite.name, mode), []).append(
                        run_once(suite, mode)
                    )
    print(f"median wall time of {args.repeat} interleaved runs (seconds)")
    print(f"{'suite':<16} {'pytest':>8} {'--cov':>8} {'--ruvqe':>8} {'ruvqe/cov':>10}")
    for suite in suites:
        med = {m: statistics.median(times[(suite.name, m)]) for m in modes}
        print(
            f"{suite.name:<16} {med['plain']:>8.3f} {med['cov']:>8.3f} "
            f"{med['ruvqe']:>8.3f} {med['ruvqe'] / med['cov']:>10.3f}"
        )


if __name__ == "__main__":
    main()

"""Wall time of ``pytest``, ``pytest --cov --cov-branch`` and ``pytest --ruvqe``.

Runs each suite the three ways, interleaved (the order of the modes rotates
from round to round), several times, and prints per suite and mode the median
wall time with its spread (min-max), and the median of the per-round ratios
ruvqe / pytest-cov with their spread (target: <= 1.05). The load average is
printed before and after each suite: on a shared machine, compare ratios of
interleaved runs, not absolute seconds.

    python bench/overhead.py [--repeat 7] [--suites demo,toolz,dateutil]

Suites: the demo project's; toolz 1.2.0's own tests (inside the package) and
python-dateutil 2.9.0.post0's own tests (2,000+ tests; they need
``freezegun``, ``hypothesis`` and ``six`` installed), both from their PyPI
sdists. The first run of each suite only warms caches (bytecode, imports,
the ``.ruvqe/`` store) and is not counted.
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
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODES = ("plain", "cov", "ruvqe")


@dataclass(frozen=True)
class Suite:
    name: str
    cwd: Path
    tests: str
    source: str
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)


def fetch_sdist(spec: str, into: Path) -> Path:
    """Download and unpack an sdist; return the unpacked directory."""
    into.mkdir(parents=True, exist_ok=True)
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


def make_suite(name: str, tmp: Path) -> Suite:
    """One of the known suites, copied or unpacked under ``tmp``."""
    if name == "demo":
        demo = tmp / "demo"
        shutil.copytree(ROOT / "examples" / "demo_project", demo)
        return Suite("demo", demo, "tests", "src/ledgerly")
    if name == "toolz":
        real = fetch_sdist("toolz==1.2.0", tmp / "toolz")
        return Suite("toolz", real, "toolz/tests", "toolz")
    if name == "dateutil":
        real = fetch_sdist("python-dateutil==2.9.0.post0", tmp / "dateutil")
        return Suite(
            "dateutil",
            real,
            "tests",
            "src/dateutil",
            # its own error filter meets a deprecation of pytest 9
            ("-W", "ignore::pytest.PytestRemovedIn10Warning"),
            {"PYTHONPATH": str(real / "src")},
        )
    raise SystemExit(f"unknown suite {name!r}; choose from demo, toolz, dateutil")


def run_once(suite: Suite, mode: str) -> float:
    """Wall seconds of one run; stops the benchmark if pytest itself fails."""
    args = [sys.executable, "-m", "pytest", suite.tests, "-q", "-p", "no:cacheprovider"]
    args += list(suite.args)
    if mode == "cov":
        args += [f"--cov={suite.source}", "--cov-branch", "--cov-report=term"]
    elif mode == "ruvqe":
        args += ["--ruvqe", f"--ruvqe-source={suite.source}"]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", **suite.env)
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=suite.cwd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        tail = (proc.stdout + proc.stderr)[-3000:]
        code = proc.returncode
        raise SystemExit(f"{suite.name} {mode} failed (exit {code}):\n{tail}")
    return elapsed


def load() -> str:
    """The 1, 5 and 15 minute load averages and the number of cores."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def spread(values: list[float]) -> str:
    """Median and min-max of ``values``."""
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def measure(suite: Suite, repeat: int) -> dict[str, list[float]]:
    """``repeat`` rounds of every mode, the order rotating each round."""
    run_once(suite, "ruvqe")  # warm caches, bytecode, imports, the store
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    for i in range(repeat):
        order = MODES[i % len(MODES) :] + MODES[: i % len(MODES)]
        for mode in order:
            times[mode].append(run_once(suite, mode))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--suites", default="demo,toolz,dateutil")
    args = parser.parse_args()
    print(f"start: {load()}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.suites.split(","):
            suite = make_suite(name.strip(), Path(tmp))
            before = load()
            times = measure(suite, args.repeat)
            ratios = [r / c for r, c in zip(times["ruvqe"], times["cov"], strict=True)]
            rows.append((suite.name, times, ratios, before, load()))
            print(f"{suite.name}: done, {load()}", flush=True)
    print(
        f"\nwall seconds, median (min-max) of {args.repeat} interleaved rounds; "
        "ratio: median (min-max) of the per-round ruvqe/cov ratios"
    )
    for name, times, ratios, before, after in rows:
        print(f"{name}  [{before} -> {after}]")
        for mode in MODES:
            print(f"  {mode:<6} {spread(times[mode])}")
        print(f"  ruvqe/cov {spread(ratios)}")


if __name__ == "__main__":
    main()

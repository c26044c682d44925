"""``pytest --ruvqe`` on a large real suite: time, memory, report sizes.

    python bench/scale.py [--sdist networkx==3.4.2] [--repeat 3]
                          [--mutants 500] [--mutation-budget 600]

Unpacks the sdist of a pure-Python package that ships its tests inside the
package (default networkx 3.4.2; its tests that need numpy or scipy skip)
and runs its suite, interleaved, ``--repeat`` times each way: ``--cov
--cov-branch`` and ``--ruvqe``, serially and with ``-n 2`` (pytest-xdist).
Then one sampled mutation run, ``--ruvqe --ruvqe-mutation
--ruvqe-mutants=N``. Prints per way the median wall seconds (min-max), the
peak RSS of the pytest process (what ``wait4`` reports: the process and the
children it waited for) and the lines it printed; the per-round ratios
ruvqe / cov; the statements measured, tests run and the JSON report's
size; and the mutation run's judged mutants, score and whether its budget
stopped it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from overhead import fetch_sdist, load, spread

WAYS = ("cov", "ruvqe", "cov -n 2", "ruvqe -n 2")


@dataclass(frozen=True)
class Run:
    """One pytest run as measured from outside."""

    seconds: float
    peak_mib: float
    output: str

    @property
    def lines(self) -> int:
        return self.output.count("\n")


def run_pytest(cwd: Path, package: str, extra: list[str], env: dict[str, str]) -> Run:
    """Run pytest on the package's tests; wall time, peak RSS and lines printed."""
    args = [sys.executable, "-m", "pytest", package, "-q", "-p", "no:cacheprovider"]
    with tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [*args, *extra], cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"pytest {' '.join(extra)} failed:\n{text[-3000:]}")
    return Run(seconds, usage.ru_maxrss / 1024, text)


def way_args(way: str, package: str, report: Path) -> list[str]:
    """The command-line options of one way of running the suite."""
    args = ["-n", "2"] if way.endswith("-n 2") else []
    if way.startswith("cov"):
        return [*args, f"--cov={package}", "--cov-branch", "--cov-report=term"]
    return [
        *args,
        "--ruvqe",
        f"--ruvqe-source={package}",
        f"--ruvqe-report=json:{report}",
    ]


def measure(
    cwd: Path, package: str, repeat: int, env: dict[str, str], report: Path
) -> dict[str, list[Run]]:
    """``repeat`` rounds of every way, the order rotating each round."""
    run_pytest(cwd, package, way_args("ruvqe", package, report), env)  # warm-up
    runs: dict[str, list[Run]] = {way: [] for way in WAYS}
    for i in range(repeat):
        order = WAYS[i % len(WAYS) :] + WAYS[: i % len(WAYS)]
        for way in order:
            run = run_pytest(cwd, package, way_args(way, package, report), env)
            runs[way].append(run)
            print(f"  {way}: {run.seconds:.1f} s", file=sys.stderr, flush=True)
    return runs


def mutation_run(
    cwd: Path, package: str, env: dict[str, str], mutants: int, budget: int
) -> tuple[Run, dict[str, object]]:
    """One sampled mutation run and its report's mutation section."""
    report = cwd / "mutation.json"
    extra = [
        "--ruvqe",
        f"--ruvqe-source={package}",
        "--ruvqe-mutation",
        f"--ruvqe-mutants={mutants}",
        f"--ruvqe-mutation-time-budget={budget}",
        f"--ruvqe-report=json:{report}",
    ]
    run = run_pytest(cwd, package, extra, env)
    data = json.loads(report.read_text(encoding="utf-8"))
    section = dict(data.get("mutation") or {})
    refused = re.search(r"mutation refused: [^\n]*", run.output)
    if refused:  # a warning in pytest's summary, not in the report
        section["refused"] = refused.group()
    return run, section


def measured(report: Path) -> str:
    """Statements, files and tests, and the report's size, from a JSON report."""
    data = json.loads(report.read_text(encoding="utf-8"))
    kib = report.stat().st_size / 1024
    return (
        f"{data['totals']['statements']} statements in {len(data['files'])} files, "
        f"{data['tests_run']} tests run; JSON report {kib:.0f} KiB"
    )


def print_runs(runs: dict[str, list[Run]]) -> None:
    """Per way: seconds, peak RSS, lines printed; then the ratios to cov."""
    for way in WAYS:
        rs = runs[way]
        print(
            f"  {way:<11} {spread([r.seconds for r in rs])} s, "
            f"peak RSS {statistics.median(r.peak_mib for r in rs):.0f} MiB, "
            f"{statistics.median(r.lines for r in rs):.0f} lines printed"
        )
    for ours, theirs in (("ruvqe", "cov"), ("ruvqe -n 2", "cov -n 2")):
        pairs = zip(runs[ours], runs[theirs], strict=True)
        ratios = [a.seconds / b.seconds for a, b in pairs]
        print(f"  {ours} / {theirs}: {spread(ratios)}")


def mutation_line(run: Run, section: dict[str, object], asked: int) -> str:
    """The mutation run in one line."""
    if "refused" in section:
        return (
            f"  mutation (--ruvqe-mutants={asked}): {run.seconds:.0f} s, peak RSS "
            f"{run.peak_mib:.0f} MiB, {section['refused']}"
        )
    judged = sum(
        int(v) if isinstance(v, (int, float)) else 0
        for v in (section.get("killed"), section.get("survived"))
    )
    return (
        f"  mutation (--ruvqe-mutants={asked}): {run.seconds:.0f} s, peak RSS "
        f"{run.peak_mib:.0f} MiB, judged {judged} of {section.get('total')} "
        f"generated, score {section.get('score')}, stopped by budget: "
        f"{section.get('stopped_by_budget')}, import-time mutants judged "
        f"{section.get('import_judging') or '-'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdist", default="networkx==3.4.2")
    parser.add_argument("--package", help="import name (default: the sdist's name)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mutants", type=int, default=500, help="0: no mutation run")
    parser.add_argument("--mutation-budget", type=int, default=600)
    args = parser.parse_args()
    package = args.package or args.sdist.split("==")[0].replace("-", "_")
    with tempfile.TemporaryDirectory() as tmp:
        root = fetch_sdist(args.sdist, Path(tmp))
        env = dict(os.environ, PYTHONPATH=str(root))
        report = root / "ruvqe.json"
        print(f"start: {load()}")
        runs = measure(root, package, args.repeat, env, report)
        print(f"after the runs: {load()}")
        print(f"\n{args.sdist}: {measured(report)}")
        print(f"wall seconds, median (min-max) of {args.repeat} interleaved rounds")
        print_runs(runs)
        if args.mutants:
            mutation, section = mutation_run(
                root, package, env, args.mutants, args.mutation_budget
            )
            print(mutation_line(mutation, section, args.mutants))
            print(f"after mutation: {load()}")


if __name__ == "__main__":
    main()

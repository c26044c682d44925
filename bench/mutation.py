"""Mutation testing benchmark: pytest-ruvqe's engine against mutmut 3.

    python bench/mutation.py [--repeat 3] [--jobs 2] [--project demo]
                             [--project inflection] [--project toolz]
                             [--sdist PATH]

Each run copies the project to a fresh temporary directory (so no cache of
either tool is reused), runs the tool end to end, and reads its verdicts.
Prints, per project and tool, the medians over the repeats of: mutants
generated, mutants judged (killed + survived + timeout), the mutation score
(killed + timeout over judged), wall seconds and judged mutants per second,
then the throughput ratio.

"score" is each tool's own: this engine scores the mutants that some test
reaches (line by line), mutmut the mutants of functions some test calls.
"like" is a like-for-like score: for this engine, a mutant on a line no test
runs but in a function some test calls counts as survived (mutmut's view);
for both, mutants in functions that run while the project is imported are
left out (mutmut activates a mutant only while a test runs, so such a
mutant always survives there; this engine judges it by importing the mutated
module).

Projects: ``demo`` is ``examples/demo_project``; ``inflection`` and
``toolz`` are the sdists of the PyPI packages ``inflection`` 0.5.1 and
``toolz`` 1.2.0 with their own tests (two of toolz's 14 test modules left
out: one needs toolz installed, one fails under mutmut's trampolines),
fetched with ``pip download`` into ``bench/out/`` unless ``--sdist`` names
the one project chosen.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
sys.path.insert(0, str(REPO))

from pytest_ruvqe.analyse.mutation.engine import (  # noqa: E402
    MutationPlan,
    run_mutation,
    source_files,
)


@dataclass(frozen=True)
class Project:
    """A project laid out in a directory: code to mutate and its tests."""

    name: str
    prepare: Callable[[Path], None]  # fill an empty directory
    package: str  # directory to mutate, relative
    tests: str  # test directory, relative
    also_copy: tuple[str, ...] = ()  # what the tests read besides code and tests


@dataclass(frozen=True)
class Figures:
    """What one tool did on one project in one run."""

    mutants: int
    judged: int
    killed: int
    seconds: float
    # the same over mutants in functions that do not run at import time: the
    # like-for-like part (mutmut cannot activate a mutant during an import)
    judged_late: int = 0
    killed_late: int = 0
    import_time_functions: frozenset[str] = frozenset()

    @property
    def score(self) -> float:
        return self.killed / self.judged if self.judged else 0.0

    @property
    def score_late(self) -> float:
        return self.killed_late / self.judged_late if self.judged_late else 0.0

    @property
    def rate(self) -> float:
        return self.judged / self.seconds if self.seconds else 0.0


def _prepare_demo(target: Path) -> None:
    shutil.copytree(REPO / "examples" / "demo_project", target, dirs_exist_ok=True)
    shutil.rmtree(target / ".ruvqe", ignore_errors=True)


@dataclass(frozen=True)
class Sdist:
    """A PyPI package whose sdist ships its own tests."""

    requirement: str  # what ``pip download`` fetches
    copies: tuple[tuple[str, str], ...]  # (path in the sdist, path in the project)
    package: str  # the code to mutate, relative to the project
    tests: str  # the test directory, relative to the project
    drop: tuple[str, ...] = ()  # test files either tool cannot run
    also_copy: tuple[str, ...] = ()  # directories the tests import, for mutmut


SDISTS = {
    "inflection": Sdist(
        "inflection==0.5.1",
        (
            ("inflection", "inflection"),
            ("test_inflection.py", "tests/test_inflection.py"),
        ),
        "inflection",
        "tests",
    ),
    # the tests move out of the package so that mutmut does not mutate them;
    # test_package.py needs toolz installed, test_curried.py inspects
    # ``operator``, which mutmut's trampolines break
    "toolz": Sdist(
        "toolz==1.2.0",
        (("toolz", "toolz"), ("tlz", "tlz"), ("toolz/tests", "tests")),
        "toolz",
        "tests",
        drop=("toolz/tests", "tests/test_package.py", "tests/test_curried.py"),
        also_copy=("tlz",),
    ),
}


def _sdist_file(sdist: Sdist, given: Path | None) -> Path:
    """The sdist's archive: ``given``, else in bench/out/, else downloaded."""
    if given is not None:
        return given
    pattern = f"{sdist.requirement.replace('==', '-')}.tar.gz"
    if not (OUT / pattern).exists():
        OUT.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "download", "--no-deps"),
                *("--no-binary", ":all:"),
                *(sdist.requirement, "-d", str(OUT)),
            ],
            check=True,
        )
    return OUT / pattern


def _prepare_sdist(sdist: Sdist, archive: Path) -> Callable[[Path], None]:
    def prepare(target: Path) -> None:
        with tarfile.open(archive) as tar:
            root = tar.getnames()[0].split("/")[0]
            tar.extractall(target.parent / "x", filter="data")
        src = target.parent / "x" / root
        target.mkdir(parents=True, exist_ok=True)
        for origin, copy in sdist.copies:
            (target / copy).parent.mkdir(parents=True, exist_ok=True)
            if (src / origin).is_dir():
                shutil.copytree(src / origin, target / copy)
            else:
                shutil.copy(src / origin, target / copy)
        for name in sdist.drop:
            if (target / name).is_dir():
                shutil.rmtree(target / name)
            else:
                (target / name).unlink()
        (target / "pyproject.toml").write_text(
            '[tool.pytest.ini_options]\npythonpath = ["."]\n'
        )
        shutil.rmtree(target.parent / "x")

    return prepare


def run_ours(project: Project, workdir: Path, jobs: int) -> Figures:
    """Our engine, end to end: host start, baseline, all mutants; no cache."""
    files = tuple(source_files([workdir / project.package], workdir))
    started = time.perf_counter()
    report = run_mutation(
        MutationPlan(
            rootdir=workdir, files=files, test_args=(project.tests,), jobs=jobs
        )
    )
    seconds = time.perf_counter() - started
    early = frozenset(
        r.mutant.patch_target
        for r in report.results
        if not r.mutant.runtime and r.mutant.function != "<module>"
    )
    # like-for-like with mutmut, which selects tests per function: a mutant no
    # test reaches, in a function some test calls, counts as survived
    judged_states = ("killed", "survived", "timeout")
    reached = {r.mutant.function for r in report.results if r.status in judged_states}
    late = [
        r
        for r in report.results
        if r.mutant.runtime
        and (
            r.status in judged_states
            or (r.status == "no_tests" and r.mutant.function in reached)
        )
    ]
    return Figures(
        report.total_mutants,
        report.judged,
        report.killed,
        seconds,
        len(late),
        sum(r.killed for r in late),
        early,
    )


def _function_of(key: str) -> str:
    """``pkg.mod.x_func__mutmut_3`` or ``pkg.mod.xǁClsǁmeth__mutmut_1`` -> name."""
    name = key.split("__mutmut_")[0].rsplit(".", 1)[-1]
    if name.startswith("x\u01c1"):
        return ".".join(p for p in name[2:].split("\u01c1") if p)
    return name.removeprefix("x_")


def run_mutmut(
    project: Project, workdir: Path, jobs: int, early: frozenset[str] = frozenset()
) -> Figures:
    """mutmut 3 with the same project, tests and number of processes."""
    from mutmut.stats import status_by_exit_code

    with (workdir / "pyproject.toml").open("a") as config:
        config.write(
            f'\n[tool.mutmut]\npaths_to_mutate = ["{project.package}/"]\n'
            f'tests_dir = ["{project.tests}/"]\n'
            f"also_copy = {json.dumps([f'{p}/' for p in project.also_copy])}\n"
        )
    mutmut = Path(sys.executable).with_name("mutmut")
    started = time.perf_counter()
    subprocess.run(
        [str(mutmut), "run", "--max-children", str(jobs)],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    seconds = time.perf_counter() - started
    verdicts: dict[str, str] = {}
    for meta in (workdir / "mutants").rglob("*.meta"):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        verdicts.update({k: status_by_exit_code[c] for k, c in codes.items()})
    dead = ("killed", "timeout", "segfault")
    killed = sum(s in dead for s in verdicts.values())
    judged = killed + list(verdicts.values()).count("survived")
    late = {
        k: s
        for k, s in verdicts.items()
        if _function_of(k) not in early and s in (*dead, "survived")
    }
    return Figures(
        len(verdicts),
        judged,
        killed,
        seconds,
        len(late),
        sum(s in dead for s in late.values()),
    )


def _median(runs: list[Figures]) -> dict[str, float]:
    return {
        "mutants": statistics.median(r.mutants for r in runs),
        "judged": statistics.median(r.judged for r in runs),
        "score": statistics.median(r.score for r in runs),
        "score_late": statistics.median(r.score_late for r in runs),
        "seconds": statistics.median(r.seconds for r in runs),
        "rate": statistics.median(r.rate for r in runs),
    }


def main() -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--project", action="append", choices=["demo", *SDISTS])
    parser.add_argument(
        "--sdist", type=Path, help="the sdist of the one --project chosen (.tar.gz)"
    )
    parser.add_argument("--json", type=Path, help="also write the medians here")
    args = parser.parse_args()
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # same plugins for both
    chosen = args.project or ["demo", *SDISTS]
    if args.sdist and len([c for c in chosen if c in SDISTS]) != 1:
        parser.error(
            "--sdist names the archive of one project: choose it with --project"
        )
    projects = []
    if "demo" in chosen:
        projects.append(Project("demo", _prepare_demo, "src/ledgerly", "tests"))
    for name, sdist in SDISTS.items():
        if name in chosen:
            archive = _sdist_file(sdist, args.sdist)
            prepare = _prepare_sdist(sdist, archive)
            projects.append(
                Project(name, prepare, sdist.package, sdist.tests, sdist.also_copy)
            )
    results: dict[str, dict[str, dict[str, float]]] = {}
    for project in projects:
        runs: dict[str, list[Figures]] = {"ruvqe": [], "mutmut": []}
        for _ in range(args.repeat):
            for tool in ("ruvqe", "mutmut"):
                with tempfile.TemporaryDirectory(prefix=f"bench-{tool}-") as tmp:
                    workdir = Path(tmp) / project.name
                    project.prepare(workdir)
                    if tool == "ruvqe":
                        figures = run_ours(project, workdir, args.jobs)
                    else:
                        early = runs["ruvqe"][-1].import_time_functions
                        figures = run_mutmut(project, workdir, args.jobs, early)
                    runs[tool].append(figures)
                    print(
                        f"{project.name:<11} {tool:<7} mutants {figures.mutants} "
                        f"judged {figures.judged} score {figures.score:.3f} "
                        f"like {figures.score_late:.3f} ({figures.judged_late}) "
                        f"{figures.seconds:.1f}s",
                        flush=True,
                    )
        results[project.name] = {tool: _median(r) for tool, r in runs.items()}
    print()
    print(f"medians of {args.repeat} runs, {args.jobs} jobs")
    print(
        f"{'project':<11} {'tool':<7} {'mutants':>7} {'judged':>6} {'score':>6} "
        f"{'like':>6} {'seconds':>8} {'judged/s':>9}"
    )
    for name, tools in results.items():
        for tool, m in tools.items():
            print(
                f"{name:<11} {tool:<7} {m['mutants']:>7.0f} {m['judged']:>6.0f} "
                f"{m['score']:>6.1%} {m['score_late']:>6.1%} {m['seconds']:>8.1f} "
                f"{m['rate']:>9.1f}"
            )
        if not tools["mutmut"]["rate"]:
            print(f"{name:<11} mutmut judged nothing: no ratio")
            continue
        ratio = tools["ruvqe"]["rate"] / tools["mutmut"]["rate"]
        gap = (tools["ruvqe"]["score"] - tools["mutmut"]["score"]) * 100
        late = (tools["ruvqe"]["score_late"] - tools["mutmut"]["score_late"]) * 100
        print(
            f"{name:<11} throughput ratio ruvqe/mutmut {ratio:.2f}x, score gap "
            f"{gap:+.1f} points, like-for-like {late:+.1f} points"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

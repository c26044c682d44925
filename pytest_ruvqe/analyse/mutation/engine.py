"""Run mutation testing for a project: plan, host process, report.

The host runs in its own interpreter (one per mutation run, not per mutant)
so the caller's pytest session and its imports stay untouched.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest_ruvqe
from pytest_ruvqe.analyse.mutation.types import (
    Mutant,
    MutantResult,
    MutationRefused,
    MutationReport,
    mutant_status,
)
from pytest_ruvqe.shard import Dealt
from pytest_ruvqe.testpaths import is_test_file

_MUTANT_FIELDS = tuple(Mutant.__dataclass_fields__)
_SKIP_DIRS = frozenset({".git", ".tox", ".venv", "venv", "build", "dist", ".ruvqe"})


def source_files(sources: Iterable[Path], rootdir: Path) -> list[str]:
    """Python files to mutate under ``sources``, relative to ``rootdir``.

    Test files never get mutants.
    """
    found: dict[str, None] = {}
    root = rootdir.resolve()
    for source in sources:
        source = Path(source).resolve()
        paths = [source] if source.is_file() else sorted(source.rglob("*.py"))
        for path in paths:
            try:
                rel = path.relative_to(root)
            except ValueError:
                continue  # outside the rootdir: not this project's code
            if any(p in _SKIP_DIRS or p.startswith(".") for p in rel.parts[:-1]):
                continue
            if path.suffix == ".py" and not is_test_file(rel):
                found[rel.as_posix()] = None
    return list(found)


@dataclass(frozen=True)
class MutationPlan:
    """What to mutate, which tests judge, and the limits of one run."""

    rootdir: Path
    files: tuple[str, ...]  # relative to rootdir
    test_args: tuple[str, ...] = ()  # pytest arguments: options and test paths
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    sample: int | None = None
    seed: int = 0
    time_budget: float = 600.0
    store_dir: Path | None = None
    changed: Mapping[str, frozenset[int]] | None = None
    shard: tuple[int, int] | None = None  # (K, N): this run's 1/N of the mutants
    # seconds per mutant id in the previous run: what the shards balance
    shard_costs: Mapping[str, float] = field(default_factory=dict)
    python: str = sys.executable
    # the module run as the host: ``-m HOST PLAN.json``; one that passes a
    # result cache to :func:`host.main` keeps judged mutants between runs
    host: str = "pytest_ruvqe.analyse.mutation.host"


def project_files(files: Iterable[str], rootdir: Path) -> list[str]:
    """``files`` relative to ``rootdir``, each named once, in their order.

    coverage.py can measure one file under two names (absolute, relative,
    ``./``); mutating it twice would count its mutants twice.
    """
    root = rootdir.resolve()
    found: dict[str, None] = {}
    for name in files:
        path = Path(os.path.normpath(name))
        if path.is_absolute():
            with contextlib.suppress(ValueError):
                path = path.resolve().relative_to(root)
        found[path.as_posix()] = None
    return list(found)


def _pythonpath() -> str:
    # the host must import this package even when it is not installed
    here = str(Path(pytest_ruvqe.__file__).resolve().parent.parent)
    current = os.environ.get("PYTHONPATH", "")
    return here + (os.pathsep + current if current else "")


def run_mutation(plan: MutationPlan) -> MutationReport:
    """Run the host on ``plan``; raise :class:`MutationRefused` when it cannot run."""
    if not plan.files:
        raise MutationRefused(
            "no source files to mutate; point --ruvqe-source at your package"
        )
    with tempfile.TemporaryDirectory(prefix="ruvqe-mutation-") as tmp:
        out = Path(tmp) / "result.json"
        data: dict[str, Any] = {
            "rootdir": str(plan.rootdir),
            "files": project_files(plan.files, plan.rootdir),
            "pytest_args": list(plan.test_args),
            "jobs": plan.jobs,
            "sample": plan.sample,
            "shard": list(plan.shard) if plan.shard else None,
            "shard_costs": dict(plan.shard_costs),
            "seed": plan.seed,
            "time_budget": plan.time_budget,
            "store_dir": str(plan.store_dir) if plan.store_dir else None,
            "changed": (
                {k: sorted(v) for k, v in plan.changed.items()}
                if plan.changed is not None
                else None
            ),
            "out": str(out),
        }
        plan_path = Path(tmp) / "plan.json"
        plan_path.write_text(json.dumps(data), encoding="utf-8")
        env = dict(os.environ, PYTHONPATH=_pythonpath())
        proc = subprocess.run(
            [plan.python, "-m", plan.host, str(plan_path)],
            cwd=plan.rootdir,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if not out.exists():
            tail = (proc.stdout + proc.stderr)[-2000:]
            raise MutationRefused(f"the mutation host did not finish:\n{tail}")
        result = json.loads(out.read_text(encoding="utf-8"))
    return report_from(result)


def report_from(result: Mapping[str, Any]) -> MutationReport:
    """Build the report from the host's JSON output."""
    if "refused" in result:
        raise MutationRefused(str(result["refused"]))
    results = []
    for entry in result["mutants"]:
        mutant = Mutant(**{k: entry[k] for k in _MUTANT_FIELDS})
        results.append(
            MutantResult(
                mutant=mutant,
                status=mutant_status(entry["status"]),
                tests_run=int(entry.get("tests_run", 0)),
                seconds=float(entry.get("seconds", 0.0)),
                cached=bool(entry.get("cached", False)),
                detail=str(entry.get("detail", "")),
                diff=str(entry.get("diff", "")),
                covered_by=tuple(str(t) for t in entry.get("covered_by", ())),
                killed_by=tuple(str(t) for t in entry.get("killed_by", ())),
            )
        )
    return MutationReport(
        results=tuple(results),
        total_mutants=int(result["total"]),
        sampled=bool(result["sampled"]),
        stopped_by_budget=bool(result["stopped_by_budget"]),
        seconds=float(result["seconds"]),
        warnings=tuple(result.get("warnings", ())),
        import_judging=str(result.get("import_judging", "")),
        dealt=Dealt(**result["dealt"]) if result.get("dealt") else None,
    )

"""The quality part of one run: smells, outcome history, mutation, score, gate.

Called by :class:`pytest_ruvqe.session.hooks.RuvqeSession` on the controller
after the coverage report is ready. Problems are issued as warnings
(:class:`RuvqeMutationWarning`, :class:`RuvqeStoreWarning`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_ruvqe import telemetry
from pytest_ruvqe.analyse.conditions import Condition
from pytest_ruvqe.analyse.file_cache import FileAnalyses
from pytest_ruvqe.analyse.gaps import CoverageReport
from pytest_ruvqe.analyse.mutation.types import MutationRefused, MutationReport
from pytest_ruvqe.analyse.smells import find_smells, read_test_files
from pytest_ruvqe.measure.types import TestOutcome
from pytest_ruvqe.memory.history import (
    OutcomeHistory,
    fingerprint_files,
    fingerprint_text,
)
from pytest_ruvqe.memory.store import StoreError, open_store
from pytest_ruvqe.quality.flaky import FlakyTest, find_flaky
from pytest_ruvqe.quality.score import QualityReport, score_quality
from pytest_ruvqe.quality.suggestions import Suggestion, suggest
from pytest_ruvqe.session.coverage_step import changed_since
from pytest_ruvqe.session.shard_costs import previous_costs
from pytest_ruvqe.settings import Settings
from pytest_ruvqe.testpaths import is_test_file, node_path
from pytest_ruvqe.warning_types import (
    RuvqeMutationWarning,
    RuvqeSourceWarning,
    RuvqeStoreWarning,
)

SUGGESTIONS = 10


def _warn(warning: Warning) -> None:
    warnings.warn(warning, stacklevel=3)


@dataclass
class QualityOutcome:
    """Everything the quality section shows."""

    report: QualityReport
    suggestions: tuple[Suggestion, ...]


def _test_args(config: pytest.Config) -> tuple[str, ...]:
    """What the mutation host passes to pytest: the same tests, plugins, filters."""
    base = Path(config.invocation_params.dir)
    args: list[str] = []
    for arg in config.args:
        path, sep, rest = arg.partition("::")
        full = base / path
        args.append(str(full) + sep + rest if full.exists() else arg)
    given = list(config.invocation_params.args)
    for i, arg in enumerate(given):
        if arg in ("-p", "-k", "-m") and i + 1 < len(given):
            args[:0] = [arg, given[i + 1]]
    return tuple(args)


def _mutation(
    config: pytest.Config,
    settings: Settings,
    coverage: CoverageReport,
) -> MutationReport | None:
    # lazy: only runs with --ruvqe-mutation need the engine
    from pytest_ruvqe.analyse.mutation.engine import MutationPlan, run_mutation

    files = tuple(f.file for f in coverage.files if not is_test_file(Path(f.file)))
    changed = changed_since(
        settings.rootdir, settings.mutation_diff, "mutation diff mode"
    )
    plan = MutationPlan(
        rootdir=settings.rootdir,
        files=files,
        test_args=_test_args(config),
        jobs=settings.jobs,
        sample=settings.mutants,
        time_budget=settings.mutation_time_budget,
        store_dir=settings.store_dir / "store",
        changed=changed,
        shard=(settings.shard.index, settings.shard.count) if settings.shard else None,
        shard_costs=previous_costs(settings).mutants.seconds,
        host="pytest_ruvqe.session.mutation_host",
    )
    try:
        with telemetry.span("ruvqe.mutation"):
            report = run_mutation(plan)
    except MutationRefused as exc:
        _warn(RuvqeMutationWarning(f"mutation refused: {exc}"))
        return None
    for problem in report.warnings:
        _warn(RuvqeMutationWarning(problem))
    return report


# options whose value changes what a test does; other options count by name
_VALUED = frozenset({"-p", "-W", "--pythonwarnings", "-c", "--config-file"})


def _options(args: Sequence[str]) -> list[str]:
    """The options of a command line, values only where they change outcomes."""
    kept: list[str] = []
    for arg, after in zip(args, [*args[1:], ""], strict=True):
        name, eq, value = arg.partition("=")
        if not arg.startswith("-") or arg.startswith("--ruvqe"):
            continue
        if name in _VALUED:
            kept.append(f"{name}={value}" if eq else f"{name}={after}")
        elif arg.startswith("--") or len(arg) == 2:
            kept.append(name)
        else:  # -Werror, -pfoo, -vv
            kept.append(arg if arg[:2] in _VALUED or arg[1] == arg[2] else arg[:2])
    return sorted(set(kept))


def run_context(config: pytest.Config) -> str:
    """A fingerprint of what, besides the code, decides outcomes: the plugins
    installed and the options given (not our own, nor paths and values such as
    ``--basetemp=``). A flip that comes with a change of these is not flakiness."""
    plugins = sorted(
        f"{dist.project_name}=={dist.version}"
        for _, dist in config.pluginmanager.list_plugin_distinfo()
        if dist.project_name != "pytest-ruvqe"
    )
    options = _options([str(a) for a in config.invocation_params.args])
    return fingerprint_text(*plugins, "\x1e", *options)


def _history(
    config: pytest.Config,
    settings: Settings,
    coverage: CoverageReport,
    outcomes: Mapping[str, TestOutcome],
) -> tuple[FlakyTest, ...]:
    """Record this run's outcomes and find the tests that flip on unchanged code."""
    root = settings.rootdir
    code = fingerprint_files(root / f.file for f in coverage.files)
    code += run_context(config)
    try:
        store = open_store(settings.store_dir / "store")
    except StoreError as exc:
        _warn(RuvqeStoreWarning(f"no outcome history: {exc}"))
        return ()
    try:
        history = OutcomeHistory(store)
        if settings.forget_history:
            history.forget()
        per_file: dict[str, str] = {}  # each test file hashed once, not per test
        for nodeid in outcomes:
            file = node_path(nodeid)
            if file not in per_file:
                per_file[file] = fingerprint_files([root / file])
        prints = {nodeid: code + per_file[node_path(nodeid)] for nodeid in outcomes}
        known = history.record({n: o.outcome for n, o in outcomes.items()}, prints)
    except StoreError as exc:
        _warn(RuvqeStoreWarning(f"outcome history not kept: {exc}"))
        return ()
    finally:
        for problem in store.problems:
            _warn(RuvqeStoreWarning(f"store: {problem}"))
        store.close()
    return find_flaky(known)


def run_quality(
    config: pytest.Config,
    settings: Settings,
    session: pytest.Session,
    coverage: CoverageReport,
    outcomes: Mapping[str, TestOutcome],
    analyses: FileAnalyses | None = None,
) -> QualityOutcome:
    """Smells of the collected test files, history, optional mutation, scores;
    ``analyses`` (if given) parses each file at most once and keeps the
    results for the next run."""
    analyses = analyses or FileAnalyses()
    test_paths = {
        Path(item.path) for item in session.items if Path(item.path).suffix == ".py"
    }
    # under xdist the controller collects nothing: the outcomes name the files
    test_paths |= {
        settings.rootdir / node_path(nodeid)
        for nodeid in outcomes
        if node_path(nodeid).endswith(".py")
    }
    smells = find_smells(
        read_test_files(sorted(test_paths), settings.rootdir), analyses.smells
    )
    for problem in smells.warnings:
        _warn(RuvqeSourceWarning(problem))
    mutation = _mutation(config, settings, coverage) if settings.mutation else None
    flaky = _history(config, settings, coverage, outcomes)
    report = score_quality(coverage, smells, mutation, flaky, len(outcomes))
    root, max_bytes = settings.rootdir, settings.max_file_kb * 1024

    def conditions(file: str) -> Mapping[int, Condition]:
        return analyses.conditions(root / file, max_bytes)

    found = suggest(coverage, smells, root, mutation, flaky, SUGGESTIONS, conditions)
    return QualityOutcome(report, found)

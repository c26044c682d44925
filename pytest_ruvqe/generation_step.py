"""The ``--ruvqe-generate`` step of a run: gaps → targets → refine loop → writer."""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_ruvqe.analyse.gaps import CoverageReport, Gap
from pytest_ruvqe.generate.accept.validate import validate
from pytest_ruvqe.generate.generator import Generator
from pytest_ruvqe.generate.loop import (
    Budget,
    LoopConfig,
    LoopResult,
    Progress,
    RefineLoop,
    TargetResult,
    TrajectoryStep,
)
from pytest_ruvqe.generate.prompt.generators import ChatGenerator, ScaffoldGenerator
from pytest_ruvqe.generate.sandbox import SandboxError
from pytest_ruvqe.generate.search.characterize import CharacterizeGenerator
from pytest_ruvqe.generate.seeded import SeededGenerator
from pytest_ruvqe.generate.targets import import_roots, targets_from
from pytest_ruvqe.generate.types import GeneratorLabel, Project
from pytest_ruvqe.generate.writer import WriterError, WriteResult, write_tests
from pytest_ruvqe.measure.model import FileCoverage
from pytest_ruvqe.settings import Settings

PATCH_PATH = Path(".ruvqe/generated.patch")


@dataclass(frozen=True)
class TargetSummary:
    """One target's line in the ``ruvqe generated tests`` section."""

    qualname: str
    file: str
    before: float  # line+branch coverage of the function, 0..1
    after: float
    accepted: int
    rejected: dict[str, int]
    gained_lines: int
    gained_branches: int
    rounds: int
    halted: str
    tokens: int
    cost_usd: float
    generators: tuple[GeneratorLabel, ...]


@dataclass
class GenerationOutcome:
    """What generation did, for the terminal, JSON and Markdown reports."""

    mode: str
    targets: tuple[TargetSummary, ...] = ()
    written: WriteResult | None = None
    suite_before: float = 0.0
    suite_after: float = 0.0
    tokens: int = 0
    cost_usd: float | None = 0.0
    location: str = "none"  # where the model ran: local, cloud, local+cloud, none
    stopped_by: str | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    savings: list[str] = field(default_factory=list)
    trajectory: tuple[TrajectoryStep, ...] = ()

    @property
    def reasons(self) -> Counter[str]:
        """Accepted and rejected tests by reason, over all targets."""
        total: Counter[str] = Counter()
        for t in self.targets:
            total["accepted"] += t.accepted
            total.update(t.rejected)
        return total


def _model_generator(
    settings: Settings, project: Project, notes: list[str]
) -> tuple[ChatGenerator | ScaffoldGenerator | None, Any]:
    wanted = [g for g in settings.generators if g in ("chat", "scaffold")]
    if not wanted:
        return None, None
    from pytest_ruvqe.llm.base import ProviderError
    from pytest_ruvqe.llm.factory import LlmConfig, build_router

    try:
        router = build_router(
            LlmConfig(
                local_model=settings.local_model,
                cloud_model=settings.cloud_model,
                api_base=settings.api_base,
                strategy=settings.strategy,
                privacy_local=settings.privacy_local,
                gpu_layers=settings.gpu_layers,
            )
        )
        is_chat = router.metadata().is_chat
    except ProviderError as exc:
        notes.append(f"no model: {exc}; characterization search only")
        return None, None
    notes.extend(router.notes)
    if "chat" in wanted and (is_chat or "scaffold" not in wanted):
        return ChatGenerator(router, project), router
    return ScaffoldGenerator(router, project), router


def _function_coverage(gap: Gap, result: TargetResult | None) -> tuple[float, float]:
    total = gap.statements + gap.branches
    if total == 0:
        return 1.0, 1.0
    missing = len(gap.missing_lines) + len(gap.missing_branches)
    gained = 0
    if result is not None:
        gained = len(result.gained_lines & set(gap.missing_lines)) + len(
            result.gained_branches & set(gap.missing_branches)
        )
    return (total - missing) / total, (total - missing + gained) / total


def _summaries(
    report: CoverageReport,
    loop: LoopResult,
    files: dict[str, FileCoverage],
    rootdir: Path,
) -> tuple[tuple[TargetSummary, ...], int]:
    """Per-target summaries, and the lines + branches gained over the suite."""
    by_key: dict[tuple[str, str], list[TargetResult]] = {}
    for result in loop.targets:
        by_key.setdefault((str(result.target.file), result.target.qualname), []).append(
            result
        )
    # keyed like the targets: absolute path of the file, qualified name
    gaps = {(str((rootdir / g.file).resolve()), g.qualname): g for g in report.gaps}
    summaries: list[TargetSummary] = []
    gained_lines: dict[str, set[int]] = {}
    gained_arcs: dict[str, set[tuple[int, int]]] = {}
    for (path, qualname), results in by_key.items():
        gap = gaps.get((path, qualname))
        merged = _merge(results)
        gained_lines.setdefault(path, set()).update(merged.gained_lines)
        gained_arcs.setdefault(path, set()).update(merged.gained_branches)
        before, after = _function_coverage(gap, merged) if gap else (0.0, 0.0)
        reasons = dict(merged.reasons)
        accepted = reasons.pop("accepted", 0)
        summaries.append(
            TargetSummary(
                qualname=qualname,
                file=gap.file if gap else path,
                before=before,
                after=after,
                accepted=accepted,
                rejected=reasons,
                gained_lines=len(merged.gained_lines),
                gained_branches=len(merged.gained_branches),
                rounds=merged.rounds,
                halted=merged.halted,
                tokens=merged.tokens,
                cost_usd=merged.cost_usd,
                generators=tuple(
                    dict.fromkeys(v.candidate.generator for v in merged.validations)
                ),
            )
        )
    gained_total = 0
    for path, lines in gained_lines.items():
        cov = files.get(path)
        if cov is not None:  # only what the suite missed counts as a gain
            gained_total += len(lines & cov.missing)
            gained_total += len(gained_arcs[path] & cov.missing_branches)
    return tuple(summaries), gained_total


def _merge(results: list[TargetResult]) -> TargetResult:
    """One target's results over the loop's stages, as one."""
    first = results[0]
    reasons: Counter[str] = Counter()
    for r in results:
        reasons.update(r.reasons)
    return dataclasses.replace(
        first,
        validations=tuple(v for r in results for v in r.validations),
        rounds=sum(r.rounds for r in results),
        halted=results[-1].halted,
        gained_lines=frozenset().union(*(r.gained_lines for r in results)),
        gained_branches=frozenset().union(*(r.gained_branches for r in results)),
        tokens=sum(r.tokens for r in results),
        cost_usd=sum(r.cost_usd for r in results),
        reasons=dict(reasons),
    )


def run_generation(
    settings: Settings,
    report: CoverageReport,
    files: dict[str, FileCoverage],
    sources: Sequence[Path],
    test_files: Sequence[Path],
    progress: Callable[[Progress], None] | None = None,
) -> GenerationOutcome:
    """Write validated tests for the worst gaps; never edits sources."""
    mode = settings.generate or "files"
    outcome = GenerationOutcome(mode=mode, suite_before=report.coverage)
    outcome.suite_after = report.coverage
    rootdir = settings.rootdir
    targets = targets_from(report, files, rootdir, rootdir / settings.generated_dir)
    if not targets:
        outcome.notes.append("nothing to generate: no function has a gap")
        return outcome
    project = Project(
        rootdir=rootdir,
        import_roots=import_roots(rootdir, sources),
        test_files=tuple(test_files),
    )
    stages: list[Generator] = []
    search = None
    if "characterize" in settings.generators:
        search = CharacterizeGenerator.for_project(project)
        stages.append(search)
    model, router = _model_generator(settings, project, outcome.notes)
    if model is not None:
        # the model's calls also seed the search, which asserts observed values
        stages.append(SeededGenerator(model, search.characterizer) if search else model)
    conftest = rootdir / "conftest.py"
    extra = {"conftest.py": conftest.read_text("utf-8")} if conftest.exists() else None
    loop = RefineLoop(
        stages[0],
        functools.partial(
            validate,
            project=project,
            reruns=settings.reruns,
            jobs=settings.jobs,
            extra_files=extra,
        ),
        LoopConfig(max_rounds=settings.max_rounds),
        Budget(
            max_targets=settings.max_targets,
            seconds=settings.time_budget,
            tokens=settings.max_tokens,
            dollars=settings.max_cost,
        ),
        progress,
    )
    try:
        result = loop.run(targets, stages)
    except SandboxError as exc:
        outcome.notes.append(f"generation stopped: the sandbox could not start: {exc}")
        return outcome
    finally:
        if router is not None:
            outcome.savings = router.ledger.savings().lines()
            outcome.location = _location(router)
            router.close()
    for stage in stages:
        outcome.notes.extend(f"{stage.name}: {e}" for e in dict.fromkeys(stage.errors))
    outcome.targets, gained = _summaries(report, result, files, rootdir)
    outcome.tokens = result.tokens
    outcome.cost_usd = result.cost_usd
    outcome.stopped_by = result.stopped_by
    outcome.seconds = result.seconds
    outcome.trajectory = result.trajectory
    total = report.statements + report.branches
    if total:
        outcome.suite_after = (total - report.missing + gained) / total
    validations = [v for t in result.targets for v in t.validations]
    try:
        outcome.written = write_tests(
            validations,
            rootdir,
            generated_dir=settings.generated_dir,
            patch=PATCH_PATH if mode == "patch" else None,
        )
    except WriterError as exc:
        outcome.notes.append(f"nothing written: {exc}")
    return outcome


def _location(router: Any) -> str:
    used = [
        p.metadata().location
        for name, p in router.providers.items()
        if router.ledger.totals(name).calls
    ]
    return "+".join(sorted(set(used))) or "none"

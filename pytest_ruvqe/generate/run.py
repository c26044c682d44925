"""One generation run: gaps → targets → stages of generators → refine loop → writer.

Takes plain data (:class:`GenerationConfig`, the coverage report, the measured
files) and, when a model is wanted, a factory of its generator and router;
never edits sources. Problems the user can act on are issued as
:class:`~pytest_ruvqe.RuvqeGenerationWarning`.
"""

from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pytest_ruvqe.analyse.gaps import CoverageReport
from pytest_ruvqe.generate.accept.validate import validate
from pytest_ruvqe.generate.budget import Budget
from pytest_ruvqe.generate.generator import Generator
from pytest_ruvqe.generate.learning import LearningConfig, RunLearning, start_learning
from pytest_ruvqe.generate.loop import (
    LoopConfig,
    LoopResult,
    Progress,
    RefineLoop,
    Validator,
    weight,
)
from pytest_ruvqe.generate.outcome import GenerationOutcome
from pytest_ruvqe.generate.prompt.generators import ModelGenerator
from pytest_ruvqe.generate.sandbox import SandboxError
from pytest_ruvqe.generate.search.characterize import CharacterizeGenerator
from pytest_ruvqe.generate.seeded import SeededGenerator
from pytest_ruvqe.generate.targets import TargetFilter, import_roots, targets_from
from pytest_ruvqe.generate.types import (
    GeneratorName,
    Project,
    Target,
    Validation,
    WriteMode,
)
from pytest_ruvqe.generate.writer import (
    DEFAULT_DIR,
    DEFAULT_PATCH,
    RunWriter,
    WriterError,
    WriteResult,
)
from pytest_ruvqe.llm.router import HybridRouter
from pytest_ruvqe.measure.types import FileCoverage
from pytest_ruvqe.shard import MeasuredCosts, Shard, deal
from pytest_ruvqe.warning_types import RuvqeGenerationWarning

ALL_GENERATORS: tuple[GeneratorName, ...] = ("chat", "scaffold", "characterize")


@dataclass(frozen=True)
class GenerationConfig:
    """What one generation run is asked to do, as plain data."""

    rootdir: Path
    mode: WriteMode = "files"
    generators: tuple[GeneratorName, ...] = ALL_GENERATORS
    generated_dir: Path = DEFAULT_DIR  # relative to rootdir
    reruns: int = 3
    jobs: int = 1
    max_rounds: int | None = None  # None: by the target's complexity
    budget: Budget = field(default_factory=Budget)
    only: tuple[TargetFilter, ...] = ()  # --ruvqe-target: files and functions
    shard: Shard | None = None  # --ruvqe-shard: this run's share of the targets
    # seconds per target (``file::qualname``) in the previous run, to balance shards
    shard_costs: MeasuredCosts = field(default_factory=MeasuredCosts)

    learning: LearningConfig | None = None  # None: --no-ruvqe-learn


@dataclass(frozen=True)
class ModelSetup:
    """The model side of a run: its generator and the router the generator asks."""

    generator: ModelGenerator
    router: HybridRouter


# builds the model side for a project, or None when no model is wanted or works
ModelFactory = Callable[[Project], ModelSetup | None]


def run_generation(
    config: GenerationConfig,
    report: CoverageReport,
    files: dict[str, FileCoverage],
    sources: Sequence[Path],
    test_files: Sequence[Path],
    progress: Callable[[Progress], None] | None = None,
    model: ModelFactory | None = None,
) -> GenerationOutcome:
    """Write validated tests for the worst gaps; never edits sources."""
    outcome = GenerationOutcome(
        mode=config.mode, suite_before=report.coverage, suite_after=report.coverage
    )
    rootdir = config.rootdir
    targets = targets_from(
        report, files, rootdir, rootdir / config.generated_dir, config.only
    )
    targets, outcome.dealt = deal(
        targets,
        config.shard,
        key=lambda t: target_key(t, rootdir),
        costs=config.shard_costs,
        derived=weight,
    )
    if not targets:
        what = (
            "no function asked for by --ruvqe-target" if config.only else "no function"
        )
        outcome.notes.append(f"nothing to generate: {what} has a gap")
        return outcome
    project = Project(
        rootdir=rootdir,
        import_roots=import_roots(rootdir, sources),
        test_files=tuple(test_files),
    )
    writer = _writer(config)
    if writer is None:
        return outcome
    setup = model(project) if model is not None else None
    stages = _stages(config, project, setup)
    if not stages:
        return outcome  # no model came up, and the search was not asked for
    loop = RefineLoop(
        stages[0],
        _validator(config, project),
        LoopConfig(max_rounds=config.max_rounds),
        config.budget,
        progress,
        on_validation=lambda v: _write(writer, v),
    )
    learning = _learning(config, stages, setup)
    if learning is not None:
        loop.replay, loop.worth = learning.replay, learning.worth
    result = _run(loop, targets, stages, writer, setup, outcome)
    if learning is not None:
        _finish_learning(learning, result, outcome)
    if result is not None:
        _warn_errors(stages)
        outcome.add_loop(report, result, files, rootdir)
    outcome.written = writer.result()
    return outcome


def _stages(
    config: GenerationConfig, project: Project, setup: ModelSetup | None
) -> list[Generator]:
    """The generators in the order they run: the search first, then the model."""
    stages: list[Generator] = []
    search = None
    if "characterize" in config.generators:
        search = CharacterizeGenerator.for_project(project)
        stages.append(search)
    if setup is not None:
        # the model's calls also seed the search, which asserts observed values
        model = setup.generator
        stages.append(SeededGenerator(model, search.characterizer) if search else model)
    return stages


def target_key(target: Target, rootdir: Path) -> str:
    """``file::qualname`` with the file relative to the rootdir, as reports
    name targets."""
    try:
        file = target.file.relative_to(rootdir).as_posix()
    except ValueError:
        file = target.file.as_posix()
    return f"{file}::{target.qualname}"


def _learning(
    config: GenerationConfig, stages: Sequence[Generator], setup: ModelSetup | None
) -> RunLearning | None:
    """The bank and learner of the run, joined to the search and the router."""
    if config.learning is None:
        return None
    search = next((s for s in stages if isinstance(s, CharacterizeGenerator)), None)
    started = start_learning(
        config.learning,
        config.rootdir,
        search,
        setup.router if setup else None,
        setup.generator if setup else None,
    )
    if isinstance(started, str):
        warnings.warn(RuvqeGenerationWarning(started), stacklevel=3)
        return None
    return started


def _finish_learning(
    learning: RunLearning, result: LoopResult | None, outcome: GenerationOutcome
) -> None:
    """Write what the run taught, once; say what learning did."""
    summary = learning.finish(result, time.time())
    outcome.notes.append(summary.line())
    for problem in summary.problems:
        warnings.warn(RuvqeGenerationWarning(problem), stacklevel=3)


def _validator(config: GenerationConfig, project: Project) -> Validator:
    """Validation in the sandbox, with the suite's root conftest beside each test."""
    conftest = config.rootdir / "conftest.py"
    extra = {"conftest.py": conftest.read_text("utf-8")} if conftest.exists() else None
    return functools.partial(
        validate,
        project=project,
        reruns=config.reruns,
        jobs=config.jobs,
        extra_files=extra,
    )


def _warn_errors(stages: Sequence[Generator]) -> None:
    """Each failure a generator met (a provider down, ...), once."""
    for stage in stages:
        for error in dict.fromkeys(stage.errors):
            warnings.warn(
                RuvqeGenerationWarning(f"{stage.name}: {error}"), stacklevel=3
            )


class GenerationInterrupted(KeyboardInterrupt):
    """Ctrl-C during generation: what was written before it is kept."""

    def __init__(self, written: WriteResult) -> None:
        super().__init__(f"{len(written.added)} accepted tests kept")
        self.written = written


def _write(writer: RunWriter, validation: Validation) -> None:
    """Write a proven candidate's accepted tests at once."""
    try:
        writer.add(validation)
    except WriterError as exc:
        warnings.warn(RuvqeGenerationWarning(f"not written: {exc}"), stacklevel=3)


def model_location(router: HybridRouter) -> str:
    """Where the model calls of the run went: local, cloud, cloud+local or none."""
    return "+".join(router.locations_used()) or "none"


def _writer(config: GenerationConfig) -> RunWriter | None:
    """The writer of this run, or None (said) when it could not write at all."""
    try:
        return RunWriter(
            config.rootdir,
            config.generated_dir,
            DEFAULT_PATCH if config.mode == "patch" else None,
        )
    except WriterError as exc:
        warnings.warn(RuvqeGenerationWarning(f"nothing written: {exc}"), stacklevel=3)
        return None


def _run(
    loop: RefineLoop,
    targets: Sequence[Target],
    stages: Sequence[Generator],
    writer: RunWriter,
    setup: ModelSetup | None,
    outcome: GenerationOutcome,
) -> LoopResult | None:
    """The loop over every target; None when the sandbox could not start."""
    try:
        return loop.run(targets, stages)
    except KeyboardInterrupt:
        raise GenerationInterrupted(writer.result()) from None
    except SandboxError as exc:
        warnings.warn(
            RuvqeGenerationWarning(
                f"generation stopped: the sandbox could not start: {exc}"
            ),
            stacklevel=3,
        )
        return None
    finally:
        if setup is not None:
            outcome.savings = setup.router.ledger.savings().lines()
            outcome.location = model_location(setup.router)
            setup.router.close()

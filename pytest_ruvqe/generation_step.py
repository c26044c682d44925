"""The ``--ruvqe-generate`` step of a session: settings in, a generation run out.

Only the wiring that needs :class:`~pytest_ruvqe.settings.Settings` lives here:
the plain :class:`~pytest_ruvqe.generate.run.GenerationConfig`, and the router
and model generator built from the inference settings. The run itself is
:func:`pytest_ruvqe.generate.run.run_generation`.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from pytest_ruvqe.analyse.gaps import CoverageReport
from pytest_ruvqe.generate import run
from pytest_ruvqe.generate.budget import Budget
from pytest_ruvqe.generate.loop import Progress
from pytest_ruvqe.generate.outcome import GenerationOutcome
from pytest_ruvqe.generate.prompt.generators import ChatGenerator, ScaffoldGenerator
from pytest_ruvqe.generate.types import GeneratorName, Project
from pytest_ruvqe.measure.model import FileCoverage
from pytest_ruvqe.settings import Settings
from pytest_ruvqe.warning_types import RuvqeGenerationWarning

# the session imports the outcome's type from here
__all__ = ["GenerationOutcome", "generation_config", "run_generation"]

_GENERATORS: dict[str, GeneratorName] = {name: name for name in run.ALL_GENERATORS}


def generation_config(settings: Settings) -> run.GenerationConfig:
    """The run's plain configuration from the plugin's settings."""
    return run.GenerationConfig(
        rootdir=settings.rootdir,
        mode="patch" if settings.generate == "patch" else "files",
        generators=tuple(_GENERATORS[g] for g in settings.generators),
        generated_dir=settings.generated_dir,
        reruns=settings.reruns,
        jobs=settings.jobs,
        max_rounds=settings.max_rounds,
        budget=Budget(
            max_targets=settings.max_targets,
            seconds=settings.time_budget,
            tokens=settings.max_tokens,
            dollars=settings.max_cost,
        ),
    )


def model_setup(settings: Settings, project: Project) -> run.ModelSetup | None:
    """The router and the chat or scaffold generator, if one is wanted and works."""
    wanted = [g for g in settings.generators if g in ("chat", "scaffold")]
    if not wanted:
        return None
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
        warnings.warn(
            RuvqeGenerationWarning(f"no model: {exc}; characterization search only"),
            stacklevel=2,
        )
        return None
    for note in router.notes:
        warnings.warn(RuvqeGenerationWarning(note), stacklevel=2)
    if "chat" in wanted and (is_chat or "scaffold" not in wanted):
        return run.ModelSetup(ChatGenerator(router, project), router)
    return run.ModelSetup(ScaffoldGenerator(router, project), router)


def run_generation(
    settings: Settings,
    report: CoverageReport,
    files: dict[str, FileCoverage],
    sources: Sequence[Path],
    test_files: Sequence[Path],
    progress: Callable[[Progress], None] | None = None,
) -> GenerationOutcome:
    """Write validated tests for the worst gaps; never edits sources."""
    return run.run_generation(
        generation_config(settings),
        report,
        files,
        sources,
        test_files,
        progress,
        model=functools.partial(model_setup, settings),
    )

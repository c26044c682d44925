"""The ``--ruvqe-generate`` step of a run: settings in, a generation run out,
with a live progress line.

Only the wiring that needs :class:`~pytest_ruvqe.settings.Settings` lives here:
the plain :class:`~pytest_ruvqe.generate.run.GenerationConfig`, and the router
and model generator built from the inference settings. The run itself is
:func:`pytest_ruvqe.generate.run.run_generation`.
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import pytest

from pytest_ruvqe.analyse.gaps import CoverageReport
from pytest_ruvqe.generate import run as generation
from pytest_ruvqe.generate.budget import Budget
from pytest_ruvqe.generate.learning import LearningConfig
from pytest_ruvqe.generate.loop import Progress
from pytest_ruvqe.generate.outcome import GenerationOutcome
from pytest_ruvqe.generate.prompt.generators import ChatGenerator, ScaffoldGenerator
from pytest_ruvqe.generate.sandbox import isolation
from pytest_ruvqe.generate.types import GeneratorName, Project
from pytest_ruvqe.learn.tune.adapters import ADAPTERS, find_adapter
from pytest_ruvqe.llm.base import ModelLoadError
from pytest_ruvqe.llm.models import resolve_local_model, sha256_of
from pytest_ruvqe.measure.startup import MeasurementPlan
from pytest_ruvqe.measure.types import FileCoverage
from pytest_ruvqe.session.shard_costs import previous_costs
from pytest_ruvqe.settings import Settings
from pytest_ruvqe.warning_types import RuvqeGenerationWarning

_GENERATORS: dict[str, GeneratorName] = {
    name: name for name in generation.ALL_GENERATORS
}


def generation_config(settings: Settings) -> generation.GenerationConfig:
    """The run's plain configuration from the plugin's settings."""
    return generation.GenerationConfig(
        rootdir=settings.rootdir,
        mode="patch" if settings.generate == "patch" else "files",
        generators=tuple(_GENERATORS[g] for g in settings.generators),
        generated_dir=settings.generated_dir,
        reruns=settings.reruns,
        jobs=settings.jobs,
        max_rounds=settings.max_rounds,
        only=settings.targets,
        shard=settings.shard,
        shard_costs=previous_costs(settings).targets,
        learning=_learning(settings),
        budget=Budget(
            max_targets=settings.max_targets,
            seconds=settings.time_budget,
            tokens=settings.max_tokens,
            dollars=settings.max_cost,
        ),
    )


def local_adapter(settings: Settings) -> str | None:
    """The adapter ``ruvqe tune`` made for the local model, if there is one
    for this very model (one made for another is ignored, with a warning)."""
    directory = settings.store_dir / ADAPTERS
    if not directory.is_dir():
        return None
    try:
        model = resolve_local_model(settings.local_model).path
    except ModelLoadError:
        return None  # the router says what is wrong with the model
    adapter, why = find_adapter(directory, sha256_of(model))
    if why:
        warnings.warn(RuvqeGenerationWarning(f"adapter ignored: {why}"), stacklevel=2)
    return str(adapter.path) if adapter else None


def _learning(settings: Settings) -> LearningConfig | None:
    """Where the bank and SONA's weights live; None with --no-ruvqe-learn."""
    if not settings.learn:
        return None
    bank = settings.bank_dir or settings.store_dir
    return LearningConfig(bank_dir=bank, weights_dir=settings.store_dir)


def model_setup(settings: Settings, project: Project) -> generation.ModelSetup | None:
    """The router and the chat or scaffold generator, if one is wanted and works."""
    wanted = [g for g in settings.generators if g in ("chat", "scaffold")]
    if not wanted:
        return None
    from pytest_ruvqe.llm.base import ProviderError
    from pytest_ruvqe.llm.factory import LlmConfig, build_router

    cloud = _cloud_allowed(settings)
    try:
        router = build_router(
            LlmConfig(
                local_model=settings.local_model,
                cloud_model=settings.cloud_model if cloud else None,
                api_base=settings.api_base if cloud else None,
                strategy=settings.strategy,
                privacy_local=settings.privacy_local,
                gpu_layers=settings.gpu_layers,
                local_adapter=local_adapter(settings),
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
        return generation.ModelSetup(ChatGenerator(router, project), router)
    return generation.ModelSetup(ScaffoldGenerator(router, project), router)


def _cloud_allowed(settings: Settings) -> bool:
    """Whether a cloud model may write tests: only where they run isolated,
    unless ``--ruvqe-allow-unisolated`` says otherwise."""
    wants_cloud = bool(settings.cloud_model or settings.api_base)
    if not wants_cloud or settings.privacy_local or settings.allow_unisolated:
        return True
    if isolation.isolation() != "none":
        return True
    warnings.warn(
        RuvqeGenerationWarning(
            "cloud model refused: its tests would run without OS isolation "
            f"({isolation.why_not()}); install bubblewrap, or pass "
            "--ruvqe-allow-unisolated (ini: ruvqe_allow_unisolated = true) "
            "to run them with the in-process guard only"
        ),
        stacklevel=3,
    )
    return False


def _warn_unisolated() -> None:
    """Say once, plainly, that candidate code runs without OS isolation."""
    if isolation.isolation() == "none":
        warnings.warn(
            RuvqeGenerationWarning(
                f"untrusted code is not isolated: {isolation.why_not()}; "
                "generated tests run with the in-process guard only "
                "(install bubblewrap for namespaces)"
            ),
            stacklevel=3,
        )


def _progress_line(p: Progress) -> str:
    line = (
        f"ruvqe generate: target {p.index}/{p.total} {p.target} round {p.round}"
        f" | accepted {p.accepted} | {p.tokens} tokens | ${p.cost_usd:.4f}"
    )
    return f"{line} | {p.activity}" if p.activity else line


def run(
    config: pytest.Config,
    settings: Settings,
    plan: MeasurementPlan,
    session: pytest.Session,
    report: CoverageReport,
    files: dict[str, FileCoverage],
) -> GenerationOutcome:
    """Write validated tests for the worst gaps, with a live progress line;
    never edits sources."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    live = reporter is not None and reporter.isatty

    def progress(p: Progress) -> None:
        if reporter is None or (p.activity and not live):
            return  # a log gets a line per round, a terminal sees it live
        if live:
            reporter.rewrite(_progress_line(p), erase=True)
        else:
            reporter.write_line(_progress_line(p))

    _warn_unisolated()
    if reporter is not None:
        reporter.write_line("")
    test_files = sorted({Path(item.path) for item in session.items})
    try:
        outcome = generation.run_generation(
            generation_config(settings),
            report,
            files,
            plan.sources,
            test_files,
            progress,
            model=functools.partial(model_setup, settings),
        )
    except generation.GenerationInterrupted as stop:
        if reporter is not None:
            kept = ", ".join(str(p) for p in stop.written.written) or "nothing"
            reporter.write_line("")
            reporter.write_line(
                f"ruvqe: interrupted: the {len(stop.written.added)} tests accepted "
                f"so far are kept ({kept})"
            )
        raise
    if live and reporter is not None:
        reporter.write_line("")
    return outcome

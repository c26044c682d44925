"""After a generating run: tune the local model on the accepted tests when
asked (``--ruvqe-tune``) and enough are new, or say that it is worth it.

Training never starts unless asked; what it did, or why it did not, is one
note of the generation report. Problems are warnings, never a failed run.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable
from pathlib import Path

from pytest_ruvqe.generate.outcome import GenerationOutcome
from pytest_ruvqe.learn.tune.run import (
    RETRAIN_AFTER,
    TuneRefused,
    bank_examples,
    tune,
    untuned,
)
from pytest_ruvqe.learn.tune.train import TuneConfig
from pytest_ruvqe.session.generation_step import local_adapter
from pytest_ruvqe.settings import Settings
from pytest_ruvqe.warning_types import RuvqeGenerationWarning


def after_generation(
    settings: Settings, outcome: GenerationOutcome, say: Callable[[str], None]
) -> None:
    """Tune, hint or do nothing; the result is a note of ``outcome``."""
    if not settings.learn:
        return  # nothing was kept to learn from
    try:
        examples = bank_examples(
            settings.rootdir, settings.bank_dir or settings.store_dir
        )
    except TuneRefused as exc:
        _warn(str(exc))
        return
    adapter = local_adapter(settings)
    fresh = untuned(examples, Path(adapter) if adapter else None)
    seconds = settings.tune_seconds
    if seconds is None:
        if fresh >= RETRAIN_AFTER:
            outcome.notes.append(
                f"tuning: {fresh} accepted tests the local model has not learned "
                "from yet: `ruvqe tune` (or --ruvqe-tune) trains its adapter"
            )
        return
    if adapter is not None and fresh < RETRAIN_AFTER:
        outcome.notes.append(
            f"tuning: {fresh} accepted tests new since the adapter ({RETRAIN_AFTER} "
            "make another worth training): nothing trained"
        )
        return
    if importlib.util.find_spec("peft") is None:
        _warn("--ruvqe-tune needs the 'tune' extra: pip install 'pytest-ruvqe[tune]'")
        return
    config = TuneConfig(max_seconds=seconds)
    try:
        tuned = tune(settings.local_model, examples, config, settings.store_dir, say)
    except TuneRefused as exc:
        _warn(f"nothing tuned: {exc}")
        return
    outcome.notes.append("tuning: " + tuned.line(config.steps, seconds))


def _warn(message: str) -> None:
    warnings.warn(RuvqeGenerationWarning(message), stacklevel=3)

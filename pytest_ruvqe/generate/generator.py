"""Generators: ways of proposing candidate tests for a target, behind one interface.

``chat`` prompts an instruct model, ``scaffold`` lets a base model continue a
test file, ``characterize`` searches inputs with no model. Each takes the
target and the latent feedback z of the refine loop and returns candidates;
several run one after another as stages of :meth:`loop.RefineLoop.run`.
"""

from __future__ import annotations

import abc
from collections.abc import Callable

from pytest_ruvqe.generate.types import Candidate, Feedback, GeneratorName, Target


class Generator(abc.ABC):
    """Proposes candidate test modules for a target."""

    name: GeneratorName
    uses_model: bool = False
    # whether rejections are worth another round (a model repairs its tests,
    # the search offers the next calls); otherwise a round that gains nothing
    # ends the target
    retries_rejections: bool = False
    # whether :meth:`strengthen` can write anything
    strengthens: bool = False

    def __init__(self) -> None:
        # failures the user can act on (a provider down, a probe that broke),
        # reported once each at the end of the run
        self.errors: list[str] = []
        # what the generator is doing now ("prompt 2/3", "searching: 800
        # calls"), for the progress line; the refine loop sets it
        self.report: Callable[[str], None] = _silent

    @abc.abstractmethod
    def propose(
        self, target: Target, z: Feedback, seconds: float | None = None
    ) -> list[Candidate]:
        """Candidates for ``target`` given what earlier rounds taught (``z``),
        within ``seconds`` (None: no limit of its own)."""

    def strengthen(
        self, target: Target, seconds: float | None = None
    ) -> list[Candidate]:
        """Tests that check what ``target`` does, for a target that tests of
        other targets covered along the way without asserting its results:
        each must kill mutants of it that the tests before it do not."""
        return []


def _silent(activity: str) -> None:
    """No progress line to tell."""

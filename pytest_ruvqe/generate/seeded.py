"""A model's proposals that also seed the characterization search."""

from __future__ import annotations

import dataclasses
import time

from pytest_ruvqe.generate.generator import Generator
from pytest_ruvqe.generate.prompt.generators import ModelGenerator
from pytest_ruvqe.generate.search.characterize import SEARCH_ERRORS, Characterizer
from pytest_ruvqe.generate.types import (
    Candidate,
    Feedback,
    GeneratorLabel,
    ModelGeneratorName,
    Target,
)

SEEDED: dict[ModelGeneratorName, GeneratorLabel] = {
    "chat": "chat+characterize",
    "scaffold": "scaffold+characterize",
}


class SeededGenerator(Generator):
    """A model proposes tests; their calls of the target also seed a search.

    A small model often calls the right function with telling inputs and then
    asserts a wrong value. The search runs those calls and asserts what they
    really return, so the model's inputs count even when its oracles do not.
    """

    uses_model = True

    def __init__(self, model: ModelGenerator, characterizer: Characterizer) -> None:
        super().__init__()
        self.model = model
        self.characterizer = characterizer
        self.name = model.name
        self.errors = model.errors  # one list: the model's and the search's failures

    def propose(
        self, target: Target, z: Feedback, seconds: float | None = None
    ) -> list[Candidate]:
        """The model's candidates, plus one search seeded by them if it helps;
        the search gets a quarter of the time, the model the rest."""
        began = time.monotonic()
        self.model.report = self.report
        model_time = None if seconds is None else seconds * 0.75
        candidates = self.model.propose(target, z, model_time)
        seeds = tuple(c.code for c in candidates)
        if not seeds:
            return candidates
        left = None if seconds is None else seconds - (time.monotonic() - began)
        if left is not None and left <= 0:
            return candidates
        try:
            seeded = self.characterizer.candidate(
                target, z.round + 1, seeds, seconds=left
            )
        except SEARCH_ERRORS as exc:
            self.errors.append(str(exc))
            return candidates
        if seeded is not None:
            candidates.append(
                dataclasses.replace(
                    seeded,
                    generator=SEEDED[self.model.name],
                    model=candidates[0].model,
                )
            )
        return candidates

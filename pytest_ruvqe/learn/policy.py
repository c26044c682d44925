"""Choosing which arms to try: the interface, and the learners that need no torch.

:class:`StaticPolicy` is today's behaviour (the configured order); the
context-free :class:`BetaBandit` is the simple learner SONA must beat.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

import numpy as np

from pytest_ruvqe.learn.arms import Arm, ArmOutcome, Features

PolicyName = Literal["static", "bandit", "sona"]


class ArmPolicy(Protocol):
    """Orders the arms for a target and learns from what trying them gave."""

    name: PolicyName

    def rank(self, features: Features, arms: Sequence[Arm]) -> list[Arm]:
        """``arms`` in the order to try them."""
        ...

    def update(self, outcome: ArmOutcome) -> None:
        """Learn from one outcome."""
        ...


class StaticPolicy:
    """The configured order, always; learns nothing."""

    name: PolicyName = "static"

    def rank(self, features: Features, arms: Sequence[Arm]) -> list[Arm]:
        """``arms`` unchanged."""
        return list(arms)

    def update(self, outcome: ArmOutcome) -> None:
        """Nothing to learn."""


def explored(order: list[Arm], rng: np.random.Generator, epsilon: float) -> list[Arm]:
    """With probability ``epsilon`` a uniformly drawn arm goes first, so no arm
    is ever starved, whatever the learner believes."""
    if len(order) > 1 and rng.random() < epsilon:
        pick = order.pop(int(rng.integers(len(order))))
        order.insert(0, pick)
    return order


class BetaBandit:
    """Thompson sampling over arms, blind to the target: Beta(1 + wins, 1 + losses)."""

    name: PolicyName = "bandit"

    def __init__(self, seed: int = 0, epsilon: float = 0.05) -> None:
        self.counts: dict[str, list[float]] = {}
        self.rng = np.random.default_rng(seed)
        self.epsilon = epsilon

    def rank(self, features: Features, arms: Sequence[Arm]) -> list[Arm]:
        """Arms by a draw from each one's posterior, highest first."""
        draws = []
        for arm in arms:
            wins, losses = self.counts.get(arm.key, [0.0, 0.0])
            draws.append(float(self.rng.beta(1.0 + wins, 1.0 + losses)))
        order = [arms[i] for i in np.argsort(-np.array(draws), kind="stable")]
        return explored(order, self.rng, self.epsilon)

    def update(self, outcome: ArmOutcome) -> None:
        """One more win or loss for the arm."""
        wins, losses = self.counts.get(outcome.arm.key, [0.0, 0.0])
        self.counts[outcome.arm.key] = (
            [wins + 1.0, losses] if outcome.accepted else [wins, losses + 1.0]
        )

"""Learning in a generation run: the bank seeds the search, SONA scores arms.

The join of ``generate`` with ``memory`` (the ReasoningBank) and ``learn``
(SONA): before a target is searched, the accepted tests of similar targets
are recalled and their calls seed the search; at the end of the run every
accepted test becomes a pattern, every recalled pattern is credited with the
target's result, and SONA learns from the trajectory. One run's updates are
written once, at the end.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast, get_args

import numpy as np

from pytest_ruvqe.generate.generator import Generator
from pytest_ruvqe.generate.loop import REPLAY_ARM, LoopResult, TrajectoryStep
from pytest_ruvqe.generate.prompt.context import Exemplar
from pytest_ruvqe.generate.prompt.generators import ModelGenerator
from pytest_ruvqe.generate.search.characterize import CharacterizeGenerator
from pytest_ruvqe.generate.targets import target_features
from pytest_ruvqe.generate.types import (
    Candidate,
    GeneratorLabel,
    Target,
    Validation,
)
from pytest_ruvqe.learn import (
    Arm,
    ArmOutcome,
    ArmPolicy,
    feature_pairs,
    open_policy,
    save_policy,
)
from pytest_ruvqe.llm.base import CompletionRequest, ProviderMetadata
from pytest_ruvqe.llm.complexity import Complexity
from pytest_ruvqe.llm.router import HybridRouter
from pytest_ruvqe.memory.bank import BANK_STORE, INDEX_FILE, Query, ReasoningBank
from pytest_ruvqe.memory.patterns import Pattern, PatternKind, hash_project
from pytest_ruvqe.memory.store import DiskStore, StoreError

_log = logging.getLogger("pytest_ruvqe.learning")
WEIGHTS_FILE = "sona.pt"
CONSOLIDATE_AT = 5000  # patterns; past it near-duplicates are merged
BANK_CAP = 20000


@dataclass(frozen=True)
class LearningConfig:
    """Where learning keeps its state, and how much to recall."""

    bank_dir: Path  # .ruvqe/ or --ruvqe-bank
    weights_dir: Path  # .ruvqe/ of this project
    recall_k: int = 3
    replay_k: int = 4  # tests kept for the very target, proved again first
    # how often a model round the learner would skip is run anyway, so that
    # what it believes of a model is tested again and no arm starves
    explore: float = 0.05


@dataclass
class LearningSummary:
    """What learning did this run, for the terminal summary."""

    recalled: int = 0
    used: int = 0  # recalled patterns of targets that got accepted tests
    added: int = 0
    replayed: int = 0  # tests kept for a target before, proved again
    replay_kept: int = 0  # of those, accepted again
    skipped: int = 0  # model rounds the learner judged not worth running
    arms: Counter[str] = field(default_factory=Counter)
    predicted: float | None = None  # mean predicted P(accept) of the arms tried
    observed: float | None = None  # share of those rounds that were accepted
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line for the notes of the generation report."""
        text = (
            f"learning: {self.recalled} patterns recalled, {self.used} used, "
            f"{self.added} added"
        )
        if self.replayed:
            text += f"; {self.replay_kept} of {self.replayed} replayed tests kept"
        if self.skipped:
            text += f"; {self.skipped} model rounds skipped as not worth it"
        if self.arms:
            text += "; arms " + ", ".join(f"{a} x{n}" for a, n in self.arms.items())
        if self.predicted is not None and self.observed is not None:
            text += (
                f"; predicted acceptance {self.predicted:.0%}, "
                f"observed {self.observed:.0%}"
            )
        return text


def target_source(target: Target) -> str:
    """The target's own lines, what its embedding is made from."""
    try:
        lines = target.file.read_text("utf-8").splitlines()
    except OSError:
        return target.qualname
    return "\n".join(lines[target.start - 1 : target.end])


def signature(target: Target) -> str:
    """The target's identity in the bank."""
    return f"{target.module}:{target.qualname}"


def arm_of(step: TrajectoryStep) -> Arm:
    """The arm a trajectory step played: generator, and model if it had one."""
    generator, _, model = step.arm.partition("/")
    source = "model" if model else "search"
    return Arm(generator, source=source, provider=model)


class RunLearning:
    """The bank and the learner for one run; :meth:`finish` writes them."""

    def __init__(self, config: LearningConfig, rootdir: Path) -> None:
        self.config = config
        self.project = hash_project(str(rootdir.resolve()))
        self.summary = LearningSummary()
        directory = config.bank_dir / BANK_STORE
        self.store = DiskStore(directory)
        self.bank = ReasoningBank(self.store, index_path=config.bank_dir / INDEX_FILE)
        self.summary.problems.extend(self.store.problems + self.bank.problems)
        opened = open_policy(config.weights_dir / WEIGHTS_FILE)
        self.policy: ArmPolicy = opened.policy
        if opened.problem:
            self.summary.problems.append(opened.problem)
        self._recalled: dict[str, list[str]] = {}  # target signature -> pattern ids
        self._replayed: dict[tuple[str, str], str] = {}  # (target, code) -> pattern
        self.models: tuple[str, ...] = ()  # the run's model names, for its arms
        self._rng = np.random.default_rng()

    def seeds(self, target: Target) -> tuple[str, ...]:
        """Accepted tests of similar targets, whose calls seed the search."""
        query = Query(target_source(target), k=self.config.recall_k)
        found = self.bank.recall(query)
        ids = self._recalled.setdefault(signature(target), [])
        fresh = [r for r in found if r.pattern.id not in ids]
        ids.extend(r.pattern.id for r in fresh)
        self.summary.recalled += len(fresh)
        return tuple(r.pattern.payload for r in found)

    def replay(self, target: Target) -> list[Candidate]:
        """The tests kept for this very target in earlier runs, best first, as
        candidates to prove again before the search (the loop's round 0)."""
        key = signature(target)
        kept = self.bank.of_signature(key)[: self.config.replay_k]
        for pattern in kept:
            self._replayed[(key, pattern.payload)] = pattern.id
        self.summary.replayed += len(kept)
        self.summary.recalled += len(kept)
        return [
            Candidate(
                target,
                p.payload,
                _label(p.generator),
                round=0,
            )
            for p in kept
        ]

    def worth(self, target: Target, generator: Generator, round_: int) -> bool:
        """The halting decision of a model round: False when the learner
        expects every model of the run to fail here (no opinion: True)."""
        another = getattr(self.policy, "another_round", None)
        if not generator.uses_model or another is None or not self.models:
            return True
        features = target_features(target)
        for model in self.models:
            arm = Arm(generator.name, source="model", provider=model)
            if another(features, arm, round_) is not False:
                return True
        if self._rng.random() < self.config.explore:
            return True
        self.summary.skipped += 1
        return False

    def recall(self, target: Target, k: int) -> Sequence[Exemplar]:
        """Accepted tests of the nearest targets, as few-shot exemplars for a
        model's prompt (the :class:`ExemplarSource` of the model generators)."""
        found = self.bank.recall(Query(target_source(target), k=k))
        ids = self._recalled.setdefault(signature(target), [])
        fresh = [r for r in found if r.pattern.id not in ids]
        ids.extend(r.pattern.id for r in fresh)
        self.summary.recalled += len(fresh)
        return tuple(
            Exemplar(r.pattern.payload, r.pattern.signature, r.score) for r in found
        )

    def finish(self, result: LoopResult | None, now: float) -> LearningSummary:
        """Patterns added, counts credited, SONA trained and saved; store closed."""
        try:
            if result is not None:
                self._learn_patterns(result, now)
                self._learn_arms(result.trajectory)
                save_policy(self.policy, self.config.weights_dir / WEIGHTS_FILE)
                self.bank.maintain(CONSOLIDATE_AT, BANK_CAP)
                self.bank.save_index()
        except (OSError, StoreError) as exc:
            self.summary.problems.append(f"learning not saved: {exc}")
        finally:
            self.summary.problems.extend(self.bank.problems)
            self.store.close()
        self.summary.problems = list(dict.fromkeys(self.summary.problems))
        return self.summary

    def _learn_patterns(self, result: LoopResult, now: float) -> None:
        for done in result.targets:
            accepted = any(v.accepted_code for v in done.validations)
            recalled = self._recalled.get(signature(done.target), [])
            for pattern_id in recalled:
                self.bank.record(pattern_id, accepted)
            self.summary.used += len(recalled) if accepted else 0
            source = None
            for validation in done.validations:
                if self._credit_replay(done.target, validation):
                    continue
                if not validation.accepted_code:
                    continue
                source = source or target_source(done.target)
                candidate = validation.candidate
                kind: PatternKind = (
                    "inputs" if candidate.generator == "characterize" else "test"
                )
                before = len(self.bank)
                self.bank.add(
                    Pattern(
                        kind=kind,
                        signature=signature(done.target),
                        payload=validation.accepted_code,
                        embedding=self.bank.embed(source),
                        features=feature_pairs(
                            {"complexity": float(done.target.complexity)}
                        ),
                        generator=candidate.generator,
                        model=candidate.model or "",
                        project=self.project,
                        created=now,
                        last_used=now,
                    )
                )
                self.summary.added += len(self.bank) - before

    def _credit_replay(self, target: Target, validation: Validation) -> bool:
        """Count a replayed test's fate on its pattern; whether it was one (what
        it kept is that pattern again, or part of it, never a new one)."""
        code = validation.candidate.code
        pattern_id = self._replayed.get((signature(target), code))
        if pattern_id is None or validation.candidate.round != 0:
            return False
        kept = validation.accepted_code is not None
        self.bank.record(pattern_id, kept)
        self.summary.replay_kept += kept
        self.summary.used += kept
        return True

    def _learn_arms(self, trajectory: tuple[TrajectoryStep, ...]) -> None:
        predicted: list[float] = []
        for step in trajectory:
            if step.outcome == "empty" or step.arm.startswith(REPLAY_ARM):
                continue  # replaying is not a choice the learner makes
            arm = arm_of(step)
            predicted.extend(_predicted(self.policy, step, arm))
            self.summary.arms[arm.generator] += 1
            self.policy.update(
                ArmOutcome(
                    feature_pairs(step.features),
                    arm,
                    step.outcome == "accepted",
                    float(step.gain),
                    max(step.latency_s, 1e-3),
                    step.round,
                )
            )
        tried = [s for s in trajectory if s.outcome != "empty"]
        if predicted and tried:
            self.summary.predicted = sum(predicted) / len(predicted)
            self.summary.observed = sum(s.outcome == "accepted" for s in tried) / len(
                tried
            )


def _model_names(router: HybridRouter) -> tuple[str, ...]:
    """The models the router may ask, as the trajectory names them."""
    names = []
    for provider in router.providers.values():
        try:
            names.append(provider.metadata().model)
        except Exception as exc:  # a provider that cannot say has no arm here
            _log.debug("no model name from %r: %s", provider, exc)
    return tuple(dict.fromkeys(names))


def _label(generator: str) -> GeneratorLabel:
    """A pattern's generator as a candidate's label (the search if unknown)."""
    labels: tuple[str, ...] = get_args(GeneratorLabel)
    return cast("GeneratorLabel", generator) if generator in labels else "characterize"


def _predicted(policy: ArmPolicy, step: TrajectoryStep, arm: Arm) -> list[float]:
    predict = getattr(policy, "predict", None)
    if predict is None or getattr(policy, "seen", 0) < 1:
        return []
    return [predict(step.features, [arm], step.round)[0].p_accept]


class SonaScorer:
    """The router's :class:`~pytest_ruvqe.llm.router.ArmScorer`: SONA's expected
    value of a provider for a request; no opinion until it has learned."""

    def __init__(self, policy: ArmPolicy, generator: str) -> None:
        self.policy = policy
        self.generator = generator

    def expected_value(
        self,
        request: CompletionRequest,
        complexity: Complexity,
        provider: ProviderMetadata,
    ) -> float | None:
        """P(accept) x (1 + gain rate) for this provider's model, or None."""
        predict = getattr(self.policy, "predict", None)
        warmup = getattr(getattr(self.policy, "config", None), "warmup", 0)
        if predict is None or getattr(self.policy, "seen", 0) < warmup:
            return None
        arm = Arm(self.generator, source="model", provider=provider.model)
        prediction = predict(request.features, [arm])[0]
        return float(prediction.p_accept * (1.0 + prediction.gain_rate))


def start_learning(
    config: LearningConfig,
    rootdir: Path,
    search: CharacterizeGenerator | None,
    router: HybridRouter | None,
    model: ModelGenerator | None,
) -> RunLearning | str:
    """The run's learning, joined to the search's seeds, the model's
    exemplars and the router's scorer; or why it could not start."""
    try:
        learning = RunLearning(config, rootdir)
    except StoreError as exc:
        return f"learning is off this run: {exc}"
    if search is not None:
        search.seeds = learning.seeds
    if model is not None:
        model.exemplars = learning
    if router is not None:
        learning.models = _model_names(router)
        if router.scorer is None:
            router.scorer = SonaScorer(learning.policy, model.name if model else "")
    return learning

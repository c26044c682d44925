"""The join of generation with learning: trajectory arms, the router's scorer."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pytest

from pytest_ruvqe.generate.generator import Generator
from pytest_ruvqe.generate.learning import (
    LearningConfig,
    LearningSummary,
    RunLearning,
    SonaScorer,
    arm_of,
    target_source,
)
from pytest_ruvqe.generate.loop import Halt, LoopResult, TargetResult, TrajectoryStep
from pytest_ruvqe.generate.targets import target_features
from pytest_ruvqe.generate.types import (
    Candidate,
    Feedback,
    GeneratorName,
    HaltReason,
    Reason,
    Target,
    Validation,
    Verdict,
)
from pytest_ruvqe.learn import Arm, ArmOutcome, StaticPolicy, feature_pairs
from pytest_ruvqe.llm.base import CompletionRequest, ProviderMetadata
from pytest_ruvqe.llm.complexity import Complexity
from pytest_ruvqe.memory.patterns import Pattern


def step(arm: str, outcome: str = "accepted") -> TrajectoryStep:
    return TrajectoryStep(
        target="f",
        features={"cyclomatic": 3.0},
        arm=arm,
        round=1,
        outcome=outcome,  # type: ignore[arg-type]
        gain=4,
        accepted=1,
        rejected={},
        tokens=0,
        cost_usd=0.0,
        latency_s=2.0,
    )


def test_trajectory_arms_name_the_generator_and_the_model() -> None:
    assert arm_of(step("characterize")) == Arm("characterize", source="search")
    assert arm_of(step("chat/gemma-3-270m")) == Arm(
        "chat", source="model", provider="gemma-3-270m"
    )


def test_the_summary_line_says_what_learning_did() -> None:
    summary = LearningSummary(
        recalled=4, used=2, added=3, arms=Counter({"characterize": 5})
    )
    summary.predicted, summary.observed = 0.61, 0.4
    assert summary.line() == (
        "learning: 4 patterns recalled, 2 used, 3 added; arms characterize x5; "
        "predicted acceptance 61%, observed 40%"
    )


def meta(model: str) -> ProviderMetadata:
    return ProviderMetadata(model, model, "local", 4096, True, 0.0, 0.0)


def test_the_router_scorer_has_no_opinion_until_sona_has_learned() -> None:
    pytest.importorskip("torch")
    from pytest_ruvqe.learn.sona import Sona

    sona = Sona()
    scorer = SonaScorer(sona, "chat")
    request = CompletionRequest(prompt="def f(): ...", features={"cyclomatic": 3.0})
    assert scorer.expected_value(request, Complexity.SIMPLE, meta("good")) is None
    assert (
        SonaScorer(StaticPolicy(), "chat").expected_value(
            request, Complexity.SIMPLE, meta("good")
        )
        is None
    )
    features = feature_pairs(request.features)
    for _ in range(40):
        for model, wins in (("good", True), ("bad", False)):
            arm = Arm("chat", source="model", provider=model)
            sona.update(ArmOutcome(features, arm, wins, 2.0 if wins else 0.0))
    good = scorer.expected_value(request, Complexity.SIMPLE, meta("good"))
    bad = scorer.expected_value(request, Complexity.SIMPLE, meta("bad"))
    assert good is not None and bad is not None
    assert good > 0.8 and bad < 0.2


def test_recalled_tests_are_exemplars_and_seeds_counted_once(tmp_path: Path) -> None:
    source = tmp_path / "shapes.py"
    source.write_text(
        "def area(width: float, height: float) -> float:\n"
        "    if width < 0 or height < 0:\n"
        "        raise ValueError('negative')\n"
        "    return width * height\n"
    )
    target = Target(source, "shapes", "area", 1, 4, 3, frozenset({3}), frozenset())
    config = LearningConfig(bank_dir=tmp_path / ".ruvqe", weights_dir=tmp_path)
    learning = RunLearning(config, tmp_path)
    code = "def test_area():\n    assert area(2, 3) == 6\n"
    learning.bank.add(
        Pattern(
            "test",
            "shapes:perimeter",
            code,
            learning.bank.embed(target_source(target)),
        )
    )
    exemplars = learning.recall(target, 2)
    assert [e.code for e in exemplars] == [code]
    assert exemplars[0].target == "shapes:perimeter"
    assert learning.seeds(target) == (code,)
    assert learning.summary.recalled == 1  # the same pattern, recalled twice
    summary = learning.finish(None, now=0.0)
    assert summary.problems == []


def test_replayed_tests_are_this_targets_own_and_their_fate_is_counted(
    tmp_path: Path,
) -> None:
    source = tmp_path / "shapes.py"
    source.write_text("def area(w, h):\n    return w * h\n")
    target = Target(source, "shapes", "area", 1, 2, 1, frozenset({2}), frozenset())
    config = LearningConfig(bank_dir=tmp_path / ".ruvqe", weights_dir=tmp_path)
    learning = RunLearning(config, tmp_path)
    vector = learning.bank.embed(target_source(target))
    holds, broke = "def test_a(): ...\n", "def test_b(): ...\n"
    for code, (alpha, beta) in ((holds, (3.0, 0.0)), (broke, (1.0, 2.0))):
        learning.bank.add(
            Pattern("inputs", "shapes:area", code, vector, alpha=alpha, beta=beta)
        )
    learning.bank.add(Pattern("test", "shapes:other", "def test_c(): ...\n", vector))
    replayed = learning.replay(target)
    # only this target's own tests, the more successful first, as round 0
    assert [c.code for c in replayed] == [holds, broke]
    assert {(c.round, c.generator) for c in replayed} == {(0, "characterize")}
    validations = (
        Validation(
            replayed[0], (Verdict("test_a", Reason.ACCEPTED, frozenset({2})),), holds
        ),
        Validation(replayed[1], (Verdict("test_b", Reason.FAILS),), None),
    )
    done = TargetResult(target, validations, 0, Halt(HaltReason.NOTHING_MISSING))
    replay_step = dataclasses.replace(step("replay"), round=0)
    summary = learning.finish(LoopResult((done,), (replay_step,)), now=5.0)
    assert "0 added; 1 of 2 replayed tests kept" in summary.line()
    assert summary.recalled == 2 and summary.used == 1 and not summary.arms
    again = RunLearning(config, tmp_path).bank
    counts = {p.payload: (p.alpha, p.beta) for p in again.of_signature("shapes:area")}
    assert counts == {holds: (4.0, 0.0), broke: (1.0, 3.0)}
    assert len(again) == 3  # a test kept again is that pattern, not a new one


class Quiet(Generator):
    """A generator that proposes nothing: only its name and kind matter here."""

    def __init__(self, name: GeneratorName, uses_model: bool) -> None:
        super().__init__()
        self.name, self.uses_model = name, uses_model

    def propose(
        self, target: Target, z: Feedback, seconds: float | None = None
    ) -> list[Candidate]:
        return []


def test_model_rounds_sona_expects_to_fail_are_skipped(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    source = tmp_path / "shapes.py"
    source.write_text("def area(w, h):\n    return w * h\n")
    target = Target(source, "shapes", "area", 1, 2, 1, frozenset({2}), frozenset())
    config = LearningConfig(
        bank_dir=tmp_path / ".ruvqe", weights_dir=tmp_path, explore=0.0
    )
    learning = RunLearning(config, tmp_path)
    learning.models = ("tiny",)
    model, search = Quiet("chat", True), Quiet("characterize", False)
    assert learning.worth(target, model, 1)  # nothing learned yet: no opinion
    features = feature_pairs(target_features(target))
    for _ in range(60):
        arm = Arm("chat", source="model", provider="tiny")
        learning.policy.update(ArmOutcome(features, arm, False, 0.0))
        learning.policy.update(
            ArmOutcome(features, Arm("characterize", "search"), True, 4.0)
        )
    assert not learning.worth(target, model, 1)
    assert learning.worth(target, search, 1)  # the search is never skipped
    assert learning.summary.skipped == 1
    assert "1 model rounds skipped as not worth it" in learning.summary.line()
    explorer = RunLearning(dataclasses.replace(config, explore=1.0), tmp_path)
    explorer.policy, explorer.models = learning.policy, ("tiny",)
    assert explorer.worth(target, model, 1)  # explored anyway

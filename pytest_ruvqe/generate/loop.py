"""The refine loop per target: y = candidate tests, z = what the last round taught.

Each round the generator proposes candidates from (target, z), the validator
proves or rejects every test in them, accepted tests are kept and their
coverage counted, and z is rebuilt from the rejections (trimmed errors, flaky
tests) and the lines and branches still missing. The loop halts at a round cap
set by the target's complexity, when a round gains too little, when nothing
is missing, or when a budget (targets, seconds, tokens, dollars) runs out.
Every round becomes a :class:`TrajectoryStep` for the learner.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pytest_ruvqe.generate.budget import Budget
from pytest_ruvqe.generate.generator import Generator
from pytest_ruvqe.generate.targets import target_features
from pytest_ruvqe.generate.trimming import FEEDBACK_CHARS, keep_tail
from pytest_ruvqe.generate.types import (
    Candidate,
    Feedback,
    Reason,
    Target,
    Validation,
)
from pytest_ruvqe.llm.complexity import Complexity, assess
from pytest_ruvqe.measure.model import Arc

Validator = Callable[[Candidate], Validation]
ROUND_CAPS = {
    Complexity.SIMPLE: 3,
    Complexity.MODERATE: 4,
    Complexity.COMPLEX: 6,
    Complexity.VERY_COMPLEX: 7,
}


@dataclass(frozen=True)
class LoopConfig:
    """How the loop halts."""

    max_rounds: int | None = None  # overrides the cap by complexity
    min_gain: int = 1  # lines + branches a round must add to go on
    max_errors: int = 6  # rejections carried into z


@dataclass(frozen=True)
class TrajectoryStep:
    """One round of one target, as the learner consumes it."""

    target: str
    features: dict[str, float]
    arm: str  # generator[/model]
    round: int
    outcome: str  # accepted / rejected / empty
    gain: int  # lines + branches newly covered
    accepted: int
    rejected: dict[str, int]
    tokens: int
    cost_usd: float | None
    latency_s: float


@dataclass(frozen=True)
class Progress:
    """What the live progress line shows."""

    index: int  # 1-based target number
    total: int
    target: str
    round: int
    accepted: int  # accepted tests so far, all targets
    tokens: int
    cost_usd: float


@dataclass(frozen=True)
class TargetResult:
    """What the loop did for one target."""

    target: Target
    validations: tuple[Validation, ...]
    rounds: int
    halted: str  # why the loop stopped for this target
    gained_lines: frozenset[int] = frozenset()
    gained_branches: frozenset[Arc] = frozenset()
    tokens: int = 0
    cost_usd: float = 0.0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def accepted_code(self) -> tuple[str, ...]:
        """Modules of accepted tests, one per candidate that had any."""
        return tuple(v.accepted_code for v in self.validations if v.accepted_code)


@dataclass(frozen=True)
class LoopResult:
    """All targets, the trajectory, and the budget that stopped the run, if any."""

    targets: tuple[TargetResult, ...]
    trajectory: tuple[TrajectoryStep, ...]
    stopped_by: str | None = None
    seconds: float = 0.0

    @property
    def tokens(self) -> int:
        return sum(t.tokens for t in self.targets)

    @property
    def cost_usd(self) -> float:
        return sum(t.cost_usd for t in self.targets)


def _after(target: Target, results: Sequence[TargetResult]) -> Target:
    """``target`` with what tests kept earlier in the run (same file) cover."""
    lines = frozenset().union(
        *(r.gained_lines for r in results if r.target.file == target.file)
    )
    arcs = frozenset().union(
        *(r.gained_branches for r in results if r.target.file == target.file)
    )
    return dataclasses.replace(
        target,
        covered_lines=target.covered_lines | lines,
        covered_branches=target.covered_branches | arcs,
        missing_lines=target.missing_lines - lines,
        missing_branches=target.missing_branches - arcs,
    )


def round_cap(target: Target, override: int | None = None) -> int:
    """Rounds allowed for a target: 3 for simple code up to 7 for very complex."""
    if override is not None:
        return max(1, override)
    return ROUND_CAPS[assess(target_features(target))]


class RefineLoop:
    """Runs the refine loop over targets under one budget."""

    def __init__(
        self,
        generator: Generator | Callable[[Target], Generator],
        validate: Validator,
        config: LoopConfig | None = None,
        budget: Budget | None = None,
        progress: Callable[[Progress], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._choose = (
            generator if not isinstance(generator, Generator) else (lambda t: generator)
        )
        self.validate = validate
        self.config = config or LoopConfig()
        self.budget = budget or Budget()
        self.progress = progress
        self.clock = clock
        self.trajectory: list[TrajectoryStep] = []
        self._start = 0.0
        self._tokens = 0
        self._cost = 0.0
        self._accepted = 0

    def exhausted(self) -> str | None:
        """The budget that has run out, if one has."""
        b = self.budget
        if b.seconds is not None and self.clock() - self._start >= b.seconds:
            return f"time budget of {b.seconds:g} s"
        if b.tokens is not None and self._tokens >= b.tokens:
            return f"token budget of {b.tokens}"
        if b.dollars is not None and self._cost >= b.dollars:
            return f"cost budget of ${b.dollars:g}"
        return None

    def run(
        self, targets: Sequence[Target], stages: Sequence[Generator] = ()
    ) -> LoopResult:
        """Refine every target in order until done or a budget runs out.

        With ``stages``, each generator in turn takes every target still
        missing something after the stages before it, under one budget: the
        cheap deterministic search covers what it can across all targets
        before a slow model spends time on what is left.
        """
        self._start = self.clock()
        chosen = list(targets)
        stopped: str | None = None
        if (
            self.budget.max_targets is not None
            and len(chosen) > self.budget.max_targets
        ):
            chosen = chosen[: self.budget.max_targets]
            stopped = f"target budget of {self.budget.max_targets}"
        results: list[TargetResult] = []
        for stage, generator in enumerate(stages or [None]):
            halted = self._run_stage(chosen, generator, stage, results)
            if halted is not None:
                stopped = halted
                break
        return LoopResult(
            tuple(results), tuple(self.trajectory), stopped, self.clock() - self._start
        )

    def _run_stage(
        self,
        targets: list[Target],
        generator: Generator | None,
        stage: int,
        results: list[TargetResult],
    ) -> str | None:
        """One pass over the targets; the budget that stopped it, if any."""
        for index, original in enumerate(targets, 1):
            why = self.exhausted()
            if why is not None:
                return why
            target = _after(original, results)
            if stage > 0 and not target.missing_lines and not target.missing_branches:
                continue  # an earlier stage covered it
            results.append(self.refine(target, index, len(targets), generator))
            if results[-1].halted.startswith("budget:"):
                return results[-1].halted.removeprefix("budget: ")
        return None

    def refine(
        self,
        target: Target,
        index: int = 1,
        total: int = 1,
        generator: Generator | None = None,
    ) -> TargetResult:
        """The refine loop for one target (by ``generator`` or the loop's choice)."""
        generator = generator or self._choose(target)
        covered_lines, covered_arcs = (
            set(target.covered_lines),
            set(target.covered_branches),
        )
        missing_lines, missing_arcs = (
            set(target.missing_lines),
            set(target.missing_branches),
        )
        gained_lines: set[int] = set()
        gained_arcs: set[Arc] = set()
        z = Feedback(0, (), frozenset(missing_lines), frozenset(missing_arcs))
        validations: list[Validation] = []
        reasons: Counter[str] = Counter()
        tokens, cost = 0, 0.0
        cap = round_cap(target, self.config.max_rounds)
        halted = "round cap"
        rounds = 0
        for number in range(1, cap + 1):
            why = self.exhausted()
            if why is not None:
                halted = f"budget: {why}"
                break
            if not missing_lines and not missing_arcs:
                halted = "nothing missing"
                break
            rounds = number
            began = self.clock()
            current = dataclasses.replace(
                target,
                missing_lines=frozenset(missing_lines),
                missing_branches=frozenset(missing_arcs),
                covered_lines=frozenset(covered_lines),
                covered_branches=frozenset(covered_arcs),
            )
            candidates = generator.propose(current, z)
            round_tokens = sum(c.tokens for c in candidates)
            round_cost = sum(c.cost_usd or 0.0 for c in candidates)
            unknown_cost = any(c.cost_usd is None for c in candidates)
            self._tokens += round_tokens
            self._cost += round_cost
            tokens += round_tokens
            cost += round_cost
            errors: list[str] = []
            flaky: list[str] = []
            accepted_names: list[str] = list(z.accepted)
            step_reasons: Counter[str] = Counter()
            gain = 0
            for candidate in candidates:
                # later candidates of a round are judged against what earlier ones added
                candidate = dataclasses.replace(
                    candidate,
                    target=dataclasses.replace(
                        current,
                        covered_lines=frozenset(covered_lines),
                        covered_branches=frozenset(covered_arcs),
                    ),
                )
                validation = self.validate(candidate)
                validations.append(validation)
                if validation.error and not validation.verdicts:
                    step_reasons[Reason.SYNTAX.value] += 1
                    errors.append(
                        f"module: {keep_tail(validation.error, FEEDBACK_CHARS)}"
                    )
                for verdict in validation.verdicts:
                    step_reasons[verdict.reason.value] += 1
                    if verdict.reason is Reason.ACCEPTED:
                        new_lines = verdict.new_lines - covered_lines
                        new_arcs = verdict.new_branches - covered_arcs
                        gain += len(new_lines) + len(new_arcs)
                        covered_lines |= verdict.new_lines
                        covered_arcs |= verdict.new_branches
                        gained_lines |= new_lines
                        gained_arcs |= new_arcs
                        missing_lines -= verdict.new_lines
                        missing_arcs -= verdict.new_branches
                        accepted_names.append(verdict.name)
                        self._accepted += 1
                    elif verdict.reason is Reason.FLAKY:
                        flaky.append(verdict.name)
                    elif verdict.reason is not Reason.NO_GAIN:
                        detail = keep_tail(verdict.detail, FEEDBACK_CHARS)
                        errors.append(
                            f"{verdict.name}: {verdict.reason.value}: {detail}"
                        )
            reasons.update(step_reasons)
            accepted_here = step_reasons.get(Reason.ACCEPTED.value, 0)
            arm: str = generator.name
            models = sorted({c.model for c in candidates if c.model})
            if models:
                arm += "/" + ",".join(models)
            self.trajectory.append(
                TrajectoryStep(
                    target=target.qualname,
                    features=target_features(target),
                    arm=arm,
                    round=number,
                    outcome="accepted"
                    if accepted_here
                    else "rejected"
                    if candidates
                    else "empty",
                    gain=gain,
                    accepted=accepted_here,
                    rejected={k: v for k, v in step_reasons.items() if k != "accepted"},
                    tokens=round_tokens,
                    cost_usd=None if unknown_cost else round_cost,
                    latency_s=self.clock() - began,
                )
            )
            if self.progress is not None:
                self.progress(
                    Progress(
                        index,
                        total,
                        target.qualname,
                        number,
                        self._accepted,
                        self._tokens,
                        self._cost,
                    )
                )
            z = Feedback(
                round=number,
                errors=tuple(errors[: self.config.max_errors]),
                missing_lines=frozenset(missing_lines),
                missing_branches=frozenset(missing_arcs),
                flaky=tuple(flaky),
                accepted=tuple(accepted_names),
                previous_code=candidates[-1].code if candidates else "",
            )
            if not missing_lines and not missing_arcs:
                halted = "nothing missing"
                break
            # a model may repair its errors next round; a search without errors is done
            if gain < self.config.min_gain and not (generator.uses_model and errors):
                halted = "gain below threshold"
                break
        return TargetResult(
            target,
            tuple(validations),
            rounds,
            halted,
            frozenset(gained_lines),
            frozenset(gained_arcs),
            tokens,
            cost,
            dict(reasons),
        )

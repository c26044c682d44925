"""The refine loop per target: y = candidate tests, z = what the last round taught.

Each round the generator proposes candidates from (target, z), the validator
proves or rejects every test in them, accepted tests are kept and their
coverage counted, and z is rebuilt from the rejections (trimmed errors, flaky
tests) and the lines and branches still missing; what a run printed enters z
only sanitized (host secrets, host paths and what the privacy scan finds are
redacted) and trimmed. The loop halts at a round cap
set by the target's complexity, when a round gains too little, when nothing
is missing, when a budget (targets, seconds, tokens, dollars) runs out, or
when the learner (``worth``) expects the next round to be wasted.
Every round becomes a :class:`TrajectoryStep` for the learner.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path

from pytest_ruvqe import telemetry
from pytest_ruvqe.generate.budget import Budget, Exhausted
from pytest_ruvqe.generate.generator import Generator
from pytest_ruvqe.generate.replay import prove_together
from pytest_ruvqe.generate.sanitize import sanitize
from pytest_ruvqe.generate.targets import target_features
from pytest_ruvqe.generate.trimming import FEEDBACK_CHARS, keep_tail
from pytest_ruvqe.generate.types import (
    Candidate,
    Feedback,
    HaltReason,
    Reason,
    Target,
    TrajectoryOutcome,
    Validation,
    Verdict,
)
from pytest_ruvqe.llm.complexity import Complexity, assess
from pytest_ruvqe.measure.types import Arc

Validator = Callable[[Candidate], Validation]
ROUND_CAPS = {
    Complexity.SIMPLE: 3,
    Complexity.MODERATE: 4,
    Complexity.COMPLEX: 6,
    Complexity.VERY_COMPLEX: 7,
}
REPLAY_ARM = "replay"  # the trajectory's arm of round 0


@dataclass(frozen=True)
class LoopConfig:
    """How the loop halts, and how it shares the time budget."""

    max_rounds: int | None = None  # overrides the cap by complexity
    min_gain: int = 1  # lines + branches a round must add to go on
    max_errors: int = 6  # rejections carried into z
    # of the time left when a stage starts, what it may use when stages follow
    # it (the search first, a model after): the rest is kept for them
    stage_share: float = 0.6
    # seconds the proving of one candidate is thought to take until measured
    proving_guess: float = 2.0
    # seconds a strengthening search needs at least, besides its proving:
    # with less left the pass ends (it is an extra, never worth the overrun)
    strengthen_floor: float = 1.0


def weight(target: Target) -> int:
    """How much of the time budget a target deserves: what it misses."""
    return 1 + len(target.missing_lines) + len(target.missing_branches)


@dataclass(frozen=True)
class Halt:
    """Why the loop stopped for a target, with the budget when one ran out."""

    reason: HaltReason
    budget: Exhausted | None = None

    def __str__(self) -> str:
        if self.budget is not None:
            return f"budget: {self.budget}"
        return self.reason.value


@dataclass(frozen=True)
class TrajectoryStep:
    """One round of one target, as the learner consumes it."""

    target: str
    features: dict[str, float]
    arm: str  # generator[/model]
    round: int
    outcome: TrajectoryOutcome
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
    activity: str = ""  # what is going on now: searching, a prompt, proving


@dataclass(frozen=True)
class TargetResult:
    """What the loop did for one target."""

    target: Target
    validations: tuple[Validation, ...]
    rounds: int
    halted: Halt
    gained_lines: frozenset[int] = frozenset()
    gained_branches: frozenset[Arc] = frozenset()
    tokens: int = 0
    cost_usd: float = 0.0
    reasons: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0  # wall time of its rounds: its cost when sharding

    @property
    def accepted_code(self) -> tuple[str, ...]:
        """Modules of accepted tests, one per candidate that had any."""
        return tuple(v.accepted_code for v in self.validations if v.accepted_code)


@dataclass(frozen=True)
class LoopResult:
    """All targets, the trajectory, and the budget that stopped the run, if any."""

    targets: tuple[TargetResult, ...]
    trajectory: tuple[TrajectoryStep, ...]
    stopped_by: Exhausted | None = None
    seconds: float = 0.0

    @property
    def tokens(self) -> int:
        return sum(t.tokens for t in self.targets)

    @property
    def cost_usd(self) -> float:
        return sum(t.cost_usd for t in self.targets)


@dataclass
class _TargetState:
    """One target's loop between rounds: coverage, spend, verdicts and z."""

    target: Target
    covered_lines: set[int]
    covered_arcs: set[Arc]
    missing_lines: set[int]
    missing_arcs: set[Arc]
    z: Feedback
    gained_lines: set[int] = field(default_factory=set)
    gained_arcs: set[Arc] = field(default_factory=set)
    validations: list[Validation] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    tokens: int = 0
    cost: float = 0.0
    rounds: int = 0
    seconds: float = 0.0  # wall time of its rounds

    @classmethod
    def start(cls, target: Target) -> _TargetState:
        missing_lines, missing_arcs = target.missing_lines, target.missing_branches
        return cls(
            target,
            set(target.covered_lines),
            set(target.covered_branches),
            set(missing_lines),
            set(missing_arcs),
            Feedback(0, (), frozenset(missing_lines), frozenset(missing_arcs)),
        )

    @property
    def done(self) -> bool:
        return not self.missing_lines and not self.missing_arcs

    def current(self) -> Target:
        """The target as it stands: what is missing and what is covered now."""
        return dataclasses.replace(
            self.target,
            missing_lines=frozenset(self.missing_lines),
            missing_branches=frozenset(self.missing_arcs),
            covered_lines=frozenset(self.covered_lines),
            covered_branches=frozenset(self.covered_arcs),
        )

    def credit(self, verdict: Verdict) -> int:
        """Count what an accepted test covers; the lines and branches it added."""
        return self._cover(verdict.new_lines, verdict.new_branches)

    def _cover(self, lines: Set[int], arcs: Set[Arc]) -> int:
        new_lines = lines - self.covered_lines
        new_arcs = arcs - self.covered_arcs
        self.covered_lines |= lines
        self.covered_arcs |= arcs
        self.gained_lines |= new_lines
        self.gained_arcs |= new_arcs
        self.missing_lines -= lines
        self.missing_arcs -= arcs
        return len(new_lines) + len(new_arcs)

    def absorb(self, replayed: _TargetState) -> None:
        """Take in what replaying gained for this target, against what is
        covered by now, and what it taught."""
        self._cover(replayed.gained_lines, replayed.gained_arcs)
        self.validations.extend(replayed.validations)
        self.reasons.update(replayed.reasons)
        self.seconds += replayed.seconds
        self.z = replayed.z

    def result(self, halt: Halt) -> TargetResult:
        return TargetResult(
            self.target,
            tuple(self.validations),
            self.rounds,
            halt,
            frozenset(self.gained_lines),
            frozenset(self.gained_arcs),
            self.tokens,
            self.cost,
            dict(self.reasons),
            self.seconds,
        )


@dataclass
class _Round:
    """One round: what was proposed, and what its verdicts taught."""

    number: int
    start: Target  # the target as the round began
    candidates: list[Candidate]
    began: float
    accepted: list[str]  # names of tests kept, earlier rounds included
    clean: Callable[[str], str] = sanitize  # what a run printed, fit for a prompt
    errors: list[str] = field(default_factory=list)
    flaky: list[str] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    gain: int = 0

    @property
    def tokens(self) -> int:
        return sum(c.tokens for c in self.candidates)

    @property
    def cost(self) -> float:
        return sum(c.cost_usd or 0.0 for c in self.candidates)

    @property
    def outcome(self) -> TrajectoryOutcome:
        if self.reasons.get(Reason.ACCEPTED.value, 0):
            return "accepted"
        return "rejected" if self.candidates else "empty"

    def judge(self, validation: Validation, state: _TargetState) -> int:
        """Take in one validation's verdicts; how many tests it accepted."""
        accepted = 0
        if validation.error and not validation.verdicts:
            self.reasons[Reason.SYNTAX.value] += 1
            error = keep_tail(self.clean(validation.error), FEEDBACK_CHARS)
            self.errors.append(f"module: {error}")
        for verdict in validation.verdicts:
            self.reasons[verdict.reason.value] += 1
            if verdict.reason is Reason.ACCEPTED:
                self.gain += state.credit(verdict)
                self.accepted.append(verdict.name)
                accepted += 1
            elif verdict.reason is Reason.FLAKY:
                self.flaky.append(verdict.name)
            elif verdict.reason is not Reason.NO_GAIN:
                detail = keep_tail(self.clean(verdict.detail), FEEDBACK_CHARS)
                self.errors.append(f"{verdict.name}: {verdict.reason.value}: {detail}")
        return accepted

    def feedback(self, state: _TargetState, max_errors: int) -> Feedback:
        """z for the next round."""
        return Feedback(
            round=self.number,
            errors=tuple(self.errors[:max_errors]),
            missing_lines=frozenset(state.missing_lines),
            missing_branches=frozenset(state.missing_arcs),
            flaky=tuple(self.flaky),
            accepted=tuple(self.accepted),
            previous_code=self.candidates[-1].code if self.candidates else "",
        )


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
        on_validation: Callable[[Validation], None] | None = None,
        clean: Callable[[str], str] = sanitize,
    ) -> None:
        """``clean`` makes what a run printed fit for the next prompt."""
        self._choose = (
            generator if not isinstance(generator, Generator) else (lambda t: generator)
        )
        self.validate = validate
        self.config = config or LoopConfig()
        self.budget = budget or Budget()
        self.progress = progress
        self.clock = clock
        # called with every validation as soon as it is done (the writer)
        self.on_validation = on_validation
        self.clean = clean
        # tests kept for a target in earlier runs, proved before it is searched
        self.replay: Callable[[Target], Sequence[Candidate]] | None = None
        self._replays: dict[int, _TargetState] = {}  # target number -> its replay
        # the learner's halting decision: whether a round is worth running
        self.worth: Callable[[Target, Generator, int], bool] | None = None
        self.trajectory: list[TrajectoryStep] = []
        self._stage_end: float | None = None
        self._position = (1, 1)  # the target being refined, of how many
        self._validation_s = 0.0  # time spent proving candidates, and how many
        self._validated = 0
        self._validation_most = 0.0  # the longest proving of one candidate
        self._later: list[Target] = []  # targets still to come in this stage
        self._start = 0.0
        self._tokens = 0
        self._cost = 0.0
        self._accepted = 0

    def exhausted(self) -> Exhausted | None:
        """The budget that has run out, if one has."""
        return self.budget.exhausted(
            lambda: self.clock() - self._start, self._tokens, self._cost
        )

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
        chosen, stopped = self.budget.first(targets)
        self._replays = self._replay_all(chosen)
        results: list[TargetResult] = []
        plan: list[Generator | None] = [*stages] or [None]
        for stage, generator in enumerate(plan):
            share = 1.0 if stage == len(plan) - 1 else self.config.stage_share
            now = self._start if stage == 0 else self.clock()
            self._stage_end = self._stage_deadline(share, now)
            halted = self._run_stage(chosen, generator, stage, results)
            if halted is not None:
                stopped = halted
                break
        else:
            stopped = self._strengthen(chosen, plan[0], results) or stopped
        return LoopResult(
            tuple(results), tuple(self.trajectory), stopped, self.clock() - self._start
        )

    def _stage_deadline(self, share: float, now: float) -> float | None:
        """When a stage given ``share`` of the time left must end (None: never)."""
        if self.budget.seconds is None:
            return None
        left = self.budget.seconds - (now - self._start)
        return now + max(0.0, left) * share

    def allowance(
        self, target: Target, later: Sequence[Target], now: float
    ) -> float | None:
        """Seconds a target may take: the stage's time left, shared by what the
        targets miss; what one does not use flows to those after it."""
        if self._stage_end is None:
            return None
        # the proving of each target's candidates comes out of the same time
        # (this one's as long as the longest so far, so that the last does not
        # run past the end); at most half of it is held back for that
        left = self._stage_end - now
        held = self._proving() * len(later) + max(
            self._proving(), self._validation_most
        )
        left -= min(left / 2, held)
        total = weight(target) + sum(weight(t) for t in later)
        return max(0.0, left) * weight(target) / total

    def _proving(self) -> float:
        """Seconds validation took per target so far (a guess before any)."""
        if not self._validated:
            return self.config.proving_guess
        return self._validation_s / self._validated

    def _run_stage(
        self,
        targets: list[Target],
        generator: Generator | None,
        stage: int,
        results: list[TargetResult],
    ) -> Exhausted | None:
        """One pass over the targets; the budget that stopped it, if any."""
        for index, original in enumerate(targets, 1):
            why = self.exhausted()
            if why is not None:
                return why
            target = _after(original, [*results, *self._replayed(but=index)])
            if stage > 0 and not target.missing_lines and not target.missing_branches:
                continue  # an earlier stage covered it
            self._position = (index, len(targets))
            done = [*results, *self._replayed()]
            later = [_after(t, done) for t in targets[index:]]
            self._later = [t for t in later if t.missing_lines or t.missing_branches]
            with telemetry.span(
                "ruvqe.target", **{"code.function.name": target.qualname}
            ):
                replayed = self._replays.pop(index, None) if stage == 0 else None
                results.append(
                    self.refine(target, index, len(targets), generator, replayed)
                )
            if results[-1].halted.budget is not None:
                return results[-1].halted.budget
        return None

    def _strengthen(
        self,
        targets: list[Target],
        generator: Generator | None,
        results: list[TargetResult],
    ) -> Exhausted | None:
        """With time left, the targets that tests of other targets covered
        along the way, searched as they first were: what their tests assert
        is kept where it kills mutants the others miss."""
        generator = generator or (self._choose(targets[0]) if targets else None)
        if generator is None or not generator.strengthens:
            return None
        # the first stage's results, one per target in order
        passed = [
            (i, original)
            for i, (original, result) in enumerate(zip(targets, results, strict=False))
            if result.rounds == 0 and not result.gained_lines | result.gained_branches
        ]
        self._stage_end = self._stage_deadline(1.0, self.clock())
        for n, (i, original) in enumerate(passed):
            why = self.exhausted()
            if why is not None:
                return why
            if self._too_late():
                break
            self._later = [t for _, t in passed[n + 1 :]]
            current = _after(original, results)
            state = _TargetState.start(current)
            state.rounds = 1
            played = self._play(state, generator, 1, aim=original)
            self._record(state, played, generator.name, i + 1, len(targets))
            results[i] = state.result(Halt(HaltReason.NOTHING_MISSING))
        return None

    def _too_late(self) -> bool:
        """Too little time left to search for one more target and prove it."""
        if self._stage_end is None:
            return False
        left = self._stage_end - self.clock()
        return left < self.config.strengthen_floor + self._proving()

    def refine(
        self,
        target: Target,
        index: int = 1,
        total: int = 1,
        generator: Generator | None = None,
        replayed: _TargetState | None = None,
    ) -> TargetResult:
        """The refine loop for one target (by ``generator`` or the loop's
        choice), from what replaying earlier runs' tests gained for it."""
        generator = generator or self._choose(target)
        state = _TargetState.start(target)
        if replayed is not None:
            state.absorb(replayed)
        halt = Halt(HaltReason.ROUND_CAP)
        for number in range(1, round_cap(target, self.config.max_rounds) + 1):
            stop = self._halt_before(state, generator, number)
            if stop is None:
                state.rounds = number
                with telemetry.span(
                    "ruvqe.round",
                    **{"ruvqe.round": number, "ruvqe.generator": generator.name},
                ):
                    played = self._play(state, generator, number)
                self._record(state, played, generator.name, index, total)
                state.z = played.feedback(state, self.config.max_errors)
                stop = self._halt_after(state, played, generator)
            if stop is not None:
                halt = stop
                break
        return state.result(halt)

    def _halt_before(
        self, state: _TargetState, generator: Generator, number: int
    ) -> Halt | None:
        """A reason not to start the next round: a budget ran out, nothing is
        left, or the learner expects the round to be wasted."""
        why = self.exhausted()
        if why is not None:
            return Halt(HaltReason.BUDGET, why)
        if state.done:
            return Halt(HaltReason.NOTHING_MISSING)
        if self.worth is not None and not self.worth(state.target, generator, number):
            return Halt(HaltReason.LEARNED)
        return None

    def _halt_after(
        self, state: _TargetState, played: _Round, generator: Generator
    ) -> Halt | None:
        """A reason to stop after a round: nothing left, or too little gained."""
        if state.done:
            return Halt(HaltReason.NOTHING_MISSING)
        # a model may repair its errors next round, the search offer other calls
        rejected = played.errors or played.flaky
        retry = (generator.uses_model or generator.retries_rejections) and rejected
        if played.gain < self.config.min_gain and not retry:
            return Halt(HaltReason.LOW_GAIN)
        return None

    def _play(
        self,
        state: _TargetState,
        generator: Generator,
        number: int,
        aim: Target | None = None,
    ) -> _Round:
        """Propose (or, given the target as it first was, strengthen), then
        validate every candidate against what is covered by now."""
        began = self.clock()
        start = state.current()
        generator.report = lambda what: self._tell(state, number, what)
        self._tell(state, number, generator.name)
        seconds = self.allowance(aim or start, self._later, began)
        candidates = (
            generator.propose(start, state.z, seconds)
            if aim is None
            else generator.strengthen(aim, seconds)
        )
        return self._prove(state, number, candidates, began)

    def _prove(
        self,
        state: _TargetState,
        number: int,
        candidates: Sequence[Candidate],
        began: float,
        proved: Sequence[Validation] = (),
    ) -> _Round:
        """Validate candidates in turn, each against what those before it added
        (or take their validations, ``proved`` already)."""
        start = state.current()
        if candidates:
            tests = sum(c.code.count("def test_") for c in candidates)
            self._tell(state, number, f"proving {tests} tests")
        played = _Round(
            number, start, list(candidates), began, list(state.z.accepted), self.clean
        )
        self._tokens += played.tokens
        self._cost += played.cost
        state.tokens += played.tokens
        state.cost += played.cost
        for n, candidate in enumerate(candidates):
            validation = proved[n] if proved else self._validated_now(candidate, state)
            state.validations.append(validation)
            if self.on_validation is not None:
                self.on_validation(validation)
            self._accepted += played.judge(validation, state)
        state.reasons.update(played.reasons)
        return played

    def _validated_now(self, candidate: Candidate, state: _TargetState) -> Validation:
        """One candidate proved against what is covered by now (later
        candidates of a round are judged against what earlier ones added)."""
        proving = self.clock()
        validation = self.validate(
            dataclasses.replace(candidate, target=state.current())
        )
        took = self.clock() - proving
        self._validation_s += took
        self._validated += 1
        self._validation_most = max(self._validation_most, took)
        return validation

    def _replayed(self, but: int = 0) -> list[TargetResult]:
        """What replaying gained for targets not refined yet (but one)."""
        halt = Halt(HaltReason.NOTHING_MISSING)
        return [r.result(halt) for i, r in self._replays.items() if i != but]

    def _replay_all(self, targets: Sequence[Target]) -> dict[int, _TargetState]:
        """Round 0 of every target before any search: the tests earlier runs
        kept for it, proved again (one sandbox run per source file), so what
        still holds comes back at once."""
        states: dict[int, _TargetState] = {}
        if self.replay is None:
            return states
        files: dict[Path, list[int]] = {}
        for index, target in enumerate(targets, 1):
            files.setdefault(target.file, []).append(index)
        replayed: list[TargetResult] = []
        for indices in files.values():
            if self.exhausted() is not None:
                break
            for index, state in self._replay_file(targets, indices, replayed):
                states[index] = state
                replayed.append(state.result(Halt(HaltReason.NOTHING_MISSING)))
        return states

    def _replay_file(
        self,
        targets: Sequence[Target],
        indices: list[int],
        replayed: list[TargetResult],
    ) -> list[tuple[int, _TargetState]]:
        """The replayed tests of one file's targets, proved together."""
        asked = []
        for index in indices:
            state = _TargetState.start(_after(targets[index - 1], replayed))
            candidates = list(self.replay(state.current())) if self.replay else []
            if candidates:
                asked.append((index, state, candidates))
        if not asked:
            return []
        flat = [c for _, _, cs in asked for c in cs]
        self._position = (asked[0][0], len(targets))
        self._tell(asked[0][1], 0, f"replaying {len(flat)} test modules")
        began = self.clock()
        proved = iter(prove_together(flat, self.validate, asked[0][1].current()))
        took = self.clock() - began
        self._validation_s += took
        self._validated += 1
        self._validation_most = max(self._validation_most, took)
        done = []
        for index, state, candidates in asked:
            own = [next(proved) for _ in candidates]
            share = self.clock() - took / len(asked)  # each its part of the time
            played = self._prove(state, 0, candidates, share, own)
            self._record(state, played, REPLAY_ARM, index, len(targets))
            state.z = dataclasses.replace(
                played.feedback(state, self.config.max_errors), errors=(), flaky=()
            )
            done.append((index, state))
        return done

    def _tell(self, state: _TargetState, number: int, activity: str) -> None:
        """The progress line, with what is going on now."""
        if self.progress is not None:
            index, total = self._position
            self.progress(
                Progress(
                    index,
                    total,
                    state.target.qualname,
                    number,
                    self._accepted,
                    self._tokens,
                    self._cost,
                    activity,
                )
            )

    def _record(
        self,
        state: _TargetState,
        played: _Round,
        arm: str,
        index: int,
        total: int,
    ) -> None:
        """The round as a trajectory step, and the progress line."""
        models = sorted({c.model for c in played.candidates if c.model})
        if models:
            arm += "/" + ",".join(models)
        unknown_cost = any(c.cost_usd is None for c in played.candidates)
        latency = self.clock() - played.began
        state.seconds += latency
        self.trajectory.append(
            TrajectoryStep(
                target=state.target.qualname,
                features=target_features(state.target),
                arm=arm,
                round=played.number,
                outcome=played.outcome,
                gain=played.gain,
                accepted=played.reasons.get(Reason.ACCEPTED.value, 0),
                rejected={k: v for k, v in played.reasons.items() if k != "accepted"},
                tokens=played.tokens,
                cost_usd=None if unknown_cost else played.cost,
                latency_s=latency,
            )
        )
        if self.progress is not None:
            self.progress(
                Progress(
                    index,
                    total,
                    state.target.qualname,
                    played.number,
                    self._accepted,
                    self._tokens,
                    self._cost,
                )
            )

"""Characterization search: regression tests from observed behaviour, no model.

For a target, the search starts from calls planned from hints, defaults,
body constants, docstring examples and call sites (:mod:`.plan`), runs them
in the sandbox under coverage in batches (:mod:`.executor`), and keeps in an
archive the smallest call per line and branch reached (:mod:`.archive`).
Then, until its time runs out or a few batches in a row reach nothing new,
it mutates archived calls (:mod:`.mutate`) and samples fresh ones. The kept
calls are chosen by greedy set cover and written as tests (:mod:`.render`)
that assert the observed values. Deterministic for a given seed and a given
number of batches. :class:`CharacterizeGenerator` puts the search in the
refine loop.
"""

from __future__ import annotations

import ast
import dataclasses
import random
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pytest_ruvqe.generate.generator import Generator
from pytest_ruvqe.generate.search.archive import Archive, Element
from pytest_ruvqe.generate.search.facts import module_facts
from pytest_ruvqe.generate.search.inputs import add_unique
from pytest_ruvqe.generate.search.mutants import (
    MAX_MUTANTS,
    choose,
    compile_mutants,
    judge,
    score,
)
from pytest_ruvqe.generate.search.plan import vocabulary
from pytest_ruvqe.generate.search.probe import (
    CallExecutor,
    CallOutcome,
    PlannedCall,
    ProbeError,
    ProbePlan,
)
from pytest_ruvqe.generate.search.render import (
    Check,
    assertable,
    raised_names,
    render_module,
    test_names,
    within_allowlist,
)
from pytest_ruvqe.generate.search.select import agreed, greedy_select
from pytest_ruvqe.generate.search.spec import CallSpec
from pytest_ruvqe.generate.search.state import SMALLEST_BATCH, SearchState
from pytest_ruvqe.generate.source import branch_lines, module_alias, read_tests
from pytest_ruvqe.generate.types import Candidate, Feedback, Project, Target
from pytest_ruvqe.measure.types import Arc

# what a search of one target may fail with; the run goes on without it
SEARCH_ERRORS = (ProbeError, OSError, SyntaxError)
MIN_MUTANTS = 3  # fewer judge too little to choose assertions by
_PROBE_START = 0.5  # seconds a probe takes before its first call


@dataclass(frozen=True)
class CharacterizeConfig:
    """Knobs of the search; the defaults suit CI."""

    seed: int = 0
    batch: int = 200  # calls per probe process
    max_calls: int = 6_000  # per target
    call_timeout: float = 1.0
    probe_timeout: float = 60.0
    max_tests: int = 30  # per target
    # the search of a target ends when this many batches in a row, taking at
    # least ``patience_share`` of its time, reached nothing new
    patience: int = 3
    patience_share: float = 0.1
    seconds: float = 30.0  # per target, when the refine loop gives no allowance
    fresh_share: float = 0.3  # of a batch: new random calls, the rest mutations
    # judge the kept calls by the target's mutants: the fewest assertions that
    # kill them, and tests that kill what the others miss (a share of the time)
    mutation: bool = True
    mutation_share: float = 0.2
    # rounds of the refine loop: the search, then (when validation rejected
    # some of its tests) the next calls that reach the same lines
    rounds: int = 2


@dataclass(frozen=True)
class SearchResult:
    """Calls kept for one target, in the order they add coverage."""

    target: Target
    kept: tuple[CallOutcome, ...]
    tried: int
    lines: frozenset[int] = frozenset()
    arcs: frozenset[Arc] = frozenset()
    batches: int = 0
    seconds: float = 0.0
    checks: dict[str, tuple[Check, ...]] = field(default_factory=dict)
    mutants_killed: int = 0
    mutants_judged: int = 0
    # per kept call id: the mutants it kills that the calls before it do not
    kills: dict[str, int] = field(default_factory=dict)
    # the calls tried, by what they did: value, object, raise, timeout (a hang
    # or a refused operation), setup_error
    kinds: dict[str, int] = field(default_factory=dict)


def _mutants_fitting(seconds: float, per_call: float, calls: int) -> int:
    """How many mutants, each running ``calls`` calls and its swap at
    ``per_call`` seconds a call, fit in ``seconds`` once the probe has started
    (the search's pace is of calls run twice, so it has room to spare)."""
    cost = max(per_call, 1e-4) * (calls + 1)
    return max(0, int((seconds - _PROBE_START) / cost))


class Characterizer:
    """Runs characterization search for targets of one project."""

    def __init__(
        self,
        project: Project,
        executor: CallExecutor | None = None,
        config: CharacterizeConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``executor`` defaults to the guarded sandbox probe."""
        self.project = project
        if executor is None:
            from pytest_ruvqe.generate.search.executor import SandboxExecutor

            executor = SandboxExecutor(project)
        self.executor: CallExecutor = executor
        self.config = config or CharacterizeConfig()
        self.clock = clock
        self._tests = read_tests(project.test_files)
        self._trees: dict[Path, ast.Module] = {}
        self._observed: dict[str, list[str]] = {}
        # per target: its last search, the call ids proposed, what it raises
        self._searched: dict[str, tuple[SearchState, set[str], frozenset[str]]] = {}
        self.calls_run = 0  # over all targets, for calls per second
        self.seconds = 0.0
        # after each batch: calls run and lines + branches reached for the target
        self.on_batch: Callable[[int, int], None] = lambda calls, reached: None

    def _tree(self, path: Path) -> ast.Module:
        if path not in self._trees:
            self._trees[path] = ast.parse(path.read_text("utf-8"), filename=str(path))
        return self._trees[path]

    def search(
        self,
        target: Target,
        max_calls: int | None = None,
        seeds: tuple[str, ...] = (),
        seconds: float | None = None,
    ) -> SearchResult:
        """Search calls for one target for at most ``seconds``, then select.

        ``seeds`` are more test texts to mine calls from, e.g. a model's
        proposals whose own assertions were wrong but whose inputs are good.
        """
        began = self.clock()
        tree = self._tree(target.file)
        facts = module_facts(tree, target.module, self._tests + seeds, target.file)
        facts.observed = self._observed.setdefault(target.module, [])
        vocab = vocabulary(tree, facts, target.qualname)
        end = began + (self.config.seconds if seconds is None else seconds)
        if vocab is None:
            return SearchResult(target, (), 0)
        state = SearchState(
            vocab,
            Archive(target, branch_lines(target.file), vocab.cost),
            random.Random(self.config.seed ^ zlib.crc32(target.qualname.encode())),
            end,
            vocab.initial(),
            began=began,
            last_gain=began,
        )
        raises = raised_names(tree, target.qualname)
        judging = self.config.mutation_share if self.config.mutation else 0.0
        state.deadline -= (state.deadline - began) * judging
        self._run(state, target, max_calls or self.config.max_calls, raises)
        usable = [
            e.outcome for e in state.archive.entries if assertable(e.outcome, raises)
        ]
        kept = greedy_select(
            usable, target, self.config.max_tests, state.archive.branch_points
        )
        kept = self._confirmed(target, state, kept, raises)
        self._searched[target.qualname] = (state, {o.call.id for o in kept}, raises)
        pool = [
            e.outcome for e in state.archive.pool() if assertable(e.outcome, raises)
        ]
        result = self._judged(target, kept, pool, state.per_call, end)
        self._remember(facts.observed, list(result.kept))
        elapsed = self.clock() - began
        self.calls_run += state.tried
        self.seconds += elapsed
        kept = list(result.kept)
        lines = frozenset().union(*(o.lines for o in kept)) if kept else frozenset()
        arcs = frozenset().union(*(o.arcs for o in kept)) if kept else frozenset()
        return dataclasses.replace(
            result,
            kinds=dict(state.kinds),
            tried=state.tried,
            lines=lines,
            arcs=arcs,
            batches=state.batches,
            seconds=elapsed,
        )

    def _confirmed(
        self,
        target: Target,
        state: SearchState,
        kept: list[CallOutcome],
        raises: frozenset[str],
    ) -> list[CallOutcome]:
        """The kept calls again in a fresh process, in reverse order: a call
        whose result differs there was never stable (time, order, state left
        by other calls); the next spare call that reaches its lines takes its
        place, and is checked the same way."""
        taken = {o.call.id for o in kept}
        good: list[CallOutcome] = []
        for _ in range(3):
            if not kept:
                break
            calls = tuple(o.call for o in reversed(kept))
            try:
                ran = self.executor.execute(self._plan(target, calls, 30.0))
            except ProbeError:
                return [*good, *kept]
            again = {o.call.id: o for o in ran}
            lost: set[Element] = set()
            for outcome in kept:
                same = agreed(outcome, again.get(outcome.call.id))
                if same is None:
                    lost |= state.archive.elements(outcome)
                else:
                    good.append(same)
            spares = [
                e.outcome
                for e in state.archive.alternatives(lost, taken)
                if assertable(e.outcome, raises)
            ]
            taken |= {o.call.id for o in spares}
            have = frozenset().union(*(o.lines for o in good)) if good else frozenset()
            covering = dataclasses.replace(
                target, covered_lines=target.covered_lines | have
            )
            kept = greedy_select(
                spares,
                covering,
                self.config.max_tests - len(good),
                state.archive.branch_points,
            )
        return good

    def alternatives(self, target: Target, z: Feedback) -> list[CallOutcome]:
        """For a later round: calls not proposed yet that reach what is still
        missing (the proposed ones were rejected by validation)."""
        searched = self._searched.get(target.qualname)
        if searched is None:
            return []
        state, proposed, raises = searched
        wanted: set[Element] = set(z.missing_lines) | set(z.missing_branches)
        spares = [
            e.outcome
            for e in state.archive.alternatives(wanted, proposed)
            if assertable(e.outcome, raises)
        ]
        kept = greedy_select(
            spares, target, self.config.max_tests, state.archive.branch_points
        )
        kept = self._confirmed(target, state, kept, raises)
        proposed |= {o.call.id for o in kept}
        return kept

    def _judged(
        self,
        target: Target,
        kept: list[CallOutcome],
        pool: list[CallOutcome],
        per_call: float,
        end: float,
    ) -> SearchResult:
        """The kept calls judged by the target's mutants, when asked for: as
        many mutants as run at the search's pace before ``end``; calls of the
        ``pool`` join them where they kill what the kept ones miss."""
        if not self.config.mutation or not kept:
            return SearchResult(target, tuple(kept), 0)
        left = end - self.clock()
        ids = {o.call.id for o in kept}
        extra = [o for o in pool if o.call.id not in ids][:20]
        fits = _mutants_fitting(left, per_call, len(kept) + len(extra))
        if fits < MIN_MUTANTS:
            extra = []
            fits = _mutants_fitting(left, per_call, len(kept))
        if fits < MIN_MUTANTS:
            return SearchResult(target, tuple(kept), 0)
        mutants = compile_mutants(
            target.file, target.qualname, self.config.seed, min(fits, MAX_MUTANTS)
        )
        # a mutant that makes a call hang is killed once its limit is reached
        plan = self._plan(target, (), left + 2.0, self._cut(per_call))
        try:
            kills = judge(self.executor, plan, [*kept, *extra], mutants)
        except ProbeError:
            return SearchResult(target, tuple(kept), 0)
        choice = choose(kept, extra, kills, self.config.max_tests)
        killed, judged = score(kills, choice.chosen)
        return SearchResult(
            target,
            tuple(choice.chosen),
            0,
            checks=choice.checks,
            mutants_killed=killed,
            mutants_judged=judged,
            kills=choice.kills,
        )

    def _run(
        self,
        state: SearchState,
        target: Target,
        max_calls: int,
        raises: frozenset[str],
    ) -> None:
        """Batches until time is up, nothing is missing, or nothing new comes."""
        config = self.config
        while state.tried < max_calls and self.clock() < state.deadline:
            size = min(state.batch_size(config.batch), max_calls - state.tried)
            batch = state.next_batch(size, config.fresh_share)
            if not batch:
                return
            began = self.clock()
            try:
                outcomes = self._execute(state, target, batch)
            except ProbeError:
                if len(batch) <= SMALLEST_BATCH:
                    raise  # even a few calls cannot run: the module itself fails
                state.per_call = max(
                    state.per_call, 4 * (self.clock() - began) / len(batch)
                )
                continue  # a smaller batch next, its calls tried again later
            state.paced(self.clock() - began, len(batch))
            state.tried += len(batch)
            state.batches += 1
            self.on_batch(state.tried, len(state.archive.best))
            state.kinds.update(o.kind for o in outcomes)
            new = sum(
                state.archive.add(state.specs[o.call.id], o, assertable(o, raises))
                for o in outcomes
                if o.kind != "setup_error"
            )
            now = self.clock()
            if new:
                state.stale, state.last_gain = 0, now
            else:
                state.stale += 1
            if not state.archive.missing() or (
                not state.queue
                and state.stagnated(now, config.patience, config.patience_share)
            ):
                return

    def _execute(
        self, state: SearchState, target: Target, batch: list[CallSpec]
    ) -> list[CallOutcome]:
        calls = []
        for spec in batch:
            call_id = f"c{len(state.specs)}"
            state.specs[call_id] = spec
            calls.append(state.vocab.planned(spec, call_id))
        # enough for the batch at the pace seen so far, and for the module's import
        expected = 5.0 + 4 * state.per_call * len(batch)
        left = max(expected, state.deadline - self.clock() + 5.0)
        plan = self._plan(target, tuple(calls), left, self._cut(state.per_call))
        return self.executor.execute(plan)

    def _cut(self, per_call: float) -> float:
        """A call's time limit: one that takes 50 times the usual is a hang."""
        return min(self.config.call_timeout, max(0.25, 50 * per_call))

    def _plan(
        self,
        target: Target,
        calls: tuple[PlannedCall, ...],
        left: float,
        call_timeout: float | None = None,
    ) -> ProbePlan:
        return ProbePlan(
            module=target.module,
            alias=module_alias(target.module),
            source_file=target.file,
            calls=calls,
            call_timeout=call_timeout or self.config.call_timeout,
            timeout=min(self.config.probe_timeout, left),
        )

    @staticmethod
    def _remember(observed: list[str], kept: list[CallOutcome]) -> None:
        """Faithful results of kept calls feed the inputs of later targets."""
        for outcome in kept:
            # a repr that needs an import cannot feed later calls as it is
            if (
                outcome.kind == "value"
                and outcome.stable
                and outcome.repr
                and not outcome.needs
            ):
                add_unique(observed, [outcome.repr], 200)

    def candidate(
        self,
        target: Target,
        round: int = 1,
        seeds: tuple[str, ...] = (),
        seconds: float | None = None,
        killing: bool = False,
    ) -> Candidate | None:
        """A candidate test module for ``target``, or None when nothing helps;
        ``killing``: only the tests that kill mutants the others miss."""
        result = self.search(target, seeds=seeds, seconds=seconds)
        kept = list(result.kept)
        if killing:
            kept = [o for o in kept if result.kills.get(o.call.id)]
        kept = within_allowlist(target, kept, result.checks)
        if not kept:
            return None
        code = render_module(target, kept, result.checks)
        names = test_names(target, kept)
        kills = tuple(
            (name, result.kills[o.call.id])
            for o, name in zip(kept, names, strict=True)
            if result.kills.get(o.call.id)
        )
        return Candidate(
            target=target,
            code=code,
            generator="characterize",
            round=round,
            kills=kills,
        )


class CharacterizeGenerator(Generator):
    """Characterization search in the refine loop, within the time it is given."""

    name = "characterize"
    retries_rejections = True

    def __init__(self, characterizer: Characterizer) -> None:
        super().__init__()
        self.characterizer = characterizer
        # the mutants that judge its assertions say what a test adds
        self.strengthens = characterizer.config.mutation
        characterizer.on_batch = lambda calls, reached: self.report(
            f"searching: {calls} calls, {reached} lines and branches reached"
        )
        # tests of similar targets recalled from memory, mined for first calls
        self.seeds: Callable[[Target], tuple[str, ...]] = lambda target: ()

    @classmethod
    def for_project(
        cls, project: Project, config: CharacterizeConfig | None = None
    ) -> CharacterizeGenerator:
        """A generator with a default characterizer for ``project``."""
        return cls(Characterizer(project, config=config))

    def propose(
        self, target: Target, z: Feedback, seconds: float | None = None
    ) -> list[Candidate]:
        """One candidate with the calls that reached new code, if any did; in
        a later round, the next calls that reach what validation rejected."""
        base = self.characterizer.config
        if z.round >= base.rounds:
            return []
        if z.round > 0:
            return self._retried(target, z)
        try:
            candidate = self.characterizer.candidate(
                target, round=z.round + 1, seeds=self.seeds(target), seconds=seconds
            )
        except SEARCH_ERRORS as exc:
            self.errors.append(str(exc))
            return []
        return [candidate] if candidate is not None else []

    def strengthen(
        self, target: Target, seconds: float | None = None
    ) -> list[Candidate]:
        """The search's tests of ``target`` that kill mutants others miss."""
        try:
            candidate = self.characterizer.candidate(
                target, seeds=self.seeds(target), seconds=seconds, killing=True
            )
        except SEARCH_ERRORS as exc:
            self.errors.append(str(exc))
            return []
        return [candidate] if candidate is not None else []

    def _retried(self, target: Target, z: Feedback) -> list[Candidate]:
        if not (z.errors or z.flaky):
            return []  # nothing was rejected: the search has said what it had
        try:
            kept = self.characterizer.alternatives(target, z)
        except SEARCH_ERRORS as exc:
            self.errors.append(str(exc))
            return []
        kept = within_allowlist(target, kept)
        if not kept:
            return []
        code = render_module(target, kept)
        return [Candidate(target, code, "characterize", round=z.round + 1)]

"""The refine loop with real generators, a scripted provider and real validation."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from pytest_ruvqe.generate.accept.validate import validate
from pytest_ruvqe.generate.budget import Budget, Exhausted
from pytest_ruvqe.generate.generator import Generator
from pytest_ruvqe.generate.loop import (
    Halt,
    LoopConfig,
    Progress,
    RefineLoop,
    round_cap,
    weight,
)
from pytest_ruvqe.generate.prompt.generators import ChatGenerator, ScaffoldGenerator
from pytest_ruvqe.generate.search.characterize import (
    CharacterizeConfig,
    CharacterizeGenerator,
    Characterizer,
)
from pytest_ruvqe.generate.seeded import SeededGenerator
from pytest_ruvqe.generate.types import (
    Candidate,
    Feedback,
    HaltReason,
    Project,
    Reason,
    Target,
    Validation,
    Verdict,
)
from pytest_ruvqe.llm.base import (
    Completion,
    CompletionRequest,
    Provider,
    ProviderMetadata,
)
from pytest_ruvqe.llm.replay import ReplayProvider

MakeTarget = Callable[..., Target]

Reply = str | Callable[[CompletionRequest], str]


class ScriptedProvider(Provider):
    """Returns the scripted replies in order; the last one repeats."""

    def __init__(
        self, replies: Sequence[Reply], *, is_chat: bool = True, cost: float = 0.001
    ) -> None:
        self.replies = list(replies)
        self.requests: list[CompletionRequest] = []
        self.is_chat = is_chat
        self.cost = cost

    def complete(self, request: CompletionRequest) -> Completion:
        """The next scripted reply, with token counts from the text sizes."""
        reply = self.replies[min(len(self.requests), len(self.replies) - 1)]
        self.requests.append(request)
        text = reply(request) if callable(reply) else reply
        return Completion(
            text=text,
            prompt_tokens=len(request.text) // 4,
            completion_tokens=len(text) // 4,
            latency_s=0.0,
            ttft_s=None,
            cost_usd=self.cost,
            provider="scripted",
            model="scripted-1",
            finish_reason="stop",
        )

    def stream(self, request: CompletionRequest) -> Iterator[str]:
        """The reply in one chunk."""
        yield self.complete(request).text

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """A length-based embedding: enough for code that needs one row per text."""
        return np.array([[float(len(t))] for t in texts], dtype=np.float32)

    def health(self) -> bool:
        """Always ready."""
        return True

    def metadata(self) -> ProviderMetadata:
        """A local chat or base model with a token price."""
        return ProviderMetadata(
            "scripted", "scripted-1", "local", 8192, self.is_chat, 1e-6, 2e-6
        )


FIRST = """```python
from calc import sign

def test_sign_negative():
    assert sign(-3) == -1

def test_sign_wrong():
    assert sign(5) == 7
```"""

SECOND = """```python
import pkg.calc as calc



def test_sign_zero():
    assert calc.sign(0) == 0

def test_sign_positive():
    assert calc.sign(9) == 1
```"""


def second_reply(request: CompletionRequest) -> str:
    # the repair round must see the failure and what is still missing
    user = request.messages[-1].content
    assert "test_sign_wrong: fails" in user
    assert "Already kept, do not repeat: test_sign_negative" in user
    return SECOND


def test_chat_loop_repairs_and_keeps_only_proven_tests(
    project: Project, calc_file: Path, make_target: MakeTarget
) -> None:
    provider = ScriptedProvider([FIRST, second_reply])
    seen: list[Progress] = []
    loop = RefineLoop(
        ChatGenerator(provider, project),
        functools.partial(validate, project=project, reruns=1, timeout=60),
        progress=seen.append,
    )
    result = loop.run([make_target()])
    (target,) = result.targets
    assert target.halted == Halt(HaltReason.NOTHING_MISSING)
    assert target.rounds == 2
    assert target.reasons == {"accepted": 3, "fails": 1}
    assert {2, 3, 4, 5, 6} <= target.gained_lines  # import-time lines count too
    code = "\n".join(target.accepted_code)
    assert "from pkg.calc import sign" in code  # the wrong import was fixed
    assert "test_sign_wrong" not in code
    steps = result.trajectory
    assert [s.round for s in steps] == [1, 2]
    assert [s.outcome for s in steps] == ["accepted", "accepted"]
    assert steps[0].rejected == {"fails": 1} and steps[0].arm == "chat/scripted-1"
    assert all(s.gain > 0 and s.tokens > 0 for s in steps)
    assert result.tokens == sum(s.tokens for s in steps)
    assert result.cost_usd == pytest.approx(0.002)
    rounds = [p for p in seen if not p.activity]  # the line of each round's end
    assert [(p.round, p.accepted) for p in rounds] == [(1, 1), (2, 3)]
    # between them the line says what goes on: the prompt, then the proving
    activities = [p.activity for p in seen if p.activity]
    assert "prompt 1/1 (loads the model)" in activities
    assert any(a.startswith("proving ") for a in activities)


def test_chat_loop_replays_offline_from_a_cassette(
    project: Project, calc_file: Path, make_target: MakeTarget, tmp_path: Path
) -> None:
    """Record once, then the whole loop reruns from the cassette alone."""
    cassette = tmp_path / "chat.json"

    def run(provider: Provider) -> tuple[dict[str, int], str]:
        loop = RefineLoop(
            ChatGenerator(provider, project),
            functools.partial(validate, project=project, reruns=1, timeout=60),
        )
        (target,) = loop.run([make_target()]).targets
        return target.reasons, "\n".join(target.accepted_code)

    recorder = ReplayProvider(cassette, ScriptedProvider([FIRST, SECOND]), "record")
    recorded = run(recorder)
    replayed = run(ReplayProvider(cassette))  # no inner provider: offline
    assert recorded == replayed
    assert recorded[0] == {"accepted": 3, "fails": 1}


# what a test that escaped the sandbox might print: the host's API key (read
# from its environment), a token of another provider and personal data. The
# candidate holds them reversed, as a test that read them at run time would.
HOST_KEY = "sk-proj-" + "Zq8Wm3Lx7Rt2Vb9Nc4Hd6Kf1Pj5Sg0Ya"
LEAKS = (
    HOST_KEY,
    "ghp_" + "Xy7Qw2Er5Ty8Ui1Op4As6Df9Gh3Jk0Lz2Mn",  # a GitHub token
    "4111 1111 1111 1111",  # a card number
    "DE89370400440532013000",  # an IBAN
    "+44 20 7946 0958",  # a phone number
    "jane.doe@corp-mail.io",  # an e-mail address
)


def leaky_reply() -> str:
    message = " | ".join(("OPENAI_API_KEY=" + HOST_KEY, *LEAKS[1:]))
    return (
        "```python\nfrom pkg.calc import sign\n\n\ndef test_sign_leaks():\n"
        f"    assert sign(5) == 7, {message[::-1]!r}[::-1]\n```"
    )


def test_nothing_a_run_printed_reaches_the_next_prompt_unredacted(
    project: Project, make_target: MakeTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", HOST_KEY)
    provider = ScriptedProvider([leaky_reply(), SECOND])
    loop = RefineLoop(
        ChatGenerator(provider, project),
        functools.partial(validate, project=project, reruns=0, timeout=60),
        LoopConfig(max_rounds=2),
    )
    (target,) = loop.run([make_target()]).targets
    assert target.reasons["fails"] == 1
    failure = target.validations[0].verdicts[0].detail
    assert "<redacted env OPENAI_API_KEY>" in failure  # sanitized at the source
    second = provider.requests[1].text
    # the failure did reach the prompt, with placeholders in place of the values
    assert "test_sign_leaks: fails" in second
    assert "<redacted env OPENAI_API_KEY>" in second
    assert "<CREDIT_CARD_NUMBER_1>" in second and "<IBAN_1>" in second
    for value in LEAKS:
        assert value not in second
        assert value.replace(" ", "") not in second.replace(" ", "")
    assert HOST_KEY[8:20] not in second  # not even a fragment


SECRET = """\
import hashlib


def secret(word):
    if hashlib.md5(word.encode()).hexdigest() == "15b29ffdce66e10527a65bc6d71ad94d":
        return "found"
    return "nothing"
"""

WRONG_ORACLE = """```python
from pkg.secret import secret

def test_secret_swordfish():
    assert secret("swordfish") == "yes"
```"""


def test_model_inputs_seed_the_search_when_its_oracles_are_wrong(
    project: Project,
) -> None:
    path = project.rootdir / "pkg" / "secret.py"
    path.write_text(SECRET, encoding="utf-8")
    target = Target(
        file=path,
        module="pkg.secret",
        qualname="secret",
        start=4,
        end=7,
        complexity=2,
        missing_lines=frozenset({5, 6, 7}),
        missing_branches=frozenset({(5, 6), (5, 7)}),
    )
    search = CharacterizeGenerator.for_project(project)
    judge = functools.partial(validate, project=project, reruns=1, timeout=60)
    alone = RefineLoop(search, judge, LoopConfig(max_rounds=1)).run([target])
    assert 6 not in alone.targets[0].gained_lines  # no search finds "swordfish"

    seeded = SeededGenerator(
        ChatGenerator(ScriptedProvider([WRONG_ORACLE]), project),
        Characterizer(project),
    )
    result = RefineLoop(seeded, judge, LoopConfig(max_rounds=1)).run([target])
    (done,) = result.targets
    assert 6 in done.gained_lines
    assert done.reasons["fails"] == 1  # the model's own test, wrong oracle
    kept = "\n".join(done.accepted_code)
    assert "secret('swordfish')" in kept and "== 'found'" in kept
    generators = {v.candidate.generator for v in done.validations if v.accepted}
    assert generators == {"chat+characterize"}


class JudgeByName:
    """A validator that accepts tests whose name says so, crediting given lines."""

    def __init__(self, lines: dict[str, frozenset[int]]) -> None:
        self.lines = lines
        self.seen: list[Candidate] = []

    def __call__(self, candidate: Candidate) -> Validation:
        self.seen.append(candidate)
        verdicts = []
        for name, lines in self.lines.items():
            if f"def {name}" not in candidate.code:
                continue
            gain = lines - candidate.target.covered_lines
            kills = dict(candidate.kills).get(name, 0)
            reason = Reason.ACCEPTED if gain or kills else Reason.NO_GAIN
            verdicts.append(Verdict(name, reason, new_lines=gain))
        code = (
            candidate.code
            if any(v.reason is Reason.ACCEPTED for v in verdicts)
            else None
        )
        return Validation(candidate, tuple(verdicts), code)


def reply(*names: str) -> str:
    body = "\n\n".join(f"def {n}():\n    assert calc.sign(1) == 1" for n in names)
    return f"```python\nimport pkg.calc as calc\n\n{body}\n```"


def plain(*names: str) -> str:
    """Accepted code as the bank keeps it: no fence, a body of its own per test."""
    body = "\n\n".join(
        f"def {n}():\n    assert calc.sign(len({n!r})) == 1" for n in names
    )
    return f"import pkg.calc as calc\n\n{body}\n"


def test_halts_when_a_round_gains_nothing(
    project: Project, calc_file: Path, make_target: MakeTarget
) -> None:
    provider = ScriptedProvider([reply("test_a"), reply("test_a")])
    judge = JudgeByName({"test_a": frozenset({2, 3})})
    loop = RefineLoop(ChatGenerator(provider, project), judge)
    result = loop.run([make_target()])
    assert [t.halted for t in result.targets] == [Halt(HaltReason.LOW_GAIN)]
    assert [s.gain for s in result.trajectory] == [2, 0]
    assert result.trajectory[1].rejected == {"no gain": 1}


def test_round_cap_by_complexity_and_override(
    calc_file: Path, make_target: MakeTarget
) -> None:
    simple = make_target()
    tangled = Target(
        calc_file, "pkg.calc", "f", 1, 400, 25, frozenset({1}), frozenset()
    )
    assert round_cap(simple) == 3
    assert round_cap(tangled) == 7
    assert round_cap(tangled, override=2) == 2


def test_budgets_stop_cleanly(
    project: Project, calc_file: Path, make_target: MakeTarget
) -> None:
    targets = [make_target() for _ in range(3)]
    judge = JudgeByName({"test_a": frozenset({2}), "test_b": frozenset({4})})
    provider = ScriptedProvider([reply("test_a"), reply("test_b")], cost=0.5)
    loop = RefineLoop(
        ChatGenerator(provider, project), judge, budget=Budget(dollars=0.75)
    )
    result = loop.run(targets)
    # the second round crosses the budget: it is finished, then the run stops
    assert result.stopped_by == Exhausted("cost", 0.75)
    assert str(result.stopped_by) == "cost budget of $0.75"
    assert len(provider.requests) == 2
    assert result.targets[0].halted == Halt(HaltReason.BUDGET, result.stopped_by)
    assert str(result.targets[0].halted) == "budget: cost budget of $0.75"
    counted = RefineLoop(
        ChatGenerator(ScriptedProvider([reply("test_a")]), project),
        JudgeByName({"test_a": frozenset({2})}),
        budget=Budget(max_targets=2),
    ).run(targets)
    assert len(counted.targets) == 2 and str(counted.stopped_by) == "target budget of 2"
    ticks = iter(range(100))
    timed = RefineLoop(
        ChatGenerator(ScriptedProvider([reply("test_a")]), project),
        JudgeByName({"test_a": frozenset({2})}),
        budget=Budget(seconds=3),
        clock=lambda: float(next(ticks)),
    ).run(targets)
    assert str(timed.stopped_by) == "time budget of 3 s"
    assert len(timed.targets) == 1


def test_scaffold_samples_at_temperature(
    project: Project, calc_file: Path, make_target: MakeTarget
) -> None:
    provider = ScriptedProvider(
        ["negative():\n    assert calc.sign(-2) == -1\n\nblah blah (", "zero():\n"],
        is_chat=False,
    )
    generator = ScaffoldGenerator(provider, project, samples=2, temperature=0.7)
    candidates = generator.propose(make_target(), Feedback())
    assert [r.temperature for r in provider.requests] == [0.7, 0.7]
    assert len({r.seed for r in provider.requests}) == 2
    assert candidates[0].code.rstrip().endswith("assert calc.sign(-2) == -1")
    assert candidates[0].generator == "scaffold" and candidates[0].model == "scripted-1"


def test_characterize_generator_in_the_loop(
    project: Project, calc_file: Path, make_target: MakeTarget
) -> None:
    generator = CharacterizeGenerator.for_project(
        project, CharacterizeConfig(call_timeout=0.5, max_calls=60)
    )
    loop = RefineLoop(
        generator,
        functools.partial(validate, project=project, reruns=1, timeout=60),
        config=LoopConfig(max_rounds=3),
    )
    result = loop.run([make_target()])
    (target,) = result.targets
    assert target.halted == Halt(HaltReason.NOTHING_MISSING)
    assert {2, 3, 4, 5, 6} <= target.gained_lines  # import-time lines count too
    assert result.tokens == 0 and result.trajectory[0].arm == "characterize"


def test_coverage_kept_for_one_target_counts_for_the_next(
    project: Project, calc_file: Path, make_target: MakeTarget
) -> None:
    first = dataclasses.replace(make_target(), missing_branches=frozenset())
    # a second target whose only missing lines the first target's tests reach
    second = dataclasses.replace(
        first,
        qualname="sign_again",
        missing_lines=frozenset({2, 3}),
        missing_branches=frozenset(),
    )
    judge = JudgeByName({"test_a": frozenset({2, 3}), "test_b": frozenset({4, 5, 6})})
    provider = ScriptedProvider([reply("test_a", "test_b")])
    result = RefineLoop(ChatGenerator(provider, project), judge).run([first, second])
    assert [str(t.halted) for t in result.targets] == ["nothing missing"] * 2
    assert result.targets[1].rounds == 0
    assert len(provider.requests) == 1


class Recording(Generator):
    """Proposes ``test_b`` and remembers what it was asked for."""

    name = "characterize"

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[Target] = []

    def propose(
        self, target: Target, z: Feedback, seconds: float | None = None
    ) -> list[Candidate]:
        self.asked.append(target)
        return [Candidate(target, reply("test_b"), "characterize")]


class Strengthening(Recording):
    """Covers with ``test_a``; strengthens with ``test_b``, killing two mutants."""

    strengthens = True

    def propose(
        self, target: Target, z: Feedback, seconds: float | None = None
    ) -> list[Candidate]:
        return [Candidate(target, reply("test_a"), "characterize")]

    def strengthen(
        self, target: Target, seconds: float | None = None
    ) -> list[Candidate]:
        self.asked.append(target)
        kills = (("test_b", 2),)
        return [Candidate(target, reply("test_b"), "characterize", kills=kills)]


def test_a_target_covered_along_the_way_gets_tests_that_kill_its_mutants(
    project: Project, calc_file: Path, make_target: MakeTarget
) -> None:
    first = dataclasses.replace(make_target(), missing_branches=frozenset())
    second = dataclasses.replace(
        first, qualname="sign_again", missing_lines=frozenset({2, 3})
    )
    judge = JudgeByName({"test_a": frozenset({2, 3}), "test_b": frozenset({2, 3})})
    generator = Strengthening()
    result = RefineLoop(generator, judge).run([first, second])
    # asked as it first was (missing 2, 3), judged against what is covered now
    assert [(t.qualname, t.missing_lines) for t in generator.asked] == [
        ("sign_again", {2, 3})
    ]
    assert judge.seen[-1].target.covered_lines >= {2, 3}
    again = result.targets[1]
    assert again.rounds == 1 and not again.gained_lines
    assert [v.accepted_code is not None for v in again.validations] == [True]
    assert result.trajectory[-1].accepted == 1


def test_no_strengthening_in_the_last_second(
    project: Project, calc_file: Path, make_target: MakeTarget
) -> None:
    first = dataclasses.replace(
        make_target(), missing_lines=frozenset({2, 3}), missing_branches=frozenset()
    )
    second = dataclasses.replace(first, qualname="sign_again")
    now = [0.0]

    class Slow(Strengthening):
        def propose(
            self, target: Target, z: Feedback, seconds: float | None = None
        ) -> list[Candidate]:
            now[0] += 9.5  # the first target's search takes all but half a second
            return super().propose(target, z, seconds)

    generator = Slow()
    judge = JudgeByName({"test_a": frozenset({2, 3}), "test_b": frozenset({2, 3})})
    loop = RefineLoop(generator, judge, budget=Budget(seconds=10), clock=lambda: now[0])
    result = loop.run([first, second])
    assert generator.asked == []
    assert result.stopped_by is None and now[0] == 9.5


def test_stages_give_later_generators_only_what_is_left(
    project: Project, calc_file: Path, make_target: MakeTarget
) -> None:
    full = dataclasses.replace(make_target(), missing_branches=frozenset())
    easy = dataclasses.replace(full, qualname="easy", missing_lines=frozenset({2}))
    judge = JudgeByName({"test_a": frozenset({2, 3}), "test_b": frozenset({4, 5, 6})})
    cheap = ScriptedProvider([reply("test_a")])
    costly = ScriptedProvider([reply("test_b")])
    result = RefineLoop(ChatGenerator(cheap, project), judge).run(
        [full, easy],
        stages=[ChatGenerator(cheap, project), ChatGenerator(costly, project)],
    )
    # stage 1: full gains 2,3 then stalls; easy is already covered by then
    # stage 2: only full is left, and only lines 4-6 are asked for
    assert [(r.target.qualname, r.halted.reason) for r in result.targets] == [
        ("sign", HaltReason.LOW_GAIN),
        ("easy", HaltReason.NOTHING_MISSING),
        ("sign", HaltReason.NOTHING_MISSING),
    ]
    assert len(costly.requests) == 1
    asked = costly.requests[0].messages[-1].content
    assert "Still not covered: lines [4, 5, 6]" in asked
    assert ">>    4" in asked and ">>    2" not in asked
    assert result.targets[2].gained_lines == frozenset({4, 5, 6})


class TimedGenerator(Generator):
    """Takes the time it is given (on a fake clock), up to ``need`` seconds."""

    name = "characterize"

    def __init__(self, clock: list[float], need: dict[str, float]) -> None:
        super().__init__()
        self.clock, self.need, self.given = clock, need, {}

    def propose(
        self, target: Target, z: Feedback, seconds: float | None = None
    ) -> list[Candidate]:
        self.given[target.qualname] = seconds
        assert seconds is not None
        self.clock[0] += min(seconds, self.need[target.qualname])
        return []


def test_time_budget_is_shared_by_what_targets_miss(make_target: MakeTarget) -> None:
    def missing(name: str, lines: int) -> Target:
        return dataclasses.replace(
            make_target(),
            qualname=name,
            missing_lines=frozenset(range(1, lines + 1)),
            missing_branches=frozenset(),
        )

    small, big, last = missing("small", 1), missing("big", 7), missing("last", 7)
    assert [weight(t) for t in (small, big, last)] == [2, 8, 8]
    now = [0.0]
    generator = TimedGenerator(now, {"small": 0.5, "big": 100.0, "last": 100.0})
    RefineLoop(
        generator,
        JudgeByName({}),
        LoopConfig(proving_guess=0.0),  # nothing to prove here: all time searches
        budget=Budget(seconds=100.0),
        clock=lambda: now[0],
    ).run([small, big, last])
    assert generator.given["small"] == pytest.approx(100.0 * 2 / 18)
    # what small did not use flows to the targets after it
    assert generator.given["big"] == pytest.approx(99.5 * 8 / 16)
    assert generator.given["last"] == pytest.approx(99.5 - generator.given["big"])


def test_the_last_target_leaves_time_for_the_longest_proving_so_far(
    make_target: MakeTarget,
) -> None:
    now = [0.0]
    lines = {"a": 2, "b": 3, "c": 4}
    targets = [
        dataclasses.replace(
            make_target(),
            qualname=name,
            missing_lines=frozenset({line}),
            missing_branches=frozenset(),
        )
        for name, line in lines.items()
    ]
    judge = JudgeByName({f"test_{n}": frozenset({line}) for n, line in lines.items()})
    proving = {"a": 1.0, "b": 5.0, "c": 0.0}

    def slow_judge(candidate: Candidate) -> Validation:
        now[0] += proving[candidate.target.qualname]
        return judge(candidate)

    class Quick(TimedGenerator):
        def propose(
            self, target: Target, z: Feedback, seconds: float | None = None
        ) -> list[Candidate]:
            super().propose(target, z, seconds)
            return [Candidate(target, reply(f"test_{target.qualname}"), "chat")]

    generator = Quick(now, dict.fromkeys(lines, 0.0))
    RefineLoop(
        generator,
        slow_judge,
        LoopConfig(proving_guess=0.0),
        budget=Budget(seconds=100.0),
        clock=lambda: now[0],
    ).run(targets)
    # b: one more proving (1 s on average) for c, and its own as long as a's
    assert generator.given["b"] == pytest.approx((99.0 - 2.0) / 2)
    # c: its own as long as b's, the longest (the mean, 3 s, would run past)
    assert generator.given["c"] == pytest.approx(94.0 - 5.0)


def test_replayed_tests_of_every_target_are_proved_before_any_search(
    make_target: MakeTarget,
) -> None:
    first = dataclasses.replace(
        make_target(),
        missing_lines=frozenset({2, 3, 4, 5, 6}),
        missing_branches=frozenset(),
    )
    second = dataclasses.replace(first, qualname="again", missing_lines=frozenset({7}))
    # as the bank keeps them: accepted modules, plain code
    kept = {"sign": plain("test_a"), "again": plain("test_c")}
    judge = JudgeByName(
        {
            "test_a": frozenset({2, 3}),
            "test_b": frozenset({4, 5, 6}),
            "test_c": frozenset({7}),
        }
    )
    generator = Recording()
    loop = RefineLoop(generator, judge)
    loop.replay = lambda t: [Candidate(t, kept[t.qualname], "characterize", round=0)]
    result = loop.run([first, second])
    # both replays first, in one proving (one file), then the search, only
    # for what the replay left
    assert [c.round for c in judge.seen] == [0, 1]
    assert "def test_a" in judge.seen[0].code and "def test_c" in judge.seen[0].code
    assert [(t.qualname, t.missing_lines) for t in generator.asked] == [
        ("sign", {4, 5, 6})
    ]
    assert [(s.arm, s.round, s.gain) for s in result.trajectory] == [
        ("replay", 0, 2),
        ("replay", 0, 1),
        ("characterize", 1, 3),
    ]
    sign, again = result.targets
    assert sign.gained_lines == {2, 3, 4, 5, 6} and sign.rounds == 1
    assert again.gained_lines == {7} and again.rounds == 0
    assert again.halted == Halt(HaltReason.NOTHING_MISSING)
    assert [len(t.validations) for t in result.targets] == [2, 1]


def test_a_replay_that_no_longer_holds_leaves_the_target_to_the_search(
    make_target: MakeTarget,
) -> None:
    target = dataclasses.replace(
        make_target(), missing_lines=frozenset({4, 5, 6}), missing_branches=frozenset()
    )
    judge = JudgeByName({"test_a": frozenset(), "test_b": frozenset({4, 5, 6})})
    generator = Recording()
    loop = RefineLoop(generator, judge)
    loop.replay = lambda t: [Candidate(t, reply("test_a"), "characterize", round=0)]
    (result,) = loop.run([target]).targets
    assert [(t.qualname, t.missing_lines) for t in generator.asked] == [
        ("sign", {4, 5, 6})
    ]
    assert result.gained_lines == {4, 5, 6}
    assert result.reasons == {"no gain": 1, "accepted": 1}


def test_a_round_the_learner_judges_not_worth_it_is_not_run(
    project: Project, calc_file: Path, make_target: MakeTarget
) -> None:
    provider = ScriptedProvider([reply("test_a")])
    judge = JudgeByName({"test_a": frozenset({2, 3})})
    loop = RefineLoop(ChatGenerator(provider, project), judge)
    asked: list[tuple[str, int]] = []

    def worth(target: Target, generator: Generator, number: int) -> bool:
        asked.append((target.qualname, number))
        return False

    loop.worth = worth
    (result,) = loop.run([make_target()]).targets
    assert result.halted == Halt(HaltReason.LEARNED) and result.rounds == 0
    assert provider.requests == [] and asked == [("sign", 1)]

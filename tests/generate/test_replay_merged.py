"""Replayed tests of one file proved in one run, verdicts shared back."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pytest_ruvqe.generate.accept.static import only_units, parse_candidate
from pytest_ruvqe.generate.replay import prove_together
from pytest_ruvqe.generate.types import Candidate, Reason, Target, Validation, Verdict

TARGET = Target(
    Path("/src/pkg/calc.py"),
    "pkg.calc",
    "sign",
    1,
    6,
    2,
    frozenset({2, 3, 4}),
    frozenset(),
)


class Sequential:
    """Accepts, in source order, tests whose line (``assert sign(N)`` covers
    line N) is not reached yet, as the validator judges; counts its runs."""

    def __init__(self, broken: str = "") -> None:
        self.runs: list[str] = []
        self.broken = broken  # a module that contains it fails at import

    def __call__(self, candidate: Candidate) -> Validation:
        self.runs.append(candidate.code)
        parsed = parse_candidate(candidate.code)
        if self.broken and self.broken in candidate.code:
            return Validation(candidate, (), None, "ImportError: broken")
        seen = set(candidate.target.covered_lines)
        verdicts = []
        for unit in parsed.units:
            body = parsed.code.splitlines()[unit.last_line - 1]
            line = int(body.split("sign(")[1].split(")")[0])
            reason = Reason.NO_GAIN if line in seen else Reason.ACCEPTED
            seen.add(line)
            gain = frozenset({line}) if reason is Reason.ACCEPTED else frozenset()
            verdicts.append(Verdict(unit.name, reason, gain))
        kept = [
            u
            for u, v in zip(parsed.units, verdicts, strict=True)
            if v.reason is Reason.ACCEPTED
        ]
        code = only_units(parsed.code, kept, parsed.units) if kept else None
        return Validation(candidate, tuple(verdicts), code)


def module(*tests: tuple[str, int]) -> str:
    body = "\n\n".join(
        f"def {name}():\n    assert sign({line})" for name, line in tests
    )
    return f"from pkg.calc import sign\n\n\n{body}\n"


def candidate(code: str, qualname: str = "sign") -> Candidate:
    return Candidate(
        dataclasses.replace(TARGET, qualname=qualname), code, "characterize", round=0
    )


def test_one_run_for_all_and_each_candidate_gets_its_own_verdicts() -> None:
    first = candidate(module(("test_x", 2), ("test_y", 3)))
    # the same name with another body, a test identical to one before, a new line
    second = candidate(module(("test_x", 4), ("test_z", 2)), "other")
    judge = Sequential()
    one, two = prove_together([first, second], judge, TARGET)
    assert len(judge.runs) == 1
    assert [(v.name, v.reason, v.new_lines) for v in one.verdicts] == [
        ("test_x", Reason.ACCEPTED, {2}),
        ("test_y", Reason.ACCEPTED, {3}),
    ]
    assert one.candidate is first and one.accepted_code == first.code
    # test_x of the second ran as test_x_2; test_z is test_x of the first again
    assert [(v.name, v.reason, v.new_lines) for v in two.verdicts] == [
        ("test_x", Reason.ACCEPTED, {4}),
        ("test_z", Reason.NO_GAIN, frozenset()),
    ]
    assert two.accepted_code is not None
    assert "def test_x():" in two.accepted_code and "test_z" not in two.accepted_code


def test_a_broken_module_is_proved_alone_so_the_others_still_count() -> None:
    good = candidate(module(("test_x", 2)))
    bad = candidate(module(("test_gone", 3)).replace("sign\n", "sign, gone\n", 1))
    judge = Sequential(broken="gone")
    kept, lost = prove_together([good, bad], judge, TARGET)
    assert len(judge.runs) == 3  # together, then each alone
    assert kept.accepted_code == good.code
    assert lost.accepted_code is None and lost.error == "ImportError: broken"


def test_a_single_candidate_is_proved_as_it_is() -> None:
    only = candidate(module(("test_x", 2)))
    judge = Sequential()
    (validation,) = prove_together([only], judge, TARGET)
    assert judge.runs == [only.code]
    assert validation.accepted_code == only.code

"""Assertions that catch bugs: the target's mutants judge the kept calls.

The mutation engine's operators (:mod:`pytest_ruvqe.analyse.mutation`) give
the target's mutants; each is compiled here, in the host, into the code
object of the function it changes (nothing runs). The probe then puts each
one in turn into the live function (the engine's own swap, its source
shipped into the sandbox) and runs the kept calls again: an assertion kills
a mutant when what it checks comes out different. The search keeps, per
test, the fewest assertions that kill what the test can kill, and adds
tests that kill mutants the others miss.
"""

from __future__ import annotations

import base64
import inspect
import marshal
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from pytest_ruvqe.analyse.mutation import patching
from pytest_ruvqe.analyse.mutation.operators import apply, find_mutants
from pytest_ruvqe.analyse.mutation.types import Mutant
from pytest_ruvqe.analyse.source_index import index_source
from pytest_ruvqe.generate.search.probe import (
    CallExecutor,
    CallOutcome,
    PlannedCall,
    ProbePlan,
)
from pytest_ruvqe.generate.search.render import Check, checks_of

MAX_MUTANTS = 40  # per target, sampled when there are more
_RANK = {"result": 0, "raises": 0, "field": 1, "state": 1, "len": 2, "state_len": 2}
_SWAP = "_ruvqe_use"


@dataclass(frozen=True)
class CompiledMutant:
    """A mutant of the target as the code object the probe swaps in."""

    mutant: Mutant
    patch_target: str
    first_lines: tuple[int, ...]
    code: str  # base64 of marshal.dumps(code object)


@dataclass
class Kills:
    """Which mutants each check of each kept call kills."""

    judged: set[int] = field(default_factory=set)  # mutants the swap reached
    by_check: dict[tuple[str, Check], set[int]] = field(default_factory=dict)

    def of_call(self, call_id: str) -> set[int]:
        return set().union(
            *(k for (cid, _), k in self.by_check.items() if cid == call_id)
        )


def compile_mutants(
    path: Path, qualname: str, seed: int = 0, limit: int = MAX_MUTANTS
) -> list[CompiledMutant]:
    """The runtime mutants of ``qualname`` that compile into a swappable code."""
    text = path.read_text("utf-8")
    index = index_source(text, path, "")
    found = []
    for mutant in find_mutants(text, path.name):
        inside = mutant.function == qualname or mutant.function.startswith(
            qualname + "."
        )
        func = index.function(mutant.patch_target)
        if not (mutant.runtime and inside) or func is None:
            continue
        code = _compiled(
            path, apply(text, mutant), mutant, func.start, func.def_line, func.end
        )
        if code is not None:
            found.append(
                CompiledMutant(
                    mutant, mutant.patch_target, (func.start, func.def_line), code
                )
            )
    if len(found) > limit:
        found = random.Random(seed).sample(found, limit)
    return found


def _compiled(
    path: Path, text: str, mutant: Mutant, start: int, def_line: int, end: int
) -> str | None:
    in_class = "." in mutant.patch_target
    try:
        source = patching.function_snippet(text, start, end, in_class)
        compiled = compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError:
        return None
    name = mutant.patch_target.rsplit(".", 1)[-1]
    for first in (start, def_line):
        code = patching.find_code(compiled, name, first)
        if code is not None:
            return base64.b64encode(marshal.dumps(code)).decode("ascii")
    return None


def prelude(alias: str, mutants: Sequence[CompiledMutant]) -> str:
    """Probe code that swaps mutant ``i`` in with ``_ruvqe_use(i)``.

    The lookup of the live function is the mutation engine's own
    (:func:`patching.find_live_function`), its source shipped as is.
    """
    table = {i: (m.patch_target, m.first_lines, m.code) for i, m in enumerate(mutants)}
    helpers = "\n\n".join(
        inspect.getsource(f)
        for f in (patching._candidates, patching.find_live_function)
    )
    return f"""
import base64 as _ruvqe_base64, marshal as _ruvqe_marshal, types
from collections.abc import Iterator
from types import FunctionType
from typing import Any

{helpers}

_RUVQE_MUTANTS = {table!r}
_RUVQE_LIVE = []


def {_SWAP}(index):
    while _RUVQE_LIVE:
        func, code = _RUVQE_LIVE.pop()
        func.__code__ = code
    if index is None:
        return True
    qualname, first_lines, blob = _RUVQE_MUTANTS[index]
    func = find_live_function({alias}, qualname, frozenset(first_lines))
    if func is None:
        raise LookupError("mutant not reachable")
    _RUVQE_LIVE.append((func, func.__code__))
    func.__code__ = _ruvqe_marshal.loads(_ruvqe_base64.b64decode(blob))
    return True
"""


def judge(
    executor: CallExecutor,
    plan: ProbePlan,
    kept: Sequence[CallOutcome],
    mutants: Sequence[CompiledMutant],
) -> Kills:
    """Run every kept call under every mutant; which checks tell them apart."""
    kills = Kills()
    if not mutants or not kept:
        return kills
    calls: list[PlannedCall] = []
    for i in range(len(mutants)):
        calls.append(PlannedCall(f"m{i}", (), f"{_SWAP}({i})"))
        for outcome in kept:
            call = outcome.call
            calls.append(
                replace(
                    call, id=f"m{i}:{call.id}", setup=(f"{_SWAP}({i})", *call.setup)
                )
            )
    calls.append(PlannedCall("restore", (), f"{_SWAP}(None)"))
    results = executor.execute(
        replace(
            plan,
            calls=tuple(calls),
            prelude=prelude(plan.alias, mutants),
            repeat=False,
        )
    )
    baseline = {o.call.id: checks_of(o) for o in kept}
    for result in results:
        head, _, call_id = result.call.id.partition(":")
        index = int(head[1:]) if head[1:].isdigit() else -1
        if not call_id:
            if result.kind == "value" and result.repr == "True":
                kills.judged.add(index)
            continue
        if index not in kills.judged:
            continue
        seen = checks_of(result)
        for check, expected in baseline.get(call_id, {}).items():
            if seen.get(check) != expected:
                kills.by_check.setdefault((call_id, check), set()).add(index)
    return kills


@dataclass(frozen=True)
class Choice:
    """The tests judged by mutants: which, what each asserts, what each adds."""

    chosen: list[CallOutcome]
    checks: dict[str, tuple[Check, ...]]
    # per call id: mutants it kills that the calls before it do not
    kills: dict[str, int]


def choose(
    kept: list[CallOutcome],
    extra: list[CallOutcome],
    kills: Kills,
    max_tests: int,
) -> Choice:
    """Tests and the checks each keeps: the fewest that kill what it can; then
    more tests, from ``extra``, that kill what the others miss."""
    chosen = list(kept)
    gains: dict[str, int] = {}
    killed: set[int] = set()
    for outcome in chosen:
        new = kills.of_call(outcome.call.id) - killed
        gains[outcome.call.id] = len(new)
        killed |= new
    for outcome in sorted(extra, key=lambda o: -len(kills.of_call(o.call.id) - killed)):
        if len(chosen) >= max_tests:
            break
        new = kills.of_call(outcome.call.id) - killed
        if new:
            chosen.append(outcome)
            gains[outcome.call.id] = len(new)
            killed |= new
    checks = {o.call.id: _fewest(o, kills) for o in chosen}
    return Choice(chosen, checks, gains)


def _fewest(outcome: CallOutcome, kills: Kills) -> tuple[Check, ...]:
    """Greedy cover of the call's kills by its checks; at least one check."""
    # among equal killers the one that says most: a value over a length or a type
    available = sorted(checks_of(outcome), key=lambda c: _RANK.get(c[0], 3))
    wanted = kills.of_call(outcome.call.id)
    picked: list[Check] = []
    while wanted:
        best = max(
            available,
            key=lambda c: len(kills.by_check.get((outcome.call.id, c), set()) & wanted),
        )
        gain = kills.by_check.get((outcome.call.id, best), set()) & wanted
        if not gain:
            break
        picked.append(best)
        wanted -= gain
    return tuple(picked) or tuple(available[:1])


def score(kills: Kills, chosen: Sequence[CallOutcome]) -> tuple[int, int]:
    """Mutants the chosen tests kill, out of those judged."""
    killed = (
        set().union(*(kills.of_call(o.call.id) for o in chosen)) if chosen else set()
    )
    return len(killed & kills.judged), len(kills.judged)

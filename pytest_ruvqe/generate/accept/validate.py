"""Decide which tests of a candidate are kept: proven by running, never by looks.

A test (a top-level ``test_*`` function or a ``Test*`` class, called a unit
here) is accepted when it parses, stays within the allowlist of what a
generated test may contain (checked before anything runs; a breach outside
every unit rejects them all), imports, asserts something that could fail,
passes in a sandboxed run, passes again in ``reruns`` fresh processes (each in
another order and hash seed), and executes lines or branches of the target file
that neither the suite nor the tests accepted before it in the same candidate
reached. Everything else gets the first reason that rejects it, with a trimmed
error for the next refine round.
"""

from __future__ import annotations

import functools
import os
import random
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from pytest_ruvqe.generate.accept.static import Unit, only_units, parse_candidate
from pytest_ruvqe.generate.allowlist import Finding, check
from pytest_ruvqe.generate.sandbox import (
    Covered,
    Limits,
    SandboxResult,
    TestRun,
    run_tests,
)
from pytest_ruvqe.generate.sanitize import host_secrets_in, sanitize
from pytest_ruvqe.generate.source import branch_lines
from pytest_ruvqe.generate.trimming import keep_ends
from pytest_ruvqe.generate.types import (
    Candidate,
    Project,
    Reason,
    Target,
    Validation,
    Verdict,
)
from pytest_ruvqe.measure.types import Arc

_DETAIL_CHARS = 1500
_IMPORT_ERROR = re.compile(r"\b(ModuleNotFoundError|ImportError)\b")

_NO_ASSERT = (
    "no assert that could fail (assert True, x == x) and no "
    "pytest.raises: assert on the result of the call"
)

RunTests = Callable[..., SandboxResult]


def _shown(findings: Sequence[Finding], limit: int = 3) -> str:
    text = "; ".join(str(f) for f in findings[:limit])
    more = len(findings) - limit
    return text + (f" (and {more} more)" if more > 0 else "")


def _refused(
    candidate: Candidate, code: str, project: Project, units: Sequence[Unit]
) -> tuple[str, dict[str, str]]:
    """What the allowlist refuses: outside every unit (rejects all), per unit."""
    target = candidate.target
    findings = check(code, target.module, target.file, project.import_roots)
    inside = {
        u.name: [f for f in findings if u.first_line <= f.line <= u.last_line]
        for u in units
    }
    outside = [f for f in findings if not any(f in got for got in inside.values())]
    text = _shown(outside)
    leaked = host_secrets_in(code)
    if leaked:
        # a test that would write your key into the suite (and into a prompt)
        names = ", ".join(leaked)
        text = "; ".join(t for t in (f"holds the value of {names}", text) if t)
    return text, {name: _shown(got) for name, got in inside.items() if got}


def _unit_of(test_name: str, units: Sequence[Unit]) -> str | None:
    base = test_name.split("::", 1)[0].split("[", 1)[0]
    return base if any(u.name == base for u in units) else None


def _first_failure(runs: Sequence[TestRun]) -> tuple[Reason, str] | None:
    """The reason the runs of one unit reject it, or None when all passed."""
    if not runs:
        return Reason.FAILS, "not collected (missing fixture or empty class?)"
    for run in runs:
        if run.unsafe:
            what = ", ".join(run.violations) or "ran out of memory"
            return Reason.UNSAFE, sanitize(
                f"refused: {what}\n{run.detail}", _DETAIL_CHARS
            )
    for run in runs:
        if run.outcome == "timeout":
            return Reason.TIMEOUT, f"{run.name} ran over its time limit"
    for run in runs:
        if run.outcome in ("failed", "error"):
            reason = Reason.IMPORT if _IMPORT_ERROR.search(run.detail) else Reason.FAILS
            return reason, sanitize(run.detail, _DETAIL_CHARS)
    for run in runs:
        if run.outcome == "skipped":
            return (
                Reason.FAILS,
                f"{run.name} was skipped; a skipped test proves nothing",
            )
    return None


def _by_unit(result: SandboxResult, units: Sequence[Unit]) -> dict[str, list[TestRun]]:
    grouped: dict[str, list[TestRun]] = {u.name: [] for u in units}
    for name, run in result.tests.items():
        unit = _unit_of(name, units)
        if unit is not None:
            grouped[unit].append(run)
    return grouped


def _coverage_of(result: SandboxResult, unit: str, units: Sequence[Unit]) -> Covered:
    total = Covered()
    for name, covered in result.coverage.items():
        if _unit_of(name, units) == unit:
            total = total | covered
    return total


def _run_failure(result: SandboxResult) -> tuple[Reason, str] | None:
    """A reason that rejects every unit of a run at once, if any."""
    if result.status == "timeout":
        return Reason.TIMEOUT, "the run was killed after its wall time limit"
    if result.status == "crashed":
        detail = f"the process ended without a result ({result.killed_reason})"
        return Reason.UNSAFE, sanitize(f"{detail}\n{result.stderr}", _DETAIL_CHARS)
    if result.violations:
        refused = "refused at import time: " + ", ".join(result.violations)
        return Reason.UNSAFE, sanitize(refused, _DETAIL_CHARS)
    if result.collect_errors and not result.tests:
        text = "\n".join(result.collect_errors)
        reason = Reason.IMPORT if _IMPORT_ERROR.search(text) else Reason.FAILS
        return reason, sanitize(text, _DETAIL_CHARS)
    return None


_PARSING = threading.Lock()


@functools.lru_cache(maxsize=64)
def _unit_names_of(code: str) -> frozenset[str]:
    return frozenset(u.name for u in parse_candidate(code).units)


def _unit_names(code: str) -> frozenset[str]:
    """The units ``code`` defines. Reruns judge their results in threads, and
    CPython 3.11's parser is not safe to enter from two threads at once."""
    with _PARSING:
        return _unit_names_of(code)


def _implausible(result: SandboxResult, code: str, target: Path) -> str:
    """Why a run's result cannot be the candidate's own (a forged verdict).

    The host knows what the candidate defines and how long the target file
    is: a result naming other tests, or lines the file does not have, was
    not written by the runner.
    """
    if result.status != "ok":
        return ""
    names = _unit_names(code)
    strange = sorted(
        n for n in result.tests if n.split("::", 1)[0].split("[", 1)[0] not in names
    )
    if strange:
        return "its result names tests the candidate does not define: " + ", ".join(
            strange[:3]
        )
    try:
        last = len(target.read_bytes().splitlines()) + 1
    except OSError:
        return ""
    covered = result.covered
    numbers = [*covered.lines, *(abs(n) for arc in covered.arcs for n in arc)]
    if any(n > last for n in numbers) or any(n < 1 for n in covered.lines):
        return "its result reports lines the target file does not have"
    return ""


class _Validator:
    """One validation: the sandbox calls and bookkeeping for a candidate."""

    def __init__(
        self,
        candidate: Candidate,
        project: Project,
        reruns: int,
        timeout: float,
        test_timeout: float,
        jobs: int,
        runner: RunTests,
        sandbox_options: Mapping[str, Any],
    ) -> None:
        self.candidate = candidate
        self.project = project
        self.reruns = reruns
        self.timeout = timeout
        self.test_timeout = test_timeout
        self.jobs = max(1, jobs)
        self.runner = runner
        self.sandbox_options = dict(sandbox_options)
        self.timings: dict[str, float] = {}
        self.isolated = False  # the first run failed as a whole; units ran alone
        self.import_coverage = Covered()  # what importing the test module ran
        self.module_error = ""  # why the module as a whole failed, if it did

    def run(self, code: str, order: Sequence[str] | None, seed: int) -> SandboxResult:
        result = self._run(code, order, seed)
        why = _implausible(result, code, self.candidate.target.file)
        if not why:
            return result
        return replace(
            result, status="crashed", tests={}, coverage={}, killed_reason=why
        )

    def _run(self, code: str, order: Sequence[str] | None, seed: int) -> SandboxResult:
        return self.runner(
            self.project,
            code,
            self.candidate.target.file,
            timeout=self.timeout,
            test_timeout=self.test_timeout,
            order=order,
            hash_seed=seed,
            **self.sandbox_options,
        )

    def first_run(
        self, code: str, units: Sequence[Unit]
    ) -> tuple[dict[str, tuple[Reason, str] | None], dict[str, Covered], list[str]]:
        """Run all units together; on a run-wide failure, run each alone."""
        start = time.monotonic()
        names = [u.name for u in units]
        result = self.run(code, None, 0)
        fates: dict[str, tuple[Reason, str] | None] = {}
        covered: dict[str, Covered] = {}
        items: list[str] = []
        whole = _run_failure(result)
        if whole is not None and whole[0] in (Reason.TIMEOUT, Reason.UNSAFE):
            if len(units) > 1:
                self.isolated = True
                # one bad test must not sink the others: find it by running each alone
                with ThreadPoolExecutor(self.jobs) as pool:
                    alone = list(pool.map(lambda n: self._alone(code, n, units), names))
                for name, (fate, cov, its) in zip(names, alone, strict=True):
                    fates[name], covered[name] = fate, cov
                    items.extend(its)
                self.timings["first_run"] = time.monotonic() - start
                return fates, covered, items
            fates = {n: whole for n in names}
            self.module_error = whole[1]
        elif whole is not None:
            fates = {n: whole for n in names}
            self.module_error = whole[1]
        else:
            grouped = _by_unit(result, units)
            for name in names:
                fates[name] = _first_failure(grouped[name])
                covered[name] = _coverage_of(result, name, units)
            items = list(result.tests)
            self.import_coverage = result.import_coverage
        self.timings["first_run"] = time.monotonic() - start
        return fates, covered, items

    def _alone(
        self, code: str, name: str, units: Sequence[Unit]
    ) -> tuple[tuple[Reason, str] | None, Covered, list[str]]:
        result = self.run(code, [name], 0)
        whole = _run_failure(result)
        if whole is not None:
            return whole, Covered(), []
        runs = _by_unit(result, units)[name]
        self.import_coverage = self.import_coverage | result.import_coverage
        return (
            _first_failure(runs),
            _coverage_of(result, name, units),
            list(result.tests),
        )

    def judge(
        self,
        code: str,
        runnable: Sequence[Unit],
        units: Sequence[Unit],
        verdicts: dict[str, Verdict],
    ) -> None:
        """Run the runnable units, rerun those that passed, credit what they gain."""
        fates, covered, items, done = self.first_runs(
            only_units(code, runnable, units), runnable
        )
        passing = [u for u in runnable if fates[u.name] is None]
        for unit in runnable:
            fate = fates[unit.name]
            if fate is not None:
                verdicts[unit.name] = Verdict(unit.name, fate[0], detail=fate[1])
        if passing and self.reruns > 0:
            kept = [i for i in items if _unit_of(i, passing) is not None]
            flaky = self.rerun(only_units(code, passing, units), kept, passing, done)
            for name, detail in flaky.items():
                verdicts[name] = Verdict(name, Reason.FLAKY, detail=detail)
        _credit_gain(self.candidate, runnable, covered, verdicts, self.import_coverage)

    def first_runs(
        self, code: str, runnable: Sequence[Unit]
    ) -> tuple[
        dict[str, tuple[Reason, str] | None],
        dict[str, Covered],
        list[str],
        list[SandboxResult],
    ]:
        """The first run, and beside it the first rerun when there are two cores.

        The wall time of a hanging candidate stays the same, a good one saves
        a round. The rerun counts only when the first run was not isolated.
        """
        early: Future[SandboxResult] | None = None
        side = ThreadPoolExecutor(1) if self.jobs > 1 and self.reruns > 0 else None
        try:
            if side is not None:
                backwards = [u.name for u in reversed(runnable)]
                early = side.submit(self.run, code, backwards, 1)
            fates, covered, items = self.first_run(code, runnable)
            done = [early.result()] if early is not None else []
            if self.isolated:
                done = []  # it ran the units that sank the first run: no evidence
        finally:
            if side is not None:
                side.shutdown()
        return fates, covered, items, done

    def rerun(
        self,
        code: str,
        items: Sequence[str],
        units: Sequence[Unit],
        done: Sequence[SandboxResult] = (),
    ) -> dict[str, str]:
        """Fresh processes in other orders; units that did not pass every time.

        ``done`` holds reruns already made (the first one, reversed with hash
        seed 1, runs beside the first run when there are two cores).
        """
        start = time.monotonic()
        orders: list[tuple[int, list[str]]] = []
        for i in range(len(done), self.reruns):
            order = list(items)
            if i % 3 == 0:
                order.reverse()
            elif i % 3 == 1:
                random.Random(i).shuffle(order)
            orders.append((i, order))
        with ThreadPoolExecutor(self.jobs) as pool:
            fresh = pool.map(lambda io: self.run(code, io[1], io[0] + 1), orders)
            results = [*done, *fresh]
        flaky: dict[str, str] = {}
        for i, result in enumerate(results):
            whole = _run_failure(result)
            grouped = _by_unit(result, units)
            for unit in units:
                fate = whole or _first_failure(grouped[unit.name])
                if fate is not None and unit.name not in flaky:
                    how = ("reversed", "shuffled", "forward")[i % 3]
                    flaky[unit.name] = keep_ends(
                        f"passed once, then failed on rerun {i + 1} ({how} order, "
                        f"PYTHONHASHSEED={i + 1}):\n{fate[1]}",
                        _DETAIL_CHARS,
                    )
        self.timings["reruns"] = time.monotonic() - start
        return flaky


def validate(
    candidate: Candidate,
    project: Project,
    reruns: int = 3,
    timeout: float = 30.0,
    *,
    test_timeout: float = 10.0,
    jobs: int | None = None,
    runner: RunTests = run_tests,
    extra_files: Mapping[str, str] | None = None,
    ini_text: str | None = None,
    limits: Limits | None = None,
) -> Validation:
    """Run a candidate in the sandbox and give every test in it a verdict.

    ``reruns`` fresh processes must pass after the first run; ``timeout`` is
    the wall limit of one process, ``test_timeout`` of one test; ``jobs``
    processes run at once (default: up to 2 cores). ``extra_files``,
    ``ini_text`` and ``limits`` (which then also sets the wall timeout) are
    handed to :func:`~pytest_ruvqe.generate.sandbox.run_tests`.
    """
    start = time.monotonic()
    parsed = parse_candidate(candidate.code)
    verdicts: dict[str, Verdict] = {}
    for name in parsed.unparsable:
        verdicts[name] = Verdict(name, Reason.SYNTAX, detail=parsed.error)
    if not parsed.units:
        error = parsed.error or "no test functions (def test_...) found"
        return Validation(candidate, tuple(verdicts.values()), None, error)
    validator = _Validator(
        candidate,
        project,
        reruns,
        timeout,
        test_timeout,
        jobs if jobs is not None else min(2, os.cpu_count() or 1),
        runner,
        {"extra_files": extra_files, "ini_text": ini_text, "limits": limits},
    )
    units = parsed.units
    outside, inside = _refused(candidate, parsed.code, project, units)
    for unit in units:
        refusal = outside or inside.get(unit.name)
        if refusal:
            verdicts[unit.name] = Verdict(unit.name, Reason.UNSAFE, detail=refusal)
        elif not unit.asserts:
            verdicts[unit.name] = Verdict(
                unit.name, Reason.NO_ASSERT, detail=_NO_ASSERT
            )
    runnable = [u for u in units if u.name not in verdicts]
    if runnable:
        validator.judge(parsed.code, runnable, units, verdicts)
    ordered = tuple(verdicts[u.name] for u in units) + tuple(
        verdicts[n] for n in parsed.unparsable
    )
    accepted = [u for u in units if verdicts[u.name].reason is Reason.ACCEPTED]
    accepted_code = only_units(parsed.code, accepted, units) if accepted else None
    validator.timings["total"] = time.monotonic() - start
    error = "\n".join(e for e in (parsed.error, outside, validator.module_error) if e)
    return Validation(candidate, ordered, accepted_code, error, dict(validator.timings))


_KILLS = "reaches no new line but kills {} of the target's mutants the others miss"


def _aim(target: Target, lines: set[int], arcs: set[Arc]) -> str:
    """What a test without gain should have reached instead."""
    missing = sorted(target.missing_lines - lines)
    branches = sorted(target.missing_branches - arcs)
    text = (
        "passes but reaches no line or branch that the suite or an earlier "
        "test here did not reach"
    )
    if missing:
        shown = ", ".join(map(str, missing[:20]))
        text += f"; still missing lines: {shown}"
    if branches:
        shown = ", ".join(f"{a}->{b}" for a, b in branches[:20])
        text += f"; still missing branches: {shown}"
    return text


def _credit_gain(
    candidate: Candidate,
    runnable: Sequence[Unit],
    covered: dict[str, Covered],
    verdicts: dict[str, Verdict],
    imported: Covered,
) -> None:
    """In source order, accept passing units that reach something not reached
    yet, or kill mutants of the target that the units before them do not.

    What importing the target ran (``def`` lines of a module the suite never
    imported) is credited to the first test accepted for what it reaches,
    never accepted on its own.
    """
    target = candidate.target
    kills = dict(candidate.kills)
    branch_points = branch_lines(target.file)
    seen_lines: set[int] = set(target.covered_lines)
    seen_arcs: set[Arc] = set(target.covered_branches)
    for unit in runnable:
        if unit.name in verdicts:
            continue
        got = covered.get(unit.name, Covered())
        new_lines = frozenset(got.lines - seen_lines)
        new_arcs = frozenset(
            a for a in got.arcs if a[0] in branch_points and a not in seen_arcs
        )
        if not new_lines and not new_arcs:
            killing = kills.get(unit.name, 0)
            verdicts[unit.name] = (
                Verdict(unit.name, Reason.ACCEPTED, detail=_KILLS.format(killing))
                if killing
                else Verdict(
                    unit.name,
                    Reason.NO_GAIN,
                    detail=_aim(target, seen_lines, seen_arcs),
                )
            )
            continue
        if not any(v.new_lines or v.new_branches for v in verdicts.values()):
            new_lines |= imported.lines - seen_lines
            new_arcs |= {
                a for a in imported.arcs if a[0] in branch_points and a not in seen_arcs
            }
        seen_lines |= new_lines
        seen_arcs |= new_arcs
        verdicts[unit.name] = Verdict(unit.name, Reason.ACCEPTED, new_lines, new_arcs)

"""The mutation host: one pytest process that collects once and forks per mutant.

Run as ``python -m pytest_ruvqe.analyse.mutation.host PLAN.json``. It collects
the tests, runs them once in a forked child with a line tracer (baseline: per
test lines and durations), refuses if any fails, then judges each mutant in a
forked child that swaps one code object and runs only the tests that reach the
mutated lines. Results go to the store as they come, so an interrupted run
keeps every finished result and nothing half-written.
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pytest_ruvqe.analyse.mutation import pool
from pytest_ruvqe.analyse.mutation.child import silence
from pytest_ruvqe.analyse.mutation.operators import find_mutants
from pytest_ruvqe.analyse.mutation.patching import LineTracer
from pytest_ruvqe.analyse.mutation.types import (
    ERROR,
    NO_TESTS,
    NOT_RUN,
    Mutant,
    MutationRefused,
)
from pytest_ruvqe.shard import MeasuredCosts, Shard, deal

HOST_ENV = "RUVQE_MUTATION_HOST"  # set in the host: the plugin stays off there
OpenCache = Callable[[Path], "pool.ResultCache"]


class MutationHost:
    """pytest plugin that replaces the test loop with the mutation loop."""

    def __init__(
        self, plan: dict[str, Any], open_cache: OpenCache | None = None
    ) -> None:
        self.plan = plan
        self.open_cache = open_cache
        self.rootdir = Path(plan["rootdir"])
        self.output: dict[str, Any] | None = None
        self.failed: list[str] = []
        self.collect_errors: list[str] = []
        self.started = time.monotonic()
        # lines of the mutated files that run while tests are collected (module
        # bodies, and functions they call): mutants there act at import time
        self.import_tracer: LineTracer | None = LineTracer(
            {os.path.realpath(self.rootdir / rel): rel for rel in plan["files"]}
        )
        self.import_lines: dict[str, list[int]] = {}
        self.import_tracer.start()

    def _cache(self) -> pool.ResultCache | None:
        store_dir = self.plan.get("store_dir")
        if not store_dir or self.open_cache is None:
            return None
        return self.open_cache(Path(store_dir))

    def _stop_import_tracer(self) -> None:
        if self.import_tracer is not None:
            self.import_tracer.stop()
            self.import_lines = self.import_tracer.take()
            self.import_tracer = None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Collection is over: what ran so far ran at import time."""
        self._stop_import_tracer()

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """Remember modules that did not collect."""
        if report.failed:
            self.collect_errors.append(report.nodeid or "<session>")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Remember failing tests (of the baseline, or of one mutant's child)."""
        if report.failed and report.nodeid not in self.failed:
            self.failed.append(report.nodeid)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        """Run the baseline and the mutants instead of the normal test loop."""
        try:
            self.output = self._run(session)
        except MutationRefused as exc:
            self.output = {"refused": str(exc)}
        return True

    # -- the run ---------------------------------------------------------------

    def _run(self, session: pytest.Session) -> dict[str, Any]:
        self._stop_import_tracer()
        items = self._collected(session)
        texts, mutants, warnings = self._mutants()
        shard = self.plan.get("shard")
        # --ruvqe-shard: the same partition on every shard
        mutants, dealt = deal(
            mutants,
            Shard(*shard) if shard else None,
            key=lambda m: m.id,
            costs=MeasuredCosts(self.plan.get("shard_costs") or {}),
        )
        mutants = [self._at_import(m) for m in mutants]
        targets = {os.path.realpath(self.rootdir / rel): rel for rel in texts}
        deadline = self.started + float(self.plan.get("time_budget", 600.0))
        baseline = self._baseline(items, targets, deadline)
        _refuse_unfinished(baseline, len(items), deadline - self.started)
        _refuse_failing(baseline["failed"])
        seconds: dict[str, float] = baseline["seconds"]
        chosen = self._select(mutants, items, baseline["lines"], seconds)
        self._sample(chosen)
        runner = pool.MutantPool(
            host=self,
            texts=texts,
            rootdir=self.rootdir,
            modules=_modules_of(targets),
            seconds=seconds,
            jobs=int(self.plan.get("jobs", 1)),
            cache=self._cache(),
            pytest_args=list(self.plan.get("pytest_args", [])),
            deadline=deadline,
            all_tests=items,
        )
        judged, stopped = runner.run(chosen.selected)
        chosen.results.update(judged)
        warnings.extend(runner.warnings)
        return {
            "mutants": [
                {**asdict(m), **chosen.results.get(m.id, {"status": NOT_RUN})}
                for m in mutants
                if m.id in chosen.results
            ],
            "total": len(mutants),
            "sampled": chosen.sampled,
            "stopped_by_budget": stopped,
            "seconds": time.monotonic() - self.started,
            "baseline_seconds": baseline["wall"],
            "tests": len(items),
            "warnings": warnings,
            "import_judging": runner.import_judging,
            "dealt": dealt.as_dict() if dealt else None,
        }

    def _collected(self, session: pytest.Session) -> list[pytest.Item]:
        """The collected tests; refused if a module did not collect or none did."""
        if self.collect_errors:
            raise MutationRefused(
                "tests do not collect before mutation: "
                + ", ".join(self.collect_errors)
                + "; fix the import errors first"
            )
        items = list(session.items)
        if not items:
            raise MutationRefused("no tests were collected; nothing can kill a mutant")
        return items

    def _select(
        self,
        mutants: list[Mutant],
        items: list[pytest.Item],
        per_test: dict[str, dict[str, list[int]]],
        seconds: dict[str, float],
    ) -> _Selection:
        """Each mutant (diff mode: on a changed line) with its tests, fastest first."""
        by_id = {item.nodeid: item for item in items}
        changed = self.plan.get("changed")
        chosen = _Selection()
        for mutant in mutants:
            if changed is not None and not _lines_of(mutant) & set(
                changed.get(mutant.file, ())
            ):
                continue
            tests = _covering(mutant, per_test)
            if not tests:
                chosen.results[mutant.id] = {"status": NO_TESTS}
                continue
            tests.sort(key=lambda nodeid: (seconds.get(nodeid, 0.0), nodeid))
            chosen.selected.append((mutant, [by_id[t] for t in tests if t in by_id]))
        return chosen

    def _sample(self, chosen: _Selection) -> None:
        """Keep a seeded random sample of the plan's size; the rest are not run."""
        sample = self.plan.get("sample")
        if sample is None or len(chosen.selected) <= sample:
            return
        rng = random.Random(self.plan.get("seed", 0))
        keep = set(rng.sample(range(len(chosen.selected)), sample))
        for i, (mutant, _) in enumerate(chosen.selected):
            if i not in keep:
                chosen.results[mutant.id] = {"status": NOT_RUN, "detail": "not sampled"}
        chosen.selected = [s for i, s in enumerate(chosen.selected) if i in keep]
        chosen.sampled = True

    def _at_import(self, mutant: Mutant) -> Mutant:
        """A mutant on a line that ran during import is judged in a fresh process."""
        lines = self.import_lines.get(mutant.file, ())
        if mutant.runtime and _lines_of(mutant) & set(lines):
            return replace(mutant, runtime=False)
        return mutant

    def _mutants(self) -> tuple[dict[str, str], list[Mutant], list[str]]:
        texts: dict[str, str] = {}
        mutants: list[Mutant] = []
        warnings: list[str] = []
        for rel in dict.fromkeys(self.plan["files"]):
            try:
                text = (self.rootdir / rel).read_text(encoding="utf-8")
                found = find_mutants(text, rel)
            except (OSError, UnicodeDecodeError, SyntaxError, ValueError) as exc:
                warnings.append(f"not mutated {rel}: {exc}")
                continue
            texts[rel] = text
            mutants.extend(found)
        return texts, mutants, warnings

    def _baseline(
        self, items: list[pytest.Item], targets: dict[str, str], deadline: float
    ) -> dict[str, Any]:
        """Run every test once in a forked child, tracing lines per test; the
        child stops at the time budget's ``deadline``."""
        fd, out = tempfile.mkstemp(prefix="ruvqe-baseline-", suffix=".json")
        os.close(fd)
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:  # child: run, write, leave without cleanup of the parent's state
            code = 3
            try:
                silence()
                tracer = LineTracer(targets)
                lines: dict[str, dict[str, list[int]]] = {}
                seconds: dict[str, float] = {}
                for i, item in enumerate(items):
                    if time.monotonic() > deadline:
                        break
                    nxt = items[i + 1] if i + 1 < len(items) else None
                    begin = time.perf_counter()
                    tracer.start()
                    item.ihook.pytest_runtest_protocol(item=item, nextitem=nxt)
                    tracer.stop()
                    seconds[item.nodeid] = time.perf_counter() - begin
                    lines[item.nodeid] = tracer.take()
                payload = {"lines": lines, "seconds": seconds, "failed": self.failed}
                Path(out).write_text(json.dumps(payload), encoding="utf-8")
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        try:
            if os.waitstatus_to_exitcode(status) != 0:
                raise MutationRefused(
                    "the test run before mutation crashed; run the tests plainly "
                    "to see why"
                )
            data: dict[str, Any] = json.loads(Path(out).read_text(encoding="utf-8"))
        finally:
            os.unlink(out)
        data["wall"] = time.monotonic() - started
        return data


@dataclass
class _Selection:
    """Mutants to judge with their tests, and results known without running."""

    selected: list[tuple[Mutant, list[pytest.Item]]] = field(default_factory=list)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    sampled: bool = False


def _refuse_unfinished(baseline: dict[str, Any], tests: int, budget: float) -> None:
    """No mutant can be judged on tests that did not run before mutation."""
    ran = len(baseline["seconds"])
    if ran < tests:
        raise MutationRefused(
            f"the time budget of {budget:.0f} s ran out in the test run before "
            f"mutation ({ran} of {tests} tests ran, traced line by line); raise "
            "--ruvqe-mutation-time-budget, or run fewer tests with it (a test "
            "directory, -k)"
        )


def _refuse_failing(failing: list[str]) -> None:
    """Mutation needs a green baseline: refuse, naming the failing tests."""
    if failing:
        raise MutationRefused(
            f"{len(failing)} test(s) fail before mutation: "
            + ", ".join(failing[:10])
            + ("" if len(failing) <= 10 else ", ...")
            + "; fix or deselect them (-k, --deselect) and run again"
        )


def _lines_of(mutant: Mutant) -> set[int]:
    return set(range(mutant.line, mutant.end_line + 1))


def _covering(mutant: Mutant, per_test: dict[str, dict[str, list[int]]]) -> list[str]:
    """Tests that run a line of the mutant (import-time mutants: of its file)."""
    span = _lines_of(mutant)
    found = []
    for nodeid, files in per_test.items():
        lines = files.get(mutant.file)
        if lines and (not mutant.runtime or span.intersection(lines)):
            found.append(nodeid)
    return found


def _modules_of(targets: dict[str, str]) -> dict[str, ModuleType]:
    """Imported modules by relative path of their file."""
    found: dict[str, ModuleType] = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if path and os.path.realpath(path) in targets:
            found[targets[os.path.realpath(path)]] = module
    return found


def main(argv: list[str] | None = None, open_cache: OpenCache | None = None) -> int:
    """Entry point: read the plan, run pytest with the host plugin, write results.

    ``open_cache`` opens the plan's ``store_dir`` as the cache of judged
    mutants; without it nothing is cached.
    """
    args = sys.argv[1:] if argv is None else argv
    plan = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    os.environ[HOST_ENV] = "1"
    host = MutationHost(plan, open_cache)
    pytest_args = [
        *plan.get("pytest_args", []),
        "-q",
        "-s",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
    ]
    try:
        rc = pytest.main(pytest_args, plugins=[host])
        output = host.output or {
            "refused": f"pytest stopped before mutation (exit code {int(rc)})"
        }
    except Exception as exc:  # anything here is reported, not raised into the caller
        output = {"refused": f"mutation host failed: {exc!r}", "status": ERROR}
    Path(plan["out"]).write_text(json.dumps(output), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Run untrusted generated code in a separate, guarded process with coverage on.

Generated tests are untrusted code. Each run happens in a fresh interpreter
(:mod:`.child`, run as a script) that:

- runs in a new temporary directory (its cwd, ``HOME`` and ``TMPDIR``), removed after;
- has an allowlisted environment (no API keys, no ``PYTHONPATH`` of the user);
- lowers its own CPU, address-space, file-size and open-file limits before any
  untrusted code runs, and cannot raise them again;
- installs an audit hook (``sys.addaudithook``) that refuses network
  (connect/bind/sendto/DNS, loopback included), process creation (fork,
  subprocess, exec, spawn, system), signals to other processes, ``setrlimit``,
  writes, removals, renames and chmods outside the temporary directory, and
  reads in the user's home outside the project and the Python installation,
  of credential files (``.env``, ``*.pem``, ...) and of other processes'
  ``/proc`` entries (test output may reach a model's prompt);
- is the leader of its own process group, killed as a group on the wall timeout
  (counted from when its guard is up) or when its directory grows too big;
- writes its result through a file opened before untrusted code ran, marked with
  a one-time token given on stdin; no result (``os._exit``, a crash, a kill)
  means the run is ``crashed``.

The audit hook is a guard against code that misbehaves by accident or by naive
intent, which is what model output does; it is not a boundary against code that
attacks the interpreter (``ctypes``, native extensions). The process limits, the
process group, the timeout and the clean environment still hold for those.

Two entry points, both returning plain data:

``run_tests(project, test_code, target_file, ...) -> SandboxResult``
    Writes ``test_code`` to ``test_ruvqe_candidate.py`` in the temporary
    directory and runs pytest on it (plugin autoload off, no cache, no user
    ini). ``order`` selects and orders tests by item name (``test_a[1]``,
    ``TestK::test_b``) or by unit name (``test_a`` selects all its
    parametrizations, ``TestK`` all its methods); ``test_timeout`` arms a
    per-test alarm; ``hash_seed`` sets ``PYTHONHASHSEED``; ``extra_files``
    (name -> text) go beside the test file (a ``conftest.py`` with the
    suite's fixtures); ``ini_text`` replaces the empty ``[pytest]`` ini (the
    suite's ``filterwarnings``, markers). Coverage of
    ``target_file`` is returned per test name and in total
    (``SandboxResult.covered``).

``run_probe(project, setup_code, calls, target_file, ...) -> ProbeResult``
    Executes ``setup_code`` once (imports, fixtures as plain objects), then
    evaluates each expression of ``calls`` in that namespace, each under its
    own alarm (``call_timeout``) and its own coverage context. Per call: status
    (``returned`` / ``raised`` / ``timeout`` / ``crashed``), the ``repr`` of
    the value and whether ``eval(repr(value)) == value`` in that namespace
    (``faithful``), the qualified exception type and message, and the lines
    and arcs of ``target_file`` that this call alone executed. A call that
    hangs in native code or ends the process is skipped and the others run
    again. This is what a characterization search needs to keep inputs that
    reach new code and to emit regression assertions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypedDict, get_args

from pytest_ruvqe.generate.sandbox.process import (
    Limits,
    RawRun,
    SandboxError,
    clean_env,
    execute,
)
from pytest_ruvqe.generate.types import (
    CallStatus,
    Project,
    RunStatus,
    TestOutcome,
)
from pytest_ruvqe.measure.types import Arc

__all__ = [
    "Covered",
    "Limits",
    "ProbeCall",
    "ProbeResult",
    "SandboxError",
    "SandboxResult",
    "TestRun",
    "clean_env",
    "run_probe",
    "run_tests",
]

TEST_FILE_NAME = "test_ruvqe_candidate.py"
# the child's words for outcomes, read back into the closed sets
_TEST_OUTCOMES: dict[str, TestOutcome] = {o: o for o in get_args(TestOutcome)}
_CALL_STATUSES: dict[str, CallStatus] = {s: s for s in get_args(CallStatus)}


@dataclass(frozen=True)
class Covered:
    """Lines and arcs of the target file executed by one test, call or run."""

    lines: frozenset[int] = frozenset()
    arcs: frozenset[Arc] = frozenset()

    def __or__(self, other: Covered) -> Covered:
        return Covered(self.lines | other.lines, self.arcs | other.arcs)


@dataclass(frozen=True)
class TestRun:
    """Outcome of one test in one sandboxed pytest run."""

    __test__ = False

    name: str
    outcome: TestOutcome
    detail: str = ""
    duration: float = 0.0
    violations: tuple[str, ...] = ()  # refused operations while this test ran
    memory: bool = False  # ran out of memory

    @property
    def unsafe(self) -> bool:
        return bool(self.violations) or self.memory


@dataclass(frozen=True)
class SandboxResult:
    """What a sandboxed pytest run reported, or why it reported nothing."""

    status: RunStatus
    tests: Mapping[str, TestRun] = field(default_factory=dict)
    coverage: Mapping[str, Covered] = field(default_factory=dict)  # per test name
    import_coverage: Covered = Covered()  # executed while importing/collecting
    collect_errors: tuple[str, ...] = ()
    violations: tuple[str, ...] = ()  # refused outside of any test (collection)
    exit_code: int | None = None
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    killed_reason: str = ""
    duration: float = 0.0

    @property
    def covered(self) -> Covered:
        """Everything the run executed in the target file."""
        total = self.import_coverage
        for part in self.coverage.values():
            total = total | part
        return total


@dataclass(frozen=True)
class ProbeCall:
    """Result of evaluating one call expression of a probe."""

    expr: str
    status: CallStatus
    repr: str = ""
    faithful: bool = False  # eval(repr(value)) == value
    needs: str = ""  # the import the repr needs to evaluate, if any
    value_type: str = ""
    exc_type: str = ""  # "module.QualName" of the raised exception
    exc_message: str = ""
    covered: Covered = Covered()
    violations: tuple[str, ...] = ()
    duration: float = 0.0
    # an object whose repr does not give it back: its public attributes that
    # do ([name, repr]), and its length when it has one
    fields: tuple[tuple[str, str], ...] = ()
    length: int | None = None


@dataclass(frozen=True)
class ProbeResult:
    """What a sandboxed probe reported."""

    status: RunStatus
    calls: tuple[ProbeCall, ...] = ()
    setup_error: str = ""
    setup_coverage: Covered = Covered()
    violations: tuple[str, ...] = ()
    stdout: str = ""
    stderr: str = ""
    killed_reason: str = ""
    duration: float = 0.0


class _ProcessFields(TypedDict):
    status: RunStatus
    stdout: str
    stderr: str
    killed_reason: str
    duration: float


def _process(raw: RawRun) -> _ProcessFields:
    """What every sandboxed process reports, whatever it ran."""
    return {
        "status": raw.status,
        "stdout": raw.stdout,
        "stderr": raw.stderr,
        "killed_reason": raw.killed_reason,
        "duration": raw.duration,
    }


def _covered(entry: Mapping[str, Any] | None) -> Covered:
    if not entry:
        return Covered()
    return Covered(
        frozenset(int(n) for n in entry.get("lines", ())),
        frozenset((int(a), int(b)) for a, b in entry.get("arcs", ())),
    )


def _violations(payload: Mapping[str, Any]) -> tuple[dict[str, list[str]], list[str]]:
    """Refused operations by the test or call they happened in, and the others."""
    by_name: dict[str, list[str]] = {}
    loose: list[str] = []
    for where, what in payload.get("violations", ()):
        (by_name.setdefault(where, []) if where else loose).append(what)
    return by_name, loose


def _test_runs(
    payload: Mapping[str, Any], violations: Mapping[str, list[str]]
) -> dict[str, TestRun]:
    tests = {}
    for name, entry in payload.get("tests", {}).items():
        outcome: TestOutcome = "timeout"
        if not entry.get("timeout"):
            outcome = _TEST_OUTCOMES.get(entry.get("outcome", "error"), "error")
        tests[name] = TestRun(
            name=name,
            outcome=outcome,
            detail=entry.get("detail", ""),
            duration=float(entry.get("duration", 0.0)),
            violations=tuple(violations.get(name, ())),
            memory=bool(entry.get("memory")),
        )
    return tests


def run_tests(
    project: Project,
    test_code: str,
    target_file: Path,
    *,
    timeout: float = 30.0,
    test_timeout: float | None = None,
    order: Sequence[str] | None = None,
    limits: Limits | None = None,
    hash_seed: int | None = None,
    extra_files: Mapping[str, str] | None = None,
    ini_text: str | None = None,
) -> SandboxResult:
    """Run pytest on ``test_code`` in a sandbox; outcomes and coverage per test."""
    # CPU time also counts the start (imports), which the wall clock does not
    limits = limits or Limits(timeout=timeout, cpu_seconds=int(timeout) + 5)
    config = {
        "mode": "pytest",
        "test_file": TEST_FILE_NAME,
        "order": list(order) if order is not None else None,
        "test_timeout": test_timeout or 0,
    }
    files = {**(extra_files or {}), TEST_FILE_NAME: test_code}
    raw = execute(project, target_file, config, files, limits, hash_seed, ini_text)
    if raw.payload is None:
        return SandboxResult(returncode=raw.returncode, **_process(raw))
    payload = raw.payload
    by_test, loose = _violations(payload)
    coverage = payload.get("coverage", {})
    return SandboxResult(
        tests=_test_runs(payload, by_test),
        coverage={k: _covered(v) for k, v in coverage.items() if k},
        import_coverage=_covered(coverage.get("")),
        collect_errors=tuple(payload.get("collect_errors", ())),
        violations=tuple(loose),
        exit_code=payload.get("exit_code"),
        returncode=raw.returncode,
        **_process(raw),
    )


# a probe's call is taken for hung after this many times its alarm, plus a floor
_STALL_FACTOR, _STALL_FLOOR = 4.0, 1.0
_RETRY_FLOOR = 0.5  # seconds a probe must have left to run its other calls again


def run_probe(
    project: Project,
    setup_code: str,
    calls: Sequence[str],
    target_file: Path,
    *,
    timeout: float = 30.0,
    call_timeout: float = 2.0,
    limits: Limits | None = None,
    retries: int = 3,
    groups: Sequence[int] = (),
) -> ProbeResult:
    """Evaluate call expressions after ``setup_code``; result and coverage per call.

    A call that hangs where the alarm cannot reach (native code) or ends the
    process is marked ``timeout`` / ``crashed`` and the other calls run again
    without it, up to ``retries`` times, in the time ``timeout`` has left:
    a probe never runs much past it, however many calls hang.
    """
    # CPU time also counts the start (imports), which the wall clock does not;
    # a call still running well past its alarm is hung in native code
    limits = limits or Limits(
        timeout=timeout,
        cpu_seconds=int(timeout) + 5,
        stall=_STALL_FACTOR * call_timeout + _STALL_FLOOR,
    )
    config = {
        "mode": "probe",
        "setup": setup_code,
        "calls": list(calls),
        "call_timeout": call_timeout,
        "groups": list(groups),
    }
    raw = execute(project, target_file, config, {}, limits, None)
    if raw.payload is not None:
        return _probe_result(raw, raw.payload, calls)
    bad = raw.progress
    left = limits.timeout - raw.duration
    if bad is None or not 0 <= bad < len(calls) or retries <= 0 or left < _RETRY_FLOOR:
        return ProbeResult(**_process(raw))
    others = [c for i, c in enumerate(calls) if i != bad]
    rest = run_probe(
        project,
        setup_code,
        others,
        target_file,
        timeout=left,
        call_timeout=call_timeout,
        limits=replace(limits, timeout=left),
        retries=retries - 1,
        groups=[g for i, g in enumerate(groups) if i != bad],
    )
    if len(rest.calls) != len(others):
        return rest
    status: CallStatus = "timeout" if raw.status == "timeout" else "crashed"
    lost = ProbeCall(expr=calls[bad], status=status, exc_message=raw.killed_reason)
    merged = (*rest.calls[:bad], lost, *rest.calls[bad:])
    return replace(rest, calls=merged, duration=rest.duration + raw.duration)


def _probe_result(
    raw: RawRun, payload: dict[str, Any], calls: Sequence[str]
) -> ProbeResult:
    by_call, loose = _violations(payload)
    coverage = payload.get("coverage", {})
    results = []
    for index, (expr, entry) in enumerate(
        zip(calls, payload.get("calls", ()), strict=False)
    ):
        key = f"call:{index}"
        results.append(
            ProbeCall(
                expr=expr,
                status=_CALL_STATUSES.get(entry.get("status", "raised"), "raised"),
                repr=entry.get("repr", ""),
                faithful=bool(entry.get("faithful")),
                needs=entry.get("needs", ""),
                value_type=entry.get("type", ""),
                exc_type=entry.get("exc_type", ""),
                exc_message=entry.get("exc_message", ""),
                fields=tuple(
                    (str(n), str(r)) for n, r in entry.get("fields", ()) or ()
                ),
                length=entry.get("length")
                if isinstance(entry.get("length"), int)
                else None,
                covered=_covered(coverage.get(key)),
                violations=tuple(by_call.get(key, ())),
                duration=float(entry.get("duration", 0.0)),
            )
        )
    return ProbeResult(
        calls=tuple(results),
        setup_error=payload.get("setup_error", ""),
        setup_coverage=_covered(coverage.get("setup")) | _covered(coverage.get("")),
        violations=tuple(loose + by_call.get("setup", [])),
        **_process(raw),
    )

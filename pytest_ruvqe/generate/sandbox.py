"""Run untrusted generated code in a separate, guarded process with coverage on.

Generated tests are untrusted code. Each run happens in a fresh interpreter
(``_sandbox_child.py``) that:

- runs in a new temporary directory (its cwd, ``HOME`` and ``TMPDIR``), removed after;
- has an allowlisted environment (no API keys, no ``PYTHONPATH`` of the user);
- lowers its own CPU, address-space, file-size and open-file limits before any
  untrusted code runs, and cannot raise them again;
- installs an audit hook (``sys.addaudithook``) that refuses network
  (connect/bind/sendto/DNS, loopback included), process creation (fork,
  subprocess, exec, spawn, system), signals to other processes, ``setrlimit``,
  and writes, removals, renames and chmods outside the temporary directory;
- is the leader of its own process group, killed as a group on the wall timeout;
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
    per-test alarm; ``hash_seed`` sets ``PYTHONHASHSEED``. Coverage of
    ``target_file`` is returned per test name and in total
    (``SandboxResult.covered``).

``run_probe(project, setup_code, calls, target_file, ...) -> ProbeResult``
    Executes ``setup_code`` once (imports, fixtures as plain objects), then
    evaluates each expression of ``calls`` in that namespace, each under its
    own alarm (``call_timeout``) and its own coverage context. Per call: status
    (``returned`` / ``raised`` / ``timeout``), the ``repr`` of the value and
    whether ``eval(repr(value)) == value`` in that namespace (``faithful``),
    the qualified exception type and message, and the lines and arcs of
    ``target_file`` that this call alone executed. This is what a
    characterization search needs to keep inputs that reach new code and to
    emit regression assertions.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_ruvqe.generate.model import Project
from pytest_ruvqe.measure.model import Arc

_CHILD = Path(__file__).with_name("_sandbox_child.py")
TEST_FILE_NAME = "test_ruvqe_candidate.py"
_OUTPUT_CHARS = 4000
# variables a test run may legitimately need; everything else (keys!) is dropped
_ENV_ALLOW = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TERM", "SYSTEMROOT")


class SandboxError(Exception):
    """The sandbox itself could not run (not the code under test failing)."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed process."""

    timeout: float = 30.0  # wall seconds for the whole process
    cpu_seconds: int = 30
    memory_bytes: int = 2 * 1024**3  # address space
    file_bytes: int = 64 * 1024**2  # largest file the process may write


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
    outcome: str  # passed / failed / error / skipped / timeout
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

    status: str  # ok / timeout / crashed
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
    status: str  # returned / raised / timeout
    repr: str = ""
    faithful: bool = False  # eval(repr(value)) == value
    value_type: str = ""
    exc_type: str = ""  # "module.QualName" of the raised exception
    exc_message: str = ""
    covered: Covered = Covered()
    violations: tuple[str, ...] = ()
    duration: float = 0.0


@dataclass(frozen=True)
class ProbeResult:
    """What a sandboxed probe reported."""

    status: str  # ok / timeout / crashed
    calls: tuple[ProbeCall, ...] = ()
    setup_error: str = ""
    setup_coverage: Covered = Covered()
    violations: tuple[str, ...] = ()
    stdout: str = ""
    stderr: str = ""
    killed_reason: str = ""
    duration: float = 0.0


def clean_env(workdir: Path, hash_seed: int | None = None) -> dict[str, str]:
    """The environment of a sandboxed process: allowlisted names only."""
    env = {k: os.environ[k] for k in _ENV_ALLOW if k in os.environ}
    env.update(
        HOME=str(workdir),
        TMPDIR=str(workdir / ".tmp"),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONIOENCODING="utf-8",
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
        PYTHONHASHSEED=str(hash_seed if hash_seed is not None else 0),
        NO_COLOR="1",
        COLUMNS="100",
    )
    return env


def trim(text: str, limit: int = _OUTPUT_CHARS) -> str:
    """Keep the head and the tail of a long text."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return text[:half] + "\n...[trimmed]...\n" + text[-half:]


@dataclass(frozen=True)
class _Raw:
    payload: dict[str, Any] | None
    status: str
    returncode: int | None
    stdout: str
    stderr: str
    killed_reason: str
    duration: float


def _execute(
    project: Project,
    target_file: Path,
    config: dict[str, Any],
    files: Mapping[str, str],
    limits: Limits,
    hash_seed: int | None,
) -> _Raw:
    """Run the child on ``config`` in a fresh directory; collect its result."""
    base = Path(tempfile.mkdtemp(prefix="ruvqe-sandbox-"))
    try:
        workdir = base / "work"
        (workdir / ".tmp").mkdir(parents=True)
        for name, text in files.items():
            (workdir / name).write_text(text, encoding="utf-8")
        ini = base / "pytest.ini"
        ini.write_text("[pytest]\n", encoding="utf-8")
        token = secrets.token_hex(16)
        config = {
            **config,
            "workdir": str(workdir),
            "ini_file": str(ini),
            "result_file": str(base / "result.bin"),
            "target_file": str(Path(target_file).resolve()),
            "import_roots": [str(p) for p in project.import_roots],
            "cpu_seconds": limits.cpu_seconds,
            "memory_bytes": limits.memory_bytes,
            "file_bytes": limits.file_bytes,
        }
        cfg_file = base / "config.json"
        cfg_file.write_text(json.dumps(config), encoding="utf-8")
        return _spawn(base, workdir, cfg_file, token, limits, hash_seed)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _spawn(
    base: Path,
    workdir: Path,
    cfg_file: Path,
    token: str,
    limits: Limits,
    hash_seed: int | None,
) -> _Raw:
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-s", "-B", str(_CHILD), str(cfg_file)],
        cwd=workdir,
        env=clean_env(workdir, hash_seed),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # own process group, so the kill reaches all of it
    )
    killed = ""
    try:
        out, err = proc.communicate(token.encode() + b"\n", timeout=limits.timeout)
    except subprocess.TimeoutExpired:
        killed = "timeout"
        _kill_group(proc.pid)
        out, err = proc.communicate()
    finally:
        _kill_group(proc.pid)  # stragglers that escaped the guard, if any
    duration = time.monotonic() - start
    rc = proc.returncode
    if not killed and rc is not None and rc < 0:
        names = {
            int(signal.SIGXCPU): "cpu",
            int(signal.SIGKILL): "killed",
            int(signal.SIGSEGV): "crash",
        }
        killed = names.get(-rc, f"signal {-rc}")
    payload = _read_result(base / "result.bin", token)
    status = "ok"
    if killed == "timeout":
        status = "timeout"
    elif payload is None:
        status = "crashed"
        killed = killed or f"exited with {rc} without a result"
    return _Raw(
        payload,
        status,
        rc,
        trim(out.decode("utf-8", "replace")),
        trim(err.decode("utf-8", "replace")),
        killed,
        duration,
    )


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _read_result(path: Path, token: str) -> dict[str, Any] | None:
    try:
        raw = path.read_bytes()
        size = int(raw[:16])
        payload = json.loads(raw[16 : 16 + size])
    except (OSError, ValueError):
        return None
    if not isinstance(payload, dict) or payload.get("token") != token:
        return None
    return payload


def _covered(entry: Mapping[str, Any] | None) -> Covered:
    if not entry:
        return Covered()
    return Covered(
        frozenset(int(n) for n in entry.get("lines", ())),
        frozenset((int(a), int(b)) for a, b in entry.get("arcs", ())),
    )


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
) -> SandboxResult:
    """Run pytest on ``test_code`` in a sandbox; outcomes and coverage per test."""
    limits = limits or Limits(timeout=timeout, cpu_seconds=max(1, int(timeout) + 1))
    config = {
        "mode": "pytest",
        "test_file": TEST_FILE_NAME,
        "order": list(order) if order is not None else None,
        "test_timeout": test_timeout or 0,
    }
    files = {**(extra_files or {}), TEST_FILE_NAME: test_code}
    raw = _execute(project, target_file, config, files, limits, hash_seed)
    if raw.payload is None:
        return SandboxResult(
            status=raw.status,
            returncode=raw.returncode,
            stdout=raw.stdout,
            stderr=raw.stderr,
            killed_reason=raw.killed_reason,
            duration=raw.duration,
        )
    payload = raw.payload
    by_test: dict[str, list[str]] = {}
    loose: list[str] = []
    for where, what in payload.get("violations", ()):
        (by_test.setdefault(where, []) if where else loose).append(what)
    tests = {}
    for name, entry in payload.get("tests", {}).items():
        outcome = "timeout" if entry.get("timeout") else entry.get("outcome", "error")
        tests[name] = TestRun(
            name=name,
            outcome=outcome,
            detail=entry.get("detail", ""),
            duration=float(entry.get("duration", 0.0)),
            violations=tuple(by_test.get(name, ())),
            memory=bool(entry.get("memory")),
        )
    coverage = payload.get("coverage", {})
    return SandboxResult(
        status=raw.status,
        tests=tests,
        coverage={k: _covered(v) for k, v in coverage.items() if k},
        import_coverage=_covered(coverage.get("")),
        collect_errors=tuple(payload.get("collect_errors", ())),
        violations=tuple(loose),
        exit_code=payload.get("exit_code"),
        returncode=raw.returncode,
        stdout=raw.stdout,
        stderr=raw.stderr,
        killed_reason=raw.killed_reason,
        duration=raw.duration,
    )


def run_probe(
    project: Project,
    setup_code: str,
    calls: Sequence[str],
    target_file: Path,
    *,
    timeout: float = 30.0,
    call_timeout: float = 2.0,
    limits: Limits | None = None,
) -> ProbeResult:
    """Evaluate call expressions after ``setup_code``; result and coverage per call."""
    limits = limits or Limits(timeout=timeout, cpu_seconds=max(1, int(timeout) + 1))
    config = {
        "mode": "probe",
        "setup": setup_code,
        "calls": list(calls),
        "call_timeout": call_timeout,
    }
    raw = _execute(project, target_file, config, {}, limits, None)
    if raw.payload is None:
        return ProbeResult(
            status=raw.status,
            stdout=raw.stdout,
            stderr=raw.stderr,
            killed_reason=raw.killed_reason,
            duration=raw.duration,
        )
    payload = raw.payload
    by_call: dict[str, list[str]] = {}
    loose: list[str] = []
    for where, what in payload.get("violations", ()):
        (by_call.setdefault(where, []) if where else loose).append(what)
    coverage = payload.get("coverage", {})
    results = []
    for index, (expr, entry) in enumerate(
        zip(calls, payload.get("calls", ()), strict=False)
    ):
        key = f"call:{index}"
        results.append(
            ProbeCall(
                expr=expr,
                status=entry.get("status", "raised"),
                repr=entry.get("repr", ""),
                faithful=bool(entry.get("faithful")),
                value_type=entry.get("type", ""),
                exc_type=entry.get("exc_type", ""),
                exc_message=entry.get("exc_message", ""),
                covered=_covered(coverage.get(key)),
                violations=tuple(by_call.get(key, ())),
                duration=float(entry.get("duration", 0.0)),
            )
        )
    return ProbeResult(
        status=raw.status,
        calls=tuple(results),
        setup_error=payload.get("setup_error", ""),
        setup_coverage=_covered(coverage.get("setup")) | _covered(coverage.get("")),
        violations=tuple(loose + by_call.get("setup", [])),
        stdout=raw.stdout,
        stderr=raw.stderr,
        killed_reason=raw.killed_reason,
        duration=raw.duration,
    )

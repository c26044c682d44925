"""Process plumbing of the sandbox: directories, environment, limits, waiting.

:mod:`pytest_ruvqe.generate.sandbox` holds the public API and its data; this
module starts ``child.py`` in a fresh temporary directory with a clean
environment, waits for it with a wall clock that starts once its guard is up,
kills its process group when time runs out, and reads back its result file.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pytest_ruvqe.generate.sandbox.isolation import isolation, wrap
from pytest_ruvqe.generate.types import Project, RunStatus

# run by file path, so it works from a checkout, a wheel and an editable install
CHILD = Path(__file__).with_name("child.py")
_OUTPUT_CHARS = 4000
_PREFIX = "ruvqe-sandbox-"
_OWNER = "owner.pid"  # the process that made a sandbox directory
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
    startup: float = 60.0  # wall seconds to import pytest and coverage, not in timeout
    disk_bytes: int = 256 * 1024**2  # all files in the work directory together
    # probes: wall seconds one call may run before the process is taken for
    # hung where its own alarm cannot reach (native code); None: no such check
    stall: float | None = None


# names the process that started a child, so that a child whose host died
# before it could ask to die with it (a kill in its first milliseconds) sees
# it and exits instead of running on
HOST_ENV = "RUVQE_SANDBOX_HOST"


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


@dataclass(frozen=True)
class RawRun:
    """What came back from one child process, before interpretation."""

    payload: dict[str, Any] | None
    status: RunStatus
    returncode: int | None
    stdout: str
    stderr: str
    killed_reason: str
    duration: float
    progress: int | None = None  # index of the last probe call started


def execute(
    project: Project,
    target_file: Path,
    config: dict[str, Any],
    files: Mapping[str, str],
    limits: Limits,
    hash_seed: int | None,
    ini_text: str | None = None,
) -> RawRun:
    """Run the child on ``config`` in a fresh directory; collect its result."""
    sweep_stale()
    base = Path(tempfile.mkdtemp(prefix=_PREFIX))
    try:
        (base / _OWNER).write_text(str(os.getpid()), encoding="utf-8")
        workdir = base / "work"
        (workdir / ".tmp").mkdir(parents=True)
        for name, text in files.items():
            (workdir / name).write_text(text, encoding="utf-8")
        ini = base / "pytest.ini"
        ini.write_text(ini_text or "[pytest]\n", encoding="utf-8")
        token = secrets.token_hex(16)
        config = {
            **config,
            "workdir": str(workdir),
            "ini_file": str(ini),
            "result_file": str(base / "result.bin"),
            "progress_file": str(base / "progress"),
            "target_file": str(Path(target_file).resolve()),
            "import_roots": [str(p) for p in project.import_roots],
            "private_dirs": _private_dirs(),
            "readable_dirs": _readable_dirs(project),
            # a tmpfs of the sandbox's own under bubblewrap (multiprocessing's heap)
            "writable_dirs": ["/dev/shm"] if isolation() == "bubblewrap" else [],
            "cpu_seconds": limits.cpu_seconds,
            "memory_bytes": limits.memory_bytes,
            "file_bytes": limits.file_bytes,
        }
        cfg_file = base / "config.json"
        cfg_file.write_text(json.dumps(config), encoding="utf-8")
        start = time.monotonic()
        argv = _command(base, workdir, cfg_file, config)
        proc, killed = _spawn(argv, base, workdir, token, limits, hash_seed)
        return _collect(base, token, proc.returncode, killed, time.monotonic() - start)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@functools.cache
def sweep_stale() -> int:
    """Remove the directories that sandboxes of dead runs left (once a process).

    Each directory names the process that made it; one whose process is gone
    (killed with ``kill -9``, a crashed machine) is removed. The count removed.
    """
    removed = 0
    for base in Path(tempfile.gettempdir()).glob(_PREFIX + "*"):
        try:
            owner = int((base / _OWNER).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            owner = None  # made a moment ago, or not one of ours: left alone
        if owner is not None and not _alive(owner):
            shutil.rmtree(base, ignore_errors=True)
            removed += not base.exists()
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _private_dirs() -> list[str]:
    """Directories whose files the sandbox may not read: the user's home."""
    home = os.path.expanduser("~")
    return [] if home in ("", "/", "~") else [home]


def _readable_dirs(project: Project) -> list[str]:
    """Places inside the home that tests must read: the project, Python, packages."""
    dirs = {str(project.rootdir), *(str(p) for p in project.import_roots)}
    dirs |= {sys.prefix, sys.base_prefix, sys.exec_prefix, str(CHILD.parent)}
    dirs |= {p for p in sys.path if p and os.path.isdir(p)}
    return sorted(dirs)


def _collect(
    base: Path, token: str, rc: int | None, killed: str, duration: float
) -> RawRun:
    """What the ended child left: its result, its output, why it ended."""
    if not killed and rc is not None and rc < 0:
        killed = _SIGNALS.get(-rc, f"signal {-rc}")
    elif not killed and rc is not None and rc - 128 in _SIGNALS:
        killed = _SIGNALS[rc - 128]  # bubblewrap's way of saying the same
    payload = _read_result(base / "result.bin", token)
    progress = progress_of(base / "progress")
    if payload is None and progress is None and killed != "timeout":
        raise SandboxError(
            "the sandbox process could not start (is coverage installed in "
            f"{sys.executable}? are the memory limits too low?):\n"
            + _tail(base / "stderr", 1500)
        )
    status: RunStatus = "ok"
    if killed == "timeout":
        status = "timeout"
    elif payload is None:
        status = "crashed"
        killed = killed or f"exited with {rc} without a result"
    return RawRun(
        payload,
        status,
        rc,
        _tail(base / "stdout"),
        _tail(base / "stderr"),
        killed,
        duration,
        progress,
    )


# what a signal that ended the child says about why
_SIGNALS = {
    int(signal.SIGXCPU): "cpu",
    int(signal.SIGXFSZ): "file size",
    int(signal.SIGKILL): "killed",
    int(signal.SIGSEGV): "crash",
}


def _command(
    base: Path, workdir: Path, cfg_file: Path, config: dict[str, Any]
) -> list[str]:
    """The child's command line, inside bubblewrap's namespaces when available."""
    argv = [sys.executable, "-s", "-B", str(CHILD), str(cfg_file)]
    if isolation() == "none":
        return argv
    return wrap(
        argv,
        writable=base,
        readable=config["readable_dirs"],
        cwd=workdir,
        hidden=config["private_dirs"],
    )


def _spawn(
    argv: list[str],
    base: Path,
    workdir: Path,
    token: str,
    limits: Limits,
    hash_seed: int | None,
) -> tuple[subprocess.Popen[bytes], str]:
    """Start the child, hand it the token, wait; the ended process and why killed."""
    # output goes to files, not pipes: a test printing gigabytes must not fill
    # this process's memory; the child's file-size limit caps them
    with open(base / "stdout", "wb") as out, open(base / "stderr", "wb") as err:
        env = clean_env(workdir, hash_seed)
        if isolation() == "none":  # bubblewrap's --die-with-parent does it there
            env[HOST_ENV] = str(os.getpid())  # the child dies if this one did
        proc = _popen(
            argv,
            cwd=workdir,
            env=env,
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=err,
            start_new_session=True,  # own process group: the kill reaches all of it
        )
        killed = ""
        try:
            assert proc.stdin is not None
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.write(token.encode() + b"\n")
                proc.stdin.close()
            killed = _wait(proc, base, workdir, limits)
            if killed:
                _kill_group(proc.pid)
                proc.kill()  # in case it left its process group
                proc.wait()
        finally:
            _kill_group(proc.pid)  # stragglers that escaped the guard, if any
    return proc, killed


def progress_of(path: Path) -> int | None:
    try:
        return int(path.read_bytes()[:8])
    except (OSError, ValueError):
        return None


def _wait(
    proc: subprocess.Popen[bytes], base: Path, workdir: Path, limits: Limits
) -> Literal["", "timeout", "disk"]:
    """Wait for the child; why it had to be killed, or "" when it ended itself.

    The clock of ``limits.timeout`` starts when the guard is up (the child
    marks its progress file), so a slow start on a busy machine is not held
    against the code under test; the start itself gets ``limits.startup``
    seconds. The work directory is measured twice a second: many files each
    under the file-size limit must not fill the disk.
    """
    deadline = time.monotonic() + limits.startup
    ready = False
    polls = 0
    running = (-1, 0.0)  # the call in progress, and since when
    while True:
        try:
            proc.wait(timeout=0.02)
            return ""
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if not ready or limits.stall is not None:
            mark = progress_of(base / "progress")
            if not ready and mark is not None:
                ready = True
                deadline = now + limits.timeout
            if mark is not None and mark != running[0]:
                running = (mark, now)
            elif _stalled(running, now, limits.stall):
                return "timeout"
        if now >= deadline:
            return "timeout"
        polls += 1
        if polls % 25 == 0 and _too_big(workdir, limits.disk_bytes):
            return "disk"


def _stalled(running: tuple[int, float], now: float, stall: float | None) -> bool:
    """Has the call in progress (index, since when) run past ``stall``?"""
    return stall is not None and running[0] >= 0 and now - running[1] > stall


def _too_big(workdir: Path, limit: int) -> bool:
    """Whether the tree holds more than ``limit`` bytes or 10,000 entries."""
    total = entries = 0
    for root, dirs, files in os.walk(workdir):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
        entries += len(files) + len(dirs)
        if total > limit or entries > 10_000:
            return True
    return False


def _popen(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(*args, **kwargs)
    except OSError as exc:
        raise SandboxError(
            f"cannot start {sys.executable} for the sandbox: {exc}"
        ) from exc


def _tail(path: Path, limit: int = _OUTPUT_CHARS) -> str:
    """The last ``limit`` bytes of a file, decoded leniently."""
    with open(path, "rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        fh.seek(max(0, size - limit))
        text = fh.read().decode("utf-8", "replace")
    return text if size <= limit else "...[trimmed]...\n" + text


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

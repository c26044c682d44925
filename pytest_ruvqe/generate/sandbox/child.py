"""The process side of the sandbox: guards, coverage, then pytest or a probe.

This file runs as a script in a fresh interpreter (``python -s -B <this file>
<config.json>``) and must import nothing of ``pytest_ruvqe``: the package need
not be importable there. It reads a JSON config, reads a one-time token from
stdin, lowers its own resource limits, opens the result file, installs an audit
hook that refuses network, process creation, signals and writes outside the
work directory, starts coverage, and then runs either pytest on a test file or
a list of probe calls. The result is one JSON document, prefixed by its length,
written to the result file opened before any untrusted code ran.
"""

from __future__ import annotations

import json
import os
import sys

# The script's own directory (the sandbox package: keep stdlib names out of it)
# must not shadow anything the code under test imports.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(
    os.path.abspath(__file__)
):
    del sys.path[0]

import contextlib
import fnmatch
import re
import resource
import signal
import time
import traceback
import types
from typing import Any

_DETAIL_CHARS = 2000

_DENIED_ALWAYS = frozenset(
    {
        "socket.connect",
        "socket.bind",
        "socket.sendto",
        "socket.sendmsg",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyaddr",
        "socket.getnameinfo",
        "socket.sethostname",
        "urllib.Request",
        "http.client.connect",
        "ftplib.connect",
        "smtplib.connect",
        "poplib.connect",
        "imaplib.open",
        "nntplib.connect",
        "telnetlib.Telnet.open",
        "webbrowser.open",
        "subprocess.Popen",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.forkpty",
        "os.startfile",
        "os.kill",
        "os.killpg",
        "signal.pthread_kill",
        "pty.spawn",
        "resource.setrlimit",
        "resource.prlimit",
        "os.chroot",
        # the way to the guard's own state; not a wall, one more step to climb
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
    }
)
# events whose first ``n`` arguments are paths that must lie inside the work dir
_PATH_EVENTS = {
    "os.remove": 1,
    "os.rmdir": 1,
    "os.mkdir": 1,
    "os.chmod": 1,
    "os.chown": 1,
    "os.truncate": 1,
    "os.utime": 1,
    "os.chflags": 1,
    "os.lchflags": 1,
    "os.setxattr": 1,
    "os.removexattr": 1,
    "os.rename": 2,
    "os.link": 2,
    "os.symlink": 2,
    "shutil.rmtree": 1,
    "shutil.chown": 1,
    "shutil.copyfile": 2,
    "shutil.copytree": 2,
    "shutil.move": 2,
    "shutil.make_archive": 1,
}
# files that hold credentials wherever they are, the project included
_SECRET_FILES = (
    ".env",
    ".env.*",
    ".netrc",
    ".pypirc",
    ".git-credentials",
    "id_rsa*",
    "id_ed25519*",
    "id_ecdsa*",
    "*.pem",
    "*.key",
)
# how code reaches frames, and through them the guard's and the runner's state;
# refused when candidate code asks (itself, or through one helper such as
# inspect.currentframe), allowed when a library deeper down asks (logging)
_FRAME_EVENTS = frozenset(
    {"sys._getframe", "sys._current_frames", "sys._current_exceptions"}
)
_FRAME_ATTRS = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame"})
_FRAME_HELPERS = frozenset({"inspect.py", "traceback.py"})
# the code objects of candidate code: the test file and the probe's expressions
_CANDIDATE_FILES = re.compile(r"(^|/)test_ruvqe_candidate\.py$|^<probe")
_PROC = re.compile(r"^/proc/(\d+)/")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class SandboxViolation(PermissionError):
    """Raised inside the sandbox when code does something it may not do."""


# a copy of pytest_ruvqe.generate.trimming.keep_ends: this script imports
# nothing of the package, which need not be importable where it runs
def _trim(text: str, limit: int = _DETAIL_CHARS) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return text[:half] + "\n...[trimmed]...\n" + text[-half:]


def _lower_limits(cfg: dict[str, Any]) -> None:
    """Set hard and soft limits so the code under test cannot raise them again."""

    def cap(which: int, value: int) -> None:
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        # a limit the platform refuses is skipped, the others still hold
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(which, (value, value))

    if cfg.get("cpu_seconds"):
        cpu = int(cfg["cpu_seconds"])
        # soft limit sends SIGXCPU, the hard one a second later SIGKILL
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    if cfg.get("memory_bytes"):
        cap(resource.RLIMIT_AS, int(cfg["memory_bytes"]))
    if cfg.get("file_bytes"):
        cap(resource.RLIMIT_FSIZE, int(cfg["file_bytes"]))
    cap(resource.RLIMIT_CORE, 0)
    cap(resource.RLIMIT_NOFILE, 256)


class _Guard:
    """Audit hook state: which writes are allowed and what was refused, per test."""

    def __init__(
        self,
        workdir: str,
        own_fds: tuple[int, ...],
        private: tuple[str, ...] = (),
        readable: tuple[str, ...] = (),
        writable: tuple[str, ...] = (),
    ) -> None:
        self.allowed = (
            os.path.realpath(workdir),
            "/dev/null",
            *(os.path.realpath(p) for p in writable),
        )
        self.own_fds = own_fds  # result and progress files: not for the code under test
        # the user's home holds keys and tokens: no reads there, except the
        # project and the Python installation when they live in it
        self.private = tuple(os.path.realpath(p) for p in private)
        self.readable = (*self.allowed, *(os.path.realpath(p) for p in readable))
        self.current = ""  # the test (or probe call) running now
        self.violations: list[tuple[str, str]] = []
        self.busy = False

    @staticmethod
    def _real(path: Any, dir_fd: Any = None) -> str:
        raw = os.fsdecode(os.fspath(path))
        if dir_fd is not None and not os.path.isabs(raw):
            base = os.readlink(f"/proc/self/fd/{int(dir_fd)}")
            raw = os.path.join(base, raw)
        return os.path.realpath(raw)

    def _inside(self, path: Any, dir_fd: Any = None) -> bool:
        if isinstance(path, int):
            return path not in self.own_fds
        return _under(self._real(path, dir_fd), self.allowed)

    def _private(self, path: Any) -> bool:
        if isinstance(path, int):
            return False
        real = self._real(path)
        # another process's environment or memory (the parent's API keys)
        proc = _PROC.match(real)
        if proc and proc.group(1) != str(os.getpid()):
            return True
        if any(fnmatch.fnmatch(os.path.basename(real), p) for p in _SECRET_FILES):
            return True
        return _under(real, self.private) and not _under(real, self.readable)

    def _writes(self, args: tuple[Any, ...]) -> bool:
        mode = args[1] if len(args) > 1 else None
        flags = args[2] if len(args) > 2 else 0
        if isinstance(mode, str) and any(c in mode for c in "wax+"):
            return True
        return isinstance(flags, int) and bool(flags & _WRITE_FLAGS)

    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        if self.busy:
            return
        denied = ""
        self.busy = True
        try:
            if event in _DENIED_ALWAYS:
                denied = event
            elif event in _FRAME_EVENTS or (
                event == "object.__getattr__" and args[1] in _FRAME_ATTRS
            ):
                denied = _frames_asked(event, args)
            elif event == "open":
                if isinstance(args[0], int) and args[0] in self.own_fds:
                    denied = "open(sandbox fd)"
                elif self._writes(args) and not self._inside(args[0]):
                    denied = f"write {args[0]!r}"
                elif self._private(args[0]):
                    denied = f"read {args[0]!r}"
            elif event == "sqlite3.connect":
                database = args[0]
                memory = database in (":memory:", b":memory:", "")
                if not memory and not self._inside(database):
                    denied = f"sqlite3.connect {database!r}"
            elif event in _PATH_EVENTS:
                dir_fd = None
                if event in ("os.remove", "os.rmdir", "os.mkdir") and len(args) > 2:
                    dir_fd = args[-1]
                for path in args[: _PATH_EVENTS[event]]:
                    if path is not None and not self._inside(path, dir_fd):
                        denied = f"{event} {path!r}"
                        break
        except Exception as exc:  # an unresolvable path is refused, not ignored
            denied = f"{event} ({type(exc).__name__})"
        finally:
            self.busy = False
        if denied:
            self.violations.append((self.current, denied))
            raise SandboxViolation(f"ruvqe sandbox: {denied} is not allowed")


def _frames_asked(event: str, args: tuple[Any, ...]) -> str:
    """What to refuse when candidate code reaches for frames; '' when allowed.

    Refused when the candidate asks itself, or through a helper whose job is
    handing out frames (``inspect``, ``traceback``); allowed when a library
    asks for its own use (``namedtuple``, ``logging``, ``enum``).
    """
    caller = sys._getframe(2)  # _frames_asked <- hook <- the caller
    if _CANDIDATE_FILES.search(caller.f_code.co_filename):
        return _refusal(event, args)
    helper = os.path.basename(caller.f_code.co_filename) in _FRAME_HELPERS
    outer = caller.f_back
    if (
        helper
        and outer is not None
        and _CANDIDATE_FILES.search(outer.f_code.co_filename)
    ):
        return _refusal(event, args)
    return ""


def _refusal(event: str, args: tuple[Any, ...]) -> str:
    return f"frame access ({args[1] if event == 'object.__getattr__' else event})"


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def _coverage(cfg: dict[str, Any]) -> Any:
    import coverage

    cov = coverage.Coverage(
        data_file=None,
        branch=True,
        include=[cfg["target_file"]],
        config_file=False,
    )
    cov.start()
    return cov


def _covered(cov: Any, target: str) -> dict[str, dict[str, list[Any]]]:
    """Lines and arcs of the target file per coverage context ('' = import time)."""
    data = cov.get_data()
    files = [f for f in data.measured_files() if os.path.realpath(f) == target]
    out: dict[str, dict[str, list[Any]]] = {}
    for context in sorted(data.measured_contexts()):
        data.set_query_contexts([f"^{_escape(context)}$"])
        lines: set[int] = set()
        arcs: set[tuple[int, int]] = set()
        for f in files:
            lines.update(data.lines(f) or ())
            arcs.update(data.arcs(f) or ())
        out[context] = {"lines": sorted(lines), "arcs": sorted(map(list, arcs))}
    data.set_query_contexts(None)
    return out


def _escape(text: str) -> str:
    return re.escape(text)


class _Alarm(BaseException):
    """Raised by SIGALRM when one test or call runs over its own time."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Alarm()


class _Recorder:
    """Orders the tests, switches coverage context, records outcomes.

    A pytest plugin; its hook options are set by :func:`_run_pytest`, which
    imports pytest (a probe never does).
    """

    def __init__(self, cfg: dict[str, Any], guard: _Guard, cov: Any) -> None:
        self.order: list[str] | None = cfg.get("order")
        self.per_test = float(cfg.get("test_timeout") or 0)
        self.guard = guard
        self.cov = cov
        self.tests: dict[str, dict[str, Any]] = {}
        self.collect_errors: list[str] = []

    def pytest_collection_modifyitems(self, config: Any, items: list[Any]) -> None:
        if self.order is None:
            return
        rank = {name: i for i, name in enumerate(self.order)}

        def position(item: Any) -> int | None:
            # an exact name, or a unit: "test_f" selects "test_f[1]",
            # "TestK" selects "TestK::test_m"
            name = _name(item.nodeid)
            for key in (name, name.split("[", 1)[0], name.split("::", 1)[0]):
                if key in rank:
                    return rank[key]
            return None

        ranked = [(position(it), n, it) for n, it in enumerate(items)]
        keep = sorted((r, n, it) for r, n, it in ranked if r is not None)
        items[:] = [it for _, _, it in keep]

    def pytest_runtest_protocol(self, item: Any, nextitem: Any) -> Any:
        name = _name(item.nodeid)
        self.guard.current = name
        self.cov.switch_context(name)
        if self.per_test:
            signal.setitimer(signal.ITIMER_REAL, self.per_test)
        try:
            return (yield)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            self.cov.switch_context("")
            self.guard.current = ""

    def pytest_runtest_makereport(self, item: Any, call: Any) -> None:
        if call.excinfo is not None and call.excinfo.errisinstance(_Alarm):
            self.tests.setdefault(_name(item.nodeid), {})["timeout"] = True
        if call.excinfo is not None and call.excinfo.errisinstance(MemoryError):
            self.tests.setdefault(_name(item.nodeid), {})["memory"] = True

    def pytest_runtest_logreport(self, report: Any) -> None:
        entry = self.tests.setdefault(_name(report.nodeid), {})
        entry.setdefault("outcome", "passed")
        if report.failed:
            entry["outcome"] = "failed" if report.when == "call" else "error"
            entry["detail"] = _trim(report.longreprtext)
        elif report.skipped and report.when in ("setup", "call"):
            entry["outcome"] = "skipped"
        entry["duration"] = entry.get("duration", 0.0) + report.duration

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self.collect_errors.append(_trim(report.longreprtext))


def _run_pytest(cfg: dict[str, Any], guard: _Guard, cov: Any) -> dict[str, Any]:
    import pytest

    pytest.hookimpl(trylast=True)(_Recorder.pytest_collection_modifyitems)
    pytest.hookimpl(wrapper=True)(_Recorder.pytest_runtest_protocol)
    recorder = _Recorder(cfg, guard, cov)
    signal.signal(signal.SIGALRM, _on_alarm)
    args = [
        cfg["test_file"],
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "--rootdir",
        cfg["workdir"],
        "-c",
        cfg["ini_file"],
        "--basetemp",
        os.path.join(cfg["workdir"], ".basetemp"),
        "-o",
        "console_output_style=classic",
    ]
    exit_code = pytest.main(args, plugins=[recorder])
    return {
        "exit_code": int(exit_code),
        "tests": recorder.tests,
        "collect_errors": recorder.collect_errors,
    }


def _name(nodeid: str) -> str:
    """``test_x.py::TestA::test_b[1]`` -> ``TestA::test_b[1]``."""
    return nodeid.split("::", 1)[1] if "::" in nodeid else nodeid


def _run_probe(
    cfg: dict[str, Any], guard: _Guard, cov: Any, progress_fd: int
) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "ruvqe_probe"}
    per_call = float(cfg.get("call_timeout") or 0)
    signal.signal(signal.SIGALRM, _on_alarm)
    guard.current = "setup"
    cov.switch_context("setup")
    try:
        exec(compile(cfg["setup"], "<probe setup>", "exec"), namespace)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        return {"setup_error": _trim(traceback.format_exc()), "calls": []}
    finally:
        cov.switch_context("")
    calls = []
    # expressions of one group (the same call evaluated again, its setup, its
    # state) are not tried once one of them timed out: they would hang too
    groups = cfg.get("groups") or []
    hung: set[int] = set()
    for index, expr in enumerate(cfg["calls"]):
        group = groups[index] if index < len(groups) else -1
        if group in hung:
            calls.append({"status": "timeout", "duration": 0.0})
            continue
        # which call is running: if this one hangs or kills the process, the
        # parent skips it and runs the others again
        os.pwrite(progress_fd, f"{index:08d}".encode(), 0)
        name = f"call:{index}"
        guard.current = name
        cov.switch_context(name)
        record: dict[str, Any] = {"status": "returned"}
        start = time.perf_counter()
        if per_call:
            signal.setitimer(signal.ITIMER_REAL, per_call)
        try:
            value = eval(compile(expr, f"<probe {index}>", "eval"), namespace)
        except _Alarm:
            record["status"] = "timeout"
            if group >= 0:
                hung.add(group)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            record["status"] = "raised"
            kind = type(exc)
            record["exc_type"] = f"{kind.__module__}.{kind.__qualname__}"
            record["exc_message"] = _trim(str(exc), 500)
        else:
            signal.setitimer(signal.ITIMER_REAL, 0)
            record.update(_describe(value, namespace))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            cov.switch_context("")
        record["duration"] = time.perf_counter() - start
        calls.append(record)
    os.pwrite(progress_fd, b"-0000002", 0)  # no call runs now: the result is written
    return {"setup_error": "", "calls": calls}


def _describe(value: Any, namespace: dict[str, Any]) -> dict[str, Any]:
    """repr of a returned value and whether evaluating the repr gives it back.

    A repr that names its type (``datetime.date(2024, 3, 1)``,
    ``Money(minor=5)``) is still faithful when one import makes it evaluate:
    that import is returned, so the test can assert the value exactly.
    """
    try:
        text = repr(value)
    except Exception as exc:
        return {"repr": f"<repr failed: {type(exc).__name__}>", "faithful": False}
    kind = type(value)
    faithful, needs = False, ""
    if len(text) <= 4000:
        module = sys.modules.get(kind.__module__)
        top = kind.__module__.split(".")[0]
        tries: list[tuple[str, dict[str, Any]]] = [("", {})]
        if module is not None and kind.__module__ != "builtins":
            tries.append((f"import {top}", {top: sys.modules.get(top)}))
            name = kind.__qualname__
            if "." not in name and getattr(module, name, None) is kind:
                tries.append((f"from {kind.__module__} import {name}", {name: kind}))
        for line, extra in tries:
            try:
                if bool(eval(text, {**namespace, **extra}) == value):
                    faithful, needs = True, line
                    break
            except BaseException:
                continue
    described = {
        "repr": _trim(text, 4000),
        "faithful": faithful,
        "needs": needs,
        "type": f"{kind.__module__}.{kind.__qualname__}",
    }
    if not faithful:
        described["fields"] = _fields(value, namespace)
        with contextlib.suppress(Exception):
            described["length"] = len(value)
    return described


def _fields(value: Any, namespace: dict[str, Any], depth: int = 0) -> list[list[str]]:
    """Public attributes of an object as [path, repr] where the repr gives the
    attribute back; for a collection that does not, its length and the
    attributes of its first item (``meta[0].name``)."""
    try:
        names = list(vars(value))
    except TypeError:
        kind = type(value)
        names = list(getattr(kind, "__dataclass_fields__", ()))
        names = names or list(getattr(kind, "__slots__", ()))
    found: list[list[str]] = []
    for name in names:
        if not isinstance(name, str) or name.startswith("_") or len(found) >= 10:
            continue
        try:
            attr = getattr(value, name)
            text = repr(attr)
            if len(text) <= 200 and bool(eval(text, dict(namespace)) == attr):
                found.append([name, text])
                continue
        except BaseException:
            continue
        found.extend(_inside(name, attr, namespace, depth))
    return found


def _die_with_parent() -> None:
    """Be killed when the process that started this one dies (Linux)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    host = os.environ.pop("RUVQE_SANDBOX_HOST", None)  # set outside bubblewrap
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PDEATHSIG
    # the host died before the line above took effect, or even before this
    # process looked at its parent (then it was handed to another already)
    if os.getppid() != parent or (host is not None and host != str(parent)):
        os._exit(1)


class _PrivateArenas:
    """Import hook: multiprocessing's shared-memory arenas in ``TMPDIR``.

    multiprocessing puts them in ``/dev/shm``, outside the sandbox's own
    directory, so code that makes a ``Value`` or ``Array`` (at import, say)
    would be refused; in the sandbox's ``TMPDIR`` they work, and go away
    with it. The hook removes itself at its first use.
    """

    NAME = "multiprocessing.heap"

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != self.NAME:
            return None
        sys.meta_path.remove(self)
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module: types.ModuleType) -> None:
            run(module)
            _private_arenas(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _private_arenas(heap: types.ModuleType) -> None:
    heap.Arena._dir_candidates = []


def _arenas_in_tmpdir() -> None:
    if _PrivateArenas.NAME in sys.modules:
        _private_arenas(sys.modules[_PrivateArenas.NAME])
    else:
        sys.meta_path.insert(0, _PrivateArenas())


def main() -> None:
    _die_with_parent()
    with open(sys.argv[1], encoding="utf-8") as fh:
        cfg: dict[str, Any] = json.load(fh)
    token = sys.stdin.readline().strip()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    _lower_limits(cfg)
    result_fd = os.open(cfg["result_file"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    for root in reversed(cfg["import_roots"]):
        sys.path.insert(0, root)
    os.chdir(cfg["workdir"])
    if cfg["mode"] == "pytest":
        import pytest  # noqa: F401  (imported before the guard, like coverage)
    cov = _coverage(cfg)
    progress_fd = os.open(cfg["progress_file"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    guard = _Guard(
        cfg["workdir"],
        (result_fd, progress_fd),
        tuple(cfg.get("private_dirs", ())),
        tuple(cfg.get("readable_dirs", ())),
        tuple(cfg.get("writable_dirs", ())),
    )
    _arenas_in_tmpdir()
    sys.addaudithook(guard.hook)
    # the code under test cannot reach this script's globals as ``__main__``
    sys.modules["__main__"] = types.ModuleType("__main__")
    # tells the parent that the sandbox itself came up; what fails from here
    # on is the code under test
    os.pwrite(progress_fd, b"-0000001", 0)
    started = time.perf_counter()
    if cfg["mode"] == "pytest":
        payload = _run_pytest(cfg, guard, cov)
    else:
        payload = _run_probe(cfg, guard, cov, progress_fd)
    cov.stop()
    guard.current = ""
    payload["duration"] = time.perf_counter() - started
    payload["coverage"] = _covered(cov, os.path.realpath(cfg["target_file"]))
    payload["violations"] = list(guard.violations)
    payload["token"] = token
    data = json.dumps(payload).encode()
    header = f"{len(data):016d}".encode()
    os.pwrite(result_fd, header + data, 0)
    sys.stdout.flush()
    sys.stderr.flush()
    # leave at once: threads or atexit handlers of the code under test may hang
    os._exit(0)


def _inside(
    name: str, attr: Any, namespace: dict[str, Any], depth: int
) -> list[list[str]]:
    """What can be asserted of an attribute whose repr does not give it back."""
    out: list[list[str]] = []
    if isinstance(attr, (list, tuple, dict, set, frozenset)):
        out.append([f"len({name})", str(len(attr))])
        if depth == 0 and isinstance(attr, (list, tuple)) and attr:
            for path, text in _fields(attr[0], namespace, depth + 1)[:3]:
                if not path.startswith("len("):
                    out.append([f"{name}[0].{path}", text])
    return out


if __name__ == "__main__":
    main()

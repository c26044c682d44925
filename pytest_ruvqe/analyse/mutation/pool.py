"""Judge mutants in forked children, ``jobs`` at a time, with timeouts and a cache."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import select
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from pytest_ruvqe.analyse.mutation.child import (
    first_failure,
    options_of,
    silence,
    skip_collect,
)
from pytest_ruvqe.analyse.mutation.operators import apply, diff
from pytest_ruvqe.analyse.mutation.patching import swap_code
from pytest_ruvqe.analyse.mutation.recollect import (
    judge_recollected,
    project_plugins,
    why_not_recollected,
)
from pytest_ruvqe.analyse.mutation.reimport import judge_reimported
from pytest_ruvqe.analyse.mutation.types import (
    ERROR,
    KILLED,
    NOT_RUN,
    SURVIVED,
    TIMEOUT,
    Mutant,
)
from pytest_ruvqe.analyse.source_index import ModuleIndex, index_source
from pytest_ruvqe.testpaths import node_path

if TYPE_CHECKING:
    from pytest_ruvqe.analyse.mutation.host import MutationHost

ENGINE_VERSION = "1"
CACHE_NAMESPACE = "mutants"
EXIT_SURVIVED, EXIT_KILLED, EXIT_ERROR = 0, 1, 3
# how import-time mutants are judged, cheapest first (recollect, reimport, loader)
IN_SESSION, NEW_SESSION, FRESH_INTERPRETER = (
    "in the session",
    "in a new session",
    "in a fresh interpreter",
)
# generous: a slow machine must not turn surviving mutants into timeouts
TIMEOUT_FACTOR, TIMEOUT_FLOOR, FRESH_EXTRA = 5.0, 1.0, 20.0


@dataclass
class _Running:
    mutant: Mutant
    tests: int
    started: float
    timeout: float
    read_fd: int
    timed_out: bool = False
    covered_by: tuple[str, ...] = ()  # node ids of the tests that reach it


class ResultCache(Protocol):
    """Where judged mutants are kept between runs (the ``.ruvqe/`` store)."""

    def get(self, namespace: str, key: str, default: Any = None) -> Any:
        """The value under ``key``, or ``default``."""

    def put(self, namespace: str, key: str, value: Any) -> None:
        """Keep ``value`` under ``key``."""

    def close(self) -> None:
        """Release the cache's files."""


class MutantPool:
    """Runs the selected mutants and returns their results by mutant id."""

    def __init__(
        self,
        host: MutationHost,
        texts: dict[str, str],
        rootdir: Path,
        modules: dict[str, ModuleType],
        seconds: dict[str, float],
        jobs: int,
        cache: ResultCache | None,
        pytest_args: list[str],
        deadline: float,
        all_tests: Sequence[pytest.Item] = (),
    ) -> None:
        self.host = host
        self.texts = texts
        self.rootdir = rootdir
        self.modules = modules
        self.seconds = seconds
        self.jobs = max(1, jobs)
        self.pytest_options = options_of(pytest_args)
        self.deadline = deadline
        self.tests_per_file: dict[str, int] = {}
        for item in all_tests:
            file = node_path(item.nodeid)
            self.tests_per_file[file] = self.tests_per_file.get(file, 0) + 1
        self.warnings: list[str] = []
        self.indexes: dict[str, ModuleIndex] = {
            rel: index_source(text, rootdir / rel, rel) for rel, text in texts.items()
        }
        self.store = cache
        self._file_hashes: dict[str, str] = {}
        self._tmp = tempfile.mkdtemp(prefix="ruvqe-mutants-")
        self.import_judging = ""  # IN_SESSION, NEW_SESSION or FRESH_INTERPRETER
        self._plugins: list[ModuleType] = []  # the project's, kept in the session
        self.killers: list[str] = []  # most recent killer first

    # -- cache -------------------------------------------------------------------

    def _file_hash(self, path: Path) -> str:
        key = str(path)
        if key not in self._file_hashes:
            try:
                self._file_hashes[key] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                self._file_hashes[key] = "-"
        return self._file_hashes[key]

    def cache_key(self, mutant: Mutant, tests: Sequence[pytest.Item]) -> str:
        """Hash of the enclosing function's source, the mutation and the tests."""
        text = self.texts[mutant.file]
        # an import-time verdict depends on the whole module, not one function
        func = (
            self.indexes[mutant.file].function(mutant.patch_target)
            if mutant.runtime
            else None
        )
        base = func.start if func else 1
        scope_text = (
            "\n".join(text.splitlines()[func.start - 1 : func.end]) if func else text
        )
        digest = hashlib.sha256()
        for part in (
            ENGINE_VERSION,
            mutant.file,
            scope_text,
            f"{mutant.line - base}:{mutant.col}:{mutant.end_line - base}",
            f"{mutant.end_col}:{mutant.operator}:{mutant.shown}",
        ):
            digest.update(part.encode() + b"\0")
        for item in sorted(tests, key=lambda i: i.nodeid):
            digest.update(f"{item.nodeid}:{self._file_hash(item.path)}\0".encode())
        return digest.hexdigest()

    # -- children ----------------------------------------------------------------

    def _span(self, mutant: Mutant) -> tuple[frozenset[int], int]:
        """Possible first lines of the patched function's code, and its last line."""
        func = self.indexes[mutant.file].function(mutant.patch_target)
        if func is None:
            return frozenset(), 0
        return frozenset({func.start, func.def_line}), func.end

    def _child(
        self, mutant: Mutant, tests: Sequence[pytest.Item], write_fd: int
    ) -> int:
        silence()
        text = apply(self.texts[mutant.file], mutant)
        module = self.modules.get(mutant.file)
        path = str(self.rootdir / mutant.file)
        if (
            mutant.runtime
            and module is not None
            and swap_code(module, path, text, mutant, *self._span(mutant))
        ):
            killed = first_failure(tests, self.host.failed, write_fd)
            return EXIT_KILLED if killed else EXIT_SURVIVED
        if self.import_judging == IN_SESSION:
            return judge_recollected(
                self.rootdir,
                self.rootdir / mutant.file,
                text,
                tests,
                self.host.failed,
                keep=self._plugins,
                report_fd=write_fd,
            )
        if self.import_judging == NEW_SESSION:
            return judge_reimported(
                self.rootdir,
                self.rootdir / mutant.file,
                text,
                self.pytest_options,
                self._test_ids(tests),
                first=self.killers,
                report_fd=write_fd,
            )
        self._exec_fresh(mutant, text, tests, write_fd)
        return EXIT_ERROR  # not reached: exec replaces this process

    def _test_ids(self, tests: Sequence[pytest.Item]) -> list[str]:
        """Command-line test ids: a whole file when every test of it is selected.

        pytest matches each node id against the whole collection, so hundreds
        of ids of one file cost more than collecting the file.
        """
        chosen: dict[str, list[str]] = {}
        for item in tests:
            chosen.setdefault(node_path(item.nodeid), []).append(item.nodeid)
        ids: list[str] = []
        for file, nodeids in chosen.items():
            whole = self.tests_per_file.get(file, 0) == len(set(nodeids))
            ids.extend([file] if whole else nodeids)
        return ids

    def _import_judging(self, at_import: list[tuple[Mutant, list[pytest.Item]]]) -> str:
        """How import-time mutants are judged: the cheapest way under which the
        unchanged project passes the tests of one of them.

        A project whose conftests hold its modules' objects is re-imported in a
        new session; one that cannot be imported twice in one process gets a
        fresh interpreter per mutant.
        """
        mutant, tests = at_import[-1]
        config = tests[0].config
        mutated = {os.path.realpath(self.rootdir / rel) for rel in self.texts}
        every = [item for _, items in at_import for item in items]
        if not why_not_recollected(config, every, self.rootdir, mutated):
            self._plugins = project_plugins(config, self.rootdir)
            if self._passes_unchanged(mutant, tests, IN_SESSION):
                return IN_SESSION
        if self._passes_unchanged(mutant, tests, NEW_SESSION):
            return NEW_SESSION
        return FRESH_INTERPRETER

    def _passes_unchanged(
        self, mutant: Mutant, tests: Sequence[pytest.Item], how: str
    ) -> bool:
        """Do the tests pass when the unchanged file is imported again ``how``?"""
        pid = os.fork()
        if pid == 0:
            code = EXIT_ERROR
            try:
                silence()
                gc.disable()
                text = self.texts[mutant.file]
                target = self.rootdir / mutant.file
                if how == IN_SESSION:
                    code = judge_recollected(
                        self.rootdir,
                        target,
                        text,
                        tests,
                        self.host.failed,
                        keep=self._plugins,
                    )
                else:
                    code = judge_reimported(
                        self.rootdir,
                        target,
                        text,
                        self.pytest_options,
                        self._test_ids(tests),
                    )
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status) == EXIT_SURVIVED

    def _exec_fresh(
        self, mutant: Mutant, text: str, tests: Sequence[pytest.Item], write_fd: int
    ) -> None:
        """Import-time mutants: a fresh interpreter that imports the mutated text
        and writes the id of the first failing test to ``write_fd``."""
        source = os.path.join(self._tmp, f"{mutant.id}.py")
        Path(source).write_text(text, encoding="utf-8")
        env = dict(os.environ)
        env["RUVQE_MUTANT_FILE"] = str(self.rootdir / mutant.file)
        env["RUVQE_MUTANT_SOURCE"] = source
        env["RUVQE_MUTANT_REPORT_FD"] = str(write_fd)
        argv = [
            sys.executable,
            "-m",
            "pytest",
            *self.pytest_options,
            "-x",
            "-q",
            "-s",
            "-p",
            "no:cacheprovider",
            "-p",
            "pytest_ruvqe.analyse.mutation.loader",
            *self._test_ids(tests),
        ]
        os.chdir(self.rootdir)
        os.execve(sys.executable, argv, env)

    def _launch(
        self, mutant: Mutant, tests: Sequence[pytest.Item]
    ) -> tuple[int, _Running]:
        budget = sum(self.seconds.get(t.nodeid, 0.0) for t in tests)
        timeout = TIMEOUT_FACTOR * budget + TIMEOUT_FLOOR
        if not mutant.runtime:
            timeout += FRESH_EXTRA
        rank = {nodeid: i for i, nodeid in enumerate(self.killers[:50])}
        tests = sorted(tests, key=lambda item: rank.get(item.nodeid, len(rank)))
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = EXIT_ERROR
            try:
                # a collection would touch every object and copy the parent's
                # pages; a child lives for milliseconds and needs none. pytest
                # also collects explicitly when a session ends (to surface
                # unraisable exceptions), which costs more than a small test
                gc.disable()
                gc.collect = skip_collect
                os.close(read_fd)
                os.set_inheritable(write_fd, True)  # held open across exec, too
                code = self._child(mutant, tests, write_fd)
            except BaseException:
                code = EXIT_ERROR
            finally:
                os._exit(code)
        os.close(write_fd)
        covered_by = tuple(item.nodeid for item in tests)
        return pid, _Running(
            mutant, len(tests), time.monotonic(), timeout, read_fd, False, covered_by
        )

    @staticmethod
    def _status(run: _Running, exit_code: int) -> tuple[str, str]:
        if run.timed_out:
            return TIMEOUT, f"no answer within {run.timeout:.1f}s"
        if exit_code == EXIT_SURVIVED:
            return SURVIVED, ""
        if exit_code in (EXIT_KILLED, 2) or exit_code < 0:
            # 2: a fresh interpreter's run was interrupted (broken collection);
            # negative: the child died of a signal the mutant caused
            return KILLED, ""
        return ERROR, f"the judging child stopped with exit code {exit_code}"

    # -- the loop ------------------------------------------------------------------

    def run(
        self, selected: list[tuple[Mutant, list[pytest.Item]]]
    ) -> tuple[dict[str, dict[str, Any]], bool]:
        """Judge every mutant; stop launching when the deadline passes."""
        results: dict[str, dict[str, Any]] = {}
        queue: list[tuple[Mutant, list[pytest.Item], str]] = []
        for mutant, tests in selected:
            key = self.cache_key(mutant, tests)
            cached = self.store.get(CACHE_NAMESPACE, key) if self.store else None
            if isinstance(cached, dict) and cached.get("status") in (
                KILLED,
                SURVIVED,
                TIMEOUT,
            ):
                results[mutant.id] = {
                    **cached,
                    "cached": True,
                    "covered_by": [item.nodeid for item in tests],
                }
                self._add_diff(results[mutant.id], mutant)
            else:
                queue.append((mutant, tests, key))
        queue.reverse()  # pop() from the end keeps file order
        at_import = [(m, t) for m, t, _ in queue if not m.runtime]
        if at_import:
            self.import_judging = self._import_judging(at_import)
            if self.import_judging == FRESH_INTERPRETER:
                self.warnings.append(
                    "the project cannot be imported twice in one process: "
                    "import-time mutants each ran in a fresh interpreter"
                )
        running: dict[int, tuple[_Running, str]] = {}
        stopped = False
        gc.collect()
        gc.freeze()  # keep objects out of later collections: fewer copied pages
        try:
            while queue or running:
                while queue and len(running) < self.jobs:
                    if time.monotonic() > self.deadline:
                        stopped = True
                        for mutant, _, _ in queue:
                            results[mutant.id] = {
                                "status": NOT_RUN,
                                "detail": "time budget",
                            }
                        queue.clear()
                        break
                    mutant, tests, key = queue.pop()
                    pid, run = self._launch(mutant, tests)
                    running[pid] = (run, key)
                if not running:
                    break
                self._wait(running, results)
        finally:
            for pid, (run, _) in running.items():
                _kill(pid)
                os.close(run.read_fd)
            if self.store is not None:
                self.store.close()
            shutil.rmtree(self._tmp, ignore_errors=True)
        return results, stopped

    def _wait(
        self,
        running: dict[int, tuple[_Running, str]],
        results: dict[str, dict[str, Any]],
    ) -> None:
        now = time.monotonic()
        next_deadline = min(r.started + r.timeout for r, _ in running.values())
        fds = [r.read_fd for r, _ in running.values()]
        ready, _, _ = select.select(fds, [], [], max(0.0, next_deadline - now))
        now = time.monotonic()
        for pid, (run, key) in list(running.items()):
            if run.read_fd not in ready and now - run.started > run.timeout:
                run.timed_out = True
                _kill(pid)
                ready.append(run.read_fd)
            if run.read_fd not in ready:
                continue
            _, status = os.waitpid(pid, 0)
            killer = _read_all(run.read_fd)
            os.close(run.read_fd)
            del running[pid]
            if killer and not run.timed_out:
                # tests that killed a mutant are tried first for the next ones
                if killer in self.killers:
                    self.killers.remove(killer)
                self.killers.insert(0, killer)
            status_name, detail = self._status(run, os.waitstatus_to_exitcode(status))
            result = {
                "status": status_name,
                "tests_run": run.tests,
                "seconds": now - run.started,
                "detail": detail,
                "covered_by": list(run.covered_by),
                "killed_by": [killer] if killer and status_name == KILLED else [],
            }
            if self.store is not None and status_name in (KILLED, SURVIVED, TIMEOUT):
                self.store.put(CACHE_NAMESPACE, key, result)
            self._add_diff(result, run.mutant)
            results[run.mutant.id] = result

    def _add_diff(self, result: dict[str, Any], mutant: Mutant) -> None:
        if result.get("status") == SURVIVED:
            result["diff"] = diff(self.texts[mutant.file], mutant)


def _read_all(fd: int) -> str:
    """What a finished child wrote to its pipe (the killing test's id, if any)."""
    chunks = []
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)

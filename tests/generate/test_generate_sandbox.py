"""The sandbox runs candidates in a guarded process: nothing escapes, results return."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from pytest_ruvqe.generate import sandbox
from pytest_ruvqe.generate.sandbox import (
    Limits,
    SandboxError,
    clean_env,
    run_probe,
    run_tests,
)
from pytest_ruvqe.generate.types import Project

GOOD = """\
from pkg.calc import sign

def test_negative():
    assert sign(-3) == -1

def test_zero():
    assert sign(0) == 0

def test_wrong():
    assert sign(5) == 2
"""


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback server socket; hostile code must never reach it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.05)
    yield server
    server.close()


def test_outcomes_and_coverage_per_test(project: Project, calc_file: Path) -> None:
    result = run_tests(project, GOOD, calc_file, timeout=20)
    assert result.status == "ok"
    outcomes = {name: run.outcome for name, run in result.tests.items()}
    assert outcomes == {
        "test_negative": "passed",
        "test_zero": "passed",
        "test_wrong": "failed",
    }
    assert "assert 1 == 2" in result.tests["test_wrong"].detail
    assert result.coverage["test_negative"].lines == {2, 3}
    assert result.coverage["test_zero"].arcs == {(-1, 2), (2, 4), (4, 5), (5, -1)}
    # def lines run at import time, not inside any test
    assert {1, 9, 15} <= result.import_coverage.lines
    assert {2, 3, 4, 5, 6} <= result.covered.lines


def test_order_selects_and_orders(project: Project, calc_file: Path) -> None:
    code = GOOD + "\nseen = []\n\ndef test_a():\n    seen.append('a')\n"
    code += "\ndef test_b():\n    assert seen == []\n"
    forward = run_tests(project, code, calc_file, order=["test_a", "test_b"])
    backward = run_tests(project, code, calc_file, order=["test_b", "test_a"])
    assert set(forward.tests) == {"test_a", "test_b"}
    assert forward.tests["test_b"].outcome == "failed"
    assert backward.tests["test_b"].outcome == "passed"


def test_collect_error_is_reported(project: Project, calc_file: Path) -> None:
    result = run_tests(project, "import no_such_module_xyz\n", calc_file)
    assert result.tests == {}
    assert "no_such_module_xyz" in result.collect_errors[0]


def test_every_hostile_body_is_refused_and_nothing_escapes(
    project: Project,
    calc_file: Path,
    tmp_path: Path,
    listener: socket.socket,
    hostile: ModuleType,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    sentinel = outside / "keep.txt"
    sentinel.write_text("precious", encoding="utf-8")
    values = {
        "sentinel": str(sentinel),
        "sentinel_dir": str(outside),
        "port": listener.getsockname()[1],
        "project": str(project.rootdir),
    }
    (project.rootdir / ".env").write_text("OPENAI_API_KEY=sk-x\n", encoding="utf-8")
    result = run_tests(project, hostile.refused_module(values), calc_file, timeout=30)

    assert result.status == "ok", result.stderr
    for name in hostile.REFUSED:
        run = result.tests[f"test_{name}"]
        assert run.outcome == "failed", (name, run.detail)
        assert run.unsafe, name
    assert sentinel.read_text(encoding="utf-8") == "precious"
    assert oct(sentinel.stat().st_mode)[-3:] != "000"
    assert sorted(p.name for p in outside.iterdir()) == ["keep.txt"]
    with pytest.raises(socket.timeout):
        listener.accept()


def test_hang_is_killed_by_the_wall_timeout(project: Project, calc_file: Path) -> None:
    code = "import signal\n\ndef test_hang():\n"
    code += "    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n    while True:\n"
    code += "        pass\n"
    result = run_tests(project, code, calc_file, timeout=2, test_timeout=0.5)
    assert result.status == "timeout"
    assert result.killed_reason == "timeout"
    assert result.duration < 10


def test_slow_test_hits_its_own_alarm(project: Project, calc_file: Path) -> None:
    code = "import time\n\ndef test_sleepy():\n    time.sleep(60)\n\n"
    code += "def test_fine():\n    assert True\n"
    result = run_tests(project, code, calc_file, timeout=10, test_timeout=0.5)
    assert result.status == "ok"
    assert result.tests["test_sleepy"].outcome == "timeout"
    assert result.tests["test_fine"].outcome == "passed"


def test_os_exit_leaves_no_result(project: Project, calc_file: Path) -> None:
    code = "import os\n\ndef test_bye():\n    os._exit(0)\n"
    result = run_tests(project, code, calc_file, timeout=10)
    assert result.status == "crashed"
    assert result.tests == {}


def test_memory_hog_is_flagged(project: Project, calc_file: Path) -> None:
    code = "def test_hog():\n    block = bytearray(4 * 1024**3)\n    assert block\n"
    limits = Limits(timeout=10, cpu_seconds=10, memory_bytes=768 * 1024**2)
    result = run_tests(project, code, calc_file, limits=limits)
    run = result.tests["test_hog"]
    assert run.outcome == "failed"
    assert run.memory and run.unsafe


def test_cpu_limit_kills_a_native_busy_loop(project: Project, calc_file: Path) -> None:
    code = "def test_spin():\n    sum(range(10**12))\n"
    limits = Limits(timeout=20, cpu_seconds=1)
    result = run_tests(project, code, calc_file, limits=limits, test_timeout=0.3)
    assert result.status == "crashed"
    assert result.killed_reason in {"cpu", "killed"}
    assert result.duration < 10


def test_output_flood_stays_out_of_the_parent(
    project: Project, calc_file: Path
) -> None:
    code = "import os\n\ndef test_flood():\n"
    code += "    for _ in range(64):\n        os.write(1, b'x' * 65536)\n"
    limits = Limits(timeout=10, cpu_seconds=10, file_bytes=1024**2)
    result = run_tests(project, code, calc_file, limits=limits)
    # Python ignores SIGXFSZ: the write past the limit fails with EFBIG instead
    assert result.tests["test_flood"].outcome == "failed"
    assert "File too large" in result.tests["test_flood"].detail
    assert len(result.stdout) < 5000 and len(result.stderr) < 5000


def test_many_files_cannot_fill_the_disk(project: Project, calc_file: Path) -> None:
    code = "import time\n\ndef test_fill():\n    for i in range(10**6):\n"
    code += "        with open(f'f{i}', 'wb') as fh:\n"
    code += "            fh.write(b'x' * 1024**2)\n"
    limits = Limits(timeout=20, cpu_seconds=20, disk_bytes=8 * 1024**2)
    result = run_tests(project, code, calc_file, limits=limits)
    assert result.status == "crashed"
    assert result.killed_reason == "disk"
    assert result.duration < 10


def test_endless_thread_does_not_block_the_result(
    project: Project, calc_file: Path
) -> None:
    code = "import threading, time\n\ndef test_thread():\n"
    code += "    threading.Thread(target=lambda: time.sleep(600)).start()\n"
    result = run_tests(project, code, calc_file, timeout=10)
    assert result.status == "ok"
    assert result.tests["test_thread"].outcome == "passed"


def test_api_keys_do_not_reach_the_sandbox(
    project: Project, calc_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    monkeypatch.setenv("PYTHONPATH", "/nowhere")
    code = "import os\n\ndef test_env():\n"
    code += "    assert 'OPENAI_API_KEY' not in os.environ\n"
    code += "    assert os.getcwd() == os.environ['HOME']\n"
    result = run_tests(project, code, calc_file)
    assert result.tests["test_env"].outcome == "passed", result.tests["test_env"]
    env = clean_env(Path("w"))
    assert "OPENAI_API_KEY" not in env and "PYTHONPATH" not in env


def test_writes_inside_the_workdir_are_allowed(
    project: Project, calc_file: Path
) -> None:
    code = "import os, tempfile\n\ndef test_files(tmp_path):\n"
    code += "    (tmp_path / 'a.txt').write_text('x')\n"
    code += "    open('here.txt', 'w').write('y')\n"
    code += "    with tempfile.NamedTemporaryFile() as fh:\n        fh.write(b'z')\n"
    code += "    os.remove('here.txt')\n"
    result = run_tests(project, code, calc_file)
    assert result.tests["test_files"].outcome == "passed", result.tests["test_files"]
    assert not result.tests["test_files"].unsafe


def test_parent_survives(project: Project, calc_file: Path) -> None:
    code = "import os, signal\n\ndef test_kill():\n"
    code += f"    os.kill({os.getpid()}, signal.SIGKILL)\n"
    result = run_tests(project, code, calc_file)
    assert result.tests["test_kill"].violations == ("os.kill",)
    assert os.getpid() > 0 and sys.exc_info() == (None, None, None)


def test_probe_reports_values_exceptions_and_coverage_per_call(
    project: Project, calc_file: Path
) -> None:
    result = run_probe(
        project,
        "from pkg.calc import sign, countdown, parse",
        ["sign(-1)", "parse('')", "countdown(3)", "countdown(4)", "object()"],
        calc_file,
        call_timeout=0.3,
    )
    assert result.status == "ok"
    neg, empty, odd, even, obj = result.calls
    assert (neg.status, neg.repr, neg.faithful) == ("returned", "-1", True)
    assert neg.covered.lines == {2, 3}
    assert (empty.status, empty.exc_type) == ("raised", "builtins.ValueError")
    assert empty.exc_message == "empty"
    assert odd.status == "timeout"
    assert (even.status, even.repr) == ("returned", "0")
    assert (10, 12) in even.covered.arcs
    assert obj.status == "returned" and not obj.faithful


def test_probe_setup_error_and_violation(project: Project, calc_file: Path) -> None:
    broken = run_probe(project, "import no_such_mod_q", ["1"], calc_file)
    assert "no_such_mod_q" in broken.setup_error
    assert broken.calls == ()
    hostile = run_probe(project, "import os", ["os.system('true')"], calc_file)
    assert hostile.calls[0].status == "raised"
    assert hostile.calls[0].violations == ("os.system",)


def test_probe_skips_a_call_that_kills_or_hangs_the_process(
    project: Project, calc_file: Path
) -> None:
    calls = ["sign(-1)", "os._exit(1)", "sign(0)", "sum(range(10**12))", "sign(4)"]
    result = run_probe(
        project,
        "import os\nfrom pkg.calc import sign",
        calls,
        calc_file,
        timeout=20,
        call_timeout=0.2,
    )
    assert [c.expr for c in result.calls] == calls
    statuses = [c.status for c in result.calls]
    assert statuses == ["returned", "crashed", "returned", "timeout", "returned"]
    assert [c.repr for c in result.calls if c.status == "returned"] == ["-1", "0", "1"]
    assert result.calls[2].covered.lines == {2, 4, 5}


def test_a_probe_never_runs_much_past_its_time(
    project: Project, calc_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every call hangs in native code: the first one spends the probe's time,
    # so the others are not each given the whole time again
    runs: list[int] = []
    real = sandbox.execute

    def counted(*args: object, **kwargs: object) -> object:
        runs.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sandbox, "execute", counted)
    calls = ["sum(range(10**12))"] * 4 + ["sign(1)"]
    result = run_probe(
        project,
        "from pkg.calc import sign",
        calls,
        calc_file,
        timeout=2.0,
        call_timeout=0.2,
    )
    assert len(runs) == 1
    assert result.status == "timeout"
    assert result.calls == ()


def test_home_is_unreadable_except_the_project(
    project: Project, calc_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the project lives inside this home, next to a secret
    monkeypatch.setenv("HOME", str(tmp_path))
    secret = tmp_path / ".netrc"
    secret.write_text("machine x password hunter2\n", encoding="utf-8")
    code = (
        "from pathlib import Path\n\n\ndef test_secret():\n"
        f"    print(Path({str(secret)!r}).read_text())\n\n\n"
        "def test_project_file():\n"
        f"    assert 'def sign' in Path({str(calc_file)!r}).read_text()\n"
    )
    result = run_tests(project, code, calc_file)
    assert result.tests["test_secret"].violations == (f"read {str(secret)!r}",)
    assert "hunter2" not in result.tests["test_secret"].detail + result.stdout
    assert result.tests["test_project_file"].outcome == "passed"


def test_a_sandbox_that_cannot_start_is_an_error_not_a_verdict(
    project: Project, calc_file: Path
) -> None:
    # too little memory to import pytest: the sandbox's fault, not the candidate's
    limits = Limits(timeout=10, cpu_seconds=10, memory_bytes=40 * 1024**2)
    with pytest.raises(SandboxError, match="could not start"):
        run_tests(project, GOOD, calc_file, limits=limits)


def test_shared_memory_made_at_import_works(project: Project, calc_file: Path) -> None:
    # multiprocessing keeps a Value's memory in an arena file it would make in
    # /dev/shm, outside the sandbox's directory: it is made in its TMPDIR
    (project.rootdir / "pkg" / "shared.py").write_text(
        "import multiprocessing\n\nCOUNTER = multiprocessing.Value('i', 3)\n",
        encoding="utf-8",
    )
    code = "from pkg.shared import COUNTER\n\ndef test_value():\n"
    code += "    assert COUNTER.value == 3\n"
    result = run_tests(project, code, calc_file)
    assert result.tests["test_value"].outcome == "passed", result.tests["test_value"]
    assert not result.tests["test_value"].unsafe

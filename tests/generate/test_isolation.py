"""OS-level isolation: what the in-process guard cannot stop, the namespaces do."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from pytest_ruvqe.generate.sandbox import isolation as iso
from pytest_ruvqe.generate.sandbox import process, run_probe, run_tests
from pytest_ruvqe.generate.types import Project


def _require_bubblewrap() -> None:
    """Skip where bubblewrap cannot run (a laptop); never in CI, which has it."""
    if iso.isolation() == "bubblewrap":
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must have bubblewrap: {iso.why_not()}")
    pytest.skip(f"no OS isolation here: {iso.why_not()}")


@pytest.fixture
def isolated() -> None:
    _require_bubblewrap()


@pytest.fixture
def no_bubblewrap(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This machine as one without bubblewrap (macOS, a locked-down kernel)."""
    monkeypatch.setattr(iso.shutil, "which", lambda name: None)
    monkeypatch.delenv(iso.REQUIRE_ENV, raising=False)
    iso.why_not.cache_clear()
    iso.isolation.cache_clear()
    yield
    iso.why_not.cache_clear()
    iso.isolation.cache_clear()


def _processes_with(marker: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline:
                found.append(entry.name)
    return found


def test_escapes_past_the_guard_are_contained(
    isolated: None,
    project: Project,
    calc_file: Path,
    tmp_path: Path,
    hostile: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RUVQE_CANARY_KEY", "canary-4f1b9e")
    sentinel = tmp_path / "keep.txt"
    sentinel.write_text("precious", encoding="utf-8")
    home = Path(os.path.expanduser("~"))
    marker = f"ruvqe-marker-{os.getpid()}-{time.monotonic_ns()}"
    values = {
        "calc": str(calc_file),
        "host_pid": os.getpid(),
        "marker": marker,
        "sentinel": str(sentinel),
        "secret": str(home / ".ruvqe-test-secret"),
    }
    source = calc_file.read_text(encoding="utf-8")
    result = run_tests(project, hostile.escape_module(values), calc_file, timeout=30)

    assert result.status == "ok", result.stderr
    output = result.stdout + result.stderr
    output += "".join(t.detail for t in result.tests.values())
    assert "canary-4f1b9e" not in output
    assert calc_file.read_text(encoding="utf-8") == source
    assert sentinel.read_text(encoding="utf-8") == "precious"
    # the namespace's processes are killed with it: gone within moments, where
    # an escaped one would live on for its 30 s
    deadline = time.monotonic() + 5
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_with(marker) == []
    for name in ("dir_fd_append_to_source", "dir_fd_host_environ", "ctypes_unlink"):
        assert result.tests[f"test_{name}"].outcome == "failed", name
    # frames are refused by the guard: no way to the runner's state
    for name in ("frame_walk", "traceback_frame", "inspect_stack", "main_globals"):
        run = result.tests[f"test_{name}"]
        assert run.outcome == "failed" and run.unsafe, (name, run.detail)


def test_no_network_not_even_the_hosts_loopback(
    isolated: None, project: Project, calc_file: Path
) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    # ctypes' connect has no audit event: only the network namespace stops it
    code = (
        "import ctypes, socket\n\n"
        "def test_connect():\n"
        "    libc = ctypes.CDLL(None)\n"
        "    fd = libc.socket(2, 1, 0)\n"
        f"    addr = (2).to_bytes(2, 'little') + ({port}).to_bytes(2, 'big')\n"
        "    addr += bytes([127, 0, 0, 1]) + bytes(8)\n"
        "    assert libc.connect(fd, addr, 16) == 0\n"
    )
    try:
        result = run_tests(project, code, calc_file, timeout=30)
        assert result.tests["test_connect"].outcome == "failed"
        with pytest.raises(socket.timeout):
            server.accept()
    finally:
        server.close()


def test_the_system_is_read_only_and_the_home_is_hidden(
    isolated: None, project: Project, calc_file: Path
) -> None:
    home = Path(os.path.expanduser("~"))
    secret = home / f".ruvqe-test-secret-{os.getpid()}"
    secret.write_text("token", encoding="utf-8")
    try:
        probe = run_probe(
            project,
            "import os",
            [
                "os.access('/usr', os.W_OK)",
                f"os.path.exists({str(secret)!r})",
                "len([p for p in os.listdir('/proc') if p.isdigit()]) < 10",
                f"os.path.exists({str(calc_file)!r})",
            ],
            calc_file,
        )
    finally:
        secret.unlink()
    values = [c.repr for c in probe.calls]
    assert values[0] == "False"
    assert values[1] == "False"  # the home is empty, but for what tests need
    assert values[2] == "True"  # the sandbox's own processes only
    assert values[3] == "True"  # the project is there to read


def test_multiprocessing_shared_memory_works_inside(
    isolated: None, project: Project, calc_file: Path
) -> None:
    probe = run_probe(
        project,
        "from multiprocessing import shared_memory",
        ["shared_memory.SharedMemory(create=True, size=16).size >= 16"],
        calc_file,
    )
    assert probe.calls[0].status == "returned", probe.calls[0]
    assert probe.calls[0].repr == "True"


def test_the_command_line_isolates_and_mounts_the_project_back(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    project = home / "proj"
    project.mkdir(parents=True)
    argv = iso.wrap(
        ["python", "x.py"],
        tmp_path / "box",
        [str(project)],
        tmp_path,
        hidden=[str(home)],
    )
    joined = " ".join(argv)
    assert "--unshare-all" in argv and "--die-with-parent" in argv
    assert "--ro-bind / /" in joined
    assert f"--tmpfs {home}" in joined
    assert joined.index(f"--tmpfs {home}") < joined.index(f"--ro-bind {project}")
    assert f"--bind {tmp_path / 'box'}" in joined
    assert argv[-3:] == ["--", "python", "x.py"]


def test_without_bubblewrap_the_guard_still_runs(
    no_bubblewrap: None, project: Project, calc_file: Path
) -> None:
    assert iso.isolation() == "none"
    assert "not installed" in iso.why_not()
    result = run_tests(
        project,
        "from pkg.calc import sign\n\ndef test_one():\n    assert sign(2) == 1\n",
        calc_file,
    )
    assert result.tests["test_one"].outcome == "passed"


def test_isolation_required_but_missing_is_an_error(
    no_bubblewrap: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(iso.REQUIRE_ENV, "1")
    with pytest.raises(iso.IsolationUnavailable, match="apt-get install bubblewrap"):
        iso.isolation()


def test_directories_of_dead_runs_are_swept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(process.tempfile, "gettempdir", lambda: str(tmp_path))
    dead = tmp_path / "ruvqe-sandbox-dead"
    live = tmp_path / "ruvqe-sandbox-live"
    young = tmp_path / "ruvqe-sandbox-young"  # its owner file is not written yet
    for d in (dead, live, young):
        (d / "work").mkdir(parents=True)
    (dead / "owner.pid").write_text("999999999", encoding="utf-8")
    (live / "owner.pid").write_text(str(os.getpid()), encoding="utf-8")
    process.sweep_stale.cache_clear()
    try:
        assert process.sweep_stale() == 1
    finally:
        process.sweep_stale.cache_clear()
    assert not dead.exists()
    assert live.exists() and young.exists()


def _descendants(pid: int) -> dict[int, str]:
    """Live processes below ``pid``: their command lines by process id."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = {}, [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            try:
                found[child] = (Path("/proc") / str(child) / "cmdline").read_text()
            except OSError:
                continue
            todo.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            stat = (Path("/proc") / str(pid) / "stat").read_text()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] != "Z":
            alive.add(pid)
    return alive


@pytest.mark.parametrize("isolated", [True, False], ids=["bubblewrap", "guard"])
def test_a_sandbox_child_dies_with_its_host(
    isolated: bool, project: Project, calc_file: Path, tmp_path: Path
) -> None:
    if isolated:
        _require_bubblewrap()
    code = "import time\n\ndef test_sleeps():\n    time.sleep(60)\n"
    host = tmp_path / "host.py"
    host.write_text(
        "from pathlib import Path\n"
        "from pytest_ruvqe.generate.sandbox import isolation, run_tests\n"
        "from pytest_ruvqe.generate.types import Project\n"
        f"if not {isolated}:\n"
        "    isolation.shutil.which = lambda name: None\n"
        f"root = Path({str(project.rootdir)!r})\n"
        f"run_tests(Project(root, (root,)), {code!r}, Path({str(calc_file)!r}),"
        " timeout=120)\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != iso.REQUIRE_ENV}
    proc = subprocess.Popen([sys.executable, str(host)], env=env)
    try:
        deadline = time.monotonic() + 60
        while not any("child.py" in c for c in _descendants(proc.pid).values()):
            assert time.monotonic() < deadline, "the sandbox never started"
            assert proc.poll() is None, "the host ended early"
            time.sleep(0.2)
        below = set(_descendants(proc.pid))
        assert any("bwrap" in c for c in _descendants(proc.pid).values()) is isolated
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 10
    while _alive(below) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _alive(below) == set()

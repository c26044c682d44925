"""Hostile candidate tests: each body tries one thing the sandbox must refuse.

``{sentinel}`` is a file and ``{sentinel_dir}`` a directory outside the sandbox,
``{port}`` a loopback port the test process listens on, ``{project}`` the
project's root. Every body here must end
as a refused operation attributed to its own test.
"""

from __future__ import annotations

REFUSED: dict[str, str] = {
    "remove_file": "os.remove({sentinel!r})",
    "unlink_pathlib": "pathlib.Path({sentinel!r}).unlink()",
    "rmtree": "shutil.rmtree({sentinel_dir!r})",
    "overwrite_open": "open({sentinel!r}, 'w').write('pwned')",
    "append_pathlib": "pathlib.Path({sentinel!r}).write_text('pwned')",
    "os_open_write": "os.open({sentinel!r}, os.O_WRONLY | os.O_TRUNC)",
    "create_outside": "open({sentinel_dir!r} + '/new.txt', 'x')",
    "rename": "os.rename({sentinel!r}, {sentinel!r} + '.moved')",
    "chmod": "os.chmod({sentinel!r}, 0)",
    "symlink_out": "os.symlink({sentinel!r}, 'link'); open('link', 'w')",
    "relative_escape": (
        "open('../../../' + os.path.basename({sentinel_dir!r}) + '/x', 'w')"
    ),
    "sqlite_outside": "sqlite3.connect({sentinel_dir!r} + '/db.sqlite')",
    "copy_over": "shutil.copyfile(__file__, {sentinel!r})",
    "connect_loopback": "socket.create_connection(('127.0.0.1', {port}), timeout=1)",
    "connect_remote": "socket.create_connection(('10.255.255.1', 80), timeout=1)",
    "udp_sendto": (
        "socket.socket(socket.AF_INET, socket.SOCK_DGRAM)"
        ".sendto(b'x', ('127.0.0.1', {port}))"
    ),
    "bind_listen": "socket.socket().bind(('127.0.0.1', 0))",
    "dns_lookup": "socket.getaddrinfo('example.com', 80)",
    "urlopen": "urllib.request.urlopen('http://127.0.0.1:{port}/', timeout=1)",
    "subprocess_run": "subprocess.run(['touch', {sentinel_dir!r} + '/sub'])",
    "os_system": "os.system('touch ' + {sentinel_dir!r} + '/sys')",
    "fork": "os.fork()",
    "multiprocessing": "multiprocessing.Process(target=print).start()",
    "exec": "os.execv(sys.executable, [sys.executable, '-c', 'pass'])",
    "kill_parent": "os.kill(os.getppid(), signal.SIGKILL)",
    "killpg": "os.killpg(os.getpgid(0), signal.SIGTERM)",
    "raise_limits": "resource.setrlimit(resource.RLIMIT_CPU, (10**6, 10**6))",
    "parent_environ": "open(f'/proc/{{os.getppid()}}/environ').read()",
    "dotenv_in_project": "open(os.path.join({project!r}, '.env')).read()",
    "find_the_guard": "import gc; gc.get_objects()",
    "forge_result": (
        "cfg = json.load(open(sys.argv[1]));"
        " open(cfg['result_file'], 'w').write('0000000000000002{{}}')"
    ),
}

PREAMBLE = """\
import json, multiprocessing, os, pathlib, resource, shutil, signal, socket
import sqlite3
import subprocess, sys, urllib.request
"""


def refused_module(values: dict[str, object]) -> str:
    """One test module with a test per hostile body, formatted with ``values``."""
    parts = [PREAMBLE]
    for name, body in REFUSED.items():
        parts.append(f"\n\ndef test_{name}():\n    {body.format(**values)}\n")
    return "".join(parts)

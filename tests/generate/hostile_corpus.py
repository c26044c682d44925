"""Hostile candidate tests: each body tries one thing the sandbox must refuse.

``{sentinel}`` is a file and ``{sentinel_dir}`` a directory outside the sandbox,
``{port}`` a loopback port the test process listens on, ``{project}`` the
project's root. Every body here must end
as a refused operation attributed to its own test.

The sandbox tests run these bodies directly. Through validation none of them
gets that far: ``STATIC`` says what the allowlist refuses in each, before it
runs (``static_module`` gives a body with just the imports it uses).
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


_OS = "imports os (not in the allowlist)"
_OPEN = "uses open (file access)"
_SOCKET = "imports socket (not in the allowlist)"
_SIGNAL = "imports signal (not in the allowlist)"
STATIC: dict[str, tuple[str, ...]] = {
    "remove_file": (_OS,),
    "unlink_pathlib": ("imports pathlib (not in the allowlist)",),
    "rmtree": ("imports shutil (not in the allowlist)",),
    "overwrite_open": (_OPEN,),
    "append_pathlib": ("imports pathlib", "uses .write_text (file access)"),
    "os_open_write": (_OS,),
    "create_outside": (_OPEN,),
    "rename": (_OS,),
    "chmod": (_OS, "uses .chmod (file access)"),
    "symlink_out": (_OS, _OPEN),
    "relative_escape": (_OS, _OPEN),
    "sqlite_outside": ("imports sqlite3 (not in the allowlist)",),
    "copy_over": ("imports shutil", "uses __file__"),
    "connect_loopback": (_SOCKET,),
    "connect_remote": (_SOCKET,),
    "udp_sendto": (_SOCKET,),
    "bind_listen": (_SOCKET,),
    "dns_lookup": (_SOCKET,),
    "urlopen": ("imports urllib.request (not in the allowlist)",),
    "subprocess_run": ("imports subprocess (not in the allowlist)",),
    "os_system": (_OS,),
    "fork": (_OS,),
    "multiprocessing": ("imports multiprocessing (not in the allowlist)",),
    "exec": (_OS, "imports sys (not in the allowlist)"),
    "kill_parent": (_OS, _SIGNAL, "uses .getppid (reads the environment)"),
    "killpg": (_OS, _SIGNAL),
    "raise_limits": ("imports resource (not in the allowlist)",),
    "parent_environ": (_OS, _OPEN),
    "dotenv_in_project": (_OS, _OPEN),
    "find_the_guard": ("imports gc (not in the allowlist)",),
    "forge_result": ("imports sys (not in the allowlist)", _OPEN),
}


def static_module(name: str, values: dict[str, object]) -> str:
    """The test of one hostile body, with only the imports of PREAMBLE it uses."""
    body = REFUSED[name].format(**values)
    modules = PREAMBLE.replace(",", " ").replace("import", " ").split()
    used = [m for m in modules if f"{m.split('.')[0]}." in body]
    imports = "".join(f"import {m}\n" for m in used)
    return f"{imports}\n\ndef test_{name}():\n    {body}\n"


# Escapes the in-process guard cannot see (no audit event, or native code):
# only the namespaces contain them. ``{calc}`` is the target source file,
# ``{host_pid}`` the host's process id, ``{marker}`` a word no other process
# has in its command line, ``{secret}`` a file in the host's home.
ESCAPES: dict[str, str] = {
    "dir_fd_append_to_source": (
        "fd = os.open(os.path.dirname({calc!r}), os.O_RDONLY)\n"
        "    out = os.open(os.path.basename({calc!r}),"
        " os.O_WRONLY | os.O_APPEND, dir_fd=fd)\n"
        "    os.write(out, b'# pwned')"
    ),
    "dir_fd_host_environ": (
        "fd = os.open('/proc', os.O_RDONLY)\n"
        "    env = os.open('{host_pid}/environ', os.O_RDONLY, dir_fd=fd)\n"
        "    print(os.read(env, 1 << 20))"
    ),
    "ctypes_unlink": ("assert ctypes.CDLL(None).unlink({sentinel!r}.encode()) == 0"),
    "ctypes_system_outlives": (
        "ctypes.CDLL(None).system(b\"setsid sh -c 'sleep 30; echo {marker}' &\")"
    ),
    "ctypes_home_secret": (
        "libc = ctypes.CDLL(None)\n"
        "    libc.fopen.restype = ctypes.c_void_p\n"
        "    assert libc.fopen({secret!r}.encode(), b'r')"
    ),
    "main_globals": (
        "import __main__\n"
        "    __main__._DENIED_ALWAYS = frozenset()\n"
        "    os.system('true')"
    ),
    "frame_walk": "print(sys._getframe().f_back.f_locals)",
    "traceback_frame": (
        "try:\n        1 / 0\n    except ZeroDivisionError as exc:\n"
        "        print(exc.__traceback__.tb_frame.f_back.f_locals)"
    ),
    "inspect_stack": (
        "import inspect; print([f.frame.f_locals for f in inspect.stack()])"
    ),
}

ESCAPE_PREAMBLE = "import ctypes, os, sys\n"


def escape_module(values: dict[str, object]) -> str:
    """One test module with a test per escape, formatted with ``values``."""
    parts = [ESCAPE_PREAMBLE]
    for name, body in ESCAPES.items():
        parts.append(f"\n\ndef test_{name}():\n    {body.format(**values)}\n")
    return "".join(parts)

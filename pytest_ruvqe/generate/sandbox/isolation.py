"""OS-level isolation of the sandbox child with bubblewrap (``bwrap``).

Where ``bwrap`` is installed and the kernel lets it create namespaces, every
sandboxed process runs inside its own mount, PID, network, IPC, UTS and user
namespaces (``--unshare-all``): the whole filesystem is mounted read-only,
``/tmp``, ``/run``, ``/var/tmp`` and the user's home are empty in-memory
directories (the project, the Python installation and the import roots are
mounted back read-only where they lie inside them), the only writable place
is the run's own directory, ``/proc`` shows the sandbox's processes only,
``/dev`` is a minimal one, there is no network at all (not even loopback to
the host), all capabilities are dropped, and the processes die with their
parent (``--die-with-parent``) and lose the terminal (``--new-session``).

bubblewrap is the tool Flatpak builds on: small, audited, and packaged by
every Linux distribution, so the namespaces are set up by well-kept code
rather than by hand here. The audit hook of the child stays as a second
layer (it records what was refused, which the namespaces alone would not).

Where bubblewrap is missing or cannot run (macOS, Windows, a kernel or
container without user namespaces), :func:`isolation` says ``"none"`` and the
child runs with its guard only; the run then says so once, plainly.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

Isolation = Literal["bubblewrap", "none"]
# set to 1 to make a missing isolation an error instead of a warning (CI)
REQUIRE_ENV = "RUVQE_REQUIRE_ISOLATION"
# directories that hold other users' or the system's transient state
_EMPTIED = ("/tmp", "/var/tmp", "/run", "/dev/shm")


class IsolationUnavailable(Exception):
    """Isolation was required (``RUVQE_REQUIRE_ISOLATION=1``) but cannot run."""


@functools.cache
def isolation() -> Isolation:
    """Which isolation this machine gives sandboxed processes (probed once)."""
    found: Isolation = "bubblewrap" if why_not() == "" else "none"
    if found == "none" and os.environ.get(REQUIRE_ENV, "") not in ("", "0"):
        raise IsolationUnavailable(
            f"{REQUIRE_ENV} is set but bubblewrap cannot run here: {why_not()}; "
            "install it (Debian: apt-get install bubblewrap) or unset the variable"
        )
    return found


@functools.cache
def why_not() -> str:
    """Why there is no isolation, in a few words ('' when there is)."""
    if not sys.platform.startswith("linux"):
        return f"bubblewrap needs Linux (this is {sys.platform})"
    exe = shutil.which("bwrap")
    if exe is None:
        return "bwrap is not installed"
    argv = [exe, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/"]
    try:
        done = subprocess.run(
            [*argv, "--proc", "/proc", "--dev", "/dev", "true"],
            capture_output=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap did not run ({exc})"
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return "bwrap cannot create namespaces here" + (
            f" ({detail[-1]})" if detail else ""
        )
    return ""


def wrap(
    argv: Sequence[str],
    writable: Path,
    readable: Iterable[str],
    cwd: Path,
    hidden: Iterable[str] = (),
) -> list[str]:
    """``argv`` run under bubblewrap: read-only system, ``writable`` writable.

    ``readable`` are directories to mount back read-only when they lie in an
    emptied place (the user's home, ``/tmp``); ``hidden`` are directories
    emptied besides the fixed ones (the user's home).
    """
    exe = shutil.which("bwrap") or "bwrap"
    cmd = [exe, "--unshare-all", "--die-with-parent", "--new-session"]
    cmd += ["--cap-drop", "ALL", "--hostname", "ruvqe-sandbox"]
    cmd += ["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"]
    emptied = [*_EMPTIED, *(h for h in hidden if os.path.isdir(h))]
    for place in emptied:
        if os.path.isdir(place):
            cmd += ["--tmpfs", place]
    for path in sorted(set(readable)):
        if os.path.isdir(path) and _under_any(path, emptied):
            cmd += ["--ro-bind", path, path]
    cmd += ["--bind", str(writable), str(writable), "--chdir", str(cwd)]
    return [*cmd, "--", *argv]


def _under_any(path: str, roots: Iterable[str]) -> bool:
    real = os.path.realpath(path)
    return any(
        real == r or real.startswith(r.rstrip(os.sep) + os.sep)
        for r in (os.path.realpath(root) for root in roots)
    )

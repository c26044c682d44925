"""Lines changed since a git ref, as diff-cover sees them (committed, staged,
unstaged and untracked)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


class DiffError(Exception):
    """git could not produce the diff; the message says why."""


def _git(rootdir: Path, *args: str) -> str:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=rootdir, capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise DiffError(f"git could not run: {exc}") from None
    if proc.returncode != 0:
        raise DiffError(proc.stderr.strip() or f"git {args[0]} failed")
    return proc.stdout


def parse_unified_diff(text: str) -> dict[str, frozenset[int]]:
    """Added or changed line numbers per new-side path of a ``-U0`` diff."""
    changed: dict[str, set[int]] = {}
    current: set[int] | None = None
    for line in text.splitlines():
        if line.startswith("+++ "):
            target = line[4:].strip()
            if target == "/dev/null":
                current = None
            else:
                current = changed.setdefault(target.removeprefix("b/"), set())
        elif current is not None and (match := _HUNK.match(line)):
            start = int(match.group(1))
            count = int(match.group(2)) if match.group(2) is not None else 1
            current.update(range(start, start + count))
    return {path: frozenset(lines) for path, lines in changed.items() if lines}


def changed_lines(rootdir: Path, ref: str) -> dict[str, frozenset[int]]:
    """Changed lines per rootdir-relative path since ``ref``, untracked files whole."""
    diff = _git(
        rootdir, "diff", "--no-color", "--no-ext-diff", "-U0", "--relative", ref, "--"
    )
    # --relative: paths relative to the cwd (the rootdir), files outside left out
    changed = dict(parse_unified_diff(diff))
    untracked = _git(rootdir, "ls-files", "--others", "--exclude-standard")
    for rel in untracked.splitlines():
        path = rootdir / rel
        if path.suffix == ".py" and path.is_file():
            try:
                count = path.read_bytes().count(b"\n") + 1
            except OSError:
                continue
            changed[rel] = frozenset(range(1, count + 1))
    return changed

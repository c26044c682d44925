"""``ruvqe mutants``: browse the last mutation run, show one, apply one."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_ruvqe.cli.project import CliError, find_rootdir, last_run
from pytest_ruvqe.fileio import write_atomic


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "mutants",
        help="list the last mutation run's mutants; show or apply one",
        description="Browse the mutants of the last `pytest --ruvqe --ruvqe-mutation`.",
    )
    p.add_argument("--survived", action="store_true", help="only survivors")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    show = actions.add_parser("show", help="one mutant's diff")
    show.add_argument("id")
    apply = actions.add_parser(
        "apply", help="write one mutant into the working tree, to investigate"
    )
    apply.add_argument("id")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    rootdir = find_rootdir(args.rootdir)
    data = last_run(rootdir)
    mutants = _mutants(data)
    if args.action == "show":
        print(shown(_one(mutants, args.id), data["mutation"].get("tests", ())))
        return 0
    if args.action == "apply":
        return _apply(rootdir, _one(mutants, args.id))
    for m in mutants:
        if not args.survived or m["status"] == "survived":
            print(
                f"{m['id']}  {m['status']:<9} {m['file']}:{m['line']}  "
                f"{m['function']}  {m['operator']}: {m['original']} -> {m['mutated']}"
            )
    return 0


def _mutants(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    mutation = data.get("mutation")
    if not mutation:
        raise CliError(
            "the last run had no mutation testing: run "
            "`pytest --ruvqe --ruvqe-mutation` first"
        )
    return list(mutation.get("mutants", ()))


def shown(mutant: Mapping[str, Any], tests: Sequence[str]) -> str:
    """One mutant as ``ruvqe mutants show`` prints it: where, what, its diff
    and the tests that reached it (the one that killed it first)."""
    lines = [
        f"mutant {mutant['id']} ({mutant['status']}) at {mutant['file']}:"
        f"{mutant['line']} in {mutant['function']}: {mutant['operator']}: "
        f"{mutant['original']} -> {mutant['mutated']}"
    ]
    if mutant.get("diff"):
        lines.append(mutant["diff"].rstrip())
    reached = [tests[i] for i in mutant.get("covered_by", ())]
    killers = [tests[i] for i in mutant.get("killed_by", ())]
    lines.append(f"reached by {len(reached)} test{'' if len(reached) == 1 else 's'}:")
    lines += [f"  {t}{'  (killed it)' if t in killers else ''}" for t in reached]
    return "\n".join(lines)


def _one(mutants: list[dict[str, Any]], wanted: str) -> dict[str, Any]:
    for m in mutants:
        if str(m["id"]) == wanted:
            return m
    raise CliError(f"no mutant {wanted} in the last run: `ruvqe mutants` lists them")


def _apply(rootdir: Path, mutant: Mapping[str, Any]) -> int:
    """Apply the mutant's diff to its file, refusing when the file has changed."""
    path = rootdir / mutant["file"]
    try:
        old = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    new = patched(old, mutant["diff"], int(mutant["line"]))
    if new is None:
        raise CliError(
            f"{mutant['file']} changed since the mutation run: the mutant does "
            "not apply; run the mutation again"
        )
    write_atomic(path, new)
    print(f"applied mutant {mutant['id']} to {mutant['file']} (undo: git checkout)")
    return 0


def patched(text: str, diff: str, line: int) -> str | None:
    """``text`` with a mutant's diff (``- old`` / ``+ new`` lines from
    ``line`` on) applied, or None when those lines are no longer there."""
    rows = diff.splitlines()[1:]
    old = [r[2:] for r in rows if r.startswith("- ")]
    new = [r[2:] for r in rows if r.startswith("+ ")]
    lines = text.splitlines(keepends=True)
    span = lines[line - 1 : line - 1 + len(old)]
    if not old or [s.rstrip("\r\n") for s in span] != old:
        return None
    ending = span[-1][len(span[-1].rstrip("\r\n")) :]
    body = [f"{row}\n" for row in new[:-1]] + [new[-1] + ending] if new else []
    return "".join(lines[: line - 1] + body + lines[line - 1 + len(old) :])

"""``ruvqe store verify | gc | clear``: check and repair ``.ruvqe/store``."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

from pytest_ruvqe.cli.project import STORE, CliError, find_rootdir
from pytest_ruvqe.memory.maintenance import collect_garbage, database_problem, verify
from pytest_ruvqe.memory.store import StoreError, open_store


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "store",
        help="check (verify), repair (gc) or delete (clear) the store",
        description="The store keeps flakiness history, mutation results and "
        "learning under .ruvqe/store.",
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("verify", help="read every entry; exit 1 if any is bad")
    actions.add_parser("gc", help="remove entries that do not read back")
    clear = actions.add_parser("clear", help="delete the whole store")
    clear.add_argument("--yes", action="store_true", help="really delete it")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    directory = find_rootdir(args.rootdir) / STORE / "store"
    if args.action == "clear":
        return _clear(directory, args.yes)
    if not directory.exists():
        print(f"no store at {directory} yet: nothing to check")
        return 0
    problem = database_problem(directory)
    if problem:
        print(f"{problem}; `ruvqe store clear --yes` starts afresh")
        return 1
    try:
        store = open_store(directory)
    except StoreError as exc:
        raise CliError(str(exc)) from None
    with store:
        if args.action == "gc":
            print(f"removed {collect_garbage(store)} unreadable entries")
            return 0
        health = verify(store)
    for namespace, count in sorted(health.entries.items()):
        print(f"{namespace}: {count} entries")
    for key, why in health.bad:
        print(f"bad entry {key}: {why}")
    print(
        "store ok"
        if health.healthy
        else f"{len(health.bad)} bad entries: run `ruvqe store gc`"
    )
    return 0 if health.healthy else 1


def _clear(directory: Path, yes: bool) -> int:
    if not yes:
        raise CliError(f"this deletes {directory}; pass --yes to do it")
    shutil.rmtree(directory, ignore_errors=True)
    if directory.exists():
        raise CliError(f"could not delete {directory}: check its permissions")
    print(f"deleted {directory}")
    return 0

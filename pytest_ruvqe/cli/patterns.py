"""``ruvqe patterns stats | export FILE | import FILE | prune``: the
ReasoningBank of what earlier runs accepted (see docs/learning.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pytest_ruvqe.cli.project import STORE, CliError, find_rootdir
from pytest_ruvqe.memory.bank import BANK_STORE, INDEX_FILE, ReasoningBank
from pytest_ruvqe.memory.sharing import BankFileError, export_bank, import_bank
from pytest_ruvqe.memory.store import DiskStore, StoreError


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "patterns",
        help="the bank of accepted tests and recipes: stats, export, import, prune",
        description="The ReasoningBank that --ruvqe-generate learns into.",
    )
    p.add_argument("--bank", type=Path, help="the bank's directory (default .ruvqe/)")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("stats", help="patterns by kind and generator, their success")
    export = actions.add_parser("export", help="write every pattern to FILE")
    export.add_argument("file", type=Path)
    load = actions.add_parser("import", help="add the patterns of FILE (deduplicated)")
    load.add_argument("file", type=Path)
    prune = actions.add_parser("prune", help="merge near-duplicates, drop cold ones")
    prune.add_argument("--cap", type=int, default=5000, help="patterns kept at most")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    directory = args.bank or find_rootdir(args.rootdir) / STORE
    try:
        store = DiskStore(directory / BANK_STORE)
    except StoreError as exc:
        raise CliError(str(exc)) from None
    with store:
        bank = ReasoningBank(store, index_path=directory / INDEX_FILE)
        try:
            return _act(args, bank)
        except BankFileError as exc:
            raise CliError(str(exc)) from None


def _act(args: argparse.Namespace, bank: ReasoningBank) -> int:
    if args.action == "export":
        print(f"exported {export_bank(bank, args.file)} patterns to {args.file}")
    elif args.action == "import":
        done = import_bank(bank, args.file)
        bank.save_index()
        print(f"added {done.added}, merged {done.merged}, rejected {done.rejected}")
        for reason in done.reasons:
            print(f"  rejected: {reason}")
    elif args.action == "prune":
        merged, pruned = bank.maintain(size=args.cap // 2, cap=args.cap)
        bank.save_index()
        print(f"merged {merged} near-duplicates, pruned {pruned}; {len(bank)} kept")
    else:
        _stats(bank)
    return 0


def _stats(bank: ReasoningBank) -> None:
    patterns = bank.patterns()
    print(f"{len(patterns)} patterns")
    groups: dict[tuple[str, str], list[float]] = {}
    for p in patterns:
        key = (p.kind, p.generator or "-")
        groups.setdefault(key, []).append(p.alpha / (p.alpha + p.beta))
    for (kind, generator), means in sorted(groups.items()):
        mean = sum(means) / len(means)
        print(f"  {kind:<7} {generator:<13} {len(means):>6}  mean success {mean:.2f}")

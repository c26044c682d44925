"""The ``ruvqe`` command: the last run's reports, mutants and store, and a
check of what is installed, without rerunning the tests.

Built on :mod:`argparse` (standard library, sub-commands with their own
``--help``; nothing to install for a tool that mostly prints). Exit codes:
0 done, 1 a check found a problem (``store verify``, ``doctor``), 2 bad input
(no project here, no last run, a file from another schema version).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pytest_ruvqe import __version__
from pytest_ruvqe.cli import doctor, mutants, patterns, report, store, tune
from pytest_ruvqe.cli.project import CliError


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``ruvqe`` and its sub-commands."""
    parser = argparse.ArgumentParser(
        prog="ruvqe",
        description="pytest-ruvqe outside pytest: the last run, the store, the bank",
        epilog="exit codes: 0 done, 1 a check found a problem, 2 bad input",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "--rootdir", help="the project (default: found upward from here)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (report, mutants, patterns, store, doctor, tune):
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ruvqe``; the exit code."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except CliError as exc:
        print(f"ruvqe: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # ruvqe ... | head
        return 0
    return code

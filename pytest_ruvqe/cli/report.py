"""``ruvqe report``: the last run's report again, without rerunning tests."""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_ruvqe.cli.project import CliError, find_rootdir, last_run, load_run
from pytest_ruvqe.fileio import write_atomic
from pytest_ruvqe.report.loaded import coverage_report
from pytest_ruvqe.report.markdown import render_markdown
from pytest_ruvqe.report.merge import MergeError, merge_reports
from pytest_ruvqe.report.terminal import GAPS_TITLE, gap_lines

FORMATS = ("term", "md", "json")


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "report",
        help="show the last run's report (.ruvqe/last-run.json) again",
        description="Render the last run's report without rerunning the tests.",
    )
    p.add_argument("--format", choices=FORMATS, default="term")
    p.add_argument("--top", type=int, default=15, help="functions listed")
    p.add_argument("--file", type=Path, help="a JSON report other than the last run")
    p.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        metavar="JSON",
        help="combine the JSON reports of --ruvqe-shard runs into one",
    )
    p.add_argument("--output", type=Path, help="also write the (merged) JSON here")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.merge:
        try:
            data = merge_reports([load_run(path) for path in args.merge])
        except MergeError as exc:
            raise CliError(str(exc)) from None
    elif args.file:
        data = load_run(args.file)
    else:
        data = last_run(find_rootdir(args.rootdir))
    if args.output:
        write_atomic(args.output, json.dumps(data, indent=2) + "\n")
    print(render(data, args.format, args.top), end="")
    return 0


def render(data: Mapping[str, Any], fmt: str, top: int = 15) -> str:
    """The report in ``fmt`` from its JSON data."""
    if fmt == "json":
        return json.dumps(data, indent=2) + "\n"
    report = coverage_report(data)
    summary = summary_lines(data)
    warnings = [str(w) for w in data.get("warnings", ())]
    if fmt == "md":
        section = "\n".join(f"- {line}" for line in summary)
        return render_markdown(report, top, [section] if summary else [], warnings)
    width = shutil.get_terminal_size((100, 24)).columns
    lines = [f" {GAPS_TITLE} ".center(width, "="), *gap_lines(report, top, width)]
    lines += summary + [f"warning: {w}" for w in warnings]
    return "\n".join(lines) + "\n"


def summary_lines(data: Mapping[str, Any]) -> list[str]:
    """One line each for the quality, mutation and generation sections."""
    lines = []
    quality = data.get("quality", {}).get("suite")
    if quality:
        parts = ", ".join(f"{k} {v:.2f}" for k, v in quality["dimensions"].items())
        lines.append(f"quality {quality['score']:.2f} ({parts})")
    mutation = data.get("mutation")
    if mutation:
        score = mutation.get("score")
        shown = "n/a" if score is None else f"{100 * score:.1f}%"
        lines.append(
            f"mutation score {shown}: {mutation['killed']} killed, "
            f"{mutation['survived']} survived of {mutation['total']}"
        )
    generation = data.get("generation")
    if generation:
        accepted = generation.get("reasons", {}).get("accepted", 0)
        lines.append(f"generation: {accepted} tests accepted")
    return lines

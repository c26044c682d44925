"""``ruvqe report``: the last run's report again, without rerunning tests."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import webbrowser
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_ruvqe.cli.project import (
    STORE,
    CliError,
    find_rootdir,
    last_run,
    load_run,
)
from pytest_ruvqe.fileio import write_atomic
from pytest_ruvqe.report.loaded import coverage_report
from pytest_ruvqe.report.markdown import render_markdown
from pytest_ruvqe.report.merge import MergeError, merge_reports
from pytest_ruvqe.report.terminal import GAPS_TITLE, gap_lines

FORMATS = ("term", "md", "html", "json")
HTML_DIR = Path(".ruvqe", "html")  # under the rootdir, unless --dir says


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "report",
        help="show the last run's report (.ruvqe/last-run.json) again",
        description="Render the last run's report without rerunning the tests.",
    )
    p.add_argument("--format", choices=FORMATS, help="term (default; html with --open)")
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
    p.add_argument(
        "--dir", type=Path, help=f"where the html report goes (default {HTML_DIR})"
    )
    p.add_argument(
        "--open", action="store_true", help="open the html report in a browser"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    fmt = args.format or ("html" if args.open else "term")
    if fmt != "html" and (args.open or args.dir):
        raise CliError("--open and --dir are for the html report: add --format html")
    data = _data(args)
    if args.output:
        write_atomic(args.output, json.dumps(data, indent=2) + "\n")
    if fmt == "html":  # the pages show the project's sources
        return _html(data, find_rootdir(args.rootdir), args.dir, args.open)
    print(render(data, fmt, args.top), end="")
    return 0


def _data(args: argparse.Namespace) -> dict[str, Any]:
    if args.merge:
        try:
            data = merge_reports([load_run(path) for path in args.merge])
        except MergeError as exc:
            raise CliError(str(exc)) from None
    elif args.file:
        data = load_run(args.file)
    else:
        data = last_run(find_rootdir(args.rootdir))
    return data


def _html(
    data: Mapping[str, Any], rootdir: Path, given: Path | None, show: bool
) -> int:
    from pytest_ruvqe.memory.runs import stored_runs
    from pytest_ruvqe.report.html import INDEX, render_html, write_html
    from pytest_ruvqe.report.loaded import html_input

    directory = (given if given is not None else rootdir / HTML_DIR).resolve()
    check_html_dir(directory, rootdir, data)
    history = stored_runs(rootdir / STORE / "store")
    pages = render_html(html_input(data, rootdir, history))  # all before writing
    try:
        write_html(directory, pages)
    except OSError as exc:
        raise CliError(f"cannot write {directory}: {exc.strerror}") from None
    index = directory / INDEX
    print(f"wrote html report: {index}")
    if show and not webbrowser.open(index.as_uri()):
        print(f"no browser found: open {index.as_uri()}")
    return 0


def check_html_dir(directory: Path, rootdir: Path, data: Mapping[str, Any]) -> None:
    """One line that says what to do when the report cannot go in ``directory``:
    not a directory, not writable, or inside the measured source."""
    for source in data.get("measured", {}).get("sources", ()):
        package = (rootdir / source).resolve()
        if package != rootdir.resolve() and directory.is_relative_to(package):
            raise CliError(
                f"--dir {directory}: inside the measured source {package}; "
                "write the report outside it (e.g. build/ruvqe)"
            )
    existing = next(p for p in (directory, *directory.parents) if p.exists())
    if not existing.is_dir():
        raise CliError(f"--dir {directory}: {existing} is a file; give a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise CliError(f"--dir {directory}: {existing} is not writable")


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

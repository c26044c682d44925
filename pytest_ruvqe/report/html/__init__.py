"""The HTML report: an index, a page per source file and the generated tests,
rendered with Jinja2 from the run's plain data. Self-contained: the style,
the small sorting/filtering script and the SVG charts are inline, nothing is
fetched from the network."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_ruvqe import __version__
from pytest_ruvqe.fileio import write_atomic
from pytest_ruvqe.report.fmt import arcs, line_ranges, pct
from pytest_ruvqe.report.html.charts import (
    before_after_chart,
    history_chart,
    stacked_bar,
)
from pytest_ruvqe.report.html.model import (
    HtmlInput,
    file_scores,
    function_rows,
    history_points,
    page_names,
    status_counts,
    totals,
)
from pytest_ruvqe.report.html.source import source_page

if TYPE_CHECKING:
    import jinja2

__all__ = ["HtmlInput", "render_html", "write_html"]

INDEX = "index.html"
GENERATED = "generated.html"
GENERATOR_MARK = '<meta name="generator" content="pytest-ruvqe">'


def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = pct
    env.filters["ranges"] = line_ranges
    env.filters["arcs"] = arcs
    env.filters["when"] = _when
    env.globals["version"] = __version__
    return env


def _when(seconds: float) -> str:
    """A run's time as the history chart labels it (UTC)."""
    moment = dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _written_tests(data: HtmlInput) -> list[tuple[str, str]]:
    """``(name, text)`` of each file generation wrote (tests or the patch)."""
    written = data.generation.written if data.generation else None
    if written is None:
        return []
    shown = []
    for path in written.written:
        try:
            name = path.resolve().relative_to(data.rootdir.resolve()).as_posix()
        except ValueError:
            name = str(path)
        shown.append((name, _read(path) or "(not readable)"))
    return shown


def _index_context(data: HtmlInput, pages: dict[str, str]) -> dict[str, Any]:
    mutation = data.mutation
    gen = data.generation
    chart = None
    if gen is not None:
        targets = [(f"{t.qualname} ({t.file})", t.before, t.after) for t in gen.targets]
        chart = before_after_chart(targets)
    return {
        "data": data,
        "root": "",
        "totals": totals(data.report),
        "functions": function_rows(data),
        "file_scores": file_scores(data),
        "pages": pages,
        "mutation": mutation,
        "mutation_bar": stacked_bar(status_counts(mutation)) if mutation else [],
        "generation": gen,
        "chart": chart,
        "history": history_chart(history_points(data.history)),
        "generated_page": GENERATED if _written_tests(data) else None,
    }


def render_html(data: HtmlInput) -> dict[str, str]:
    """Every page of the report, by its path relative to the report directory."""
    env = _environment()
    pages = page_names([f.file for f in data.report.files])
    out = {INDEX: env.get_template("index.html.j2").render(_index_context(data, pages))}
    mutants = data.mutation.results if data.mutation else ()
    file_page = env.get_template("file.html.j2")
    summaries = {f.file: f for f in data.report.files}
    for rel, name in pages.items():
        page = source_page(
            rel,
            _read(data.rootdir / rel),
            data.coverage_of(rel),
            (r for r in mutants if r.mutant.file == rel),
        )
        out[f"files/{name}"] = file_page.render(
            page=page, summary=summaries[rel], root="../"
        )
    written = _written_tests(data)
    if written:
        out[GENERATED] = env.get_template("generated.html.j2").render(
            files=written, generation=data.generation, root=""
        )
    return out


def _earlier_pages(directory: Path) -> set[str]:
    """The pages an earlier report wrote in ``directory`` (none when its
    index is not one of ours: other files are never touched)."""
    index = _read(directory / INDEX)
    if index is None or GENERATOR_MARK not in index:
        return set()
    pages = {
        p.relative_to(directory).as_posix() for p in directory.glob("files/*.html")
    }
    return pages | ({GENERATED} if (directory / GENERATED).is_file() else set())


def write_html(directory: Path, pages: Mapping[str, str]) -> None:
    """Write the rendered ``pages`` into ``directory``, then remove the pages
    an earlier report left there that this one no longer has (a file no
    longer measured, generated tests no longer written)."""
    stale = _earlier_pages(directory) - set(pages)
    for name, page in pages.items():
        write_atomic(directory / name, page)
    for name in sorted(stale):
        (directory / name).unlink(missing_ok=True)

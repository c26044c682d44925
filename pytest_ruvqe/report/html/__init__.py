"""The HTML report: an index, a page per source file and the generated tests,
rendered with Jinja2 from the run's plain data. Self-contained: the style,
the small sorting/filtering script and the SVG charts are inline, nothing is
fetched from the network."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_ruvqe import __version__
from pytest_ruvqe.report.fmt import arcs, line_ranges, pct
from pytest_ruvqe.report.html.charts import before_after_chart, stacked_bar
from pytest_ruvqe.report.html.model import (
    HtmlInput,
    file_scores,
    function_rows,
    page_names,
    status_counts,
    totals,
)
from pytest_ruvqe.report.html.source import source_page

if TYPE_CHECKING:
    import jinja2

__all__ = ["HtmlInput", "render_html"]

INDEX = "index.html"
GENERATED = "generated.html"


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
    env.globals["version"] = __version__
    return env


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

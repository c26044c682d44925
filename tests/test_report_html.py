"""``--ruvqe-report=html:DIR``: the pages, their links and what they mark,
from a real run of the plugin (coverage, quality and mutation)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from report_project import (
    MISSING_LINE,
    PARTIAL_LINE,
    SURVIVOR_LINE,
    PageParser,
    ReportRun,
    parse_page,
    run_reports,
)

from pytest_ruvqe.analyse.gaps import CoverageReport, FileSummary
from pytest_ruvqe.report.html import HtmlInput, render_html
from tests.conftest import RunPytest


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> ReportRun:
    run = run_reports(tmp_path_factory.mktemp("html"))
    assert run.returncode == 0, run.stdout
    return run


def _pages(run: ReportRun) -> list[Path]:
    return sorted(run.html.rglob("*.html"))


def _row(page: Path, row_id: str) -> tuple[dict[str, str], str]:
    """The attributes and the text of the table row with ``row_id``."""
    text = page.read_text(encoding="utf-8")
    match = re.search(rf'<tr id="{row_id}"[^>]*>(.*?)</tr>', text, re.S)
    assert match, f"no row {row_id} in {page.name}"
    parser = PageParser()
    parser.feed(match.group(0))
    return parser.tags[0][1], html.unescape(re.sub(r"<[^>]+>", "", match.group(1)))


def test_index_and_a_page_per_file_are_written(reported: ReportRun) -> None:
    names = {p.relative_to(reported.html).as_posix() for p in _pages(reported)}
    assert names == {"index.html", "files/prices.py.html"}
    assert f"wrote html report: {reported.html}" in reported.stdout


def test_every_internal_link_resolves(reported: ReportRun) -> None:
    for page in _pages(reported):
        parsed = parse_page(page)
        for link in parsed.links:
            parts = urlsplit(link)
            if parts.scheme == "data":
                continue
            target = (page.parent / parts.path).resolve() if parts.path else page
            assert target.is_file(), f"{page.name}: {link} leads nowhere"
            if parts.fragment:
                assert parts.fragment in parse_page(target).ids, (
                    f"{page.name}: {link} names no element"
                )


def test_nothing_external_is_referenced(reported: ReportRun) -> None:
    for page in _pages(reported):
        parsed = parse_page(page)
        for ref in parsed.links + parsed.sources:
            assert urlsplit(ref).scheme in ("", "data"), f"{page.name}: {ref}"
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text)
        assert "@import" not in text and "url(http" not in text


def test_index_shows_totals_functions_files_and_suggestions(
    reported: ReportRun,
) -> None:
    data = json.loads((reported.out / "r.json").read_text())
    index = reported.html / "index.html"
    text = index.read_text(encoding="utf-8")
    parsed = parse_page(index)
    assert {"totals", "quality", "mutation-score", "functions", "files"} <= parsed.ids
    assert "suggestions" in parsed.ids
    coverage = data["totals"]["coverage"]
    assert f"{int(coverage * 1000 + 1e-9) / 10:.1f}%" in text
    assert f"{data['quality']['suite']['score']:.2f}" in text
    assert f"{data['mutation']['score']:.2f}" in text
    for function in data["functions"]:
        assert f"<code>{html.escape(function['qualname'])}</code>" in text
        assert f'href="files/prices.py.html#L{function["start"]}"' in text
    # the riskiest function comes first, as in the JSON report
    rows = [html.unescape(r) for r in re.findall(r"<code>([^<]+)</code></a>", text)]
    assert rows[: len(data["functions"])] == [f["qualname"] for f in data["functions"]]


def test_file_page_marks_missing_partial_and_covered_lines(
    reported: ReportRun,
) -> None:
    page = reported.html / "files" / "prices.py.html"
    attrs, text = _row(page, f"L{MISSING_LINE}")
    assert attrs["class"] == "miss"
    assert 'raise ValueError("negative")' in text
    attrs, text = _row(page, f"L{PARTIAL_LINE}")
    assert attrs["class"] == "partial"
    assert f"never jumped to {MISSING_LINE}" in text
    attrs, _ = _row(page, "L4")
    assert attrs["class"] == "run"
    attrs, _ = _row(page, "L5")  # a blank line is no statement
    assert attrs["class"] == "plain"


def test_surviving_mutant_is_shown_at_its_line(reported: ReportRun) -> None:
    data = json.loads((reported.out / "r.json").read_text())
    survivors = [m for m in data["mutation"]["mutants"] if m["status"] == "survived"]
    assert any(m["line"] == SURVIVOR_LINE for m in survivors)
    text = (reported.html / "files" / "prices.py.html").read_text(encoding="utf-8")
    for mutant in survivors:
        row = re.search(
            rf'<tr class="mutant" id="mutant-{re.escape(mutant["id"])}" '
            rf'data-line="(\d+)">(.*?)</tr>',
            text,
            re.S,
        )
        assert row, f"surviving mutant {mutant['id']} not shown"
        assert int(row.group(1)) == mutant["line"]
        # the row follows its source line, before the next one
        line_row = text.index(f'<tr id="L{mutant["line"]}"')
        next_row = text.find('<tr id="L', line_row + 1)
        assert line_row < row.start() and (next_row < 0 or row.start() < next_row)
        diff_line = next(
            line for line in mutant["diff"].splitlines() if line.startswith("+ ")
        )
        assert diff_line in html.unescape(row.group(2))


def test_generation_section_charts_each_target_and_links_the_tests(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    result = run(
        "--ruvqe-generate",
        "--ruvqe-generators=characterize",
        "--ruvqe-target=calc/core.py::safe_div",
        "--ruvqe-report=json:r.json,html:report",
    )
    assert result.ret == pytest.ExitCode.OK
    data = json.loads(calc_project.path.joinpath("r.json").read_text())["generation"]
    index = calc_project.path / "report" / "index.html"
    text = index.read_text(encoding="utf-8")
    section = text[text.index('<section id="generation">') :]
    target = data["targets"][0]
    assert target["qualname"] == "safe_div" and target["after"] > target["before"]
    bars = re.findall(r'<rect x="260" y="\d+" width="([\d.]+)" height="11"', section)
    assert [float(w) for w in bars] == [
        round(target["before"] * 360, 1),
        round(target["after"] * 360, 1),
    ]
    for test in data["tests_added"]:
        assert f"<code>{test}</code>" in section
    generated = calc_project.path / "report" / "generated.html"
    assert 'href="generated.html"' in section
    assert "def test_safe_div" in generated.read_text(encoding="utf-8")
    reasons = re.findall(r"<tr><td>(\w+)</td><td class=\"num\">(\d+)</td>", section)
    assert dict((k, int(v)) for k, v in reasons) == data["reasons"]


def test_unreadable_source_is_said_on_its_page(tmp_path: Path) -> None:
    report = CoverageReport(
        functions=(),
        files=(FileSummary("gone.py", "gone", 3, 1, 0, 0),),
        sources=("gone.py",),
        warnings=(),
    )
    pages = render_html(HtmlInput(report=report, rootdir=tmp_path))
    assert set(pages) == {"index.html", "files/gone.py.html"}
    assert "could not be read" in pages["files/gone.py.html"]
    assert "<h2>Generated tests</h2>" not in pages["index.html"]


def test_source_page_marks_lines_from_their_coverage() -> None:
    from pytest_ruvqe.measure.types import FileCoverage
    from pytest_ruvqe.report.html.source import source_page

    text = "def f(x):\n    if x:\n        return 1\n    while x:\n        x -= 1\n"
    cov = FileCoverage(
        path="/p/m.py",
        statements=frozenset({1, 2, 3, 4, 5}),
        missing=frozenset({3}),
        executed_branches=frozenset({(2, 4), (4, 5), (4, -1)}),
        missing_branches=frozenset({(2, 3), (5, 4), (5, -1)}),
    )
    page = source_page("m.py", text, cov)
    states = {line.number: line.state for line in page.lines}
    assert states == {1: "run", 2: "partial", 3: "miss", 4: "run", 5: "partial"}
    arcs = {line.number: line.missing_arcs for line in page.lines}
    assert arcs[2] == ("never jumped to 3",)
    assert arcs[5] == ("never jumped to the function exit", "never jumped to 4")
    assert page.count("partial") == 2

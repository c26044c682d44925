"""The Markdown report, fit for a CI job summary ($GITHUB_STEP_SUMMARY)."""

from __future__ import annotations

from collections.abc import Sequence

from pytest_ruvqe.analyse.gaps import CoverageReport
from pytest_ruvqe.report.fmt import arcs, line_ranges, pct
from pytest_ruvqe.report.terminal import measured_line, total_line


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(
    report: CoverageReport,
    top: int,
    sections: Sequence[str] = (),
    warnings: Sequence[str] = (),
) -> str:
    """Markdown text: total, warnings, worst functions, files, extra sections."""
    out = ["## ruvqe coverage gaps", ""]
    out.append(f"**{_cell(total_line(report))}**")
    out.append("")
    out.append(f"_{_cell(measured_line(report))}_")
    out.append("")
    for warning in warnings:
        out.append(f"> warning: {_cell(warning)}")
    if warnings:
        out.append("")
    out.extend(_worst_functions(report, top))
    out.extend(_files(report))
    for section in sections:
        out.append(section.rstrip())
        out.append("")
    return "\n".join(out)


def _worst_functions(report: CoverageReport, top: int) -> list[str]:
    """The ``top`` worst functions as a table, or a line saying there are none."""
    gaps = report.gaps[:top]
    if not gaps:
        return (
            ["No gaps: every measured line and branch ran.", ""] if report.files else []
        )
    out = [f"### Worst {len(gaps)} of {len(report.gaps)} functions", ""]
    out.append(
        "| # | function | lines | cc | cover | risk | missing lines "
        "| missing branches |"
    )
    out.append("|---:|---|---|---:|---:|---:|---|---|")
    for rank, g in enumerate(gaps, 1):
        out.append(
            f"| {rank} | `{_cell(g.file)}::{_cell(g.qualname)}` "
            f"| {g.start}-{g.end} "
            f"| {g.complexity} | {pct(g.coverage)} | {g.risk:.1f} "
            f"| {line_ranges(g.missing_lines)} | {arcs(g.missing_branches)} |"
        )
    out.append("")
    return out


def _files(report: CoverageReport) -> list[str]:
    """The measured files and their total as a table."""
    if not report.files:
        return ["No measured code.", ""]
    out = ["### Files", ""]
    out.append("| file | stmts | miss | branches | br miss | cover |")
    out.append("|---|---:|---:|---:|---:|---:|")
    for f in report.files:
        out.append(
            f"| `{_cell(f.file)}` | {f.statements} | {f.missing_lines} "
            f"| {f.branches} | {f.missing_branches} | {pct(f.coverage)} |"
        )
    missing_lines = sum(f.missing_lines for f in report.files)
    missing_branches = sum(f.missing_branches for f in report.files)
    out.append(
        f"| **total** | {report.statements} | {missing_lines} | {report.branches} "
        f"| {missing_branches} | **{pct(report.coverage)}** |"
    )
    out.append("")
    return out

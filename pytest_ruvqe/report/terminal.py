"""The ``ruvqe coverage gaps`` terminal section, rendered as plain lines."""

from __future__ import annotations

from pytest_ruvqe.analyse.gaps import CoverageReport
from pytest_ruvqe.report.fmt import arcs, line_ranges, pct, shorten

GAPS_TITLE = "ruvqe coverage gaps"


def measured_line(report: CoverageReport) -> str:
    """What was measured and how it was chosen."""
    names = ", ".join(report.sources) or "nothing"
    return f"measured: {names} ({report.measured_how})"


def total_line(report: CoverageReport) -> str:
    """The one-line total."""
    scope = (
        f"lines changed since {report.diff_ref}" if report.diff_ref else "measured code"
    )
    return (
        f"TOTAL {pct(report.coverage)} line+branch of {scope}: "
        f"{report.statements} stmts, {report.branches} branches, "
        f"{report.missing} missing"
    )


def gap_lines(report: CoverageReport, top: int, width: int = 80) -> list[str]:
    """The body of the gap section: worst functions, file table, total."""
    lines = [measured_line(report)]
    if report.tests_run == 0:
        lines.append("no tests ran: coverage below is from imports alone")
    if not report.files:
        what = f"changed since {report.diff_ref}" if report.diff_ref else "measured"
        lines.append(f"no code {what}: nothing to report")
        return lines
    gaps = report.gaps
    if not gaps:
        lines.append("no gaps: every measured line and branch ran")
    else:
        shown = gaps[:top]
        lines.append(
            f"worst {len(shown)} of {len(gaps)} functions with gaps"
            " (risk = CRAP score):"
        )
        for rank, gap in enumerate(shown, 1):
            lines.append(
                shorten(
                    f"{rank:>3}. {gap.qualname}  {gap.file}:{gap.start}-{gap.end}",
                    width,
                )
            )
            detail = [
                f"cc {gap.complexity}, cov {pct(gap.coverage)}, risk {gap.risk:.1f}"
            ]
            if gap.missing_lines:
                detail.append("missing lines " + line_ranges(gap.missing_lines))
            if gap.missing_branches:
                detail.append("branches " + arcs(gap.missing_branches))
            lines.append(shorten("       " + "; ".join(detail), width))
    name_width = max(20, min(width - 36, max(len(f.file) for f in report.files)))
    lines.append("")
    lines.append(
        f"{'file':<{name_width}} {'stmts':>5} {'miss':>5} {'branch':>6} "
        f"{'brmiss':>6} {'cover':>7}"
    )
    for f in report.files:
        lines.append(
            f"{shorten(f.file, name_width):<{name_width}} {f.statements:>5} "
            f"{f.missing_lines:>5} {f.branches:>6} {f.missing_branches:>6} "
            f"{pct(f.coverage):>7}"
        )
    lines.append(total_line(report))
    return lines

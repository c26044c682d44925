"""The ``ruvqe quality`` section: terminal lines, JSON data and Markdown."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from pytest_ruvqe.analyse.mutation.types import (
    NO_TESTS,
    NOT_RUN,
    MutantResult,
    MutationReport,
)
from pytest_ruvqe.quality.score import QualityReport, QualityScore
from pytest_ruvqe.quality.suggestions import Suggestion
from pytest_ruvqe.report.fmt import shorten

QUALITY_TITLE = "ruvqe quality"
SHOWN_FUNCTIONS = 5
SHOWN_DIFFS = 3


def score_text(score: QualityScore, interval: tuple[float, float] | None = None) -> str:
    """``0.62 (coverage 0.85, mutation 0.71 [0.62-0.79], oracle 0.55)``."""
    parts = []
    for name, value in score.dimensions:
        part = f"{name} {value:.2f}"
        if name == "mutation" and interval is not None:
            part += f" [{interval[0]:.2f}-{interval[1]:.2f}]"
        parts.append(part)
    return f"{score.value:.2f} ({', '.join(parts) or 'nothing measured'})"


def mutation_text(report: MutationReport) -> str:
    """Counts, time and throughput of a mutation run."""
    # judged mutants only: those no test reaches cost nothing to count
    rate = report.judged / report.seconds if report.seconds > 0 else 0.0
    text = (
        f"mutation: {report.total_mutants} mutants, {report.killed} killed, "
        f"{report.survived} survived, {report.count(NO_TESTS)} without tests, "
        f"{report.seconds:.1f}s ({rate:.1f} judged/s)"
    )
    cached = sum(1 for r in report.results if r.cached)
    if cached:
        text += f", {cached} from cache"
    if report.sampled:
        text += f"; sampled {report.judged} of {report.total_mutants}"
    if report.stopped_by_budget:
        text += f"; stopped by the time budget, {report.count(NOT_RUN)} not run"
    return text


def quality_lines(
    quality: QualityReport,
    suggestions: Sequence[Suggestion],
    width: int = 80,
) -> list[str]:
    """The body of the terminal section."""
    lines = ["quality " + score_text(quality.suite, quality.mutation_interval)]
    if quality.mutation is not None:
        lines.append(mutation_text(quality.mutation))
    kinds = Counter(s.kind for s in quality.smells.smells)
    if kinds:
        lines.append(
            shorten(
                f"smells in {len(quality.smells.tests)} tests: "
                + ", ".join(f"{n} {k}" for k, n in kinds.most_common()),
                width,
            )
        )
    weak = [f for f in quality.functions if f.score.value < 1.0][:SHOWN_FUNCTIONS]
    if weak:
        lines.append("weakest functions:")
        for item in weak:
            lines.append(
                shorten(
                    f"  {item.score.value:.2f}  {item.name}  {item.file}:{item.line}",
                    width,
                )
            )
    if suggestions:
        lines.append("suggestions:")
        for rank, s in enumerate(suggestions, 1):
            lines.append(shorten(f"{rank:>3}. [{s.kind}] {s.location}", width))
            lines.append(f"     {s.text()}")
    survivors = quality.mutation.survivors if quality.mutation else ()
    if survivors:
        lines.append(f"surviving mutants (first {min(SHOWN_DIFFS, len(survivors))}):")
        for result in survivors[:SHOWN_DIFFS]:
            lines.extend("  " + line for line in result.diff.splitlines())
    return lines


def _score_dict(score: QualityScore) -> dict[str, Any]:
    return {"score": score.value, "dimensions": dict(score.dimensions)}


def quality_dict(
    quality: QualityReport, suggestions: Sequence[Suggestion]
) -> dict[str, Any]:
    """JSON-ready ``quality``, ``suggestions`` and ``mutation`` sections."""
    data: dict[str, Any] = {
        "quality": _quality_section(quality),
        "suggestions": [_suggestion_dict(s) for s in suggestions],
    }
    if quality.mutation is not None:
        data["mutation"] = _mutation_section(quality.mutation)
    return data


def _quality_section(quality: QualityReport) -> dict[str, Any]:
    return {
        "suite": _score_dict(quality.suite),
        "files": [
            {"file": f.file, "module": f.name, **_score_dict(f.score)}
            for f in quality.files
        ],
        "functions": [
            {
                "file": f.file,
                "qualname": f.name,
                "line": f.line,
                **_score_dict(f.score),
            }
            for f in quality.functions
        ],
        "smells": [
            {
                "kind": s.kind,
                "file": s.file,
                "line": s.line,
                "test": s.test,
                "detail": s.detail,
                "weight": s.weight,
            }
            for s in quality.smells.smells
        ],
        "flaky": [
            {
                "nodeid": f.nodeid,
                "flips": f.flips,
                "runs": f.runs,
                "failures": f.failures,
            }
            for f in quality.flaky
        ],
    }


def _suggestion_dict(s: Suggestion) -> dict[str, Any]:
    return {
        "kind": s.kind,
        "location": s.location,
        "file": s.file,
        "line": s.line,
        "message": s.message,
        "fix": s.fix,
        "priority": s.priority,
        "target": s.target,
        "end_line": s.end_line,
    }


def _mutation_section(mutation: MutationReport) -> dict[str, Any]:
    # the tests reaching mutants, named once; mutants refer to them by index
    tests = sorted({t for r in mutation.results for t in (*r.covered_by, *r.killed_by)})
    index = {t: i for i, t in enumerate(tests)}
    return {
        "score": mutation.score,
        "interval": list(mutation.interval) if mutation.interval else None,
        "total": mutation.total_mutants,
        "killed": mutation.killed,
        "survived": mutation.survived,
        "sampled": mutation.sampled,
        "stopped_by_budget": mutation.stopped_by_budget,
        "seconds": round(mutation.seconds, 3),
        "import_judging": mutation.import_judging,
        "tests": tests,
        "shard": mutation.dealt.as_dict() if mutation.dealt else None,
        "mutants": [_mutant_dict(r, index) for r in mutation.results],
    }


def _mutant_dict(r: MutantResult, tests: Mapping[str, int]) -> dict[str, Any]:
    m = r.mutant
    return {
        "id": m.id,
        "file": m.file,
        "line": m.line,
        "end_line": m.end_line,
        "col": m.col,
        "end_col": m.end_col,
        "operator": m.operator,
        "original": m.original,
        "replacement": m.replacement,
        "mutated": m.shown,
        "function": m.function,
        "runtime": m.runtime,
        "patch_target": m.patch_target,
        "status": r.status,
        "cached": r.cached,
        "tests_run": r.tests_run,
        "seconds": round(r.seconds, 3),
        "detail": r.detail,
        "diff": r.diff,
        "covered_by": [tests[t] for t in r.covered_by],
        "killed_by": [tests[t] for t in r.killed_by],
    }


def quality_markdown(quality: QualityReport, suggestions: Sequence[Suggestion]) -> str:
    """A ``## ruvqe quality`` Markdown section."""
    out = ["## ruvqe quality", ""]
    out.append(f"**quality {score_text(quality.suite, quality.mutation_interval)}**")
    out.append("")
    if quality.mutation is not None:
        out.append(f"_{mutation_text(quality.mutation)}_")
        out.append("")
    if suggestions:
        out.append("| # | kind | where | suggestion |")
        out.append("|---:|---|---|---|")
        for rank, s in enumerate(suggestions, 1):
            text = s.text().replace("|", "\\|")
            out.append(f"| {rank} | {s.kind} | `{s.location}` | {text} |")
        out.append("")
    survivors = quality.mutation.survivors if quality.mutation else ()
    for result in survivors[:SHOWN_DIFFS]:
        out.extend(["```diff", result.diff, "```", ""])
    return "\n".join(out)

"""The ``ruvqe generated tests`` section: terminal lines, JSON and Markdown."""

from __future__ import annotations

from typing import Any

from pytest_ruvqe.generate.budget import Exhausted
from pytest_ruvqe.generate.outcome import GenerationOutcome
from pytest_ruvqe.report.fmt import pct, shorten

GENERATION_TITLE = "ruvqe generated tests"


def _reasons(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if v) or "-"


def _cost(outcome: GenerationOutcome) -> str:
    return "unknown" if outcome.cost_usd is None else f"${outcome.cost_usd:.4f}"


def generation_lines(outcome: GenerationOutcome, width: int = 80) -> list[str]:
    """Per target before → after and reasons, what was written, the totals."""
    if not outcome.targets and outcome.written is None:
        return list(outcome.notes) or ["nothing generated"]
    lines: list[str] = []
    for t in outcome.targets:
        lines.append(
            shorten(
                f"{t.qualname}  {t.file}  {pct(t.before)} -> {pct(t.after)}  "
                f"+{t.gained_lines} lines +{t.gained_branches} branches",
                width,
            )
        )
        lines.append(
            shorten(
                f"    accepted {t.accepted}; rejected: {_reasons(t.rejected)}; "
                f"{t.rounds} round{'' if t.rounds == 1 else 's'} ({t.halted}); "
                f"{'+'.join(t.generators) or '-'}; "
                f"{t.tokens} tokens",
                width,
            )
        )
    reasons = outcome.reasons
    accepted = reasons.pop("accepted", 0)
    lines.append(
        f"accepted {accepted} tests; rejected {sum(reasons.values())}: "
        f"{_reasons(dict(reasons))}"
    )
    written = outcome.written
    if written is not None and written.patch is not None:
        lines.append(f"wrote a patch with {len(written.added)} tests: {written.patch}")
        lines.append(f"apply it with: {written.apply_command}")
    elif written is not None and written.written:
        for path in written.written:
            lines.append(f"wrote {path}")
    elif written is not None or accepted == 0:
        lines.append("no new test to write")
    if written is not None and written.skipped:
        lines.append(f"{len(written.skipped)} tests were already written: left out")
    lines.append(
        f"suite line+branch coverage {pct(outcome.suite_before)} -> "
        f"{pct(outcome.suite_after)}"
    )
    lines.append(
        f"{outcome.tokens} tokens, {_cost(outcome)}, model: {outcome.location}, "
        f"{outcome.seconds:.1f} s"
    )
    lines.extend(outcome.savings)
    if outcome.stopped_by:
        lines.append(f"stopped by the {outcome.stopped_by}")
    lines.extend(f"note: {n}" for n in outcome.notes)
    return lines


def generation_dict(outcome: GenerationOutcome) -> dict[str, Any]:
    """The ``generation`` section of the JSON report."""
    written = outcome.written
    return {
        "generation": {
            "mode": outcome.mode,
            "suite_before": round(outcome.suite_before, 6),
            "suite_after": round(outcome.suite_after, 6),
            "tokens": outcome.tokens,
            "cost_usd": outcome.cost_usd,
            "model_location": outcome.location,
            "seconds": round(outcome.seconds, 3),
            "stopped_by": str(outcome.stopped_by) if outcome.stopped_by else None,
            "stopped_by_budget": _budget_dict(outcome.stopped_by),
            "reasons": dict(outcome.reasons),
            "shard": outcome.dealt.as_dict() if outcome.dealt else None,
            "targets": [
                {
                    "qualname": t.qualname,
                    "file": t.file,
                    "before": round(t.before, 6),
                    "after": round(t.after, 6),
                    "accepted": t.accepted,
                    "rejected": t.rejected,
                    "gained_lines": t.gained_lines,
                    "gained_branches": t.gained_branches,
                    "rounds": t.rounds,
                    "halted": str(t.halted),
                    "halt": {
                        "reason": t.halted.reason.value,
                        "budget": _budget_dict(t.halted.budget),
                    },
                    "generators": list(t.generators),
                    "tokens": t.tokens,
                    "cost_usd": t.cost_usd,
                    "seconds": round(t.seconds, 3),
                }
                for t in outcome.targets
            ],
            "written": [str(p) for p in written.written] if written else [],
            "tests_added": list(written.added) if written else [],
            "tests_skipped": list(written.skipped) if written else [],
            "patch": str(written.patch) if written and written.patch else None,
            "trajectory": [
                {
                    "target": s.target,
                    "arm": s.arm,
                    "round": s.round,
                    "outcome": s.outcome,
                    "gain": s.gain,
                    "accepted": s.accepted,
                    "rejected": s.rejected,
                    "tokens": s.tokens,
                    "cost_usd": s.cost_usd,
                    "latency_s": round(s.latency_s, 3),
                    "features": s.features,
                }
                for s in outcome.trajectory
            ],
            "notes": list(outcome.notes),
            "savings": list(outcome.savings),
        }
    }


def _budget_dict(budget: Exhausted | None) -> dict[str, Any] | None:
    return None if budget is None else {"kind": budget.kind, "limit": budget.limit}


def generation_markdown(outcome: GenerationOutcome) -> str:
    """The Markdown section for a CI job summary."""
    out = ["## ruvqe generated tests", ""]
    out.append(
        f"Suite line+branch coverage **{pct(outcome.suite_before)} → "
        f"{pct(outcome.suite_after)}**; {outcome.tokens} tokens, {_cost(outcome)}, "
        f"model: {outcome.location}."
    )
    out.append("")
    if outcome.targets:
        out.append("| target | before | after | accepted | rejected |")
        out.append("|---|---:|---:|---:|---|")
        for t in outcome.targets:
            out.append(
                f"| `{t.file}::{t.qualname}` | {pct(t.before)} | {pct(t.after)} "
                f"| {t.accepted} | {_reasons(t.rejected)} |"
            )
        out.append("")
    if outcome.written is not None and outcome.written.patch is not None:
        out.append(f"Apply with `{outcome.written.apply_command}`.")
    return "\n".join(out)

"""What a generation run did: per-target summaries and the run's outcome."""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pytest_ruvqe.analyse.gaps import CoverageReport, Gap
from pytest_ruvqe.generate.budget import Exhausted
from pytest_ruvqe.generate.loop import Halt, LoopResult, TargetResult, TrajectoryStep
from pytest_ruvqe.generate.types import GeneratorLabel, WriteMode
from pytest_ruvqe.generate.writer import WriteResult
from pytest_ruvqe.measure.types import FileCoverage
from pytest_ruvqe.shard import Dealt


@dataclass(frozen=True)
class TargetSummary:
    """One target's line in the ``ruvqe generated tests`` section."""

    qualname: str
    file: str
    before: float  # line+branch coverage of the function, 0..1
    after: float
    accepted: int
    rejected: dict[str, int]
    gained_lines: int
    gained_branches: int
    rounds: int
    halted: Halt
    tokens: int
    cost_usd: float
    generators: tuple[GeneratorLabel, ...]
    seconds: float = 0.0  # wall time spent on it


@dataclass
class GenerationOutcome:
    """What generation did, for the terminal, JSON and Markdown reports."""

    mode: WriteMode
    targets: tuple[TargetSummary, ...] = ()
    written: WriteResult | None = None
    suite_before: float = 0.0
    suite_after: float = 0.0
    tokens: int = 0
    cost_usd: float | None = 0.0
    location: str = "none"  # where the model ran: local, cloud, cloud+local, none
    stopped_by: Exhausted | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # information, not problems
    savings: list[str] = field(default_factory=list)
    trajectory: tuple[TrajectoryStep, ...] = ()
    dealt: Dealt | None = None  # --ruvqe-shard: how this share was dealt

    @property
    def reasons(self) -> Counter[str]:
        """Accepted and rejected tests by reason, over all targets."""
        total: Counter[str] = Counter()
        for t in self.targets:
            total["accepted"] += t.accepted
            total.update(t.rejected)
        return total

    def add_loop(
        self,
        report: CoverageReport,
        result: LoopResult,
        files: dict[str, FileCoverage],
        rootdir: Path,
    ) -> None:
        """Take the summaries, totals and trajectory of the refine loop's run."""
        self.targets, gained = summaries(report, result, files, rootdir)
        self.tokens = result.tokens
        self.cost_usd = result.cost_usd
        self.stopped_by = result.stopped_by
        self.seconds = result.seconds
        self.trajectory = result.trajectory
        total = report.statements + report.branches
        if total:
            self.suite_after = (total - report.missing + gained) / total


def function_coverage(gap: Gap, result: TargetResult | None) -> tuple[float, float]:
    """Line+branch coverage of the function before and after the kept tests."""
    total = gap.statements + gap.branches
    if total == 0:
        return 1.0, 1.0
    missing = len(gap.missing_lines) + len(gap.missing_branches)
    gained = 0
    if result is not None:
        gained = len(result.gained_lines & set(gap.missing_lines)) + len(
            result.gained_branches & set(gap.missing_branches)
        )
    return (total - missing) / total, (total - missing + gained) / total


def summaries(
    report: CoverageReport,
    loop: LoopResult,
    files: dict[str, FileCoverage],
    rootdir: Path,
) -> tuple[tuple[TargetSummary, ...], int]:
    """Per-target summaries, and the lines + branches gained over the suite."""
    by_key: dict[tuple[str, str], list[TargetResult]] = {}
    for result in loop.targets:
        by_key.setdefault((str(result.target.file), result.target.qualname), []).append(
            result
        )
    # keyed like the targets: absolute path of the file, qualified name
    gaps = {(str((rootdir / g.file).resolve()), g.qualname): g for g in report.gaps}
    summaries: list[TargetSummary] = []
    gained_lines: dict[str, set[int]] = {}
    gained_arcs: dict[str, set[tuple[int, int]]] = {}
    for (path, qualname), results in by_key.items():
        gap = gaps.get((path, qualname))
        merged = merge_stages(results)
        gained_lines.setdefault(path, set()).update(merged.gained_lines)
        gained_arcs.setdefault(path, set()).update(merged.gained_branches)
        before, after = function_coverage(gap, merged) if gap else (0.0, 0.0)
        reasons = dict(merged.reasons)
        accepted = reasons.pop("accepted", 0)
        summaries.append(
            TargetSummary(
                qualname=qualname,
                file=gap.file if gap else path,
                before=before,
                after=after,
                accepted=accepted,
                rejected=reasons,
                # what the function itself gained: it agrees with before -> after
                gained_lines=len(
                    merged.gained_lines & set(gap.missing_lines if gap else ())
                ),
                gained_branches=len(
                    merged.gained_branches & set(gap.missing_branches if gap else ())
                ),
                rounds=merged.rounds,
                halted=merged.halted,
                tokens=merged.tokens,
                cost_usd=merged.cost_usd,
                generators=tuple(
                    dict.fromkeys(v.candidate.generator for v in merged.validations)
                ),
                seconds=merged.seconds,
            )
        )
    gained_total = 0
    for path, lines in gained_lines.items():
        cov = files.get(path)
        if cov is not None:  # only what the suite missed counts as a gain
            gained_total += len(lines & cov.missing)
            gained_total += len(gained_arcs[path] & cov.missing_branches)
    return tuple(summaries), gained_total


def merge_stages(results: list[TargetResult]) -> TargetResult:
    """One target's results over the loop's stages, as one."""
    first = results[0]
    reasons: Counter[str] = Counter()
    for r in results:
        reasons.update(r.reasons)
    return dataclasses.replace(
        first,
        validations=tuple(v for r in results for v in r.validations),
        rounds=sum(r.rounds for r in results),
        halted=results[-1].halted,
        gained_lines=frozenset().union(*(r.gained_lines for r in results)),
        gained_branches=frozenset().union(*(r.gained_branches for r in results)),
        tokens=sum(r.tokens for r in results),
        cost_usd=sum(r.cost_usd for r in results),
        reasons=dict(reasons),
        seconds=sum(r.seconds for r in results),
    )

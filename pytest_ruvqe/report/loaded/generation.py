"""The generation section of a JSON report read back."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_ruvqe.generate.budget import Exhausted
from pytest_ruvqe.generate.loop import Halt
from pytest_ruvqe.generate.outcome import GenerationOutcome, TargetSummary
from pytest_ruvqe.generate.types import HaltReason
from pytest_ruvqe.generate.writer import WriteResult


def generation_outcome(
    data: Mapping[str, Any], rootdir: Path
) -> GenerationOutcome | None:
    """What generation did, as its reports show it (the learner's trajectory
    is not read back), or None when the run generated nothing."""
    g = data.get("generation")
    if not g:
        return None
    return GenerationOutcome(
        mode=g["mode"],
        targets=tuple(_target(t) for t in g.get("targets", ())),
        written=_written(g, rootdir),
        suite_before=float(g["suite_before"]),
        suite_after=float(g["suite_after"]),
        tokens=int(g["tokens"]),
        cost_usd=g["cost_usd"],
        location=g["model_location"],
        stopped_by=_budget(g.get("stopped_by_budget")),
        seconds=float(g["seconds"]),
        notes=list(g.get("notes", ())),
        savings=list(g.get("savings", ())),
    )


def _budget(b: Mapping[str, Any] | None) -> Exhausted | None:
    return None if b is None else Exhausted(b["kind"], b["limit"])


def _halt(t: Mapping[str, Any]) -> Halt:
    halt = t.get("halt")
    if halt is None:  # older reports kept only its text: "budget: ..." or the reason
        return Halt(HaltReason(t["halted"].partition(":")[0]))
    return Halt(HaltReason(halt["reason"]), _budget(halt.get("budget")))


def _target(t: Mapping[str, Any]) -> TargetSummary:
    return TargetSummary(
        qualname=t["qualname"],
        file=t["file"],
        before=float(t["before"]),
        after=float(t["after"]),
        accepted=int(t["accepted"]),
        rejected=dict(t["rejected"]),
        gained_lines=int(t["gained_lines"]),
        gained_branches=int(t["gained_branches"]),
        rounds=int(t["rounds"]),
        halted=_halt(t),
        tokens=int(t["tokens"]),
        cost_usd=float(t["cost_usd"]),
        generators=tuple(t["generators"]),
        seconds=float(t.get("seconds", 0.0)),
    )


def _written(g: Mapping[str, Any], rootdir: Path) -> WriteResult | None:
    if not g.get("written") and not g.get("tests_added"):
        return None
    patch = g.get("patch")
    return WriteResult(
        mode=g["mode"],
        written=tuple(rootdir / p for p in g.get("written", ())),
        test_files=(),
        added=tuple(g.get("tests_added", ())),
        skipped=tuple(g.get("tests_skipped", ())),
        patch=rootdir / patch if patch else None,
    )

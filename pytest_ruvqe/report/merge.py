"""Shards' JSON reports (``--ruvqe-shard=K/N``) combined into one.

Every shard runs the whole suite, so coverage, gaps and quality come from
the first report; the shards' mutants and generation targets are disjoint
and are joined, with the totals computed again from what was joined.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from pytest_ruvqe.analyse.mutation.types import wilson_interval

_KILLED = ("killed", "timeout")


class MergeError(ValueError):
    """The reports cannot be combined; the message says why."""


def merge_reports(reports: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One report from the shards' reports."""
    if not reports:
        raise MergeError("no reports to merge")
    roots = {r.get("rootdir") for r in reports}
    if len(roots) > 1:
        raise MergeError(f"reports of different projects: {sorted(map(str, roots))}")
    merged = copy.deepcopy(dict(reports[0]))
    mutations = [r["mutation"] for r in reports if r.get("mutation")]
    if mutations:
        merged["mutation"] = _mutation(mutations)
    generations = [r["generation"] for r in reports if r.get("generation")]
    if generations:
        merged["generation"] = _generation(generations)
    merged["warnings"] = list(dict.fromkeys(w for r in reports for w in r["warnings"]))
    return merged


def _mutation(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    mutants = {m["id"]: m for part in parts for m in part["mutants"]}.values()
    killed = sum(1 for m in mutants if m["status"] in _KILLED)
    survived = sum(1 for m in mutants if m["status"] == "survived")
    judged = killed + survived
    interval = wilson_interval(killed, judged) if judged else None
    return {
        **parts[0],
        "score": killed / judged if judged else None,
        "interval": list(interval) if interval else None,
        "total": sum(int(p["total"]) for p in parts),
        "killed": killed,
        "survived": survived,
        "sampled": any(p["sampled"] for p in parts),
        "stopped_by_budget": any(p["stopped_by_budget"] for p in parts),
        "seconds": max(float(p["seconds"]) for p in parts),
        "mutants": sorted(mutants, key=lambda m: (m["file"], m["line"], m["id"])),
    }


def _generation(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    reasons: Counter[str] = Counter()
    for part in parts:
        reasons.update(part["reasons"])
    costs = [p["cost_usd"] for p in parts]
    return {
        **parts[0],
        # each shard measured only its own tests: the next run measures the union
        "suite_after": None,
        "tokens": sum(int(p["tokens"]) for p in parts),
        "cost_usd": None if None in costs else sum(costs),
        "seconds": max(float(p["seconds"]) for p in parts),
        "reasons": dict(reasons),
        "targets": [t for p in parts for t in p["targets"]],
        "written": sorted({w for p in parts for w in p["written"]}),
        "tests_added": [t for p in parts for t in p["tests_added"]],
        "trajectory": [s for p in parts for s in p["trajectory"]],
    }

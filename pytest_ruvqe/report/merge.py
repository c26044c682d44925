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
        _check_shards(mutations, "mutation")
        merged["mutation"] = _mutation(mutations)
    generations = [r["generation"] for r in reports if r.get("generation")]
    if generations:
        _check_shards(generations, "generation")
        merged["generation"] = _generation(generations)
    merged["warnings"] = list(dict.fromkeys(w for r in reports for w in r["warnings"]))
    return merged


def _check_shards(parts: Sequence[Mapping[str, Any]], what: str) -> None:
    """Refuse parts that are not the N shards of one split dealt alike
    (reports written before shards said how they were dealt are let through)."""
    given = [p.get("shard") for p in parts]
    if all(d is None for d in given):
        return
    dealt = [d for d in given if d is not None]
    if len(dealt) < len(given):
        raise MergeError(f"{what}: some reports are not from --ruvqe-shard runs")
    counts = {int(d["count"]) for d in dealt}
    if len(counts) > 1:
        raise MergeError(
            f"{what}: shards of different splits (N = {sorted(counts)}): merge "
            "the reports of one --ruvqe-shard=K/N split"
        )
    if len({d["digest"] for d in dealt}) > 1:
        raise MergeError(
            f"{what}: the shards were dealt by different measured costs (their "
            ".ruvqe/ stores differed), so their shares may overlap: give every "
            "shard the same .ruvqe/ and run them again"
        )
    indexes = Counter(int(d["index"]) for d in dealt)
    missing = sorted(set(range(1, counts.pop() + 1)) - set(indexes))
    twice = sorted(k for k, n in indexes.items() if n > 1)
    if missing or twice:
        problem = (
            f"shard {twice[0]} given twice" if twice else f"shards {missing} missing"
        )
        raise MergeError(f"{what}: {problem}; merge one report of each shard")


def _mutation(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    # each shard names its tests by index into its own list: name them again
    tests = sorted({t for part in parts for t in part.get("tests", ())})
    index = {t: i for i, t in enumerate(tests)}
    mutants = {
        m["id"]: _renumbered(m, part.get("tests", ()), index)
        for part in parts
        for m in part["mutants"]
    }.values()
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
        "tests": tests,
        "shard": None,
        "mutants": sorted(mutants, key=lambda m: (m["file"], m["line"], m["id"])),
    }


def _renumbered(
    mutant: Mapping[str, Any], tests: Sequence[str], index: Mapping[str, int]
) -> dict[str, Any]:
    return {
        **mutant,
        "covered_by": [index[tests[i]] for i in mutant.get("covered_by", ())],
        "killed_by": [index[tests[i]] for i in mutant.get("killed_by", ())],
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
        "shard": None,
        "targets": [t for p in parts for t in p["targets"]],
        "written": sorted({w for p in parts for w in p["written"]}),
        "tests_added": [t for p in parts for t in p["tests_added"]],
        "trajectory": [s for p in parts for s in p["trajectory"]],
    }

"""``--ruvqe-shard=K/N``: shards partition the work, and merge back to the whole."""

from __future__ import annotations

import json
import random
import re
import statistics
from pathlib import Path

import pytest

from pytest_ruvqe.cli import main
from pytest_ruvqe.report.merge import MergeError, merge_reports
from pytest_ruvqe.shard import Shard, parse_shard, take
from tests.conftest import RunPytest


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_shards_partition_the_items_and_balance_their_cost(count: int) -> None:
    rng = random.Random(count)
    items = [f"item{i}" for i in range(50)]
    cost = {item: rng.randint(1, 9) for item in items}
    parts = [
        take(items, Shard(k, count), str, cost.__getitem__) for k in range(1, count + 1)
    ]
    seen = [item for part in parts for item in part]
    assert sorted(seen) == sorted(items)  # every item once
    loads = [sum(cost[i] for i in part) for part in parts]
    assert max(loads) - min(loads) <= max(cost.values())
    shuffled = rng.sample(items, len(items))  # the order given does not matter
    assert take(shuffled, Shard(1, count), str, cost.__getitem__) == [
        i for i in shuffled if i in parts[0]
    ]


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0", "/"])
def test_bad_shards_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="K/N"):
        parse_shard(text)


def test_bad_shard_option_is_a_usage_error(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    result = run("--ruvqe", "--ruvqe-shard=3/2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ruvqe-shard: '3/2': use K/N*"])


def test_sharded_mutation_merges_to_the_whole_run(
    calc_project: pytest.Pytester,
    run: RunPytest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    flags = ("--ruvqe", "--ruvqe-mutation", "--ruvqe-jobs=1")
    assert run(*flags, "--ruvqe-report=json:whole.json").ret == 0
    for k in (1, 2):
        result = run(*flags, f"--ruvqe-shard={k}/2", f"--ruvqe-report=json:s{k}.json")
        assert result.ret == 0
    root = calc_project.path
    whole = json.loads((root / "whole.json").read_text())
    shards = [json.loads((root / f"s{k}.json").read_text()) for k in (1, 2)]
    ids = [{m["id"] for m in s["mutation"]["mutants"]} for s in shards]
    assert ids[0] and ids[1] and not ids[0] & ids[1]
    assert ids[0] | ids[1] == {m["id"] for m in whole["mutation"]["mutants"]}
    # dealt by what each mutant took in the whole run, which the shards kept
    dealt = [s["mutation"]["shard"] for s in shards]
    assert [d["by"] for d in dealt] == ["seconds", "seconds"]
    assert dealt[0]["digest"] == dealt[1]["digest"]
    assert whole["mutation"]["shard"] is None
    took = {
        m["id"]: m["seconds"]
        for m in whole["mutation"]["mutants"]
        if m["status"] in ("killed", "survived", "timeout", "error")
    }
    median = statistics.median(took.values())
    loads = [sum(took.get(i, median) for i in part) for part in ids]
    assert abs(loads[0] - loads[1]) <= max(*took.values(), median) + 1e-9

    code = main(
        [
            "report",
            "--merge",
            str(root / "s1.json"),
            str(root / "s2.json"),
            "--format",
            "json",
            "--output",
            str(root / "merged.json"),
        ]
    )
    capsys.readouterr()
    assert code == 0
    merged = json.loads((root / "merged.json").read_text())
    for key in ("total", "killed", "survived", "score"):
        assert merged["mutation"][key] == whole["mutation"][key], key
    assert merged["totals"] == whole["totals"]


def test_sharded_generation_splits_the_targets(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    flags = ("--ruvqe-generate=patch", "--ruvqe-generators=characterize")

    def shards() -> tuple[list[set[str]], list[str]]:
        names, by = [], []
        for k in (1, 2):
            report = f"--ruvqe-report=json:g{k}.json"
            assert run(*flags, f"--ruvqe-shard={k}/2", report).ret == 0
            data = json.loads((calc_project.path / f"g{k}.json").read_text())
            names.append({t["qualname"] for t in data["generation"]["targets"]})
            by.append(data["generation"]["shard"]["by"])
        assert names[0] and names[1] and not names[0] & names[1]
        assert names[0] | names[1] == {"safe_div", "classify", "Stack.pop"}
        return names, by

    # no whole run yet: dealt by the size of each gap
    assert shards()[1] == ["code", "code"]
    # after a whole run, by the seconds each target took in it
    assert run(*flags).ret == 0
    assert shards()[1] == ["seconds", "seconds"]


def test_reports_of_different_projects_do_not_merge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = tmp_path
    for name, root in (("a.json", "/one"), ("b.json", "/two")):
        data = {
            "schema": "pytest-ruvqe/report",
            "schema_version": 2,
            "rootdir": root,
            "warnings": [],
        }
        (base / name).write_text(json.dumps(data))
    code = main(["report", "--merge", str(base / "a.json"), str(base / "b.json")])
    assert code == 2
    assert "different projects" in capsys.readouterr().err


def _section(index: int, count: int, digest: str) -> dict[str, object]:
    shard = {"index": index, "count": count, "by": "seconds", "digest": digest}
    return {
        "score": None,
        "total": 0,
        "sampled": False,
        "stopped_by_budget": False,
        "seconds": 1.0,
        "tests": [],
        "shard": shard,
        "mutants": [],
    }


def _shard_report(section: dict[str, object]) -> dict[str, object]:
    return {"rootdir": "/p", "warnings": [], "mutation": section}


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ([_section(1, 2, "a"), _section(2, 2, "b")], "different measured costs"),
        ([_section(1, 2, "a"), _section(1, 2, "a")], "shard 1 given twice"),
        ([_section(1, 3, "a"), _section(2, 3, "a")], "shards [3] missing"),
        ([_section(1, 2, "a"), _section(2, 3, "a")], "different splits"),
    ],
)
def test_shards_that_do_not_make_one_split_do_not_merge(
    sections: list[dict[str, object]], message: str
) -> None:
    with pytest.raises(MergeError, match=re.escape(message)):
        merge_reports([_shard_report(s) for s in sections])


def test_merged_mutants_name_their_tests_again() -> None:
    one = _section(1, 2, "a")
    one.update(tests=["t::a", "t::b"], mutants=[_mutant("m1", [1], [1])])
    two = _section(2, 2, "a")
    two.update(tests=["t::c"], mutants=[_mutant("m2", [0], [])])
    merged = merge_reports([_shard_report(one), _shard_report(two)])["mutation"]
    tests = merged["tests"]
    named = {m["id"]: [tests[i] for i in m["covered_by"]] for m in merged["mutants"]}
    assert named == {"m1": ["t::b"], "m2": ["t::c"]}
    assert [tests[i] for i in merged["mutants"][0]["killed_by"]] == ["t::b"]


def _mutant(ident: str, covered: list[int], killed: list[int]) -> dict[str, object]:
    return {
        "id": ident,
        "file": "m.py",
        "line": 1,
        "status": "killed" if killed else "survived",
        "covered_by": covered,
        "killed_by": killed,
    }

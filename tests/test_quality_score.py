"""The quality score formula and the suggestions, on constructed suites."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from pytest_ruvqe.analyse.gaps import CoverageReport, FileSummary, Gap
from pytest_ruvqe.analyse.mutation.types import (
    KILLED,
    SURVIVED,
    Mutant,
    MutantResult,
    MutationReport,
)
from pytest_ruvqe.analyse.smells import find_smells
from pytest_ruvqe.quality.flaky import FlakyTest
from pytest_ruvqe.quality.score import DIMENSION_WEIGHTS, FLOOR, combine, score_quality
from pytest_ruvqe.quality.suggestions import suggest

MONEY = """\
def parse_amount(text):
    amount = int(text)
    if amount < 0:
        raise ValueError("negative")
    return amount
"""


def _coverage(
    missing: tuple[int, ...] = (), branches_missing: int = 0
) -> CoverageReport:
    arcs = ((3, 4),) if branches_missing else ()
    gap = Gap(
        file="money.py",
        module="money",
        qualname="parse_amount",
        start=1,
        end=5,
        complexity=2,
        statements=4,
        missing_lines=missing,
        branches=2,
        missing_branches=arcs,
        risk=4.5 if missing else 0.0,
    )
    summary = FileSummary("money.py", "money", 4, len(missing), 2, len(arcs))
    return CoverageReport((gap,), (summary,), ("money",), ())


def _smells(tests: str) -> object:
    return find_smells({"test_money.py": tests})


FULL_ASSERTS = "def test_parse():\n    assert parse_amount('1') == 1\n"
NO_ASSERTS = "def test_parse():\n    parse_amount('3')\n\ndef test_neg():\n    f(-1)\n"


def test_combine_is_a_weighted_geometric_mean() -> None:
    score = combine({"coverage": 0.8, "oracle": 0.5, "mutation": None})
    w_c, w_o = DIMENSION_WEIGHTS["coverage"], DIMENSION_WEIGHTS["oracle"]
    expected = math.exp((w_c * math.log(0.8) + w_o * math.log(0.5)) / (w_c + w_o))
    assert score.value == pytest.approx(expected, abs=1e-4)
    assert score.dimension("mutation") is None
    assert combine({}).value == 1.0
    assert combine({"coverage": 1.0, "oracle": 1.0}).value == 1.0


def test_no_asserts_scores_low_even_at_full_coverage() -> None:
    report = score_quality(_coverage(), find_smells({"test_m.py": NO_ASSERTS}))
    assert report.suite.dimension("coverage") == 1.0
    assert report.suite.dimension("oracle") == 0.0
    assert report.suite.value < 0.25
    good = score_quality(_coverage(), find_smells({"test_m.py": FULL_ASSERTS}))
    assert good.suite.value == 1.0


def test_a_zero_pulls_harder_than_an_arithmetic_mean() -> None:
    score = combine({"coverage": 1.0, "mutation": 1.0, "oracle": 0.0, "stability": 1.0})
    arithmetic = 1 - DIMENSION_WEIGHTS["oracle"]
    assert score.value == pytest.approx(FLOOR ** DIMENSION_WEIGHTS["oracle"], abs=1e-4)
    assert score.value < arithmetic


def _mutant(line: int, operator: str, original: str, shown: str) -> Mutant:
    return Mutant(
        id=f"m{line}{operator}",
        file="money.py",
        line=line,
        end_line=line,
        col=7,
        end_col=17,
        operator=operator,
        original=original,
        replacement=f"({shown})",
        shown=shown,
        function="parse_amount",
        runtime=True,
        patch_target="parse_amount",
    )


def _mutation() -> MutationReport:
    results = (
        MutantResult(_mutant(3, "boundary", "amount < 0", "amount <= 0"), SURVIVED),
        MutantResult(_mutant(5, "return_value", "amount", "None"), KILLED),
        MutantResult(_mutant(2, "statement_deletion", "int(text)", "None"), KILLED),
    )
    return MutationReport(results, 3, False, False, 0.1)


def test_mutation_and_stability_enter_per_scope() -> None:
    flaky = (FlakyTest("test_money.py::test_parse", 3, 10, 4),)
    report = score_quality(
        _coverage(missing=(4,), branches_missing=1),
        find_smells({"test_money.py": FULL_ASSERTS}),
        mutation=_mutation(),
        flaky=flaky,
        tests_known=2,
    )
    assert report.suite.dimension("mutation") == pytest.approx(2 / 3, abs=1e-4)
    assert report.suite.dimension("stability") == 0.5
    assert report.suite.dimension("coverage") == pytest.approx(4 / 6, abs=1e-4)
    (func,) = report.functions
    assert func.name == "parse_amount"
    assert func.score.value == report.files[0].score.value
    assert report.mutation_interval is not None
    assert report.suite.value < 0.8


def test_suggestions_point_at_lines_with_concrete_fixes(tmp_path: Path) -> None:
    (tmp_path / "money.py").write_text(MONEY)
    tests = (
        "def test_total():\n    parse_amount('1')\n\n"
        "def test_a():\n    assert parse_amount('2') == 2\n\n"
        "def test_b():\n    assert parse_amount('2') == 2\n"
    )
    found = suggest(
        _coverage(missing=(4,), branches_missing=1),
        find_smells({"test_money.py": tests}),
        tmp_path,
        mutation=_mutation(),
        flaky=(FlakyTest("test_money.py::test_a", 3, 10, 4),),
    )
    texts = [s.text() for s in found]
    assert (
        texts[0]
        == "`test_total` has no assertion: assert on the result or the effect it tests"
    )
    assert (
        "`parse_amount` line 4 (branch `amount < 0`) never run: "
        "add a test with a negative amount"
    ) in texts
    assert (
        "mutant `amount < 0` → `amount <= 0` at money.py:3 survived: "
        "add a boundary test at the limit"
    ) in texts
    assert (
        "`test_a` is flaky (3 flips in 10 runs, order-dependent?): "
        "remove shared state, sleeps and time or order dependence"
    ) in texts
    assert any(t.startswith("`test_a` and `test_b` are duplicates") for t in texts)
    by_kind = {s.kind: s for s in found}
    assert by_kind["uncovered"].location == "money.py:4"
    assert by_kind["flaky_test"].location == "test_money.py:4"
    assert [s.priority for s in found] == sorted(
        (s.priority for s in found), reverse=True
    )


def test_suggestions_are_bounded_and_mixed(tmp_path: Path) -> None:
    tests = "".join(f"def test_{i}():\n    f({i})\n\n" for i in range(30))
    found = suggest(
        _coverage(missing=(4,)), find_smells({"t.py": tests}), tmp_path, limit=6
    )
    assert len(found) == 6
    assert {s.kind for s in found} == {"no_assertion", "uncovered"}

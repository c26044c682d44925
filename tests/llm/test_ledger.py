"""Cost ledger and the all-cloud savings report."""

from __future__ import annotations

import pytest

from pytest_ruvqe.llm.base import Completion, ProviderTimeoutError
from pytest_ruvqe.llm.ledger import CostLedger


def _completion(
    provider: str, cost: float | None, p: int = 100, c: int = 50
) -> Completion:
    return Completion("x", p, c, 0.1, 0.01, cost, provider, "m")


def test_savings_against_all_cloud() -> None:
    ledger = CostLedger(cloud_input_price=1e-5, cloud_output_price=3e-5)
    ledger.record(_completion("local", 0.0))
    ledger.record(_completion("local", 0.0))
    ledger.record(_completion("cloud", 0.0025))
    ledger.record_failure("cloud", ProviderTimeoutError("slow"))
    report = ledger.savings()
    # 300 prompt + 150 completion tokens at cloud prices
    assert report.all_cloud_usd == pytest.approx(300 * 1e-5 + 150 * 3e-5)
    assert report.actual_usd == pytest.approx(0.0025)
    assert report.saved_usd == pytest.approx(0.0075 - 0.0025)
    assert (report.calls, report.failures) == (3, 1)
    assert report.per_provider["cloud"].errors == {"ProviderTimeoutError": 1}
    lines = report.lines()
    assert lines[-1].startswith("spent $0.0025, all-cloud would be $0.0075")


def test_unknown_cost_is_not_counted_as_zero() -> None:
    ledger = CostLedger()
    ledger.record(_completion("cloud", None))
    report = ledger.savings()
    assert report.unknown_cost_calls == 1
    assert report.all_cloud_usd is None and report.saved_usd is None
    assert "unknown cost" in report.lines()[0]
    assert "all-cloud cost unknown" in report.lines()[-1]


def test_totals_are_copies() -> None:
    ledger = CostLedger()
    ledger.record(_completion("local", 0.0))
    ledger.totals("local").calls = 99
    assert ledger.totals("local").calls == 1

"""Dollars and tokens per provider, and what the same calls would cost all-cloud."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .base import Completion


@dataclass
class ProviderTotals:
    """Running totals for one provider."""

    calls: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    calls_with_unknown_cost: int = 0
    errors: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SavingsReport:
    """Actual spend against an all-cloud run with the configured cloud model."""

    actual_usd: float
    all_cloud_usd: float | None  # None: the cloud model's price is unknown
    saved_usd: float | None
    calls: int
    failures: int
    unknown_cost_calls: int  # calls whose cost is unknown, left out of actual_usd
    per_provider: dict[str, ProviderTotals]

    def lines(self) -> list[str]:
        """Human-readable summary, one line per provider then the total."""
        out = []
        for name, t in sorted(self.per_provider.items()):
            out.append(
                f"{name}: {t.calls} calls, {t.failures} failed, "
                f"{t.prompt_tokens}+{t.completion_tokens} tokens, ${t.cost_usd:.4f}"
                + (
                    f" ({t.calls_with_unknown_cost} of unknown cost)"
                    if t.calls_with_unknown_cost
                    else ""
                )
            )
        if self.all_cloud_usd is None:
            out.append(f"spent ${self.actual_usd:.4f}; all-cloud cost unknown")
        else:
            out.append(
                f"spent ${self.actual_usd:.4f}, all-cloud would be "
                f"${self.all_cloud_usd:.4f}, saved ${self.saved_usd or 0.0:.4f}"
            )
        return out


class CostLedger:
    """Records every call and failure; thread-safe."""

    def __init__(
        self,
        cloud_input_price: float | None = None,
        cloud_output_price: float | None = None,
    ) -> None:
        # dollars per token of the configured cloud model, for the counterfactual
        self.cloud_input_price = cloud_input_price
        self.cloud_output_price = cloud_output_price
        self._totals: dict[str, ProviderTotals] = {}
        self._lock = threading.Lock()

    def _get(self, provider: str) -> ProviderTotals:
        return self._totals.setdefault(provider, ProviderTotals())

    def record(self, completion: Completion) -> None:
        """Count a successful call."""
        with self._lock:
            t = self._get(completion.provider)
            t.calls += 1
            t.prompt_tokens += completion.prompt_tokens
            t.completion_tokens += completion.completion_tokens
            if completion.cost_usd is None:
                t.calls_with_unknown_cost += 1
            else:
                t.cost_usd += completion.cost_usd

    def record_failure(self, provider: str, error: BaseException) -> None:
        """Count a failed call under its error type."""
        with self._lock:
            t = self._get(provider)
            t.failures += 1
            kind = type(error).__name__
            t.errors[kind] = t.errors.get(kind, 0) + 1

    def totals(self, provider: str) -> ProviderTotals:
        """A copy of one provider's totals."""
        with self._lock:
            return _copy(self._get(provider))

    def savings(self) -> SavingsReport:
        """What was spent versus sending every successful call to the cloud model."""
        with self._lock:
            per = {name: _copy(t) for name, t in self._totals.items()}
        actual = sum(t.cost_usd for t in per.values())
        prompt = sum(t.prompt_tokens for t in per.values())
        completion = sum(t.completion_tokens for t in per.values())
        if self.cloud_input_price is None or self.cloud_output_price is None:
            all_cloud = None
        else:
            all_cloud = (
                prompt * self.cloud_input_price + completion * self.cloud_output_price
            )
        return SavingsReport(
            actual_usd=actual,
            all_cloud_usd=all_cloud,
            saved_usd=None if all_cloud is None else all_cloud - actual,
            calls=sum(t.calls for t in per.values()),
            failures=sum(t.failures for t in per.values()),
            unknown_cost_calls=sum(t.calls_with_unknown_cost for t in per.values()),
            per_provider=per,
        )


def _copy(t: ProviderTotals) -> ProviderTotals:
    return ProviderTotals(
        t.calls,
        t.failures,
        t.prompt_tokens,
        t.completion_tokens,
        t.cost_usd,
        t.calls_with_unknown_cost,
        dict(t.errors),
    )

"""HybridRouter: strategies, complexity, breakers, fallback, decisions, scorer."""

from __future__ import annotations

import pytest

from pytest_ruvqe.llm.base import (
    CompletionRequest,
    InvalidRequestError,
    Message,
    ProviderMetadata,
    StreamInterruptedError,
)
from pytest_ruvqe.llm.breaker import BreakerState, CircuitBreaker
from pytest_ruvqe.llm.complexity import THRESHOLDS, Complexity, assess
from pytest_ruvqe.llm.router import HybridRouter, NoProviderAvailableError

SIMPLE = CompletionRequest(prompt="def add(a, b):", features={"cyclomatic": 1})
HARD = CompletionRequest(
    prompt="def parse(tokens):", features={"cyclomatic": 25, "lines": 300}
)


def test_complexity_levels_follow_the_documented_thresholds() -> None:
    moderate, complex_, very = THRESHOLDS["cyclomatic"]
    assert assess({"cyclomatic": moderate - 1}) is Complexity.SIMPLE
    assert assess({"cyclomatic": moderate}) is Complexity.MODERATE
    assert assess({"cyclomatic": complex_}) is Complexity.COMPLEX
    assert assess({"cyclomatic": very}) is Complexity.VERY_COMPLEX
    # the hardest feature decides
    assert assess({"cyclomatic": 1, "lines": THRESHOLDS["lines"][1]}) is (
        Complexity.COMPLEX
    )
    assert assess({}, prompt_tokens=THRESHOLDS["prompt_tokens"][2]) is (
        Complexity.VERY_COMPLEX
    )
    assert assess({"unknown_feature": 1e9}) is Complexity.SIMPLE


@pytest.mark.parametrize(
    ("strategy", "request_", "first"),
    [
        ("cost_optimized", HARD, "local"),
        ("quality_optimized", SIMPLE, "cloud"),
        ("privacy_first", HARD, "local"),
        ("balanced", SIMPLE, "local"),
        ("balanced", HARD, "cloud"),
    ],
)
def test_strategy_picks_first_provider(
    local, cloud, strategy: str, request_: CompletionRequest, first: str
) -> None:
    router = HybridRouter([local, cloud], strategy)
    completion = router.complete(request_)
    assert completion.provider == first
    decision = router.decisions[-1]
    assert decision.chosen == first
    assert decision.order[0] == first
    assert decision.reason


def test_latency_optimized_measures_then_prefers_the_faster(scripted) -> None:
    slow = scripted("slow", "cloud", latency_s=2.0)
    fast = scripted("fast", "cloud", latency_s=0.1)
    router = HybridRouter([slow, fast], "latency_optimized")
    first_two = {router.complete(SIMPLE).provider for _ in range(2)}
    assert first_two == {"slow", "fast"}  # each unmeasured provider is tried once
    assert [router.complete(SIMPLE).provider for _ in range(3)] == ["fast"] * 3


def test_unknown_strategy_is_rejected(local) -> None:
    with pytest.raises(ValueError, match="cost_optimized"):
        HybridRouter([local], "cheapest")


def test_breaker_transitions(clock) -> None:
    breaker = CircuitBreaker(failure_threshold=2, cooldown_s=10, clock=clock)
    assert breaker.state is BreakerState.CLOSED
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED and breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN and not breaker.allow()
    clock.now += 10
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow() and not breaker.allow()  # a single trial
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    clock.now += 10
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED and breaker.consecutive_failures == 0


def test_fallback_opens_breaker_and_recovers(local, cloud, clock) -> None:
    router = HybridRouter(
        [local, cloud],
        "quality_optimized",
        breaker_failures=2,
        breaker_cooldown_s=30,
        clock=clock,
    )
    cloud.fail_next = 5
    assert [router.complete(SIMPLE).provider for _ in range(3)] == ["local"] * 3
    assert router.breakers["cloud"].state is BreakerState.OPEN
    # two real failures, then the open breaker spares the cloud
    assert len(cloud.received) == 2
    assert router.decisions[-1].attempts[0].outcome == "skipped_open"
    failed = router.decisions[0].attempts[0]
    assert failed.outcome == "failed" and "down" in failed.detail
    assert router.ledger.totals("cloud").failures == 2
    assert router.ledger.totals("local").calls == 3
    clock.now += 30
    cloud.fail_next = 0
    assert router.complete(SIMPLE).provider == "cloud"  # half-open trial succeeds
    assert router.breakers["cloud"].state is BreakerState.CLOSED


def test_all_providers_failing_raises_typed_error(local, cloud) -> None:
    local.fail_next = cloud.fail_next = 1
    router = HybridRouter([local, cloud], "balanced")
    with pytest.raises(NoProviderAvailableError, match=r"local: failed .*down"):
        router.complete(SIMPLE)
    assert router.decisions[-1].chosen is None


def test_library_exception_becomes_fallback_not_crash(local, scripted) -> None:
    broken = scripted("broken", "cloud", error=lambda: KeyError("choices"))
    broken.fail_next = 1
    router = HybridRouter([broken, local], "quality_optimized")
    assert router.complete(SIMPLE).provider == "local"
    assert router.ledger.totals("broken").errors == {"KeyError": 1}


def test_invalid_request_is_not_retried_elsewhere(local, cloud, scripted) -> None:
    picky = scripted("picky", "local", error=lambda: InvalidRequestError("empty"))
    picky.fail_next = 1
    router = HybridRouter([picky, cloud], "privacy_first")
    with pytest.raises(InvalidRequestError):
        router.complete(SIMPLE)
    assert cloud.received == []


def test_stream_falls_back_before_first_chunk(local, cloud) -> None:
    router = HybridRouter([local, cloud], "quality_optimized")
    cloud.fail_next = 1
    assert "".join(router.stream(SIMPLE)).startswith("local")
    assert router.decisions[-1].chosen == "local"
    assert router.ledger.totals("local").calls == 1


def test_stream_broken_mid_way_is_typed_and_recorded(local, cloud) -> None:
    router = HybridRouter([cloud, local], "quality_optimized")
    cloud.break_stream_after = 1
    pieces: list[str] = []
    with pytest.raises(StreamInterruptedError) as info:
        pieces.extend(router.stream(SIMPLE))
    assert pieces == ["cloud"] and info.value.chunks_delivered == 1
    assert router.ledger.totals("cloud").failures == 1
    assert local.received == []  # no silent restart after text was delivered


class PreferNamed:
    """An ArmScorer that values one provider."""

    def __init__(self, name: str) -> None:
        self.name = name

    def expected_value(
        self,
        request: CompletionRequest,
        complexity: Complexity,
        provider: ProviderMetadata,
    ) -> float | None:
        return 1.0 if provider.name == self.name else 0.0


def test_arm_scorer_overrides_static_order(local, cloud) -> None:
    router = HybridRouter([local, cloud], "cost_optimized", scorer=PreferNamed("cloud"))
    assert router.complete(SIMPLE).provider == "cloud"
    assert "learned" in router.decisions[-1].reason


def test_chat_messages_route_and_metadata(local, cloud) -> None:
    router = HybridRouter([local, cloud], "balanced")
    request = CompletionRequest(messages=(Message("user", "write a test"),))
    assert router.complete(request).text.endswith("write a test")
    assert router.metadata().name == "router"
    assert router.health()
    rows = router.embed(["a b", "c"])
    assert rows.shape == (2, 2) and rows[0, 1] == 1.0


def test_no_providers_is_a_clear_error() -> None:
    with pytest.raises(Exception, match="--ruvqe-local-model"):
        HybridRouter([], "balanced")

"""litellm CloudProvider against a misbehaving server on 127.0.0.1."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import pytest
from llm_stub_server import StubServer, chat_body

from pytest_ruvqe.llm import guard
from pytest_ruvqe.llm.base import (
    BadResponseError,
    CompletionRequest,
    InvalidRequestError,
    ProviderError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitedError,
    StreamInterruptedError,
)
from pytest_ruvqe.llm.cloud import CloudProvider, map_error
from pytest_ruvqe.llm.router import HybridRouter

# not importorskip: litellm must be imported through our offline-safe loader
if importlib.util.find_spec("litellm") is None:
    pytest.skip("litellm is not installed", allow_module_level=True)

REQUEST = CompletionRequest(prompt="say hello", max_tokens=8)


@pytest.fixture
def stub() -> Iterator[StubServer]:
    server = StubServer()
    yield server
    server.close()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def provider(stub: StubServer, sleeps: list[float]) -> CloudProvider:
    return CloudProvider(
        "openai/stub",
        api_base=stub.api_base,
        timeout_s=5,
        max_retries=2,
        backoff_s=0.25,
        sleep=sleeps.append,
    )


def test_completion_with_unknown_cost(provider: CloudProvider, stub) -> None:
    stub.script.append(("json", 200, chat_body("hi there", prompt_tokens=7)))
    completion = provider.complete(REQUEST)
    assert completion.text == "hi there"
    assert (completion.prompt_tokens, completion.completion_tokens) == (7, 1)
    assert completion.cost_usd is None  # unknown model: unknown, not zero
    assert stub.requests[0]["messages"] == [{"role": "user", "content": "say hello"}]
    assert provider.metadata().location == "cloud"
    assert provider.health()


def test_429_is_retried_with_backoff(provider: CloudProvider, stub, sleeps) -> None:
    stub.script.extend([("json", 429, {"error": {"message": "slow down"}})] * 2)
    assert provider.complete(REQUEST).text == "hello"
    assert sleeps == [0.25, 0.5]
    assert len(stub.requests) == 3


def test_retries_are_bounded(provider: CloudProvider, stub, sleeps) -> None:
    stub.script.extend([("json", 503, {"error": {"message": "overloaded"}})] * 5)
    with pytest.raises(ProviderUnavailableError, match="503"):
        provider.complete(REQUEST)
    assert len(stub.requests) == 3  # one call and two retries
    stub.script.clear()
    stub.script.extend([("json", 429, {"error": {"message": "no"}})] * 5)
    with pytest.raises(RateLimitedError):
        provider.complete(REQUEST)


@pytest.mark.parametrize(
    "body",
    [b"<html>502 proxy error</html>", b"\x00\xffgarbage", b'{"choices": "nope"}'],
    ids=["html", "binary", "wrong-shape"],
)
def test_garbage_is_a_typed_error(provider: CloudProvider, stub, body: bytes) -> None:
    stub.script.extend([("raw", 200, body)] * 3)
    with pytest.raises((BadResponseError, ProviderUnavailableError)):
        provider.complete(REQUEST)


def test_bad_request_is_not_retried(provider: CloudProvider, stub, sleeps) -> None:
    stub.script.append(("json", 400, {"error": {"message": "bad max_tokens"}}))
    with pytest.raises(InvalidRequestError, match="bad max_tokens"):
        provider.complete(REQUEST)
    assert sleeps == []


def test_timeout(stub, sleeps) -> None:
    provider = CloudProvider(
        "openai/stub", api_base=stub.api_base, timeout_s=0.3, max_retries=0
    )
    stub.script.append(("sleep", 2.0))
    with pytest.raises(ProviderTimeoutError):
        provider.complete(REQUEST)


def test_stream(provider: CloudProvider, stub) -> None:
    stub.script.append(("stream", ["he", "llo", "!"], None))
    assert list(provider.stream(REQUEST)) == ["he", "llo", "!"]


def test_stream_broken_midway(provider: CloudProvider, stub) -> None:
    stub.script.append(("stream", ["he", "llo", "!"], 2))
    pieces: list[str] = []
    with pytest.raises(StreamInterruptedError):
        pieces.extend(provider.stream(REQUEST))
    assert pieces == ["he", "llo"]


def test_stream_ending_before_its_last_chunk_is_interrupted(
    provider: CloudProvider, stub
) -> None:
    stub.script.append(("truncated", ["he", "llo", "!"]))
    pieces: list[str] = []
    with pytest.raises(StreamInterruptedError, match="after 3 chunks") as caught:
        pieces.extend(provider.stream(REQUEST))
    assert pieces == ["he", "llo", "!"]
    assert caught.value.chunks_delivered == 3


def test_router_falls_back_and_ledger_records(provider, stub, local) -> None:
    stub.script.extend([("raw", 500, b"boom")] * 3)
    router = HybridRouter([provider, local], "quality_optimized")
    assert router.complete(REQUEST).provider == "local"
    totals = router.ledger.totals("cloud")
    assert totals.failures == 1 and totals.errors == {"ProviderUnavailableError": 1}


def test_empty_prompt_is_rejected_before_any_call(provider, stub) -> None:
    with pytest.raises(InvalidRequestError, match="empty"):
        provider.complete(CompletionRequest(prompt="   "))
    assert stub.requests == []


def test_unreachable_server(sleeps) -> None:
    provider = CloudProvider(
        "openai/stub",
        api_base="http://127.0.0.1:9/v1",
        max_retries=1,
        sleep=sleeps.append,
    )
    with pytest.raises(ProviderUnavailableError, match="reach"):
        provider.complete(REQUEST)
    assert not provider.health()


def test_known_model_has_a_price_and_keys_stay_out_of_errors() -> None:
    meta = CloudProvider("openai/gpt-4o-mini").metadata()
    assert meta.cost_per_input_token and meta.cost_per_input_token > 0
    error = map_error(RuntimeError("odd"), "openai/gpt-4o-mini")
    assert isinstance(error, BadResponseError)


def test_embeddings(provider: CloudProvider, stub) -> None:
    body = {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": [float(i), 0.5, 1.0]}
            for i in range(2)
        ],
        "model": "stub",
        "usage": {"prompt_tokens": 2, "total_tokens": 2},
    }
    stub.script.append(("json", 200, body))
    rows = provider.embed(["a", "b"])
    assert rows.shape == (2, 3) and str(rows.dtype) == "float32"
    assert rows[1, 0] == 1.0
    assert stub.requests[0]["input"] == ["a", "b"]


def test_missing_key_is_an_actionable_error(monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    provider = CloudProvider("openai/gpt-4o-mini", max_retries=0)
    with guard.network_guard(), pytest.raises(ProviderError, match="API key"):
        provider.complete(REQUEST)  # fails before any connection is attempted


def test_guard_violation_is_not_disguised_as_a_server_error(sleeps) -> None:
    provider = CloudProvider(
        "openai/x", api_base="http://203.0.113.7:8000/v1", sleep=sleeps.append
    )
    with guard.network_guard(), pytest.raises(guard.PrivacyViolation):
        provider.complete(REQUEST)
    assert sleeps == []  # not retried either

"""Record/replay provider."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_ruvqe.llm.base import CompletionRequest, Message, ProviderError
from pytest_ruvqe.llm.replay import CassetteMissError, ReplayProvider, request_key

REQUEST = CompletionRequest(messages=(Message("user", "write a test for add"),), seed=1)


def test_record_then_replay_without_inner(tmp_path: Path, local) -> None:
    cassette = tmp_path / "c.json"
    recorder = ReplayProvider(cassette, local, mode="record")
    recorded = recorder.complete(REQUEST)
    streamed = list(recorder.stream(CompletionRequest(prompt="stream me")))
    vectors = recorder.embed(["a b c"])
    assert len(local.received) == 2

    player = ReplayProvider(cassette)  # no inner provider: fully offline
    assert player.complete(REQUEST) == recorded
    assert list(player.stream(CompletionRequest(prompt="stream me"))) == streamed
    assert (player.embed(["a b c"]) == vectors).all()
    assert player.metadata() == local.metadata()
    assert len(local.received) == 2  # nothing asked again


def test_cassette_is_deterministic(tmp_path: Path, scripted) -> None:
    texts = []
    for run in range(2):
        path = tmp_path / f"{run}.json"
        recorder = ReplayProvider(path, scripted("p"), mode="record")
        recorder.complete(CompletionRequest(prompt="b"))
        recorder.complete(CompletionRequest(prompt="a"))
        texts.append(path.read_text())
    assert texts[0] == texts[1]
    assert json.loads(texts[0])["version"] == 1


def test_key_ignores_features_but_not_sampling() -> None:
    a = CompletionRequest(prompt="x", features={"lines": 1})
    assert request_key(a) == request_key(CompletionRequest(prompt="x"))
    assert request_key(a) != request_key(CompletionRequest(prompt="x", seed=2))
    assert request_key(a) != request_key(CompletionRequest(prompt="x", temperature=0))


def test_miss_and_broken_cassettes(tmp_path: Path, local) -> None:
    cassette = tmp_path / "c.json"
    ReplayProvider(cassette, local, mode="record").complete(REQUEST)
    player = ReplayProvider(cassette)
    with pytest.raises(CassetteMissError, match="re-record"):
        player.complete(CompletionRequest(prompt="never recorded"))
    with pytest.raises(ProviderError, match="does not exist"):
        ReplayProvider(tmp_path / "missing.json")
    cassette.write_text("{not json")
    with pytest.raises(ProviderError, match="unreadable"):
        ReplayProvider(cassette)
    with pytest.raises(ValueError, match="inner provider"):
        ReplayProvider(cassette, mode="record")


def test_auto_mode_records_only_misses(tmp_path: Path, local) -> None:
    cassette = tmp_path / "c.json"
    auto = ReplayProvider(cassette, local, mode="auto")
    auto.complete(REQUEST)
    auto.complete(REQUEST)
    assert len(local.received) == 1

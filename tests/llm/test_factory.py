"""build_router: configuration to providers, and lazy heavy imports."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from pytest_ruvqe.llm.base import CompletionRequest, ModelLoadError, ProviderError
from pytest_ruvqe.llm.factory import LlmConfig, build_router


def _need_litellm() -> None:
    # importorskip would import litellm before our loader sets its offline switch
    if importlib.util.find_spec("litellm") is None:
        pytest.skip("litellm is not installed")


def test_unknown_strategy_names_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match="privacy_first"):
        LlmConfig(strategy="fastest")


def test_cloud_only_router_prices_the_savings_report() -> None:
    _need_litellm()
    router = build_router(
        LlmConfig(cloud_model="openai/gpt-4o-mini", use_local=False, max_retries=0)
    )
    assert list(router.providers) == ["cloud"]
    assert router.ledger.cloud_input_price and router.ledger.cloud_input_price > 0
    assert router.strategy == "balanced"


def test_a_cloud_router_notes_what_the_privacy_scan_misses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _need_litellm()
    config = LlmConfig(cloud_model="openai/gpt-4o-mini", use_local=False)
    assert not any("privacy scan" in note for note in build_router(config).notes)
    monkeypatch.setitem(sys.modules, "phonenumbers", None)  # as if not installed
    notes = build_router(config).notes
    assert any("phonenumbers is not installed" in note for note in notes), notes


def test_nothing_configured_is_a_clear_error() -> None:
    with pytest.raises(ProviderError, match="--ruvqe-cloud-model"):
        build_router(LlmConfig(use_local=False))


def test_building_a_local_router_imports_no_heavy_library(fresh_python) -> None:
    code = (
        "import sys\n"
        "from pytest_ruvqe.llm.factory import LlmConfig, build_router\n"
        "try:\n"
        "    build_router(LlmConfig())\n"
        "except Exception as exc:\n"
        "    print('no local provider:', exc)\n"
        "heavy = [m for m in ('litellm', 'llama_cpp', 'torch') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    result = fresh_python(code)
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr


def test_bad_local_model_is_reported_or_skipped(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    missing = str(tmp_path / "missing.gguf")
    with pytest.raises(ModelLoadError, match="RUVQE_LOCAL_MODEL"):
        build_router(LlmConfig(local_model=missing))
    _need_litellm()
    router = build_router(LlmConfig(local_model=missing, cloud_model="openai/x"))
    assert list(router.providers) == ["cloud"]
    assert any("local provider off" in note for note in router.notes)


def test_cassette_makes_a_router_replayable(tmp_path: Path) -> None:
    _need_litellm()
    from llm_stub_server import StubServer, chat_body

    stub = StubServer()
    stub.script.append(("json", 200, chat_body("recorded answer")))
    config = LlmConfig(
        cloud_model="openai/stub",
        api_base=stub.api_base,
        use_local=False,
        max_retries=0,
        cassette=str(tmp_path / "gen"),
    )
    request = CompletionRequest(prompt="write a test", max_tokens=5)
    try:
        assert build_router(config).complete(request).text == "recorded answer"
    finally:
        stub.close()
    # the server is gone: the cassette answers
    replayed = build_router(config).complete(request)
    assert replayed.text == "recorded answer"
    assert (tmp_path / "gen.cloud.json").is_file()


def test_strategy_names_match_the_plugin_settings() -> None:
    from pytest_ruvqe import settings
    from pytest_ruvqe.llm.strategies import STRATEGIES

    assert set(settings.STRATEGIES) == set(STRATEGIES)


def test_litellm_import_is_offline(fresh_python) -> None:
    _need_litellm()
    code = (
        "import sys\n"
        "seen = []\n"
        "def hook(event, args):\n"
        "    if event in ('socket.connect', 'socket.getaddrinfo'):\n"
        "        seen.append(event)\n"
        "sys.addaudithook(hook)\n"
        "from pytest_ruvqe.llm.cloud import litellm_module\n"
        "litellm_module()\n"
        "print('NETWORK', seen)\n"
    )
    result = fresh_python(code, timeout=120)
    assert "NETWORK []" in result.stdout, result.stdout + result.stderr

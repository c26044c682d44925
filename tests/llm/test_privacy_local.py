"""Proof that privacy-local mode lets nothing leave the machine.

A process-wide audit hook records every network event that reaches the
interpreter after our guard. The router runs through every strategy; the
recorder must see no non-loopback attempt, and wherever a cloud provider
would be used, PrivacyViolation must be raised instead.
"""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from pytest_ruvqe.llm import guard
from pytest_ruvqe.llm.base import CompletionRequest, ProviderError
from pytest_ruvqe.llm.cloud import CloudProvider
from pytest_ruvqe.llm.factory import LlmConfig, build_router
from pytest_ruvqe.llm.guard import PrivacyViolation, network_guard
from pytest_ruvqe.llm.router import HybridRouter
from pytest_ruvqe.llm.strategies import STRATEGIES

REMOTE = ("203.0.113.7", 443)  # TEST-NET-3: never a real host
_EVENTS = ("socket.connect", "socket.sendto", "socket.getaddrinfo")
_seen: list[tuple[str, str]] = []
_recording = threading.Event()


def _recorder(
    event: str, args: tuple[Any, ...], _recording: threading.Event = _recording
) -> None:
    # audit hooks outlive the module; the default argument keeps the flag alive
    # through interpreter shutdown, when module globals are already gone
    if not _recording.is_set() or event not in _EVENTS:
        return
    host = args[0] if event == "socket.getaddrinfo" else args[1]
    if isinstance(host, tuple):
        host = host[0]
    if not guard.is_loopback_host(host):
        _seen.append((event, str(host)))


# our guard's hook first, then the recorder: audit hooks run in order and stop at
# the first that raises, so the recorder sees exactly what got past the guard
with network_guard():
    pass
sys.addaudithook(_recorder)


@pytest.fixture
def recorder() -> Iterator[list[tuple[str, str]]]:
    _seen.clear()
    _recording.set()
    yield _seen
    _recording.clear()


class SmuggledProvider:
    """Claims to be local but phones home: only the guard can stop it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_recorder_sees_unguarded_attempts(recorder) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.sendto(b"", REMOTE)  # UDP: no handshake, nothing waits
    except OSError:
        pass
    finally:
        sock.close()
    assert ("socket.sendto", REMOTE[0]) in recorder


def test_guard_blocks_before_anything_is_sent(recorder) -> None:
    with network_guard():
        with pytest.raises(PrivacyViolation, match=r"203\.0\.113\.7"):
            socket.create_connection(REMOTE, timeout=1)
        with pytest.raises(PrivacyViolation):
            socket.getaddrinfo("api.openai.com", 443)
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with pytest.raises(PrivacyViolation):
            udp.sendto(b"secret", REMOTE)
        udp.close()
        # loopback stays open: local servers keep working
        server = socket.create_server(("127.0.0.1", 0))
        client = socket.create_connection(server.getsockname())
        client.close()
        server.close()
    assert recorder == []


def test_cloud_provider_cannot_be_constructed(recorder) -> None:
    with guard.privacy_local_mode():
        with pytest.raises(PrivacyViolation, match="privacy-local"):
            CloudProvider("openai/gpt-4o-mini")
        with pytest.raises(PrivacyViolation):
            CloudProvider("openai/x", api_base="http://127.0.0.1:9/v1")
    assert recorder == []


def test_factory_drops_the_cloud_model_and_says_so(recorder) -> None:
    config = LlmConfig(
        cloud_model="openai/gpt-4o-mini", privacy_local=True, use_local=False
    )
    with pytest.raises(ProviderError, match="not used: privacy-local mode"):
        build_router(config)
    assert not guard.privacy_local_active()
    assert recorder == []


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_stays_on_the_machine(
    recorder, local, cloud, scripted, strategy: str
) -> None:
    request = CompletionRequest(prompt="def f(x): return x", features={"lines": 500})
    # a router may not even be built with a cloud provider in privacy-local mode
    with pytest.raises(PrivacyViolation):
        HybridRouter([local, cloud], strategy, privacy_local=True)

    # a provider that lies about being local is stopped by the socket guard
    liar = scripted("liar", "local")

    def phone_home(req: CompletionRequest) -> Any:
        socket.create_connection(REMOTE, timeout=1)
        raise AssertionError("unreachable: the guard must have raised")

    liar.complete = phone_home  # type: ignore[method-assign]
    liar.stream = lambda req: iter([phone_home(req)])  # type: ignore[method-assign]
    router = HybridRouter([liar, local], strategy, privacy_local=True)
    try:
        with pytest.raises(PrivacyViolation):
            router.complete(request)
        with pytest.raises(PrivacyViolation):
            list(router.stream(request))
        # the honest local provider answers in every strategy
        honest = HybridRouter([local], strategy, privacy_local=True)
        assert honest.complete(request).provider == "local"
        assert "".join(honest.stream(request))
        honest.close()
    finally:
        router.close()
    assert recorder == []
    assert not guard.privacy_local_active()


def test_router_as_context_manager_leaves_the_mode(local) -> None:
    with HybridRouter([local], "balanced", privacy_local=True) as router:
        assert guard.privacy_local_active()
        assert router.complete(CompletionRequest(prompt="x = 1")).provider == "local"
    assert not guard.privacy_local_active()

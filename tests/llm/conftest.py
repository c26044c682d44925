"""In-memory providers that really implement the Provider interface."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from pytest_ruvqe.llm.base import (
    Completion,
    CompletionRequest,
    Provider,
    ProviderMetadata,
    ProviderUnavailableError,
)


class ScriptedProvider(Provider):
    """Answers ``<name>:<last words of the prompt>``; fails as scripted.

    ``fail_next`` failures are raised before answering; ``break_stream_after``
    makes a stream raise after that many chunks. Every request it received is
    kept in ``received`` so tests can see exactly what left the router.
    """

    def __init__(
        self,
        name: str,
        location: str = "local",
        *,
        price: tuple[float, float] | None = (0.0, 0.0),
        is_chat: bool = True,
        latency_s: float = 0.01,
        error: Callable[[], Exception] = lambda: ProviderUnavailableError("down"),
    ) -> None:
        self.name = name
        self.location = location
        self.price = price
        self.is_chat = is_chat
        self.latency_s = latency_s
        self.error = error
        self.fail_next = 0
        self.break_stream_after: int | None = None
        self.received: list[CompletionRequest] = []

    def _maybe_fail(self) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise self.error()

    def answer(self, request: CompletionRequest) -> str:
        return f"{self.name}:{request.text[-20:]}"

    def complete(self, request: CompletionRequest) -> Completion:
        self.received.append(request)
        self._maybe_fail()
        text = self.answer(request)
        prompt_tokens = len(request.text.split())
        cost = None
        if self.price is not None:
            cost = prompt_tokens * self.price[0] + 3 * self.price[1]
        return Completion(
            text,
            prompt_tokens,
            3,
            self.latency_s,
            0.0,
            cost,
            self.name,
            "m-" + self.name,
        )

    def stream(self, request: CompletionRequest) -> Iterator[str]:
        self.received.append(request)
        self._maybe_fail()
        for index, piece in enumerate(self.answer(request).split(":")):
            if self.break_stream_after is not None and index >= self.break_stream_after:
                raise self.error()
            yield piece

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self._maybe_fail()
        return np.asarray([[len(t), t.count(" ")] for t in texts], dtype=np.float32)

    def health(self) -> bool:
        return self.fail_next == 0

    def metadata(self) -> ProviderMetadata:
        return ProviderMetadata(
            name=self.name,
            model="m-" + self.name,
            location=self.location,
            context_size=4096,
            is_chat=self.is_chat,
            cost_per_input_token=None if self.price is None else self.price[0],
            cost_per_output_token=None if self.price is None else self.price[1],
        )


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def local() -> ScriptedProvider:
    return ScriptedProvider("local", "local")


@pytest.fixture
def cloud() -> ScriptedProvider:
    return ScriptedProvider("cloud", "cloud", price=(1e-6, 2e-6), latency_s=0.5)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def scripted() -> type[ScriptedProvider]:
    """The ScriptedProvider class, to build more providers in a test."""
    return ScriptedProvider


ROOT = Path(__file__).resolve().parents[2]
FreshPython = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def fresh_python() -> FreshPython:
    """Runs code in a new interpreter that imports this checkout and nothing of
    the test process (to see what importing or running something imports)."""

    def run(code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={"PYTHONPATH": str(ROOT), "PATH": ""},
        )

    return run

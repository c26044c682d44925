"""A real Provider that answers from a script, recording every request it saw."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import numpy.typing as npt

from pytest_ruvqe.llm.base import (
    Completion,
    CompletionRequest,
    Provider,
    ProviderMetadata,
)

Reply = str | Callable[[CompletionRequest], str]


class ScriptedProvider(Provider):
    """Returns the scripted replies in order; the last one repeats."""

    def __init__(
        self, replies: Sequence[Reply], *, is_chat: bool = True, cost: float = 0.001
    ) -> None:
        self.replies = list(replies)
        self.requests: list[CompletionRequest] = []
        self.is_chat = is_chat
        self.cost = cost

    def complete(self, request: CompletionRequest) -> Completion:
        """The next scripted reply, with token counts from the text sizes."""
        reply = self.replies[min(len(self.requests), len(self.replies) - 1)]
        self.requests.append(request)
        text = reply(request) if callable(reply) else reply
        return Completion(
            text=text,
            prompt_tokens=len(request.text) // 4,
            completion_tokens=len(text) // 4,
            latency_s=0.0,
            ttft_s=None,
            cost_usd=self.cost,
            provider="scripted",
            model="scripted-1",
            finish_reason="stop",
        )

    def stream(self, request: CompletionRequest) -> Iterator[str]:
        """The reply in one chunk."""
        yield self.complete(request).text

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """A length-based embedding: enough for code that needs one row per text."""
        return np.array([[float(len(t))] for t in texts], dtype=np.float32)

    def health(self) -> bool:
        """Always ready."""
        return True

    def metadata(self) -> ProviderMetadata:
        """A local chat or base model with a token price."""
        return ProviderMetadata(
            "scripted", "scripted-1", "local", 8192, self.is_chat, 1e-6, 2e-6
        )

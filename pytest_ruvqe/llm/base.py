"""The provider interface: plain requests in, plain completions out."""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


Location = Literal["local", "cloud"]
Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    """One chat message."""

    role: Role
    content: str


@dataclass(frozen=True)
class CompletionRequest:
    """What to ask a model: chat messages or a raw prompt to continue."""

    messages: tuple[Message, ...] = ()
    prompt: str | None = None
    max_tokens: int = 512
    temperature: float = 0.2
    stop: tuple[str, ...] = ()
    seed: int | None = None
    # code features of the target, used by the router to judge complexity
    features: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.messages and self.prompt is None:
            raise ValueError("a CompletionRequest needs messages or a prompt")

    @property
    def text(self) -> str:
        """All outgoing text, as a privacy scanner must see it."""
        if self.prompt is not None:
            return self.prompt
        return "\n".join(m.content for m in self.messages)


@dataclass(frozen=True)
class Completion:
    """A model's answer with what it cost."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    ttft_s: float | None
    cost_usd: float | None  # None: unknown (never silently zero)
    provider: str
    model: str
    finish_reason: str | None = None


@dataclass(frozen=True)
class ProviderMetadata:
    """What the router needs to know about a provider."""

    name: str
    model: str
    location: Location
    context_size: int
    is_chat: bool  # chat/instruct model (else: base model, completion style)
    cost_per_input_token: float | None
    cost_per_output_token: float | None


class ProviderError(Exception):
    """A provider could not answer; the message says why and what to do."""

    #: whether trying again later (or elsewhere) may succeed
    retryable: bool = False


class InvalidRequestError(ProviderError):
    """The request itself is unusable (empty prompt, bad parameters)."""


class ModelLoadError(ProviderError):
    """The model file is missing, unreadable or not a usable GGUF."""


class ProviderTimeoutError(ProviderError):
    """The provider did not answer within the configured timeout."""

    retryable = True


class RateLimitedError(ProviderError):
    """The provider refused the call for now (HTTP 429)."""

    retryable = True


class ProviderUnavailableError(ProviderError):
    """The provider could not be reached or failed on its side (5xx)."""

    retryable = True


class BadResponseError(ProviderError):
    """The provider answered with something that is not a valid completion."""


class StreamInterruptedError(ProviderError):
    """A stream broke after some chunks had already been delivered."""

    def __init__(self, message: str, chunks_delivered: int) -> None:
        super().__init__(message)
        self.chunks_delivered = chunks_delivered


class Provider(abc.ABC):
    """A language model behind one small interface."""

    @abc.abstractmethod
    def complete(self, request: CompletionRequest) -> Completion:
        """Answer the request in one piece."""

    @abc.abstractmethod
    def stream(self, request: CompletionRequest) -> Iterator[str]:
        """Answer the request chunk by chunk."""

    @abc.abstractmethod
    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One embedding row per text."""

    @abc.abstractmethod
    def health(self) -> bool:
        """Whether the provider can answer now."""

    @abc.abstractmethod
    def metadata(self) -> ProviderMetadata:
        """Name, location, context size, chat or base, cost per token."""

    def close(self) -> None:  # noqa: B027 - most providers hold nothing
        """Release what the provider holds (a loaded model); it may load again."""

"""In-process llama.cpp provider: loaded lazily once per process and reused."""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .base import (
    Completion,
    CompletionRequest,
    InvalidRequestError,
    ModelLoadError,
    Provider,
    ProviderError,
    ProviderMetadata,
    StreamInterruptedError,
)
from .gguf import GgufInfo, read_gguf_info
from .models import resolve_local_model
from .prompting import RenderedPrompt, render

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# the trained context of small models is often 32k+; a KV cache that large costs
# memory and start-up time for prompts that never need it
DEFAULT_MAX_CONTEXT = 8192
_POOLING_MEAN = 1  # llama_cpp.LLAMA_POOLING_TYPE_MEAN, without importing it early


class PromptTruncatedWarning(UserWarning):
    """The prompt did not fit the context and its beginning was dropped."""


def physical_cores() -> int:
    """Physical cores this process may use (hyper-threads slow llama.cpp down)."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 1
    cores: set[tuple[str, str]] = set()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            physical = core = ""
            for line in info:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "physical id":
                    physical = value.strip()
                elif key == "core id":
                    core = value.strip()
                    cores.add((physical, core))
    except OSError:
        pass
    return max(1, min(usable, len(cores) or usable))


@dataclass(frozen=True)
class _LoadKey:
    path: str
    gpu_layers: int
    threads: int
    n_ctx: int
    embedding: bool
    adapter: str | None = None  # a GGUF LoRA adapter served with the model
    adapter_scale: float = 1.0


# one process-wide cache: loading a GGUF costs seconds, pytest may build many
# providers in one session
_CACHE: dict[_LoadKey, Any] = {}
_CACHE_LOCK = threading.Lock()
# a llama.cpp context is not thread-safe: one generation at a time per model
_RUN_LOCKS: dict[int, threading.Lock] = {}


def _run_lock(model: Any) -> threading.Lock:
    with _CACHE_LOCK:
        return _RUN_LOCKS.setdefault(id(model), threading.Lock())


def _load(key: _LoadKey) -> Any:
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        try:
            from llama_cpp import Llama
        except ImportError:
            raise ModelLoadError(
                "the local provider needs llama-cpp-python: "
                "pip install 'pytest-ruvqe[local]'"
            ) from None
        kwargs: dict[str, Any] = {
            "model_path": key.path,
            "n_gpu_layers": key.gpu_layers,
            "n_threads": key.threads,
            "n_ctx": key.n_ctx,
            "verbose": False,
        }
        if key.embedding:
            kwargs.update(embedding=True, pooling_type=_POOLING_MEAN)
        if key.adapter is not None:
            kwargs.update(lora_path=key.adapter, lora_scale=key.adapter_scale)
        try:
            # llama.cpp logs some load notes at its "none" level, which its
            # Python logger prints even when not verbose; keep them out of
            # the user's terminal (errors still raise below)
            with contextlib.redirect_stderr(io.StringIO()):
                model = Llama(**kwargs)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelLoadError(
                f"llama.cpp could not load {key.path}: {exc}; check that the file "
                "is a complete GGUF model supported by this llama-cpp-python"
            ) from exc
        _CACHE[key] = model
        return model


def _release(key: _LoadKey) -> None:
    with _CACHE_LOCK:
        model = _CACHE.pop(key, None)
        if model is not None:
            _RUN_LOCKS.pop(id(model), None)
    if model is not None:
        model.close()


class LocalProvider(Provider):
    """A GGUF model run in-process by llama.cpp."""

    def __init__(
        self,
        model: str | None = None,
        *,
        gpu_layers: int = -1,
        threads: int | None = None,
        max_context: int = DEFAULT_MAX_CONTEXT,
        chat: bool | None = None,
        name: str = "local",
        adapter: str | None = None,
        adapter_scale: float = 1.0,
    ) -> None:
        self._configured = model
        self._gpu_layers = gpu_layers
        self._threads = threads or physical_cores()
        self._max_context = max_context
        self._chat_override = chat
        self._name = name
        self._adapter = adapter  # only for generation: embeddings stay the base's
        self._adapter_scale = adapter_scale
        self._info: GgufInfo | None = None
        self._model_path: str | None = None
        self._lock = threading.Lock()

    # model selection -------------------------------------------------------

    @property
    def info(self) -> GgufInfo:
        """Header of the model file (resolved and checked on first use)."""
        if self._info is None:
            path = resolve_local_model(self._configured).path
            self._info = read_gguf_info(path)
            self._model_path = path
        return self._info

    def switch_model(self, model: str | None) -> None:
        """Use another GGUF from the next call on; the old one stays cached."""
        info = read_gguf_info(resolve_local_model(model).path)
        with self._lock:
            self._configured = model
            self._info = info
            self._model_path = info.path

    @property
    def is_chat(self) -> bool:
        """Chat prompting needs an instruct model with a template we can render."""
        if self._chat_override is not None:
            return self._chat_override
        info = self.info
        return info.looks_instruct and (
            info.chat_template is not None or info.architecture.startswith("gemma")
        )

    def _context_size(self) -> int:
        trained = self.info.context_length or 2048
        return min(trained, self._max_context)

    def _key(self, embedding: bool) -> _LoadKey:
        info = self.info
        return _LoadKey(
            path=info.path,
            gpu_layers=self._gpu_layers,
            threads=self._threads,
            # embeddings only ever see one text at a time: a small context suffices
            n_ctx=min(self._context_size(), 2048)
            if embedding
            else self._context_size(),
            embedding=embedding,
            adapter=None if embedding else self._adapter,
            adapter_scale=self._adapter_scale,
        )

    def llama(self) -> Any:
        """The loaded ``llama_cpp.Llama`` (loads it on first use)."""
        return _load(self._key(embedding=False))

    def close(self) -> None:
        """Free the models this provider loaded, now rather than at interpreter
        exit (where llama.cpp's finaliser meets a half torn-down module)."""
        if self._info is None:
            return
        for embedding in (False, True):
            _release(self._key(embedding))

    # generation ------------------------------------------------------------

    def _prepare(
        self, llm: Any, request: CompletionRequest
    ) -> tuple[list[int], int, RenderedPrompt]:
        rendered = render(request, self.info, self.is_chat)
        tokens: list[int] = llm.tokenize(
            rendered.text.encode("utf-8"),
            add_bos=not rendered.starts_with_bos,
            special=rendered.special_tokens,
        )
        # llama.cpp may round the context up, but the Python-side token buffer
        # keeps the size we asked for
        n_ctx = min(int(llm.n_ctx()), self._context_size())
        max_tokens = request.max_tokens
        if len(tokens) + max_tokens > n_ctx:
            max_tokens = min(max_tokens, n_ctx // 2)
            keep = n_ctx - max_tokens
            if len(tokens) > keep:
                warnings.warn(
                    PromptTruncatedWarning(
                        f"prompt of {len(tokens)} tokens does not fit the context of "
                        f"{n_ctx} with {max_tokens} new tokens; its first "
                        f"{len(tokens) - keep} tokens were dropped"
                    ),
                    stacklevel=3,
                )
                # keep BOS and the end, where the instruction to answer usually is
                tokens = tokens[:1] + tokens[len(tokens) - keep + 1 :]
        return tokens, max_tokens, rendered

    def _chunks(self, request: CompletionRequest) -> Iterator[tuple[str, int]]:
        # checked before loading: a bad request must not cost a model load
        if not request.text.strip():
            raise InvalidRequestError("empty prompt: give the model some text")
        if request.max_tokens < 1:
            raise InvalidRequestError("max_tokens must be at least 1")
        llm = self.llama()
        tokens, max_tokens, rendered = self._prepare(llm, request)
        kwargs: dict[str, Any] = {
            "max_tokens": max_tokens,
            "temperature": request.temperature,
            "stop": list(rendered.stop) or None,
            "stream": True,
        }
        if request.seed is not None:
            kwargs["seed"] = request.seed
        delivered = 0
        lock = _run_lock(llm)
        with lock:
            try:
                for chunk in llm.create_completion(tokens, **kwargs):
                    choice = chunk["choices"][0]
                    delivered += 1
                    yield choice["text"], len(tokens)
            except (RuntimeError, ValueError, KeyError) as exc:
                if delivered:
                    raise StreamInterruptedError(
                        f"local model failed after {delivered} chunks: {exc}",
                        delivered,
                    ) from exc
                raise ProviderError(f"local model failed: {exc}") from exc

    def stream(self, request: CompletionRequest) -> Iterator[str]:
        """Yield text pieces as the model produces them."""
        for text, _ in self._chunks(request):
            if text:
                yield text

    def complete(self, request: CompletionRequest) -> Completion:
        """Generate a whole answer, measuring latency and time to first token."""
        start = time.perf_counter()
        ttft: float | None = None
        pieces: list[str] = []
        prompt_tokens = 0
        for text, sent in self._chunks(request):
            prompt_tokens = sent
            if ttft is None:
                ttft = time.perf_counter() - start
            pieces.append(text)
        latency = time.perf_counter() - start
        answer = "".join(pieces)
        # tokenizing only reads the vocabulary: no run lock needed
        generated = len(self.llama().tokenize(answer.encode("utf-8"), add_bos=False))
        return Completion(
            text=answer,
            prompt_tokens=prompt_tokens,
            completion_tokens=generated,
            latency_s=latency,
            ttft_s=ttft,
            cost_usd=0.0,
            provider=self._name,
            model=self.info.name,
            finish_reason="length" if generated >= request.max_tokens else "stop",
        )

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Mean-pooled embeddings from a second, embedding-only context."""
        import numpy as np

        model = _load(self._key(embedding=True))
        with _run_lock(model):
            rows = [model.embed(text or " ", truncate=True) for text in texts]
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)

    def health(self) -> bool:
        """The model file resolves and has a valid header (no load needed)."""
        try:
            self.info  # noqa: B018 - resolving is the check
        except ProviderError:
            return False
        return True

    def metadata(self) -> ProviderMetadata:
        """Local, free, context size from the model header."""
        return ProviderMetadata(
            name=self._name,
            model=self.info.name,
            location="local",
            context_size=self._context_size(),
            is_chat=self.is_chat,
            cost_per_input_token=0.0,
            cost_per_output_token=0.0,
        )

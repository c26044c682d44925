"""Cloud provider on litellm: any litellm model string, or any OpenAI-compatible server.

API keys come only from the environment variables litellm reads; this module
never logs or stores them.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .base import (
    BadResponseError,
    Completion,
    CompletionRequest,
    InvalidRequestError,
    Provider,
    ProviderError,
    ProviderMetadata,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitedError,
    StreamInterruptedError,
)
from .guard import PrivacyViolation, is_loopback_host, privacy_local_active

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

_MAX_BACKOFF_S = 8.0


@functools.lru_cache(maxsize=1)
def litellm_module() -> ModuleType:
    """Import litellm once, offline-safe: never fetch the remote cost map."""
    # must be set before the import: litellm reads it at import time
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import litellm
    except ImportError:
        raise ProviderError(
            "the cloud provider needs litellm: pip install 'pytest-ruvqe[cloud]'"
        ) from None
    litellm.suppress_debug_info = True
    litellm.telemetry = False
    return litellm


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    # litellm and pydantic emit deprecation noise that is not the caller's to fix
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _status(exc: BaseException) -> int | None:
    code = getattr(exc, "status_code", None)
    return code if isinstance(code, int) else None


def _reraise_violation(exc: BaseException) -> None:
    """Surface the guard's PrivacyViolation even when a client library wrapped it."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, PrivacyViolation):
            raise current
        seen.add(id(current))
        current = current.__cause__ or current.__context__


def map_error(exc: BaseException, model: str) -> ProviderError:
    """A litellm/openai/httpx exception as one of our typed provider errors."""
    if isinstance(exc, ProviderError):
        return exc
    name = type(exc).__name__
    status = _status(exc)
    text = str(exc).split("\n", 1)[0][:300]
    where = f"{model}: {text}"
    if "Timeout" in name or "timed out" in text.lower():
        return ProviderTimeoutError(f"timed out: {where}")
    if status == 429 or "RateLimit" in name:
        return RateLimitedError(f"rate limited (429): {where}; wait or lower the load")
    if "ContextWindow" in name:
        return InvalidRequestError(f"prompt too long for the model: {where}")
    if (
        status in (401, 403)
        or "Authentication" in name
        or "PermissionDenied" in name
        or "missing credentials" in text.lower()
    ):
        return ProviderError(
            f"not authorised: {where}; set the API key environment variable "
            "litellm reads for this provider"
        )
    lowered = text.lower()
    if ("APIConnection" in name and "json" not in lowered) or (
        "connection error" in lowered or "connection refused" in lowered
    ):
        return ProviderUnavailableError(f"cannot reach the server: {where}")
    if status is not None and status >= 500:
        return ProviderUnavailableError(f"server error {status}: {where}")
    if status in (400, 404, 422) or "BadRequest" in name or "NotFound" in name:
        return InvalidRequestError(f"request rejected: {where}")
    return BadResponseError(f"unusable answer ({name}): {where}")


class CloudProvider(Provider):
    """A model behind litellm: hosted APIs or a self-hosted OpenAI-compatible server."""

    def __init__(
        self,
        model: str,
        *,
        api_base: str | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 2,
        backoff_s: float = 0.5,
        context_size: int | None = None,
        local_server: bool = False,
        name: str = "cloud",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not model:
            raise ProviderError("cloud model is empty; give a litellm model string")
        self.model = model
        self.api_base = api_base
        loopback = bool(api_base) and is_loopback_host(
            urlsplit(api_base or "").hostname
        )
        if local_server and not loopback:
            raise ProviderError(
                f"api_base {api_base!r} is not on this machine (127.0.0.1, ::1, "
                "localhost), so it cannot be declared a local server"
            )
        # a loopback server may still be a proxy to the cloud: it only counts as
        # local when the user says so
        self.is_local = local_server
        if privacy_local_active() and not self.is_local:
            raise PrivacyViolation(
                f"privacy-local mode: cannot construct cloud provider {model!r}; "
                "only local models, or a server on 127.0.0.1 declared local, "
                "may be used"
            )
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self._context_size = context_size
        self._name = name
        self._sleep = sleep
        self._meta: ProviderMetadata | None = None

    # helpers ---------------------------------------------------------------

    def _kwargs(self, request: CompletionRequest) -> dict[str, Any]:
        if not request.text.strip():
            raise InvalidRequestError("empty prompt: give the model some text")
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        if request.prompt is not None:
            messages = [{"role": "user", "content": request.prompt}]
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "timeout": self.timeout_s,
            "num_retries": 0,  # retries are ours, so they are bounded and counted
        }
        if request.stop:
            kwargs["stop"] = list(request.stop)
        if request.seed is not None:
            kwargs["seed"] = request.seed
        kwargs.update(self._server_kwargs())
        return kwargs

    def _server_kwargs(self) -> dict[str, Any]:
        if not self.api_base:
            return {}
        kwargs: dict[str, Any] = {"api_base": self.api_base}
        # OpenAI-compatible servers often need no key, but the client wants one
        if self.model.startswith("openai/") and not os.environ.get("OPENAI_API_KEY"):
            kwargs["api_key"] = "no-key-needed"
        return kwargs

    def _with_retries(self, call: Callable[[], Any]) -> Any:
        attempt = 0
        while True:
            try:
                with _quiet():
                    return call()
            except Exception as exc:
                _reraise_violation(exc)
                error = map_error(exc, self.model)
                if not error.retryable or attempt >= self.max_retries:
                    raise error from exc
                self._sleep(min(self.backoff_s * 2**attempt, _MAX_BACKOFF_S))
                attempt += 1

    # Provider --------------------------------------------------------------

    def complete(self, request: CompletionRequest) -> Completion:
        """One answer, with tokens and cost from litellm."""
        litellm = litellm_module()
        kwargs = self._kwargs(request)
        start = time.perf_counter()
        response = self._with_retries(lambda: litellm.completion(**kwargs))
        latency = time.perf_counter() - start
        try:
            choice = response.choices[0]
            text = choice.message.content or ""
            usage = response.usage
            prompt_tokens = int(usage.prompt_tokens)
            completion_tokens = int(usage.completion_tokens)
        except (AttributeError, IndexError, TypeError, ValueError) as exc:
            raise BadResponseError(
                f"{self.model}: answer without text or usage ({exc})"
            ) from exc
        return Completion(
            text=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            latency_s=latency,
            ttft_s=None,
            cost_usd=self._cost(response),
            provider=self._name,
            model=self.model,
            finish_reason=getattr(choice, "finish_reason", None),
        )

    def _cost(self, response: Any) -> float | None:
        meta = self.metadata()
        if meta.cost_per_input_token is None:
            return None  # unknown model: unknown, never a silent zero
        try:
            with _quiet():
                cost = litellm_module().completion_cost(completion_response=response)
        except Exception:
            return None
        return float(cost)

    def stream(self, request: CompletionRequest) -> Iterator[str]:
        """Text chunks as the server sends them."""
        litellm = litellm_module()
        kwargs = self._kwargs(request)
        chunks = self._with_retries(lambda: litellm.completion(stream=True, **kwargs))
        delivered = 0
        finished = False
        iterator = iter(chunks)
        while True:
            try:
                with _quiet():
                    chunk = next(iterator)
            except StopIteration:
                break
            except Exception as exc:
                _reraise_violation(exc)
                error = map_error(exc, self.model)
                if delivered:
                    raise StreamInterruptedError(
                        f"stream broke after {delivered} chunks: {error}", delivered
                    ) from exc
                raise error from exc
            try:
                choice = chunk.choices[0]
                piece = choice.delta.content
            except (AttributeError, IndexError) as exc:
                raise BadResponseError(f"{self.model}: malformed chunk") from exc
            finished = finished or bool(getattr(choice, "finish_reason", None))
            if piece:
                delivered += 1
                yield piece
        if not finished:
            # a server that hangs up cleanly before saying why it stopped has
            # cut the answer short, whatever the litellm release makes of it
            raise StreamInterruptedError(
                f"stream broke after {delivered} chunks: {self.model}: "
                "the stream ended without a finish reason",
                delivered,
            )

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Embeddings through litellm's embedding endpoint for the same model."""
        import numpy as np

        litellm = litellm_module()
        kwargs: dict[str, Any] = {"model": self.model, "input": list(texts)}
        kwargs.update(self._server_kwargs())
        response = self._with_retries(lambda: litellm.embedding(**kwargs))
        try:
            rows = [item["embedding"] for item in response.data]
        except (AttributeError, KeyError, TypeError) as exc:
            raise BadResponseError(f"{self.model}: malformed embeddings") from exc
        return np.asarray(rows, dtype=np.float32)

    def health(self) -> bool:
        """A self-hosted server answers /models; a hosted API has its key set."""
        if self.api_base:
            url = self.api_base.rstrip("/") + "/models"
            try:
                with urllib.request.urlopen(url, timeout=2.0) as reply:
                    return bool(200 <= reply.status < 300)
            except (OSError, urllib.error.URLError, ValueError):
                return False
        try:
            with _quiet():
                env = litellm_module().validate_environment(model=self.model)
        except Exception:
            return False
        return bool(env.get("keys_in_environment"))

    def metadata(self) -> ProviderMetadata:
        """Cloud unless a declared local server; price and context from litellm."""
        if self._meta is None:
            info: dict[str, Any] = {}
            if not self.is_local:
                try:
                    with _quiet():
                        info = dict(litellm_module().get_model_info(self.model))
                except Exception:
                    info = {}
            context = self._context_size or info.get("max_input_tokens") or 8192
            self._meta = ProviderMetadata(
                name=self._name,
                model=self.model,
                location="local" if self.is_local else "cloud",
                context_size=int(context),
                is_chat=True,
                cost_per_input_token=info.get("input_cost_per_token"),
                cost_per_output_token=info.get("output_cost_per_token"),
            )
        return self._meta

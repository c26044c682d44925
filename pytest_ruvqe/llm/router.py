"""HybridRouter: picks a provider per request, with breakers, fallback and privacy."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from pytest_ruvqe import telemetry

from .base import (
    Completion,
    CompletionRequest,
    InvalidRequestError,
    Location,
    Message,
    Provider,
    ProviderError,
    ProviderMetadata,
    StreamInterruptedError,
)
from .breaker import BreakerState, CircuitBreaker
from .complexity import Complexity, assess, estimate_tokens
from .decisions import ArmScorer, Attempt, RoutePlan, RoutingDecision
from .guard import PrivacyViolation, network_guard, privacy_local_mode
from .ledger import CostLedger
from .privacy import PrivacyFinding, PrivacyScanner, redact
from .strategies import ROUTE_LOCAL_ON_FINDINGS, RoutingStrategy, order_providers

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "ArmScorer",
    "Attempt",
    "HybridRouter",
    "NoProviderAvailableError",
    "RoutePlan",
    "RoutingDecision",
    "redact_request",
]

_LATENCY_WEIGHT = 0.3  # weight of the newest sample in the latency average


class NoProviderAvailableError(ProviderError):
    """Every eligible provider failed or was skipped."""


@dataclasses.dataclass
class _Trial:
    """How one call of a provider went: ``error`` is set when it failed."""

    error: Exception | None = None


class HybridRouter(Provider):
    """Routes requests across providers by strategy, health, privacy and value."""

    def __init__(
        self,
        providers: Sequence[Provider],
        strategy: RoutingStrategy = "balanced",
        *,
        privacy_local: bool = False,
        scanner: PrivacyScanner | None = None,
        ledger: CostLedger | None = None,
        scorer: ArmScorer | None = None,
        breaker_failures: int = 3,
        breaker_cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        notes: Sequence[str] = (),
    ) -> None:
        if not providers:
            raise ProviderError(
                "no inference provider configured: set --ruvqe-local-model or "
                "--ruvqe-cloud-model (or install pytest-ruvqe[local])"
                + "".join(f"; {note}" for note in notes)
            )
        order_providers(strategy, Complexity.SIMPLE, [], {})  # validates the name
        self.strategy = strategy
        self.privacy_local = privacy_local
        self._providers = {p.metadata().name: p for p in providers}
        if len(self._providers) != len(providers):
            raise ValueError("provider names must be unique")
        self._meta = {name: p.metadata() for name, p in self._providers.items()}
        if privacy_local:
            remote = [n for n, m in self._meta.items() if m.location != "local"]
            if remote:
                raise PrivacyViolation(
                    f"privacy-local mode allows only local providers, not {remote}; "
                    "drop --ruvqe-privacy-local or the cloud model"
                )
        self.scanner = scanner or PrivacyScanner()
        self.ledger = ledger or CostLedger()
        self.scorer = scorer
        self.notes = tuple(notes)
        self.breakers = {
            n: CircuitBreaker(breaker_failures, breaker_cooldown_s, clock)
            for n in self._providers
        }
        self.decisions: deque[RoutingDecision] = deque(maxlen=10_000)
        self._latency: dict[str, float] = {}
        self._lock = threading.Lock()
        self._mode = contextlib.ExitStack()
        if privacy_local:
            self._mode.enter_context(privacy_local_mode())

    def close(self) -> None:
        """Release every provider's model and leave privacy-local mode (if
        this router entered it)."""
        for provider in self._providers.values():
            provider.close()
        self._mode.close()

    def __enter__(self) -> HybridRouter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def providers(self) -> dict[str, Provider]:
        """Providers by name."""
        return dict(self._providers)

    def locations_used(self) -> tuple[Location, ...]:
        """Where the calls that were made ran: ``("local",)``, ``("cloud",)``,
        both, or none, from the ledger."""
        used = {
            meta.location
            for name, meta in self._meta.items()
            if self.ledger.totals(name).calls
        }
        return tuple(sorted(used))

    # planning --------------------------------------------------------------

    def plan(self, request: CompletionRequest) -> RoutePlan:
        """Decide the order of providers for ``request`` without calling any."""
        start = time.perf_counter()
        complexity = assess(request.features, estimate_tokens(request.text))
        metas = list(self._meta.values())
        ordered, reason = order_providers(
            self.strategy, complexity, metas, self._latency
        )
        findings: tuple[PrivacyFinding, ...] = ()
        excluded: list[str] = []
        if any(m.location != "local" for m in ordered):
            findings = self.scanner.scan(request.text)
        if findings:
            kinds = ", ".join(sorted({f.kind for f in findings}))
            local = [m for m in ordered if m.location == "local"]
            cloud = [m for m in ordered if m.location != "local"]
            if self.strategy == "privacy_first":
                excluded = [m.name for m in cloud]
                ordered = local
                reason += f"; {kinds} found: cloud excluded"
            elif self.strategy in ROUTE_LOCAL_ON_FINDINGS:
                ordered = local + cloud
                reason += f"; {kinds} found: local first, cloud only redacted"
            else:
                reason += f"; {kinds} found: redacted for the cloud"
        if self.scorer is not None:
            values = {
                m.name: self.scorer.expected_value(request, complexity, m)
                for m in ordered
            }
            if any(v is not None for v in values.values()):
                rank = {m.name: i for i, m in enumerate(ordered)}
                ordered = sorted(
                    ordered,
                    key=lambda m: (
                        values[m.name] is None,
                        -(values[m.name] or 0.0),
                        rank[m.name],
                    ),
                )
                reason += "; ordered by learned value"
        return RoutePlan(
            complexity=complexity,
            order=tuple(m.name for m in ordered),
            excluded=tuple(excluded),
            reason=reason,
            findings=findings,
            overhead_s=time.perf_counter() - start,
        )

    def _outgoing(
        self, name: str, request: CompletionRequest, plan: RoutePlan
    ) -> tuple[CompletionRequest, bool]:
        if not plan.findings or self._meta[name].location == "local":
            return request, False
        return redact_request(request, self.scanner), True

    def _guard(self) -> contextlib.AbstractContextManager[None]:
        return network_guard() if self.privacy_local else contextlib.nullcontext()

    def _no_route(self, plan: RoutePlan, attempts: list[Attempt]) -> Exception:
        if plan.excluded and all(a.outcome != "failed" for a in attempts):
            return PrivacyViolation(
                "the request contains secrets or personal data and the "
                "privacy_first strategy never sends those to the cloud; "
                "configure a working local model (--ruvqe-local-model)"
            )
        tried = "; ".join(f"{a.provider}: {a.outcome} {a.detail}" for a in attempts)
        return NoProviderAvailableError(f"no provider could answer ({tried})")

    def _record(
        self,
        plan: RoutePlan,
        attempts: list[Attempt],
        chosen: str | None,
        redacted: bool,
    ) -> None:
        attempts = [Attempt(n, "excluded_privacy") for n in plan.excluded] + attempts
        self.decisions.append(
            RoutingDecision(
                strategy=self.strategy,
                complexity=plan.complexity,
                order=plan.order,
                reason=plan.reason,
                attempts=tuple(attempts),
                chosen=chosen,
                privacy_findings=tuple(sorted({f.kind for f in plan.findings})),
                redacted=redacted,
                overhead_s=plan.overhead_s,
            )
        )

    def _failed(self, name: str, exc: BaseException, attempts: list[Attempt]) -> None:
        self.breakers[name].record_failure()
        self.ledger.record_failure(name, exc)
        attempts.append(Attempt(name, "failed", f"{type(exc).__name__}: {exc}"))

    def _succeeded(self, name: str, latency_s: float) -> None:
        self.breakers[name].record_success()
        with self._lock:
            old = self._latency.get(name)
            self._latency[name] = (
                latency_s
                if old is None
                else (1 - _LATENCY_WEIGHT) * old + _LATENCY_WEIGHT * latency_s
            )

    # calls -----------------------------------------------------------------

    def _open(self, order: Sequence[str], attempts: list[Attempt]) -> Iterator[str]:
        """Providers of ``order`` whose breaker lets a call through; the others
        are recorded as skipped."""
        for name in order:
            if self.breakers[name].allow():
                yield name
            else:
                attempts.append(Attempt(name, "skipped_open", "circuit open"))

    @contextlib.contextmanager
    def _attempt(
        self,
        name: str,
        attempts: list[Attempt],
        plan: RoutePlan | None = None,
        redacted: bool = False,
    ) -> Iterator[_Trial]:
        """One call of provider ``name``: a bad request or a privacy violation
        ends the routing; any other error marks the trial failed (fall back)."""
        trial = _Trial()
        meta = self._meta[name]
        try:
            with telemetry.span(
                f"text_completion {meta.model}",
                **{
                    "gen_ai.operation.name": "text_completion",
                    "gen_ai.request.model": meta.model,
                    "gen_ai.provider.name": name,
                    "ruvqe.location": meta.location,
                },
            ):
                yield trial
        except (InvalidRequestError, PrivacyViolation) as exc:
            attempts.append(Attempt(name, "failed", str(exc)))
            self.ledger.record_failure(name, exc)
            if plan is not None:
                self._record(plan, attempts, None, redacted)
            raise
        except Exception as exc:  # any library error means: fall back
            self._failed(name, exc, attempts)
            trial.error = exc

    def _count(self, name: str, completion: Completion) -> None:
        """A successful call in the ledger and, when exporting, the metrics."""
        self.ledger.record(completion)
        telemetry.model_call(
            completion.model,
            name,
            self._meta[name].location,
            (completion.prompt_tokens, completion.completion_tokens),
            completion.latency_s,
            completion.cost_usd,
        )

    def complete(self, request: CompletionRequest) -> Completion:
        """Answer with the first provider that can, falling back on failure."""
        plan = self.plan(request)
        attempts: list[Attempt] = []
        redacted_any = False
        for name in self._open(plan.order, attempts):
            outgoing, redacted = self._outgoing(name, request, plan)
            with self._attempt(name, attempts, plan, redacted) as trial, self._guard():
                completion = self._providers[name].complete(outgoing)
            if trial.error is not None:
                continue
            redacted_any = redacted
            self._succeeded(name, completion.latency_s)
            self._count(name, completion)
            attempts.append(Attempt(name, "ok"))
            self._record(plan, attempts, name, redacted)
            return completion
        self._record(plan, attempts, None, redacted_any)
        raise self._no_route(plan, attempts)

    def stream(self, request: CompletionRequest) -> Iterator[str]:
        """Stream from the first provider that starts; no fallback once text flowed."""
        plan = self.plan(request)
        attempts: list[Attempt] = []
        for name in self._open(plan.order, attempts):
            outgoing, redacted = self._outgoing(name, request, plan)
            start = time.perf_counter()
            delivered: list[str] = []
            with self._attempt(name, attempts, plan, redacted) as trial:
                # the guard covers each step of the provider, never the caller's
                # code that runs between chunks
                with self._guard():
                    chunks = iter(self._providers[name].stream(outgoing))
                while True:
                    with self._guard():
                        try:
                            piece = next(chunks)
                        except StopIteration:
                            break
                    delivered.append(piece)
                    yield piece
            if trial.error is not None:
                if delivered:
                    self._record(plan, attempts, None, redacted)
                    raise StreamInterruptedError(
                        f"{name} failed after {len(delivered)} chunks: {trial.error}",
                        len(delivered),
                    ) from trial.error
                continue
            latency = time.perf_counter() - start
            self._succeeded(name, latency)
            meta = self._meta[name]
            text = "".join(delivered)
            self._count(name, _streamed_completion(meta, outgoing, text, latency))
            attempts.append(Attempt(name, "ok"))
            self._record(plan, attempts, name, redacted)
            return
        self._record(plan, attempts, None, False)
        raise self._no_route(plan, attempts)

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Embeddings from the first provider that gives them (local first)."""
        findings = [self.scanner.scan(t) for t in texts]
        sensitive = any(findings)
        order = [
            m.name
            for m in sorted(self._meta.values(), key=lambda m: m.location != "local")
            if not (
                sensitive
                and m.location != "local"
                and self.strategy in ROUTE_LOCAL_ON_FINDINGS
            )
        ]
        attempts: list[Attempt] = []
        for name in self._open(order, attempts):
            outgoing = list(texts)
            if sensitive and self._meta[name].location != "local":
                outgoing = [
                    redact(t, f)[0] for t, f in zip(texts, findings, strict=True)
                ]
            with self._attempt(name, attempts) as trial, self._guard():
                result = self._providers[name].embed(outgoing)
            if trial.error is None:
                self.breakers[name].record_success()
                return result
        errors = [
            f"{a.provider}: {a.detail}" for a in attempts if a.outcome == "failed"
        ]
        raise NoProviderAvailableError(
            "no provider could embed: " + ("; ".join(errors) or "none eligible")
        )

    def health(self) -> bool:
        """Whether any provider with a closed or half-open breaker is healthy."""
        return any(
            self.breakers[n].state is not BreakerState.OPEN and p.health()
            for n, p in self._providers.items()
        )

    def metadata(self) -> ProviderMetadata:
        """The first provider the strategy would use for a simple request."""
        first, _ = order_providers(
            self.strategy, Complexity.SIMPLE, list(self._meta.values()), {}
        )
        return dataclasses.replace(first[0], name="router")


def redact_request(
    request: CompletionRequest, scanner: PrivacyScanner
) -> CompletionRequest:
    """The request with every finding replaced by a stable placeholder."""
    assigned: dict[str, str] = {}
    if request.prompt is not None:
        text, _ = redact(request.prompt, scanner.scan(request.prompt), assigned)
        return dataclasses.replace(request, prompt=text)
    messages = []
    for message in request.messages:
        content, _ = redact(message.content, scanner.scan(message.content), assigned)
        messages.append(Message(message.role, content))
    return dataclasses.replace(request, messages=tuple(messages))


def _streamed_completion(
    meta: ProviderMetadata, request: CompletionRequest, text: str, latency: float
) -> Completion:
    prompt_tokens = estimate_tokens(request.text)
    completion_tokens = estimate_tokens(text)
    cost = None
    if meta.cost_per_input_token is not None and meta.cost_per_output_token is not None:
        cost = (
            prompt_tokens * meta.cost_per_input_token
            + completion_tokens * meta.cost_per_output_token
        )
    return Completion(
        text=text,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        latency_s=latency,
        ttft_s=None,
        cost_usd=cost,
        provider=meta.name,
        model=meta.model,
    )

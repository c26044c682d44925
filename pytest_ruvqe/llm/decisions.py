"""What the router decided and why: plain records, and the learned-routing hook."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from .base import CompletionRequest, ProviderMetadata
from .complexity import Complexity
from .privacy import PrivacyFinding
from .strategies import RoutingStrategy

AttemptOutcome = Literal["ok", "failed", "skipped_open", "excluded_privacy"]


class ArmScorer(Protocol):
    """Learned routing: expected value of sending a request to a provider."""

    def expected_value(
        self,
        request: CompletionRequest,
        complexity: Complexity,
        provider: ProviderMetadata,
    ) -> float | None:
        """Higher is better; None when the scorer has no opinion."""


@dataclass(frozen=True)
class Attempt:
    """One provider tried (or skipped) for a request."""

    provider: str
    outcome: AttemptOutcome
    detail: str = ""


@dataclass(frozen=True)
class RoutingDecision:
    """Why a request went where it went."""

    strategy: RoutingStrategy
    complexity: Complexity
    order: tuple[str, ...]
    reason: str
    attempts: tuple[Attempt, ...]
    chosen: str | None
    privacy_findings: tuple[str, ...]  # kinds only: values never leave the scanner
    redacted: bool
    overhead_s: float


@dataclass(frozen=True)
class RoutePlan:
    """The providers to try, in order, before any is called."""

    complexity: Complexity
    order: tuple[str, ...]
    excluded: tuple[str, ...]
    reason: str
    findings: tuple[PrivacyFinding, ...]
    overhead_s: float

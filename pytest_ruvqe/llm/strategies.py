"""Static routing strategies: the order in which providers are tried."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal, get_args

from .base import ProviderMetadata
from .complexity import Complexity

RoutingStrategy = Literal[
    "balanced",
    "cost_optimized",
    "latency_optimized",
    "quality_optimized",
    "privacy_first",
]
STRATEGIES: tuple[RoutingStrategy, ...] = get_args(RoutingStrategy)
# strategies that answer a privacy finding by staying local (others redact)
ROUTE_LOCAL_ON_FINDINGS: frozenset[RoutingStrategy] = frozenset(
    {"balanced", "privacy_first"}
)


def _is_local(meta: ProviderMetadata) -> bool:
    return meta.location == "local"


def _price(meta: ProviderMetadata) -> float:
    # unknown price sorts after every known one: unknown is not free
    if meta.cost_per_input_token is None or meta.cost_per_output_token is None:
        return math.inf
    return meta.cost_per_input_token + meta.cost_per_output_token


def order_providers(
    strategy: str,
    complexity: Complexity,
    providers: Sequence[ProviderMetadata],
    latency_s: Mapping[str, float],
) -> tuple[list[ProviderMetadata], str]:
    """Providers in the order the strategy tries them, and why."""
    if strategy not in STRATEGIES:
        raise ValueError(
            f"unknown routing strategy {strategy!r}; use one of {', '.join(STRATEGIES)}"
        )
    local = [m for m in providers if _is_local(m)]
    cloud = [m for m in providers if not _is_local(m)]
    if strategy == "cost_optimized":
        ordered = sorted(providers, key=lambda m: (_price(m), not _is_local(m)))
        return ordered, "cheapest first"
    if strategy == "latency_optimized":
        # a provider never measured goes first so that it gets measured;
        # without numbers, local avoids the network round trip
        ordered = sorted(
            providers,
            key=lambda m: (
                m.name in latency_s,
                latency_s.get(m.name, 0.0),
                not _is_local(m),
            ),
        )
        return ordered, "fastest observed first"
    if strategy == "quality_optimized":
        # larger hosted models first; among local ones, instruct models first
        ordered = cloud + sorted(local, key=lambda m: not m.is_chat)
        return ordered, "strongest model first"
    if strategy == "privacy_first":
        return local + cloud, "local first, cloud only as fallback"
    # balanced
    if complexity <= Complexity.MODERATE:
        return local + cloud, f"{complexity.name} target: local first"
    return cloud + local, f"{complexity.name} target: cloud first"

"""One place that turns plain settings into a ready :class:`HybridRouter`."""

from __future__ import annotations

import contextlib
import importlib.util
from dataclasses import dataclass

from .base import ModelLoadError, Provider
from .breaker import CircuitBreaker
from .cloud import CloudProvider
from .guard import privacy_local_mode
from .ledger import CostLedger
from .local import DEFAULT_MAX_CONTEXT, LocalProvider
from .privacy import PrivacyScanner
from .replay import CassetteMode, ReplayProvider
from .router import ArmScorer, HybridRouter
from .strategies import STRATEGIES, RoutingStrategy


@dataclass(frozen=True)
class LlmConfig:
    """Inference settings, as plain data (built from the plugin's settings)."""

    local_model: str | None = None  # flag/ini value; None: env, then embedded
    cloud_model: str | None = None  # litellm model string
    api_base: str | None = None  # OpenAI-compatible server URL
    strategy: RoutingStrategy = "balanced"
    privacy_local: bool = False
    gpu_layers: int = -1
    use_local: bool = True  # False: never construct the local provider
    api_base_is_local: bool = False  # a loopback server that is not a cloud proxy
    timeout_s: float = 60.0
    max_retries: int = 2
    breaker_failures: int = 3
    breaker_cooldown_s: float = 30.0
    max_context: int = DEFAULT_MAX_CONTEXT
    cassette: str | None = None  # record/replay the whole router's providers
    cassette_mode: CassetteMode = "auto"
    local_adapter: str | None = None  # a GGUF LoRA tuned on the project's tests

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(
                f"strategy {self.strategy!r} is unknown; use {', '.join(STRATEGIES)}"
            )
        CircuitBreaker(self.breaker_failures)  # validates the threshold


def build_router(cfg: LlmConfig, scorer: ArmScorer | None = None) -> HybridRouter:
    """Providers for ``cfg`` behind one router (nothing heavy is loaded yet)."""
    notes: list[str] = []
    # construct inside privacy-local mode so a cloud provider could not slip in
    with privacy_local_mode() if cfg.privacy_local else contextlib.nullcontext():
        local = _local_provider(cfg, notes)
        cloud = _cloud_provider(cfg, notes)
    providers: list[Provider] = [p for p in (local, cloud) if p is not None]
    ledger = _ledger(cloud)
    scanner = PrivacyScanner()
    if cloud is not None and cloud.metadata().location != "local":
        # what the scan of outgoing text cannot see, for want of a library
        notes.extend(scanner.notes)
    if cfg.cassette:
        providers = [
            ReplayProvider(
                f"{cfg.cassette}.{p.metadata().name}.json", p, cfg.cassette_mode
            )
            for p in providers
        ]
    return HybridRouter(
        providers,
        cfg.strategy,
        privacy_local=cfg.privacy_local,
        scanner=scanner,
        ledger=ledger,
        scorer=scorer,
        breaker_failures=cfg.breaker_failures,
        breaker_cooldown_s=cfg.breaker_cooldown_s,
        notes=notes,
    )


def _local_provider(cfg: LlmConfig, notes: list[str]) -> Provider | None:
    """The local model, if wanted, installed and loadable (or no cloud to fall
    back on: then a model that does not load is an error)."""
    if not cfg.use_local:
        return None
    if importlib.util.find_spec("llama_cpp") is None:
        notes.append(
            "local provider off: llama-cpp-python is not installed "
            "(pip install 'pytest-ruvqe[local]')"
        )
        return None
    local = LocalProvider(
        cfg.local_model,
        gpu_layers=cfg.gpu_layers,
        max_context=cfg.max_context,
        adapter=cfg.local_adapter,
    )
    try:
        local.info  # noqa: B018 - resolves and checks the model file
    except ModelLoadError as exc:
        if not cfg.cloud_model:
            raise
        notes.append(f"local provider off: {exc}")
        return None
    return local


def _cloud_provider(cfg: LlmConfig, notes: list[str]) -> CloudProvider | None:
    """The cloud model, unless privacy-local mode rules it out."""
    if not cfg.cloud_model:
        return None
    if cfg.privacy_local and not cfg.api_base_is_local:
        notes.append(f"cloud model {cfg.cloud_model} not used: privacy-local mode")
        return None
    return CloudProvider(
        cfg.cloud_model,
        api_base=cfg.api_base,
        timeout_s=cfg.timeout_s,
        max_retries=cfg.max_retries,
        local_server=cfg.api_base_is_local,
    )


def _ledger(cloud: CloudProvider | None) -> CostLedger:
    """A cost ledger priced at the cloud provider's rates (free without one)."""
    if cloud is None:
        return CostLedger()
    meta = cloud.metadata()
    return CostLedger(meta.cost_per_input_token, meta.cost_per_output_token)

"""LoRA training of the base GGUF on prompt → completion examples, bounded
in time and resumable: transformers loads the GGUF (dequantised), peft adds
the adapter, only the completions' tokens are learned."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import random
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_ruvqe.learn.tune.examples import TuneExample

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

MIN_EXAMPLES = 8  # fewer teach a model nothing but those tests
CHECKPOINT_EVERY = 10  # steps
PROBE = 16  # examples the losses before and after are measured on


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Keep the libraries' deprecation notices out of the user's run: they
    say nothing the user can act on."""
    with warnings.catch_warnings():
        for category in (FutureWarning, DeprecationWarning, UserWarning):
            warnings.simplefilter("ignore", category)
        yield


class TuneError(RuntimeError):
    """Training cannot start or go on; the message says what to do."""


@dataclass(frozen=True)
class TuneConfig:
    """How an adapter is trained."""

    rank: int = 8
    alpha: int = 16
    modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    steps: int = 60
    batch: int = 4
    learning_rate: float = 5e-4
    max_tokens: int = 512  # per example; longer prompts lose their start
    max_seconds: float = 900.0
    seed: int = 0


@dataclass(frozen=True)
class TuneResult:
    """What training did; ``tensors`` are peft's LoRA weights when complete."""

    tensors: dict[str, npt.NDArray[np.float32]]
    steps: int
    complete: bool  # False: the time budget ran out, a checkpoint was kept
    seconds: float
    loss_before: float
    loss_after: float
    held_before: float | None
    held_after: float | None

    def held_change(self) -> str | None:
        """``"before -> after"`` of the held-out loss, None without a held-out set."""
        if self.held_before is None or self.held_after is None:
            return None
        return f"{self.held_before:.3f} -> {self.held_after:.3f}"


def load_base(model_path: str) -> tuple[Any, Any]:
    """Tokenizer and fp32 model of a GGUF, through transformers."""
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError:
        raise TuneError(
            "tuning needs torch, transformers, peft and gguf: "
            "pip install 'pytest-ruvqe[tune]'"
        ) from None
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    folder, name = os.path.split(model_path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(
            folder, gguf_file=name, dtype=torch.float32
        )
    except Exception as exc:  # transformers raises many kinds for one cause
        raise TuneError(
            f"transformers cannot load {model_path} for training ({exc}); "
            "tune a GGUF of an architecture transformers reads (e.g. gemma3)"
        ) from exc
    return tokenizer, model


def _encode(tokenizer: Any, example: TuneExample, max_tokens: int) -> tuple[Any, Any]:
    """Token ids and labels (-100 on the prompt: only the test is learned);
    a long example loses the start of its prompt."""
    import torch

    prompt = len(tokenizer(example.prompt).input_ids)
    full = tokenizer(example.prompt + example.completion).input_ids
    cut = max(0, len(full) - max_tokens)
    ids = full[cut:]
    masked = min(max(0, prompt - cut), len(ids) - 1)
    labels = [-100] * masked + ids[masked:]
    return torch.tensor([ids]), torch.tensor([labels])


def _resumable(config: TuneConfig) -> dict[str, Any]:
    """What a checkpoint must share with the run that goes on from it (the
    step count and the time budget may change between the two)."""
    shared = dataclasses.asdict(config)
    del shared["steps"], shared["max_seconds"]
    return shared


@_quiet()
def _mean_loss(model: Any, batch: Sequence[tuple[Any, Any]]) -> float | None:
    import torch

    if not batch:
        return None
    with torch.no_grad():
        losses = [float(model(ids, labels=labels).loss) for ids, labels in batch]
    return sum(losses) / len(losses)


@dataclass
class _Run:
    """The model being trained and its data, on the device it trains on."""

    model: Any
    optimizer: Any
    encoded: list[tuple[Any, Any]]
    probe: list[tuple[Any, Any]]  # training examples the losses are taken on
    held: list[tuple[Any, Any]]


@_quiet()
def _prepare(
    model_path: str,
    train_set: Sequence[TuneExample],
    held_out: Sequence[TuneExample],
    config: TuneConfig,
) -> _Run:
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(config.seed)
    tokenizer, base = load_base(model_path)
    lora = LoraConfig(
        r=config.rank,
        lora_alpha=config.alpha,
        target_modules=list(config.modules),
        lora_dropout=0.0,
        bias="none",
    )
    model = get_peft_model(base, lora)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device)

    def encode(examples: Sequence[TuneExample]) -> list[tuple[Any, Any]]:
        pairs = [_encode(tokenizer, e, config.max_tokens) for e in examples]
        return [(ids.to(device), labels.to(device)) for ids, labels in pairs]

    encoded = encode(train_set)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate)
    return _Run(model, optimizer, encoded, encoded[:PROBE], encode(held_out[:PROBE]))


def train(
    model_path: str,
    train_set: Sequence[TuneExample],
    held_out: Sequence[TuneExample],
    config: TuneConfig,
    checkpoint: Path,
    data_hash: str,
    clock: Callable[[], float] = time.monotonic,
) -> TuneResult:
    """Train (or go on training from ``checkpoint``) a LoRA on ``train_set``."""
    if len(train_set) < MIN_EXAMPLES:
        raise TuneError(
            f"{len(train_set)} accepted tests to learn from; at least "
            f"{MIN_EXAMPLES} are needed: run `pytest --ruvqe-generate` with "
            "--ruvqe-learn on more of the project first"
        )
    started = clock()
    run = _prepare(model_path, train_set, held_out, config)
    step, before = _resume(checkpoint, run.model, run.optimizer, config, data_hash)
    if before is None:
        before = (
            _mean_loss(run.model, run.probe) or 0.0,
            _mean_loss(run.model, run.held),
        )

    def keep(at: int) -> None:
        _save(checkpoint, run.model, run.optimizer, config, data_hash, at, before)

    rng = random.Random(config.seed * 7919 + step)
    run.model.train()
    try:
        while step < config.steps and clock() - started < config.max_seconds:
            _step(run, rng, config.batch)
            step += 1
            if step % CHECKPOINT_EVERY == 0 and step < config.steps:
                keep(step)
    except KeyboardInterrupt:
        keep(step)  # the next run goes on from here; no adapter is written
        raise
    run.model.eval()
    complete = step >= config.steps
    if complete:
        checkpoint.unlink(missing_ok=True)
    else:
        keep(step)
    return TuneResult(
        tensors=_lora_tensors(run.model),
        steps=step,
        complete=complete,
        seconds=clock() - started,
        loss_before=before[0],
        loss_after=_mean_loss(run.model, run.probe) or 0.0,
        held_before=before[1],
        held_after=_mean_loss(run.model, run.held),
    )


@_quiet()
def _step(run: _Run, rng: random.Random, batch: int) -> None:
    """One optimiser step over ``batch`` examples drawn at random."""
    run.optimizer.zero_grad()
    for ids, labels in rng.sample(run.encoded, min(batch, len(run.encoded))):
        (run.model(ids, labels=labels).loss / batch).backward()
    run.optimizer.step()


def _lora_tensors(model: Any) -> dict[str, npt.NDArray[np.float32]]:
    return {
        k: v.detach().float().cpu().numpy()
        for k, v in model.state_dict().items()
        if ".lora_A." in k or ".lora_B." in k
    }


def _save(
    path: Path,
    model: Any,
    optimizer: Any,
    config: TuneConfig,
    data_hash: str,
    step: int,
    before: tuple[float, float | None],
) -> None:
    import torch

    lora = {k: v for k, v in model.state_dict().items() if "lora_" in k}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    state = {
        "lora": lora,
        "optimizer": optimizer.state_dict(),
        "step": step,
        "data_hash": data_hash,
        "config": _resumable(config),
        "before": list(before),
    }
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _resume(
    path: Path, model: Any, optimizer: Any, config: TuneConfig, data_hash: str
) -> tuple[int, tuple[float, float | None] | None]:
    """The step to go on from (0 and no losses without a matching checkpoint)."""
    import torch

    if not path.is_file():
        return 0, None
    try:
        state = torch.load(path, weights_only=True)
    except (OSError, RuntimeError, ValueError):
        return 0, None
    if state.get("data_hash") != data_hash or state.get("config") != _resumable(config):
        return 0, None
    model.load_state_dict(state["lora"], strict=False)
    optimizer.load_state_dict(state["optimizer"])
    loss, held = state["before"]
    return int(state["step"]), (float(loss), None if held is None else float(held))

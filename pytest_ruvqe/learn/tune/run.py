"""One tuning of the local model on the bank's accepted tests, as ``ruvqe
tune`` and ``pytest --ruvqe-tune`` both run it: examples from the bank, the
floor and the threshold, training bounded in time, the adapter written whole.

torch, transformers and peft are imported only when training starts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pytest_ruvqe.learn.tune.adapters import (
    ADAPTERS,
    AdapterInfo,
    adapter_path,
    load_info,
    save_info,
)
from pytest_ruvqe.learn.tune.examples import TuneExample, data_hash, dedupe, split
from pytest_ruvqe.learn.tune.train import MIN_EXAMPLES, TuneConfig, TuneResult

# new accepted tests since the last adapter that make another worth training
RETRAIN_AFTER = 32


class TuneRefused(Exception):
    """No adapter can be trained; the message says why and what to do."""


@dataclass(frozen=True)
class Tuned:
    """What one tuning did: the adapter written, or None when time ran out
    (a checkpoint is kept and the next tuning goes on from it)."""

    path: Path | None
    trained_on: int
    held_out: int
    result: TuneResult

    def line(self, steps: int, max_seconds: float) -> str:
        """One line for the user."""
        r = self.result
        if self.path is None:
            return (
                f"tuning stopped after {r.steps} of {steps} steps "
                f"({max_seconds:g} s): tune again to go on"
            )
        change = r.held_change()
        held = f"; held-out loss {change} ({self.held_out} tests)" if change else ""
        return (
            f"tuned on {self.trained_on} accepted tests in {r.steps} steps "
            f"({r.seconds:.0f} s): loss {r.loss_before:.3f} -> "
            f"{r.loss_after:.3f}{held}; wrote {self.path}"
        )


def bank_examples(rootdir: Path, bank_dir: Path) -> list[TuneExample]:
    """The bank's accepted tests as tuning examples, deduplicated (this
    project's first); none when there is no bank yet."""
    from pytest_ruvqe.generate.prompt.tuning import tuning_examples
    from pytest_ruvqe.memory.bank import BANK_STORE, INDEX_FILE, ReasoningBank
    from pytest_ruvqe.memory.patterns import hash_project
    from pytest_ruvqe.memory.store import DiskStore, StoreError

    if not (bank_dir / BANK_STORE).is_dir():
        return []
    try:
        with DiskStore(bank_dir / BANK_STORE) as store:
            patterns = ReasoningBank(store, index_path=bank_dir / INDEX_FILE).patterns()
    except StoreError as exc:
        raise TuneRefused(str(exc)) from None
    roots = [rootdir, rootdir / "src"]
    project = hash_project(str(rootdir.resolve()))
    return dedupe(tuning_examples(patterns, roots, project))


def untuned(examples: list[TuneExample], adapter: Path | None) -> int:
    """Training examples the adapter at ``adapter`` was not trained on (all of
    them when there is none, or when it was trained on other data)."""
    train_set, _ = split(examples)
    info = load_info(adapter) if adapter is not None and adapter.is_file() else None
    if info is None:
        return len(train_set)
    if info.data_hash == data_hash(train_set):
        return 0
    return max(0, len(train_set) - info.examples)


def tune(
    model: str | None,
    examples: list[TuneExample],
    config: TuneConfig,
    store_dir: Path,
    say: Callable[[str], None] = print,
) -> Tuned:
    """Train the adapter of ``model`` (default: the embedded one) on
    ``examples`` within ``config.max_seconds``; write it to
    ``store_dir/adapters/`` when training completes."""
    from pytest_ruvqe.learn.tune.export import ExportError, supported, write_adapter
    from pytest_ruvqe.learn.tune.train import TuneError, train
    from pytest_ruvqe.llm.base import ModelLoadError
    from pytest_ruvqe.llm.gguf import read_gguf_info
    from pytest_ruvqe.llm.models import resolve_local_model, sha256_of

    train_set, held = split(examples)
    if len(train_set) < MIN_EXAMPLES:
        raise TuneRefused(
            f"{len(examples)} accepted tests in the bank, {len(train_set)} to train "
            f"on (the others are held out to measure the adapter); at least "
            f"{MIN_EXAMPLES} are needed: run `pytest --ruvqe-generate --ruvqe-learn` "
            "on more of the project first"
        )
    try:
        info = read_gguf_info(resolve_local_model(model).path)
    except ModelLoadError as exc:
        raise TuneRefused(str(exc)) from None
    if not supported(info.architecture):
        raise TuneRefused(
            f"{info.path} is a {info.architecture} model; adapters are made for "
            "gemma3 models (the embedded default is one)"
        )
    base = sha256_of(info.path)
    digest = data_hash(train_set)
    out = store_dir / ADAPTERS
    checkpoint = out / f"work-{base[:16]}.pt"
    say(f"tuning {info.path} on {len(train_set)} accepted tests ...")
    try:
        result = train(info.path, train_set, held, config, checkpoint, digest)
    except TuneError as exc:
        raise TuneRefused(str(exc)) from None
    if not result.complete:
        return Tuned(None, len(train_set), len(held), result)
    path = adapter_path(out, base)
    try:
        write_adapter(path, result.tensors, config.alpha, info.architecture)
    except (ExportError, OSError) as exc:
        raise TuneRefused(f"cannot write {path}: {exc}") from None
    save_info(path, _info(base, digest, config, len(train_set), result))
    return Tuned(path, len(train_set), len(held), result)


def _info(
    base: str, digest: str, config: TuneConfig, examples: int, result: TuneResult
) -> AdapterInfo:
    return AdapterInfo(
        base_sha256=base,
        data_hash=digest,
        rank=config.rank,
        alpha=config.alpha,
        modules=config.modules,
        examples=examples,
        steps=result.steps,
        seconds=round(result.seconds, 1),
        loss_before=round(result.loss_before, 4),
        loss_after=round(result.loss_after, 4),
        held_before=result.held_before,
        held_after=result.held_after,
    )

"""``ruvqe tune``: a LoRA adapter for the local model, trained on the tests
the bank has accepted, written where ``pytest --ruvqe-generate`` loads it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pytest_ruvqe.cli.project import STORE, CliError, find_rootdir
from pytest_ruvqe.learn.tune.adapters import (
    ADAPTERS,
    AdapterInfo,
    adapter_path,
    save_info,
)
from pytest_ruvqe.learn.tune.examples import TuneExample, data_hash, dedupe, split
from pytest_ruvqe.learn.tune.train import TuneConfig

DEFAULTS = TuneConfig()


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "tune",
        help="train a LoRA adapter for the local model on the accepted tests",
        description=(
            "Tune the local model on the tests the bank accepted; the adapter "
            "goes to .ruvqe/adapters/ and later runs serve it with the model."
        ),
    )
    p.add_argument("--bank", type=Path, help="the bank's directory (default .ruvqe/)")
    p.add_argument("--model", help="the base GGUF (default: as the plugin finds it)")
    p.add_argument("--rank", type=int, default=DEFAULTS.rank)
    p.add_argument("--alpha", type=int, default=DEFAULTS.alpha)
    p.add_argument("--steps", type=int, default=DEFAULTS.steps)
    p.add_argument(
        "--max-seconds",
        type=float,
        default=DEFAULTS.max_seconds,
        help="stop (keeping a checkpoint to go on from) after this long",
    )
    p.set_defaults(run=run)


def _examples(rootdir: Path, bank_dir: Path) -> list[TuneExample]:
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
        raise CliError(str(exc)) from None
    roots = [rootdir, rootdir / "src"]
    project = hash_project(str(rootdir.resolve()))
    return dedupe(tuning_examples(patterns, roots, project))


def run(args: argparse.Namespace) -> int:
    rootdir = find_rootdir(args.rootdir)
    store_dir = rootdir / STORE
    examples = _examples(rootdir, args.bank or store_dir)
    if not examples:
        print(
            "no accepted tests in the bank yet: nothing to tune on; run "
            "`pytest --ruvqe-generate --ruvqe-learn` first"
        )
        return 0
    config = TuneConfig(
        rank=args.rank,
        alpha=args.alpha,
        steps=args.steps,
        max_seconds=args.max_seconds,
    )
    return _tune(args.model, examples, config, store_dir / ADAPTERS)


def _tune(
    model: str | None, examples: list[TuneExample], config: TuneConfig, out: Path
) -> int:
    from pytest_ruvqe.learn.tune.export import ExportError, supported, write_adapter
    from pytest_ruvqe.learn.tune.train import MIN_EXAMPLES, TuneError, train
    from pytest_ruvqe.llm.base import ModelLoadError
    from pytest_ruvqe.llm.gguf import read_gguf_info
    from pytest_ruvqe.llm.models import resolve_local_model, sha256_of

    train_set, held = split(examples)
    if len(train_set) < MIN_EXAMPLES:
        raise CliError(
            f"{len(examples)} accepted tests in the bank, {len(train_set)} to train "
            f"on (the others are held out to measure the adapter); at least "
            f"{MIN_EXAMPLES} are needed: run `pytest --ruvqe-generate --ruvqe-learn` "
            "on more of the project first"
        )
    try:
        info = read_gguf_info(resolve_local_model(model).path)
    except ModelLoadError as exc:
        raise CliError(str(exc)) from None
    if not supported(info.architecture):
        raise CliError(
            f"{info.path} is a {info.architecture} model; adapters are made for "
            "gemma3 models (the embedded default is one)"
        )
    base = sha256_of(info.path)
    digest = data_hash(train_set)
    checkpoint = out / f"work-{base[:16]}.pt"
    print(f"tuning {info.path} on {len(train_set)} accepted tests ...", flush=True)
    try:
        result = train(info.path, train_set, held, config, checkpoint, digest)
    except TuneError as exc:
        raise CliError(str(exc)) from None
    except KeyboardInterrupt:
        print("interrupted: no adapter written; `ruvqe tune` goes on from here")
        return 130
    if not result.complete:
        print(
            f"stopped after {result.steps} of {config.steps} steps "
            f"({config.max_seconds:g} s): run `ruvqe tune` again to go on"
        )
        return 0
    path = adapter_path(out, base)
    try:
        write_adapter(path, result.tensors, config.alpha, info.architecture)
    except (ExportError, OSError) as exc:
        raise CliError(f"cannot write {path}: {exc}") from None
    save_info(
        path,
        AdapterInfo(
            base_sha256=base,
            data_hash=digest,
            rank=config.rank,
            alpha=config.alpha,
            modules=config.modules,
            examples=len(train_set),
            steps=result.steps,
            seconds=round(result.seconds, 1),
            loss_before=round(result.loss_before, 4),
            loss_after=round(result.loss_after, 4),
            held_before=result.held_before,
            held_after=result.held_after,
        ),
    )
    held_text = (
        f"; held-out loss {result.held_before:.3f} -> {result.held_after:.3f} "
        f"({len(held)} tests)"
        if result.held_before is not None and result.held_after is not None
        else ""
    )
    print(
        f"tuned on {len(train_set)} accepted tests in {result.steps} steps "
        f"({result.seconds:.0f} s): loss {result.loss_before:.3f} -> "
        f"{result.loss_after:.3f}{held_text}"
    )
    print(f"wrote {path}")
    return 0

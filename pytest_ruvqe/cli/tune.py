"""``ruvqe tune``: a LoRA adapter for the local model, trained on the tests
the bank has accepted, written where ``pytest --ruvqe-generate`` loads it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pytest_ruvqe.cli.project import STORE, CliError, find_rootdir
from pytest_ruvqe.learn.tune.run import TuneRefused, bank_examples, tune
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


def run(args: argparse.Namespace) -> int:
    rootdir = find_rootdir(args.rootdir)
    store_dir = rootdir / STORE
    config = TuneConfig(
        rank=args.rank,
        alpha=args.alpha,
        steps=args.steps,
        max_seconds=args.max_seconds,
    )
    try:
        examples = bank_examples(rootdir, args.bank or store_dir)
        if not examples:
            print(
                "no accepted tests in the bank yet: nothing to tune on; run "
                "`pytest --ruvqe-generate --ruvqe-learn` first"
            )
            return 0
        tuned = tune(args.model, examples, config, store_dir, _say)
    except TuneRefused as exc:
        raise CliError(str(exc)) from None
    except KeyboardInterrupt:
        print("interrupted: no adapter written; `ruvqe tune` goes on from here")
        return 130
    line = tuned.line(config.steps, config.max_seconds)
    print(line.replace("tune again", "run `ruvqe tune` again"))
    return 0


def _say(line: str) -> None:
    print(line, flush=True)

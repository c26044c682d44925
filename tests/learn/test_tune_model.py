"""Tuning the real embedded model end to end: train a few steps, stop and go
on from the checkpoint, export the GGUF adapter, serve it with llama.cpp, and
see llama.cpp's log-probabilities move the way training moved torch's."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path

import pytest

from pytest_ruvqe.learn.tune.examples import TuneExample
from pytest_ruvqe.learn.tune.train import TuneConfig, train

pytestmark = pytest.mark.model
pytest.importorskip("peft", reason="the 'tune' extra is not installed")
pytest.importorskip("llama_cpp", reason="the 'local' extra is not installed")

EXAMPLES = [
    TuneExample(
        f"text:slug{i}",
        f"import text\n\n\ndef test_slug_{i}():\n    assert text.slug('Hi There') ==",
        " 'hi-there'\n",
    )
    for i in range(8)
]
CONFIG = TuneConfig(rank=4, alpha=8, steps=8, batch=2, learning_rate=1e-3, seed=1)


def _stops_after(calls: int) -> itertools.chain[float]:
    """A clock that stands still for ``calls`` readings, then jumps a day."""
    return itertools.chain(itertools.repeat(0.0, calls), itertools.repeat(86400.0))


def _nll(
    model_path: str, examples: Sequence[TuneExample], adapter: Path | None
) -> float:
    """Mean negative log-likelihood of the completions' tokens in llama.cpp."""
    import numpy as np
    from llama_cpp import Llama

    extra = {"lora_path": str(adapter)} if adapter else {}
    llm = Llama(
        model_path=model_path, logits_all=True, n_ctx=256, verbose=False, **extra
    )
    try:
        losses = []
        for e in examples:
            prompt = llm.tokenize(e.prompt.encode(), add_bos=True)
            ids = llm.tokenize((e.prompt + e.completion).encode(), add_bos=True)
            llm.reset()
            llm.eval(ids)
            for i in range(len(prompt), len(ids)):
                logits = np.asarray(llm.scores[i - 1], dtype=np.float64)
                top = logits.max()
                log_z = top + math.log(np.exp(logits - top).sum())
                losses.append(log_z - logits[ids[i]])
        return float(sum(losses) / len(losses))
    finally:
        llm.close()


def test_adapter_moves_llama_cpp_the_way_training_moved_torch(tmp_path: Path) -> None:
    from pytest_ruvqe.learn.tune.export import write_adapter
    from pytest_ruvqe.llm.local import LocalProvider
    from pytest_ruvqe.llm.models import embedded_model_path

    model = embedded_model_path()
    checkpoint = tmp_path / "work.pt"
    # the time budget runs out after 3 steps: a checkpoint, no adapter yet
    clock = _stops_after(1 + 3)
    first = train(model, EXAMPLES, [], CONFIG, checkpoint, "data", clock.__next__)
    assert (first.steps, first.complete) == (3, False) and checkpoint.is_file()
    # the next run goes on from step 3 and finishes
    done = train(model, EXAMPLES, [], CONFIG, checkpoint, "data")
    assert (done.steps, done.complete) == (8, True) and not checkpoint.exists()
    assert done.loss_before == pytest.approx(first.loss_before)
    assert done.loss_after < 0.5 * done.loss_before

    adapter = tmp_path / "lora.gguf"
    write_adapter(adapter, done.tensors, CONFIG.alpha, "gemma3")
    base = _nll(model, EXAMPLES, None)
    tuned = _nll(model, EXAMPLES, adapter)
    # within quantisation: the base losses agree, and the adapter lowers
    # llama.cpp's loss by a share like the one training took off torch's
    assert base == pytest.approx(done.loss_before, rel=0.25)
    assert tuned < base
    torch_drop = 1 - done.loss_after / done.loss_before
    llama_drop = 1 - tuned / base
    assert llama_drop == pytest.approx(torch_drop, abs=0.2)
    # the local provider serves the model with the adapter
    provider = LocalProvider(adapter=str(adapter))
    try:
        assert provider.llama().lora_path == str(adapter)
    finally:
        provider.close()

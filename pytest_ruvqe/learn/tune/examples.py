"""Training examples: prompt → completion pairs, deduplicated, split by target."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

HELD_OUT = 0.2  # share of targets kept out of training to measure the adapter


@dataclass(frozen=True)
class TuneExample:
    """One accepted test as the continuation of the prompt that asks for it."""

    signature: str  # "module:qualname" of its target
    prompt: str
    completion: str
    project: str = ""  # hashed project of the pattern it came from

    @property
    def key(self) -> str:
        """What makes two examples the same: target and test, spacing aside."""
        return self.signature + "\x1f" + re.sub(r"\s+", " ", self.completion).strip()


def dedupe(examples: Iterable[TuneExample]) -> list[TuneExample]:
    """Each example once, in first-seen order."""
    seen: dict[str, TuneExample] = {}
    for example in examples:
        seen.setdefault(example.key, example)
    return list(seen.values())


def _bucket(signature: str) -> float:
    digest = hashlib.sha256(signature.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split(
    examples: Sequence[TuneExample], held_out: float = HELD_OUT
) -> tuple[list[TuneExample], list[TuneExample]]:
    """``(train, held out)``: whole targets go to one side, by a hash of their
    signature, so the held-out side measures targets training never saw."""
    train = [e for e in examples if _bucket(e.signature) >= held_out]
    held = [e for e in examples if _bucket(e.signature) < held_out]
    return train, held


def data_hash(examples: Iterable[TuneExample]) -> str:
    """A short hash of the training data, kept with the adapter."""
    digest = hashlib.sha256()
    for example in examples:
        digest.update(example.prompt.encode() + b"\x1e" + example.completion.encode())
        digest.update(b"\x1d")
    return digest.hexdigest()[:16]

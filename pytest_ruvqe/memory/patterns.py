"""Patterns: what was accepted once, as plain data, and its stored form.

A pattern is either the call recipe that reached new lines or branches of a
target (``inputs``) or an accepted test's code (``test``), with the target it
was written for, an embedding of that target, who wrote it, and Beta counts
of how often recalling it led to an accepted test.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import numpy.typing as npt

PatternKind = Literal["inputs", "test"]
PATTERN_KINDS: tuple[PatternKind, ...] = get_args(PatternKind)
# the layout of one stored pattern; bump it when the fields change
PATTERN_SCHEMA = 1

Vector = npt.NDArray[np.float32]


class PatternError(ValueError):
    """A stored or imported entry is not a pattern of this schema."""


@dataclass(frozen=True)
class Pattern:
    """One accepted recipe or test, with its success counts."""

    kind: PatternKind
    signature: str  # "module:qualname(params)" of the target it was written for
    payload: str  # the recipe's or the test's code
    embedding: Vector = field(compare=False, repr=False)
    features: tuple[tuple[str, float], ...] = ()  # sorted (name, value) pairs
    generator: str = ""
    model: str = ""
    project: str = ""  # hashed: a pattern never carries a path
    alpha: float = 1.0  # uses that led to acceptance (its own acceptance counts)
    beta: float = 0.0  # uses that did not
    created: float = 0.0
    last_used: float = 0.0

    @property
    def id(self) -> str:
        """Content address: the same kind, target and code is the same pattern."""
        return pattern_id(self.kind, self.signature, self.payload)

    @property
    def posterior_mean(self) -> float:
        """Mean of Beta(alpha + 1, beta + 1): the chance recalling it helps."""
        return (self.alpha + 1.0) / (self.alpha + self.beta + 2.0)


def pattern_id(kind: str, signature: str, payload: str) -> str:
    """The content address of a pattern."""
    digest = hashlib.sha256(f"{kind}\x1f{signature}\x1f{payload}".encode())
    return digest.hexdigest()[:24]


def hash_project(root: str) -> str:
    """A project's identity in the bank: a hash, never the path itself."""
    return hashlib.sha256(root.encode()).hexdigest()[:16]


def to_plain(pattern: Pattern) -> dict[str, Any]:
    """The msgpack-ready form of ``pattern``."""
    return {
        "v": PATTERN_SCHEMA,
        "kind": pattern.kind,
        "signature": pattern.signature,
        "payload": pattern.payload,
        "embedding": np.asarray(pattern.embedding, dtype="<f4").tobytes(),
        "features": [[name, value] for name, value in pattern.features],
        "generator": pattern.generator,
        "model": pattern.model,
        "project": pattern.project,
        "alpha": pattern.alpha,
        "beta": pattern.beta,
        "created": pattern.created,
        "last_used": pattern.last_used,
    }


def _number(entry: dict[str, Any], name: str, low: float = 0.0) -> float:
    value = entry.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PatternError(f"{name} is not a number")
    if not math.isfinite(value) or value < low:
        raise PatternError(f"{name} is {value!r}")
    return float(value)


def _text(entry: dict[str, Any], name: str) -> str:
    value = entry.get(name)
    if not isinstance(value, str):
        raise PatternError(f"{name} is not text")
    return value


def _features(raw: object) -> tuple[tuple[str, float], ...]:
    if not isinstance(raw, list):
        raise PatternError("features is not a list")
    pairs = []
    for item in raw:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)):
            raise PatternError("a feature is not a (name, value) pair")
        if not isinstance(item[1], (int, float)) or not math.isfinite(item[1]):
            raise PatternError(f"feature {item[0]} is not a finite number")
        pairs.append((item[0], float(item[1])))
    return tuple(sorted(pairs))


def _embedding(raw: object, dim: int | None) -> Vector:
    if not isinstance(raw, bytes) or not raw or len(raw) % 4:
        raise PatternError("embedding is not packed float32")
    vector = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    if dim is not None and vector.shape[0] != dim:
        raise PatternError(f"embedding has {vector.shape[0]} dims, expected {dim}")
    if not np.all(np.isfinite(vector)):
        raise PatternError("embedding is not finite")
    return vector


def from_plain(entry: object, dim: int | None = None) -> Pattern:
    """A pattern from its stored form; :class:`PatternError` says what is wrong."""
    if not isinstance(entry, dict):
        raise PatternError("not a mapping")
    if entry.get("v") != PATTERN_SCHEMA:
        raise PatternError(
            f"pattern schema {entry.get('v')!r}, expected {PATTERN_SCHEMA}"
        )
    kind = entry.get("kind")
    if kind not in PATTERN_KINDS:
        raise PatternError(f"kind {kind!r} is not one of {', '.join(PATTERN_KINDS)}")
    return Pattern(
        kind=kind,
        signature=_text(entry, "signature"),
        payload=_text(entry, "payload"),
        embedding=_embedding(entry.get("embedding"), dim),
        features=_features(entry.get("features")),
        generator=_text(entry, "generator"),
        model=_text(entry, "model"),
        project=_text(entry, "project"),
        alpha=_number(entry, "alpha"),
        beta=_number(entry, "beta"),
        created=_number(entry, "created"),
        last_used=_number(entry, "last_used"),
    )

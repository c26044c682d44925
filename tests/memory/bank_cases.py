"""Patterns to fill banks with: controlled vectors and counts."""

from __future__ import annotations

import numpy as np

from pytest_ruvqe.memory.patterns import Pattern, PatternKind, Vector


def unit(vector: Vector) -> Vector:
    """``vector`` scaled to length one, as float32."""
    v = np.asarray(vector, dtype=np.float32)
    return (v / np.linalg.norm(v)).astype(np.float32)


def pattern(
    name: str,
    embedding: Vector,
    alpha: float = 1.0,
    beta: float = 0.0,
    kind: PatternKind = "test",
    last_used: float = 0.0,
) -> Pattern:
    """A pattern for target ``name`` with the given vector and counts."""
    return Pattern(
        kind=kind,
        signature=f"mod:{name}()",
        payload=f"def test_{name}():\n    assert {name}() is not None\n",
        embedding=unit(embedding),
        alpha=alpha,
        beta=beta,
        created=0.0,
        last_used=last_used,
    )


def random_patterns(n: int, dim: int, seed: int = 0) -> list[Pattern]:
    """``n`` patterns with random unit embeddings."""
    rng = np.random.default_rng(seed)
    return [pattern(f"f{i}", rng.normal(size=dim)) for i in range(n)]

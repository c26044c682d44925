"""Embeddings of code for the bank: a deterministic offline one, or a model's.

:class:`HashingEmbedder` needs nothing but numpy: it hashes what a piece of
code is made of (identifier sub-tokens, type hints, kinds of literals, AST
node n-grams) into a few hundred signed buckets, so two functions that parse
the same kinds of things with the same names land near each other.
"""

from __future__ import annotations

import ast
import re
import zlib
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from pytest_ruvqe.memory.patterns import Vector

DEFAULT_DIM = 384
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SUBTOKEN = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
# how much each family of features weighs in the vector
_WEIGHTS = {"tok": 1.0, "hint": 1.5, "lit": 0.7, "ng2": 0.5, "ng3": 0.5}


class Embedder(ABC):
    """Texts to unit vectors of one fixed dimension."""

    name: str = ""
    dim: int = DEFAULT_DIM

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> Vector:
        """A ``(len(texts), dim)`` float32 array of unit rows (zero rows allowed)."""


def _normalised(matrix: Vector) -> Vector:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def subtokens(name: str) -> list[str]:
    """``parseHTTPResponse_v2`` → ``parse http response v 2`` (lowercase)."""
    return [t.lower() for part in name.split("_") for t in _SUBTOKEN.findall(part)]


def _hint_names(node: ast.expr | None) -> Iterator[str]:
    if node is None:
        return
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            yield sub.id
        elif isinstance(sub, ast.Attribute):
            yield sub.attr
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            yield from _WORD.findall(sub.value)  # string annotations


def _hints(node: ast.AST) -> Iterator[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        args = node.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            yield from _hint_names(arg.annotation)
        yield from (f"->{n}" for n in _hint_names(node.returns))
    elif isinstance(node, ast.AnnAssign):
        yield from _hint_names(node.annotation)


def _names(node: ast.AST) -> Iterator[str]:
    if isinstance(node, ast.Name):
        yield node.id
    elif isinstance(node, ast.Attribute):
        yield node.attr
    elif isinstance(node, ast.arg):
        yield node.arg
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield node.name
    elif isinstance(node, ast.keyword) and node.arg:
        yield node.arg


def _ngrams(node: ast.AST, parent: str, grand: str) -> Iterator[str]:
    kind = type(node).__name__
    if parent:
        yield f"ng2:{parent}>{kind}"
    if grand:
        yield f"ng3:{grand}>{parent}>{kind}"
    for child in ast.iter_child_nodes(node):
        yield from _ngrams(child, kind, parent)


def code_features(text: str) -> Counter[str]:
    """The bag of features of one piece of code (tokens only if it does not parse)."""
    bag: Counter[str] = Counter()
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        for word in _WORD.findall(text):
            bag.update(f"tok:{t}" for t in subtokens(word))
        return bag
    for node in ast.walk(tree):
        for name in _names(node):
            bag.update(f"tok:{t}" for t in subtokens(name))
        for hint in _hints(node):
            bag[f"hint:{hint}"] += 1
        if isinstance(node, ast.Constant):
            bag[f"lit:{type(node.value).__name__}"] += 1
        elif isinstance(node, (ast.List, ast.Dict, ast.Set, ast.Tuple, ast.JoinedStr)):
            bag[f"lit:{type(node).__name__}"] += 1
    bag.update(_ngrams(tree, "", ""))
    return bag


class HashingEmbedder(Embedder):
    """Signed feature hashing of :func:`code_features`, log-scaled, unit length."""

    name = "hashing"

    def __init__(self, dim: int = DEFAULT_DIM) -> None:
        if dim < 8:
            raise ValueError(f"embedding dimension {dim} is too small; use 8 or more")
        self.dim = dim

    def vector(self, text: str) -> Vector:
        """The unnormalised embedding of one text."""
        row = np.zeros(self.dim, dtype=np.float32)
        for feature, count in code_features(text).items():
            code = zlib.crc32(feature.encode())
            sign = 1.0 if code & 0x80000000 else -1.0
            family = feature.split(":", 1)[0]
            row[code % self.dim] += sign * _WEIGHTS[family] * np.log1p(count)
        return row

    def embed(self, texts: Sequence[str]) -> Vector:
        """Unit rows, one per text."""
        matrix = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            matrix[i] = self.vector(text)
        return _normalised(matrix)


class CallableEmbedder(Embedder):
    """Embeddings from a model (e.g. a provider's ``embed``), normalised."""

    def __init__(
        self, name: str, dim: int, embed: Callable[[Sequence[str]], Vector]
    ) -> None:
        self.name = name
        self.dim = dim
        self._embed = embed

    def embed(self, texts: Sequence[str]) -> Vector:
        """The model's vectors, checked for shape and made unit length."""
        matrix = np.asarray(self._embed(texts), dtype=np.float32)
        if matrix.shape != (len(texts), self.dim):
            raise ValueError(
                f"{self.name} embedder returned shape {matrix.shape}, "
                f"expected {(len(texts), self.dim)}"
            )
        return _normalised(np.nan_to_num(matrix))

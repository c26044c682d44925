"""The offline code embedding: deterministic, unit length, similar code near."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_ruvqe.memory.embedding import (
    CallableEmbedder,
    HashingEmbedder,
    code_features,
    subtokens,
)

PARSE_DATE = """
def parse_date(text: str) -> date:
    year, month, day = text.split("-")
    return date(int(year), int(month), int(day))
"""
PARSE_TIME = """
def parse_time(text: str) -> time:
    hour, minute = text.split(":")
    return time(int(hour), int(minute))
"""
MEAN = """
def mean(values: list[float]) -> float:
    total = 0.0
    for v in values:
        total += v
    return total / len(values)
"""


def test_subtokens_split_snake_and_camel_case() -> None:
    assert subtokens("parseHTTPResponse_v2") == ["parse", "http", "response", "v", "2"]


def test_features_cover_names_hints_literals_and_ast_shape() -> None:
    bag = code_features(PARSE_DATE)
    assert bag["tok:parse"] == 1 and bag["tok:year"] == 2
    assert bag["hint:str"] == 1 and bag["hint:->date"] == 1
    assert bag["lit:str"] == 1
    assert bag["ng2:Call>Name"] >= 4
    assert any(k.startswith("ng3:") for k in bag)


def test_code_that_does_not_parse_still_embeds_by_its_words() -> None:
    bag = code_features("def broken(:\n  return parse_value")
    assert bag["tok:parse"] == 1 and not any(k.startswith("ng2") for k in bag)


def test_embedding_is_deterministic_unit_and_puts_similar_code_near() -> None:
    embedder = HashingEmbedder(256)
    rows = embedder.embed([PARSE_DATE, PARSE_TIME, MEAN, ""])
    assert rows.shape == (4, 256) and rows.dtype == np.float32
    assert np.allclose(np.linalg.norm(rows[:3], axis=1), 1.0, atol=1e-5)
    assert not rows[3].any()
    assert np.array_equal(
        rows, HashingEmbedder(256).embed([PARSE_DATE, PARSE_TIME, MEAN, ""])
    )
    assert rows[0] @ rows[1] > rows[0] @ rows[2] + 0.2


def test_a_model_embedder_is_checked_and_normalised() -> None:
    def fake(texts):
        return np.full((len(texts), 4), 2.0)

    embedder = CallableEmbedder("fake", 4, fake)
    assert np.allclose(embedder.embed(["a", "b"]), 0.5)
    wrong = CallableEmbedder("fake", 8, fake)
    with pytest.raises(ValueError, match="returned shape"):
        wrong.embed(["a"])

"""Export and import of banks: round trip, dedupe, garbage rejected entry by entry."""

from __future__ import annotations

from pathlib import Path

import msgpack
import numpy as np
import pytest
from bank_cases import pattern, random_patterns

from pytest_ruvqe.memory.bank import ReasoningBank
from pytest_ruvqe.memory.embedding import HashingEmbedder
from pytest_ruvqe.memory.patterns import to_plain
from pytest_ruvqe.memory.sharing import BankFileError, export_bank, import_bank
from pytest_ruvqe.memory.store import MemoryStore

DIM = 16


def bank() -> ReasoningBank:
    return ReasoningBank(MemoryStore(), HashingEmbedder(DIM), use_hnsw=False)


def test_export_then_import_twice_adds_once(tmp_path: Path) -> None:
    source = bank()
    for p in random_patterns(12, DIM):
        source.add(p)
    source.record(source.patterns()[0].id, accepted=False)
    path = tmp_path / "shared.msgpack"
    assert export_bank(source, path) == 12
    target = bank()
    first = import_bank(target, path)
    again = import_bank(target, path)
    assert (first.added, first.merged, first.rejected) == (12, 0, 0)
    assert (again.added, again.merged, again.rejected) == (0, 12, 0)
    held = {p.id: (p.alpha, p.beta) for p in target.patterns()}
    assert held == {p.id: (p.alpha, p.beta) for p in source.patterns()}


def test_an_import_keeps_the_larger_counts_of_a_pattern_held(tmp_path: Path) -> None:
    target = bank()
    mine = target.add(pattern("a", np.ones(DIM), alpha=5, beta=0))
    theirs = bank()
    theirs.add(pattern("a", np.ones(DIM), alpha=1, beta=4))
    path = tmp_path / "b.msgpack"
    export_bank(theirs, path)
    assert import_bank(target, path).merged == 1
    assert (target.get(mine.id).alpha, target.get(mine.id).beta) == (5.0, 4.0)


def test_garbage_entries_are_rejected_one_by_one(tmp_path: Path) -> None:
    good = [to_plain(p) for p in random_patterns(3, DIM)]
    entries = [
        *good,
        "not a mapping",
        {**good[0], "kind": "poem"},
        {**good[1], "beta": -1},
        {**good[2], "embedding": b"\x00\x00\x80\x7f" * DIM},  # inf
    ]
    path = tmp_path / "mixed.msgpack"
    body = {
        "format": "ruvqe-patterns",
        "version": 1,
        "embedder": "hashing",
        "dim": DIM,
        "patterns": entries,
    }
    path.write_bytes(msgpack.packb(body, use_bin_type=True))
    target = bank()
    result = import_bank(target, path)
    assert (result.added, result.rejected) == (3, 4)
    assert len(target) == 3
    assert result.reasons[0] == "entry 3: not a mapping"
    assert "kind 'poem'" in result.reasons[1]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xc1\xc1", "is not a pattern export"),
        (msgpack.packb({"format": "other"}), "is not a pattern export"),
        (
            msgpack.packb({"format": "ruvqe-patterns", "version": 9}),
            "export version 9",
        ),
        (
            msgpack.packb(
                {"format": "ruvqe-patterns", "version": 1, "embedder": "x", "dim": 3}
            ),
            "embedded by 'x' (3 dims)",
        ),
    ],
)
def test_a_file_that_is_not_an_export_is_refused(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.msgpack"
    path.write_bytes(content)
    with pytest.raises(
        BankFileError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        import_bank(bank(), path)

"""Sharing what was learned: a bank exported to one msgpack file, and imported.

An import keeps each good entry and rejects each bad one on its own, with a
count; a pattern the bank already holds keeps the larger of each count, so
importing the same file twice changes nothing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import msgpack

from pytest_ruvqe.fileio import write_atomic
from pytest_ruvqe.memory.bank import ReasoningBank
from pytest_ruvqe.memory.patterns import PatternError, from_plain, to_plain

EXPORT_FORMAT = "ruvqe-patterns"
EXPORT_VERSION = 1


class BankFileError(ValueError):
    """The file is not a pattern export; the message says what it is instead."""


@dataclass(frozen=True)
class ImportResult:
    """How an import went, entry by entry."""

    added: int
    merged: int
    rejected: int
    reasons: tuple[str, ...] = ()  # the first few rejections, for the user


def export_bank(bank: ReasoningBank, path: Path) -> int:
    """Write every pattern to ``path`` atomically; return how many."""
    patterns = bank.patterns()
    body = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "embedder": bank.embedder.name,
        "dim": bank.embedder.dim,
        "patterns": [to_plain(p) for p in patterns],
    }
    write_atomic(path, msgpack.packb(body, use_bin_type=True))
    return len(patterns)


def _entries(path: Path, bank: ReasoningBank) -> list[object]:
    try:
        body = msgpack.unpackb(path.read_bytes(), raw=False, strict_map_key=False)
    except OSError as exc:
        raise BankFileError(f"cannot read {path}: {exc}") from None
    except Exception as exc:  # msgpack raises several types on garbage
        raise BankFileError(f"{path} is not a pattern export ({exc})") from None
    if not isinstance(body, dict) or body.get("format") != EXPORT_FORMAT:
        raise BankFileError(f"{path} is not a pattern export")
    if body.get("version") != EXPORT_VERSION:
        raise BankFileError(
            f"{path} is export version {body.get('version')!r}; "
            f"this version reads {EXPORT_VERSION}"
        )
    if (body.get("embedder"), body.get("dim")) != (
        bank.embedder.name,
        bank.embedder.dim,
    ):
        raise BankFileError(
            f"{path} was embedded by {body.get('embedder')!r} "
            f"({body.get('dim')} dims); this bank uses {bank.embedder.name!r} "
            f"({bank.embedder.dim} dims)"
        )
    entries = body.get("patterns")
    if not isinstance(entries, list):
        raise BankFileError(f"{path} has no list of patterns")
    return entries


def import_bank(bank: ReasoningBank, path: Path) -> ImportResult:
    """Add the patterns of an export to ``bank``, deduplicated by content."""
    added = merged = rejected = 0
    reasons: list[str] = []
    for number, entry in enumerate(_entries(path, bank)):
        try:
            pattern = from_plain(entry, bank.embedder.dim)
        except PatternError as exc:
            rejected += 1
            if len(reasons) < 5:
                reasons.append(f"entry {number}: {exc}")
            continue
        held = bank.get(pattern.id)
        if held is None:
            bank.add(pattern)
            added += 1
            continue
        bank.replace_one(
            dataclasses.replace(
                held,
                alpha=max(held.alpha, pattern.alpha),
                beta=max(held.beta, pattern.beta),
                last_used=max(held.last_used, pattern.last_used),
            )
        )
        merged += 1
    return ImportResult(added, merged, rejected, tuple(reasons))

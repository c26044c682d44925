"""Read the key/value header of a GGUF file without loading the model.

Reading the header first lets us reject a corrupt file with a clear error and
pick the context size and prompt style before llama.cpp allocates anything.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .base import ModelLoadError

_MAGIC = b"GGUF"
# value type ids of the GGUF format, with the struct format of fixed-size ones
_SCALARS: dict[int, str] = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING = 8
_ARRAY = 9
# a header larger than this is not a model we can trust to parse
_MAX_STRING = 64 * 1024 * 1024


@dataclass(frozen=True)
class GgufInfo:
    """What the router and the local provider need from a GGUF header."""

    path: str
    architecture: str
    name: str
    context_length: int
    chat_template: str | None
    bos_token: str | None
    eos_token: str | None

    @property
    def looks_instruct(self) -> bool:
        """Whether the model is an instruct/chat model rather than a base model."""
        if self.chat_template:
            return True
        lowered = self.name.lower()
        return any(tag in lowered for tag in ("-it", "instruct", "chat"))


def _read(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise ModelLoadError("truncated GGUF header")
    return data


def _string(stream: BinaryIO) -> str:
    (length,) = struct.unpack("<Q", _read(stream, 8))
    if length > _MAX_STRING:
        raise ModelLoadError("implausible string length in GGUF header")
    return _read(stream, length).decode("utf-8", errors="replace")


def _value(stream: BinaryIO, kind: int, keep: bool) -> object:
    if kind in _SCALARS:
        fmt = _SCALARS[kind]
        return struct.unpack(fmt, _read(stream, struct.calcsize(fmt)))[0]
    if kind == _STRING:
        return _string(stream)
    if kind == _ARRAY:
        item_kind, count = struct.unpack("<IQ", _read(stream, 12))
        if item_kind in _SCALARS and not keep:
            # skip fixed-size arrays (token scores, types) without decoding them
            stream.seek(count * struct.calcsize(_SCALARS[item_kind]), 1)
            return None
        items = [_value(stream, item_kind, keep) for _ in range(count)]
        return items if keep else None
    raise ModelLoadError(f"unknown GGUF value type {kind}")


def read_gguf_info(path: str | Path) -> GgufInfo:
    """Parse the header of ``path``; raise :class:`ModelLoadError` if it is no GGUF."""
    file = Path(path)
    if not file.is_file():
        raise ModelLoadError(f"model file not found: {file}")
    meta: dict[str, object] = {}
    tokens: list[object] | None = None
    try:
        with file.open("rb") as stream:
            if stream.read(4) != _MAGIC:
                raise ModelLoadError(
                    f"{file} is not a GGUF model (bad magic); give a .gguf file"
                )
            _version, _tensors, kv_count = struct.unpack("<IQQ", _read(stream, 20))
            for _ in range(kv_count):
                key = _string(stream)
                (kind,) = struct.unpack("<I", _read(stream, 4))
                keep = key == "tokenizer.ggml.tokens"
                value = _value(stream, kind, keep)
                if keep and isinstance(value, list):
                    tokens = value
                elif value is not None:
                    meta[key] = value
    except (OSError, struct.error, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"cannot read GGUF header of {file}: {exc}") from exc
    except ModelLoadError as exc:
        raise ModelLoadError(f"{file} is corrupt or not a GGUF model: {exc}") from exc
    arch = str(meta.get("general.architecture", ""))
    ctx = meta.get(f"{arch}.context_length", 0)
    template = meta.get("tokenizer.chat_template")

    def token(key: str) -> str | None:
        index = meta.get(key)
        if tokens is None or not isinstance(index, int) or index >= len(tokens):
            return None
        return str(tokens[index])

    return GgufInfo(
        path=str(file),
        architecture=arch,
        name=str(meta.get("general.name", file.stem)),
        context_length=int(ctx) if isinstance(ctx, (int, float)) else 0,
        chat_template=template if isinstance(template, str) else None,
        bos_token=token("tokenizer.ggml.bos_token_id"),
        eos_token=token("tokenizer.ggml.eos_token_id"),
    )

"""A trained LoRA written as a GGUF LoRA adapter, as llama.cpp's own
conversion writes one: ``general.type=adapter``, ``adapter.type=lora``,
``adapter.lora.alpha``, and ``blk.N.<tensor>.weight.lora_a`` / ``.lora_b`` in
peft's shapes (``lora_a``: rank by in, ``lora_b``: out by rank)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# peft's module name -> llama.cpp's tensor name, for the architectures whose
# layouts were checked against llama.cpp (the same next-token log-probability
# moves with the adapter as in torch): Gemma 3 keeps q/k unpermuted
PROJECTIONS: Mapping[str, Mapping[str, str]] = {
    "gemma3": {
        "q_proj": "attn_q",
        "k_proj": "attn_k",
        "v_proj": "attn_v",
        "o_proj": "attn_output",
    },
}
_PEFT_KEY = re.compile(r"layers\.(\d+)\.self_attn\.(\w+)\.lora_([AB])\b")


class ExportError(ValueError):
    """The adapter cannot be written for this model; the message says why."""


def supported(architecture: str) -> bool:
    """Whether adapters can be exported for models of ``architecture``."""
    return architecture in PROJECTIONS


def tensor_name(architecture: str, peft_key: str) -> str:
    """llama.cpp's name of one peft LoRA tensor."""
    found = _PEFT_KEY.search(peft_key)
    names = PROJECTIONS.get(architecture, {})
    if found is None or found.group(2) not in names:
        raise ExportError(f"no llama.cpp tensor for {peft_key} ({architecture})")
    layer, module, which = found.groups()
    return f"blk.{layer}.{names[module]}.weight.lora_{which.lower()}"


def write_adapter(
    path: Path,
    tensors: Mapping[str, npt.NDArray[np.float32]],
    alpha: float,
    architecture: str,
) -> None:
    """Write the adapter at ``path`` through a temporary file and a rename, so
    an interrupted export never leaves half an adapter."""
    import gguf

    if not supported(architecture):
        raise ExportError(
            f"adapters are made for {', '.join(PROJECTIONS)} models; "
            f"this base model is {architecture}"
        )
    named = {tensor_name(architecture, k): v for k, v in sorted(tensors.items())}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        writer = gguf.GGUFWriter(str(tmp), architecture)
        writer.add_string("general.type", "adapter")
        writer.add_string("adapter.type", "lora")
        writer.add_float32("adapter.lora.alpha", float(alpha))
        for name, array in named.items():
            writer.add_tensor(name, array)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)

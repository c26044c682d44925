"""Turn a request into the text a local model continues: template or plain prefix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import CompletionRequest
from .gguf import GgufInfo

GEMMA_END_OF_TURN = "<end_of_turn>"


@dataclass(frozen=True)
class RenderedPrompt:
    """Prompt text for the model, with stop strings and how to tokenize it."""

    text: str
    stop: tuple[str, ...]
    special_tokens: bool  # parse control tokens such as <start_of_turn>
    starts_with_bos: bool


def render_gemma_chat(request: CompletionRequest, bos: str = "<bos>") -> RenderedPrompt:
    """Gemma's turn format; Gemma has no system role, so system text leads the turn."""
    parts = [bos]
    system = "\n\n".join(m.content for m in request.messages if m.role == "system")
    pending = system + "\n\n" if system else ""
    for message in request.messages:
        if message.role == "system":
            continue
        role = "model" if message.role == "assistant" else "user"
        content = pending + message.content if role == "user" else message.content
        if role == "user":
            pending = ""
        parts.append(f"<start_of_turn>{role}\n{content}{GEMMA_END_OF_TURN}\n")
    parts.append("<start_of_turn>model\n")
    return RenderedPrompt(
        text="".join(parts),
        stop=(GEMMA_END_OF_TURN, *request.stop),
        special_tokens=True,
        starts_with_bos=True,
    )


def render_plain(request: CompletionRequest) -> RenderedPrompt:
    """Completion style for base models: the text is a prefix to continue."""
    if request.prompt is not None:
        text = request.prompt
    else:
        # a base model has no notion of turns: the contents form one document
        text = "\n\n".join(m.content for m in request.messages)
    return RenderedPrompt(
        text=text, stop=request.stop, special_tokens=False, starts_with_bos=False
    )


def render_with_template(request: CompletionRequest, info: GgufInfo) -> RenderedPrompt:
    """Use the GGUF's own Jinja chat template (needs the ``local`` extra)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    assert info.chat_template is not None
    formatter = Jinja2ChatFormatter(
        template=info.chat_template,
        eos_token=info.eos_token or "",
        bos_token=info.bos_token or "",
        add_generation_prompt=True,
    )
    messages: Any = [{"role": m.role, "content": m.content} for m in request.messages]
    result = formatter(messages=messages)
    stop = result.stop if isinstance(result.stop, list) else [result.stop]
    extra = tuple(s for s in stop if isinstance(s, str) and s)
    text = str(result.prompt)
    return RenderedPrompt(
        text=text,
        stop=(*extra, *request.stop),
        special_tokens=True,
        starts_with_bos=bool(info.bos_token) and text.startswith(info.bos_token or ""),
    )


def render(request: CompletionRequest, info: GgufInfo, is_chat: bool) -> RenderedPrompt:
    """Pick the prompt style for this model and request."""
    if request.prompt is not None or not is_chat:
        return render_plain(request)
    if info.chat_template:
        return render_with_template(request, info)
    # known family without an embedded template
    return render_gemma_chat(request, info.bos_token or "<bos>")

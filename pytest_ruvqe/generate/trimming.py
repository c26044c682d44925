"""Cutting long texts down, named for what each way of cutting keeps."""

from __future__ import annotations

# one error of a rejected test, as the refine loop's feedback carries it
FEEDBACK_CHARS = 600


def keep_tail(text: str, limit: int) -> str:
    """Keep the end of long error output, where the cause usually is."""
    return text if len(text) <= limit else "..." + text[-limit:]


def keep_ends(text: str, limit: int) -> str:
    """Keep the head and the tail of a long text."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return text[:half] + "\n...[trimmed]...\n" + text[-half:]

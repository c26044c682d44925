"""Secrets and personal data in outgoing text: find them, redact them.

Detection reuses the regex plugins of ``detect-secrets`` (cloud tokens of the
common providers, private keys, passwords in assignments and URLs, JWTs,
high-entropy strings). We call each plugin's ``analyze_string`` directly:
its ``analyze_line`` may *verify* a token against the provider's API, which is
a network call, the opposite of what a privacy scan may do. What
detect-secrets does not cover (e-mail addresses, unquoted high-entropy
tokens) is added here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .guard import PrivacyViolation

__all__ = ["PrivacyFinding", "PrivacyScanner", "PrivacyViolation", "redact"]

_EMAIL = re.compile(
    r"(?<![\w.+:/-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
)
# addresses that are placeholders by convention, not personal data
_SAFE_EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "localhost")
# a long unquoted run of token characters (API keys pasted into comments, URLs)
_TOKEN_RUN = re.compile(
    r"(?<![A-Za-z0-9_+/=-])[A-Za-z0-9_+/=-]{32,}(?![A-Za-z0-9_+/=-])"
)
_UNQUOTED_ENTROPY_LIMIT = 4.5
# detect-secrets flags the BEGIN line only; the key material follows it
_PEM_BLOCK = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?"
    r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    re.DOTALL,
)
_MIN_GROUP = 8  # shorter capture groups are prefixes (ghp, xoxb), not the secret
# detect-secrets' own defaults for quoted strings
_ENTROPY_LIMITS = {"Base64 High Entropy String": 4.5, "Hex High Entropy String": 3.0}
# handled separately (keyword) or too noisy in code (IP addresses are rarely personal)
_SKIPPED_KINDS = frozenset({"Secret Keyword", "Public IP (ipv4)"})
# every keyword detect-secrets' KeywordDetector knows contains one of these
_KEYWORD_HINT = re.compile(r"key|pass|pwd|secret|contrase", re.IGNORECASE)
# plugins whose patterns are "<vendor>_<credential word> = value": without a
# credential word in the text they cannot match, and they are the slow ones
_ASSIGNMENT_KINDS = frozenset(
    {
        "Cloudant Credentials",
        "IBM Cloud IAM Key",
        "IBM COS HMAC Credentials",
        "SoftLayer Credentials",
    }
)
_CREDENTIAL_HINT = re.compile(r"key|pw|pass|token|secret", re.IGNORECASE)


@dataclass(frozen=True)
class PrivacyFinding:
    """One sensitive span of the scanned text."""

    kind: str  # e.g. "AWS Access Key", "E-mail address"
    value: str
    start: int
    end: int


def _shannon_entropy(data: str) -> float:
    import math

    if not data:
        return 0.0
    counts: dict[str, int] = {}
    for char in data:
        counts[char] = counts.get(char, 0) + 1
    total = len(data)
    return -sum(c / total * math.log2(c / total) for c in counts.values())


@functools.lru_cache(maxsize=1)
def _plugins() -> tuple[Any, ...]:
    """Instances of every detect-secrets plugin that works on a single string."""
    try:
        from detect_secrets.core.plugins.util import (
            get_mapping_from_secret_type_to_class,
        )
    except ImportError:
        return ()
    plugins: list[Any] = []
    plugin_class: Any
    for plugin_class in get_mapping_from_secret_type_to_class().values():
        try:
            plugins.append(plugin_class())
        except TypeError:  # a plugin that needs configuration we do not have
            continue
    return tuple(plugins)


class PrivacyScanner:
    """Finds secrets and personal data in text that is about to leave the machine."""

    def __init__(self, *, emails: bool = True, entropy: bool = True) -> None:
        self._emails = emails
        self._entropy = entropy

    @property
    def uses_detect_secrets(self) -> bool:
        """Whether detect-secrets is installed (else only the built-in rules run)."""
        return bool(_plugins())

    def scan(self, text: str) -> tuple[PrivacyFinding, ...]:
        """Every sensitive span of ``text``, in order, overlapping spans merged."""
        found = [
            PrivacyFinding("Private Key", m.group(), m.start(), m.end())
            for m in _PEM_BLOCK.finditer(text)
        ]
        # one pass per pattern over the whole text is many times faster than
        # every pattern on every line; only the keyword rule needs lines
        found.extend(self._scan_text(text))
        keyword = _keyword_plugin()
        if keyword is not None:
            for start, line in _lines(text):
                if _KEYWORD_HINT.search(line):
                    for value in keyword.analyze_string(line):
                        if isinstance(value, str) and len(value) >= 4:
                            found.extend(_spans(line, start, value, "Secret Keyword"))
        return _merge(found)

    def _scan_text(self, text: str) -> Iterable[PrivacyFinding]:
        credential_words = _CREDENTIAL_HINT.search(text) is not None
        for plugin in _plugins():
            kind = str(plugin.secret_type)
            limit = _ENTROPY_LIMITS.get(kind)
            if limit is not None:
                if self._entropy:
                    yield from _entropy_spans(plugin.regex, text, kind, limit)
                continue
            denylist = getattr(plugin, "denylist", None)
            if kind in _SKIPPED_KINDS or not denylist:
                continue
            if kind in _ASSIGNMENT_KINDS and not credential_words:
                continue
            yield from _regex_spans(denylist, text, 0, kind)
        if self._emails:
            for match in _EMAIL.finditer(text):
                domain = match.group().rsplit("@", 1)[1].lower()
                if not domain.endswith(_SAFE_EMAIL_DOMAINS):
                    yield PrivacyFinding(
                        "E-mail address", match.group(), match.start(), match.end()
                    )
        if self._entropy:
            for match in _TOKEN_RUN.finditer(text):
                token = match.group()
                if (
                    _shannon_entropy(token) >= _UNQUOTED_ENTROPY_LIMIT
                    and any(c.isdigit() for c in token)
                    and any(c.isalpha() for c in token)
                ):
                    yield PrivacyFinding(
                        "High entropy token", token, match.start(), match.end()
                    )


@functools.lru_cache(maxsize=1)
def _keyword_plugin() -> Any:
    for plugin in _plugins():
        if plugin.secret_type == "Secret Keyword":
            return plugin
    return None


def _entropy_spans(
    regex: re.Pattern[str], text: str, kind: str, limit: float
) -> Iterable[PrivacyFinding]:
    # detect-secrets' pattern: a quote, the charset run (group 2), the same quote
    for match in regex.finditer(text):
        value = match.group(2)
        if len(value) >= 4 and _shannon_entropy(value) >= limit:
            yield PrivacyFinding(kind, value, match.start(2), match.end(2))


def _lines(text: str) -> Iterable[tuple[int, str]]:
    start = 0
    for line in text.splitlines(keepends=True):
        yield start, line
        start += len(line)


def _regex_spans(
    denylist: Iterable[re.Pattern[str]], line: str, offset: int, kind: str
) -> Iterable[PrivacyFinding]:
    for regex in denylist:
        for match in regex.finditer(line):
            # the widest group that looks like a secret, else the whole match
            start, end = match.span()
            for index in range(1, (regex.groups or 0) + 1):
                g_start, g_end = match.span(index)
                if g_start >= 0 and g_end - g_start >= _MIN_GROUP:
                    start, end = g_start, g_end
                    break
            if end > start:
                yield PrivacyFinding(
                    kind, line[start:end], offset + start, offset + end
                )


def _spans(line: str, offset: int, value: str, kind: str) -> Iterable[PrivacyFinding]:
    index = line.find(value)
    while index >= 0:
        yield PrivacyFinding(kind, value, offset + index, offset + index + len(value))
        index = line.find(value, index + len(value))


def _merge(found: list[PrivacyFinding]) -> tuple[PrivacyFinding, ...]:
    """Keep the widest finding where spans overlap, so redaction is contiguous."""
    ordered = sorted(found, key=lambda f: (f.start, -(f.end - f.start)))
    merged: list[PrivacyFinding] = []
    for finding in ordered:
        if merged and finding.start < merged[-1].end:
            last = merged[-1]
            if finding.end > last.end:
                merged[-1] = PrivacyFinding(
                    last.kind,
                    last.value + finding.value[last.end - finding.start :],
                    last.start,
                    finding.end,
                )
            continue
        merged.append(finding)
    return tuple(merged)


def _placeholder_kind(kind: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", kind.upper()).strip("_")


def redact(
    text: str,
    findings: Iterable[PrivacyFinding],
    assigned: dict[str, str] | None = None,
) -> tuple[str, dict[str, str]]:
    """Replace each finding by a stable placeholder such as ``<SECRET_KEYWORD_1>``.

    The same value always gets the same placeholder within one text, and the
    numbering follows the order of first appearance, so the result is
    deterministic. Pass the same ``assigned`` dict (value → placeholder) to keep
    placeholders stable across the messages of one request. The returned
    mapping (placeholder → original) stays local.
    """
    by_value: dict[str, str] = {} if assigned is None else assigned
    counters: dict[str, int] = {}
    for placeholder in by_value.values():
        kind, _, number = placeholder.strip("<>").rpartition("_")
        counters[kind] = max(counters.get(kind, 0), int(number))
    pieces: list[str] = []
    cursor = 0
    for finding in sorted(findings, key=lambda f: f.start):
        if finding.start < cursor:
            continue
        if finding.value not in by_value:
            kind = _placeholder_kind(finding.kind)
            counters[kind] = counters.get(kind, 0) + 1
            by_value[finding.value] = f"<{kind}_{counters[kind]}>"
        placeholder = by_value[finding.value]
        pieces.append(text[cursor : finding.start])
        pieces.append(placeholder)
        cursor = finding.end
    pieces.append(text[cursor:])
    return "".join(pieces), {p: v for v, p in by_value.items()}

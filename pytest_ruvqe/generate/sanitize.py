"""What a sandboxed run printed, made fit for a prompt: no secrets, no personal data.

A failing test's assertion message, a traceback or a crashed process's stderr
goes into the refine loop's feedback and from there into the next prompt,
perhaps to a cloud model. A test that got past the sandbox may have read a
host environment variable or a file in the home directory and printed it.
:class:`Sanitizer` therefore, before such text is kept anywhere:

1. replaces the values of the host's environment variables whose names say
   secret (``*_KEY``, ``*_TOKEN``, ``*SECRET*``, ``*PASSWORD*`` ...) by
   ``<redacted env NAME>``, and any run of ten or more of their characters
   too (output is often cut in the middle of a value);
2. writes the home directory as ``~`` and drops the sandbox's temporary
   directory from paths;
3. redacts what the privacy scan finds, secrets and personal data alike, by
   placeholders such as ``<CREDIT_CARD_NUMBER_1>``;
4. trims to a length only then, so that no cut hides a value from 1 and 3.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from pytest_ruvqe.generate.trimming import keep_ends
from pytest_ruvqe.llm.privacy import PrivacyScanner, redact

# names of environment variables whose values are secrets
SECRET_NAME = re.compile(
    r"(?:^|_)(?:KEY|PAT|PASS)$|TOKEN|SECRET|PASSW(?:OR)?D|CREDENTIAL|API_?KEY|PRIVATE",
    re.IGNORECASE,
)
MIN_SECRET = 8  # shorter values are ordinary words more often than secrets
FRAGMENT = 10  # a run this long of a secret value is redacted wherever it is
_SANDBOX_DIR = re.compile(r"(?:/[^\s'\"/:]+)*/ruvqe-sandbox-[^\s'\"/:]+/(?:work/)?")


def _replace_value(text: str, value: str, placeholder: str) -> str:
    """``text`` with ``value`` and every run of FRAGMENT of its characters replaced.

    A value that is a path (a credentials file) is replaced only whole: its
    directories are in every traceback.
    """
    text = text.replace(value, placeholder)
    if len(value) <= FRAGMENT or value.startswith(("/", "~", ".")):
        return text
    start = 0
    while start + FRAGMENT <= len(value):
        window = value[start : start + FRAGMENT]
        at = -1 if window in placeholder else text.find(window)
        if at < 0:
            start += 1
            continue
        # widen the match to all of the value's characters around it
        left, right, j, k = at, at + FRAGMENT, start, start + FRAGMENT
        while left > 0 and j > 0 and text[left - 1] == value[j - 1]:
            left, j = left - 1, j - 1
        while right < len(text) and k < len(value) and text[right] == value[k]:
            right, k = right + 1, k + 1
        text = text[:left] + placeholder + text[right:]
    return text


@dataclass
class Sanitizer:
    """Removes host secrets, host paths and what the privacy scan finds."""

    scanner: PrivacyScanner = field(default_factory=PrivacyScanner)
    environ: Mapping[str, str] | None = None  # None: the process's, read each time
    home: str | None = None  # None: the user's home directory, read each time

    def secrets(self) -> list[tuple[str, str]]:
        """(name, value) of the environment's secrets, longest value first."""
        env = os.environ if self.environ is None else self.environ
        found = [
            (name, value)
            for name, value in env.items()
            if SECRET_NAME.search(name) and len(value.strip()) >= MIN_SECRET
        ]
        return sorted(found, key=lambda item: (-len(item[1]), item[0]))

    def secrets_in(self, text: str) -> list[str]:
        """Names of the environment's secrets whose values ``text`` holds."""
        return [n for n, v in self.secrets() if _replace_value(text, v, "") != text]

    def host_values(self, text: str) -> str:
        """``text`` without the environment's secrets and the host's paths."""
        for name, value in self.secrets():
            text = _replace_value(text, value, f"<redacted env {name}>")
        if "ruvqe-sandbox-" in text:
            text = _SANDBOX_DIR.sub("", text)
        home = os.path.expanduser("~") if self.home is None else self.home
        home = home.rstrip("/")
        if len(home) > 1:
            text = re.sub(re.escape(home) + r"(?=/|\b|$)", "~", text)
        return text

    def __call__(self, text: str, limit: int | None = None) -> str:
        """``text`` fit for a prompt, at most about ``limit`` characters."""
        if not text:
            return text
        text = self.host_values(text)
        findings = self.scanner.scan(text)
        if findings:
            text, _ = redact(text, findings)
        return keep_ends(text, limit) if limit is not None else text


_DEFAULT: list[Sanitizer] = []


def _default() -> Sanitizer:
    if not _DEFAULT:
        _DEFAULT.append(Sanitizer())
    return _DEFAULT[0]


def sanitize(text: str, limit: int | None = None) -> str:
    """:class:`Sanitizer` with the process's environment and the privacy scan."""
    return _default()(text, limit)


def host_values(text: str) -> str:
    """Only the cheap part, host secrets and paths: for whole prompts."""
    return _default().host_values(text)


def host_secrets_in(text: str) -> list[str]:
    """Names of the host's secret environment variables whose values ``text`` holds."""
    return _default().secrets_in(text)

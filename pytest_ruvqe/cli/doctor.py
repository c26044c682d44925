"""``ruvqe doctor``: what is installed and usable, in one screen.

Secrets are never printed: for cloud keys only the names of the variables
that are set.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import re
import shutil
from collections.abc import Callable
from typing import Any

from pytest_ruvqe.generate.sandbox import isolation
from pytest_ruvqe.llm.base import ProviderError
from pytest_ruvqe.llm.models import resolve_local_model

_KEY_NAMES = re.compile(r"_(API_KEY|API_TOKEN|TOKEN|KEY)$")
_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "doctor",
        help="what is installed and usable: coverage, model, GPU, cloud, sandbox",
        description="Check what pytest-ruvqe can use on this machine.",
    )
    p.add_argument(
        "--speed", action="store_true", help="also time the local model (loads it)"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    checks: list[tuple[str, Callable[[], tuple[bool, str]]]] = [
        ("coverage.py", lambda: _package("coverage", required=True)),
        ("pytest-cov", lambda: _package("pytest-cov")),
        ("pytest-xdist", lambda: _package("pytest-xdist")),
        ("sandbox", _sandbox),
        ("local model", lambda: _model(args.speed)),
        ("GPU offload", _gpu),
        ("litellm", lambda: _package("litellm")),
        ("cloud keys", _keys),
        ("learning", lambda: _package("torch")),
        ("browser", _browser),
    ]
    failed = False
    for name, check in checks:
        ok, text = check()
        failed |= not ok
        print(f"{name:<13} {text}")
    return 1 if failed else 0


def _package(name: str, required: bool = False) -> tuple[bool, str]:
    try:
        return True, importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return not required, "not installed" + (" (required)" if required else "")


def _sandbox() -> tuple[bool, str]:
    if isolation.isolation() == "bubblewrap":
        return True, "isolated with bubblewrap (namespaces: mount, pid, network)"
    return True, f"guard only, not isolated: {isolation.why_not()}"


def _model(speed: bool) -> tuple[bool, str]:
    if importlib.util.find_spec("llama_cpp") is None:
        return (
            True,
            "llama-cpp-python not installed (pip install 'pytest-ruvqe[local]')",
        )
    try:
        found = resolve_local_model(None)  # the environment, or the embedded one
    except ProviderError as exc:
        return False, str(exc)
    size = os.path.getsize(found.path) / 2**20
    text = f"{found.path} ({size:.0f} MiB, from {found.source}, sha256 ok)"
    if speed:
        text += f", {_tokens_per_second(found.path):.0f} tokens/s"
    return True, text


def _tokens_per_second(path: str) -> float:
    """Decoding speed on a short prompt, after a first call warms the model."""
    from pytest_ruvqe.llm.base import CompletionRequest
    from pytest_ruvqe.llm.local import LocalProvider

    provider = LocalProvider(path)
    try:
        request = CompletionRequest(prompt="def add(a, b):\n", max_tokens=48)
        provider.complete(CompletionRequest(prompt="x", max_tokens=1))
        done = provider.complete(request)
        decoding = done.latency_s - (done.ttft_s or 0.0)
        return done.completion_tokens / max(decoding, 1e-9)
    finally:
        provider.close()


def _gpu() -> tuple[bool, str]:
    if importlib.util.find_spec("llama_cpp") is None:
        return True, "n/a (llama-cpp-python not installed)"
    import llama_cpp

    usable = bool(llama_cpp.llama_supports_gpu_offload())
    return True, "available" if usable else "not in this llama.cpp build (CPU only)"


def _keys() -> tuple[bool, str]:
    names = sorted(n for n, v in os.environ.items() if v and _KEY_NAMES.search(n))
    return True, ", ".join(names) if names else "none set"


def _browser() -> tuple[bool, str]:
    for name in _BROWSERS:
        path = shutil.which(name)
        if path:
            return True, path
    return True, "none (the browser test of the HTML report is skipped)"

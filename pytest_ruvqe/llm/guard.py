"""Privacy-local mode: no non-loopback connection while the inference layer runs.

Enforcement uses a CPython audit hook (:func:`sys.addaudithook`). The
interpreter raises the ``socket.connect``, ``socket.sendto``,
``socket.getaddrinfo`` and ``socket.gethostbyname`` events *before* the system
call, for every socket of every library (httpx, aiohttp, asyncio, raw
sockets); an exception raised by the hook aborts the call, so no byte is
sent and no name is resolved. Audit hooks cannot be removed, so the hook is
installed once and does nothing unless a guard is active.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
import threading
from collections.abc import Iterator
from typing import Any

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
_GUARDED_EVENTS = frozenset(
    {"socket.connect", "socket.sendto", "socket.getaddrinfo", "socket.gethostbyname"}
)


class PrivacyViolation(Exception):
    """Code or data would leave the machine although privacy rules forbid it."""


_lock = threading.Lock()
_installed = False
_depth = 0  # active guards; process-wide because libraries use worker threads
_privacy_local = 0  # active privacy-local modes


def is_loopback_host(host: object) -> bool:
    """Whether ``host`` (a name or an address) is this machine's loopback."""
    if isinstance(host, bytes):
        host = host.decode("ascii", errors="replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").split("%", 1)[0].lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _target(event: str, args: tuple[Any, ...]) -> object:
    """The host an event is about, or None when it concerns no network host."""
    if event in ("socket.getaddrinfo", "socket.gethostbyname"):
        host: object = args[0] if args else None
        return host
    sock, address = args[0], args[1]
    if getattr(sock, "family", None) == getattr(socket, "AF_UNIX", object()):
        return None
    target: object = address[0] if isinstance(address, tuple) and address else address
    return target


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _depth or event not in _GUARDED_EVENTS:
        return
    host = _target(event, args)
    if host is None or is_loopback_host(host):
        return
    raise PrivacyViolation(
        f"privacy-local mode: blocked {event} to {host!r} before anything was sent; "
        "only loopback (127.0.0.1, ::1, localhost) may be reached"
    )


def _install() -> None:
    global _installed
    with _lock:
        if not _installed:
            sys.addaudithook(_audit)
            _installed = True


@contextlib.contextmanager
def network_guard() -> Iterator[None]:
    """While active, any non-loopback connection or lookup raises PrivacyViolation."""
    global _depth
    _install()
    with _lock:
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1


@contextlib.contextmanager
def privacy_local_mode() -> Iterator[None]:
    """Only local providers may be constructed while this is active."""
    global _privacy_local
    with _lock:
        _privacy_local += 1
    try:
        yield
    finally:
        with _lock:
            _privacy_local -= 1


def privacy_local_active() -> bool:
    """Whether privacy-local mode is on in this process."""
    return _privacy_local > 0

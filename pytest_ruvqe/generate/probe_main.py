"""Probe script: run planned calls of one module under coverage, one context each.

This file runs as a standalone script in a separate, sandboxed process
(``python probe_main.py SPEC OUT``); it imports nothing of pytest_ruvqe so it
works wherever the sandbox puts it. The spec is JSON::

    {"module": "pkg.mod", "alias": "mod", "source_file": "/abs/pkg/mod.py",
     "import_roots": ["/abs"], "call_timeout": 1.0,
     "calls": [{"id": "c0", "setup": ["obj = mod.C()"], "expr": "obj.f(1)"}]}

The output is JSON: per call its outcome (a faithful repr, an object's type
and attributes, or the exception type) and the lines and arcs of the source
file it reached, measured in its own coverage context.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import io
import json
import signal
import sys
import types
from typing import Any

MAX_REPR = 300
MAX_ATTRS = 6


class CallTimeout(BaseException):
    """Raised by the alarm when one call runs past its time."""


def _on_alarm(signum: int, frame: types.FrameType | None) -> None:
    raise CallTimeout


def type_expr(kind: type, module: types.ModuleType, alias: str) -> str | None:
    """An expression naming ``kind`` from a test that imported the module as alias."""
    name = kind.__name__
    if getattr(builtins, name, None) is kind:
        return name
    if getattr(module, name, None) is kind:
        return f"{alias}.{name}"
    return None


def faithful_repr(value: Any, namespace: dict[str, Any]) -> str | None:
    """``repr(value)`` when evaluating it gives back an equal value of the same type."""
    try:
        text = repr(value)
        if len(text) > MAX_REPR:
            return None
        back = eval(text, dict(namespace))
        if type(back) is type(value) and bool(back == value):
            return text
    except Exception:
        return None
    return None


def describe(value: Any, module: types.ModuleType, alias: str) -> dict[str, Any]:
    """What a test may assert about a returned value."""
    namespace = {alias: module}
    text = faithful_repr(value, namespace)
    if text is not None:
        return {
            "kind": "value",
            "repr": text,
            "type": type_expr(type(value), module, alias),
        }
    attrs: dict[str, str] = {}
    with contextlib.suppress(Exception):
        for key, attr in sorted(vars(value).items()):
            if key.startswith("_") or callable(attr):
                continue
            attr_text = faithful_repr(attr, namespace)
            if attr_text is not None:
                attrs[key] = attr_text
            if len(attrs) >= MAX_ATTRS:
                break
    return {
        "kind": "object",
        "type": type_expr(type(value), module, alias),
        "attrs": attrs,
        "is_none": value is None,
    }


def run_call(
    call: dict[str, Any], module: types.ModuleType, alias: str, timeout: float
) -> dict[str, Any]:
    """Run one call's setup and expression; report the outcome."""
    namespace: dict[str, Any] = {alias: module}
    stage = "setup"
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        for statement in call["setup"]:
            exec(statement, namespace)
        stage = "call"
        value = eval(call["expr"], namespace)
        signal.setitimer(signal.ITIMER_REAL, 0)
        return describe(value, module, alias)
    except CallTimeout:
        return {"kind": "timeout"}
    except Exception as exc:
        signal.setitimer(signal.ITIMER_REAL, 0)
        if stage == "setup":
            return {"kind": "setup_error", "type": type(exc).__name__}
        expr = type_expr(type(exc), module, alias)
        return {"kind": "raise", "type": expr or "Exception"}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def main(spec_path: str, out_path: str) -> int:
    """Run every call of the spec twice and write outcomes with coverage."""
    import coverage

    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    sys.path[:0] = spec["import_roots"]
    source = spec["source_file"]
    cov = coverage.Coverage(branch=True, include=[source], data_file=None)
    signal.signal(signal.SIGALRM, _on_alarm)
    results: dict[str, dict[str, Any]] = {}
    sink = io.StringIO()
    cov.start()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            module = importlib.import_module(spec["module"])
            for call in spec["calls"]:
                cov.switch_context(call["id"])
                first = run_call(call, module, spec["alias"], spec["call_timeout"])
                # a second run tells deterministic results from time/random ones
                second = run_call(call, module, spec["alias"], spec["call_timeout"])
                first["stable"] = first == second
                results[call["id"]] = first
                sink.seek(0)
                sink.truncate()
    finally:
        cov.stop()
    data = cov.get_data()
    for call_id, result in results.items():
        data.set_query_contexts([f"^{call_id}$"])
        result["lines"] = sorted(data.lines(source) or ())
        result["arcs"] = sorted(data.arcs(source) or ())
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump(results, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))

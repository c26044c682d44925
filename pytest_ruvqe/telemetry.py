"""OpenTelemetry traces and metrics of a run, when asked for (extra ``otel``).

Everything here is a no-op until :func:`start` succeeds, and OpenTelemetry
is imported only then: any layer may open a :func:`span` or record a model
call at no cost. :func:`start` sets up the official SDK with the OTLP/HTTP
exporters, which read the standard ``OTEL_EXPORTER_OTLP_*`` variables
(endpoint, headers, timeout); :func:`stop` flushes and shuts both down.

Spans: ``ruvqe.run`` around the run, with ``ruvqe.measure``,
``ruvqe.analyse``, ``ruvqe.quality``, ``ruvqe.mutation``, ``ruvqe.generation`` →
``ruvqe.target`` → ``ruvqe.round`` below it, and one span per model call
named as the GenAI conventions say (``text_completion <model>``). Metrics
follow the conventions where they exist (``gen_ai.client.token.usage``,
``gen_ai.client.operation.duration``, test outcomes as ``test.case.result.status``)
and are ours otherwise (``ruvqe.*``).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

AttributeValue = str | bool | int | float
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


class TelemetryUnavailable(Exception):
    """Telemetry was asked for but cannot run; the message says what to do."""


@dataclass
class _Active:
    tracer: Any
    meter: Any
    providers: tuple[Any, ...]
    root: Any
    instruments: dict[str, Any]


_lock = threading.Lock()
_active: _Active | None = None


def wanted(flag: bool, environ: Mapping[str, str] | None = None) -> bool:
    """Whether this run exports telemetry: the flag, or the standard variables."""
    env = os.environ if environ is None else environ
    return flag or any(
        env.get(name)
        for name in (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        )
    )


def endpoint(environ: Mapping[str, str] | None = None) -> str:
    """Where OTLP goes: the standard variable, or the collector's default."""
    env = os.environ if environ is None else environ
    return env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or "http://localhost:4318"


def check_private(environ: Mapping[str, str] | None = None) -> None:
    """Under ``--ruvqe-privacy-local`` only a collector on this machine."""
    env = os.environ if environ is None else environ
    for name in (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    ):
        host = urlparse(env.get(name) or endpoint(env)).hostname or ""
        if host not in _LOOPBACK:
            raise TelemetryUnavailable(
                f"{name} points at {host!r}, but --ruvqe-privacy-local allows only "
                "a collector on this machine (127.0.0.1, ::1, localhost)"
            )


def start(service: str, attributes: Mapping[str, AttributeValue]) -> None:
    """Set up tracing and metrics and open the ``ruvqe.run`` span."""
    global _active
    try:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
            OTLPMetricExporter,
        )
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter,
        )
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        raise TelemetryUnavailable(
            "OpenTelemetry is not installed: pip install 'pytest-ruvqe[otel]'"
        ) from None
    resource = Resource.create({"service.name": service})
    traces = TracerProvider(resource=resource)
    traces.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(), export_interval_millis=3_600_000
    )
    metrics = MeterProvider(resource=resource, metric_readers=[reader])
    tracer = traces.get_tracer("pytest_ruvqe")
    meter = metrics.get_meter("pytest_ruvqe")
    root = tracer.start_span("ruvqe.run", attributes=dict(attributes))
    with _lock:
        _active = _Active(tracer, meter, (traces, metrics), root, {})


def stop(attributes: Mapping[str, AttributeValue] | None = None) -> None:
    """End the run span, export everything, shut the SDK down."""
    global _active
    with _lock:
        active, _active = _active, None
    if active is None:
        return
    active.root.set_attributes(dict(attributes or {}))
    active.root.end()
    for provider in active.providers:
        provider.force_flush()
        provider.shutdown()


@contextlib.contextmanager
def span(name: str, **attributes: AttributeValue) -> Iterator[None]:
    """A child span of the run (or of the span open around it); no-op when off."""
    active = _active
    if active is None:
        yield
        return
    from opentelemetry import trace

    parent = trace.get_current_span()
    context = None
    if not parent.get_span_context().is_valid:
        context = trace.set_span_in_context(active.root)
    with active.tracer.start_as_current_span(
        name, context=context, attributes=attributes
    ):
        yield


def _instrument(kind: str, name: str, unit: str, description: str) -> Any:
    active = _active
    assert active is not None
    with _lock:
        found = active.instruments.get(name)
        if found is None:
            make = getattr(active.meter, f"create_{kind}")
            found = active.instruments[name] = make(
                name, unit=unit, description=description
            )
    return found


def gauge(
    name: str, value: float, unit: str = "1", **attributes: AttributeValue
) -> None:
    """Set a gauge (a score, a coverage fraction)."""
    if _active is not None:
        _instrument("gauge", name, unit, name).set(value, attributes)


def count(
    name: str, value: float, unit: str = "1", **attributes: AttributeValue
) -> None:
    """Add to a counter (tests accepted, dollars spent)."""
    if _active is not None:
        _instrument("counter", name, unit, name).add(value, attributes)


def model_call(
    model: str,
    provider: str,
    location: str,
    tokens: tuple[int, int],
    seconds: float,
    cost_usd: float | None,
) -> None:
    """The GenAI client metrics of one successful model call."""
    if _active is None:
        return
    common: dict[str, AttributeValue] = {
        "gen_ai.operation.name": "text_completion",
        "gen_ai.request.model": model,
        "gen_ai.provider.name": provider,
        "ruvqe.location": location,
    }
    usage = _instrument(
        "histogram", "gen_ai.client.token.usage", "{token}", "tokens per call"
    )
    usage.record(tokens[0], {**common, "gen_ai.token.type": "input"})
    usage.record(tokens[1], {**common, "gen_ai.token.type": "output"})
    duration = _instrument(
        "histogram", "gen_ai.client.operation.duration", "s", "model call time"
    )
    duration.record(seconds, common)
    if cost_usd is not None:
        count("ruvqe.cost", cost_usd, "USD", **{"ruvqe.location": location})

"""OpenTelemetry export, checked against a real OTLP/HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pytest_ruvqe import telemetry
from tests.conftest import RunPytest

pb_trace = pytest.importorskip(
    "opentelemetry.proto.collector.trace.v1.trace_service_pb2",
    reason="needs the otel extra and opentelemetry-proto (dev)",
)
pb_metrics = pytest.importorskip(
    "opentelemetry.proto.collector.metrics.v1.metrics_service_pb2"
)


class Receiver:
    """What arrived: span names with attributes, and metric data points."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, dict[str, Any], bytes]] = []
        self.parents: dict[bytes, bytes] = {}
        # per export: cumulative values are sent again by each export
        self.exports: list[list[tuple[str, dict[str, Any], float]]] = []

    def traces(self, body: bytes) -> None:
        request = pb_trace.ExportTraceServiceRequest.FromString(body)
        for resource in request.resource_spans:
            for scope in resource.scope_spans:
                for span in scope.spans:
                    self.spans.append(
                        (span.name, _attrs(span.attributes), span.span_id)
                    )
                    self.parents[span.span_id] = span.parent_span_id

    def metrics(self, body: bytes) -> None:
        request = pb_metrics.ExportMetricsServiceRequest.FromString(body)
        self.exports.append([])
        for resource in request.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    kind = metric.WhichOneof("data")
                    for point in getattr(metric, kind).data_points:
                        value = (
                            point.sum
                            if kind == "histogram"
                            else point.as_double or point.as_int
                        )
                        point_attrs = _attrs(point.attributes)
                        self.exports[-1].append((metric.name, point_attrs, value))

    def span(self, name: str) -> tuple[str, dict[str, Any], bytes]:
        return next(s for s in self.spans if s[0] == name)

    def value(self, name: str, **attributes: Any) -> float:
        """The metric's value (summed over matching points) in the last export."""
        for points in reversed(self.exports):
            values = [
                v
                for n, a, v in points
                if n == name and all(a.get(k) == w for k, w in attributes.items())
            ]
            if values:
                return sum(values)
        raise AssertionError(f"no {name} {attributes} received")


def _attrs(items: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in items:
        kind = kv.value.WhichOneof("value")
        out[kv.key] = getattr(kv.value, kind)
    return out


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    got = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/v1/traces":
                got.traces(body)
            elif self.path == "/v1/metrics":
                got.metrics(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield got, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_run_exports_its_phases_and_figures(
    calc_project: pytest.Pytester,
    run: RunPytest,
    receiver: tuple[Receiver, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    got, url = receiver
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
    result = run(
        "--ruvqe",
        "--ruvqe-generate",
        "--ruvqe-generators=characterize",
        "--ruvqe-privacy-local",  # a loopback collector is allowed
        "--ruvqe-report=term,json:r.json",
    )
    assert result.ret == 0, result.stdout.str()
    data = json.loads((calc_project.path / "r.json").read_text())

    names = [s[0] for s in got.spans]
    phases = ("ruvqe.run", "ruvqe.measure", "ruvqe.analyse", "ruvqe.quality")
    for phase in (*phases, "ruvqe.generation"):
        assert phase in names
    _, run_attrs, run_id = got.span("ruvqe.run")
    assert run_attrs["test.suite.run.status"] == "success"
    _, _, generation_id = got.span("ruvqe.generation")
    assert got.parents[generation_id] == run_id
    targets = [s for s in got.spans if s[0] == "ruvqe.target"]
    assert {a["code.function.name"] for _, a, _ in targets} == {
        t["qualname"] for t in data["generation"]["targets"]
    }
    assert all(got.parents[i] == generation_id for _, _, i in targets)
    rounds = [s for s in got.spans if s[0] == "ruvqe.round"]
    assert rounds and all(a["ruvqe.generator"] == "characterize" for _, a, _ in rounds)

    assert got.value("ruvqe.coverage") == pytest.approx(data["totals"]["coverage"])
    quality = data["quality"]["suite"]["score"]
    assert got.value("ruvqe.quality.score") == pytest.approx(quality)
    accepted = data["generation"]["reasons"]["accepted"]
    assert accepted > 0
    assert got.value("ruvqe.generation.accepted") == accepted
    assert got.value("ruvqe.tests", **{"test.case.result.status": "pass"}) == 2


def test_privacy_local_refuses_a_remote_collector(
    calc_project: pytest.Pytester, run: RunPytest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://otel.example.com")
    result = run("--ruvqe", "--ruvqe-privacy-local")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["*no telemetry: OTEL_EXPORTER_OTLP_ENDPOINT points at 'otel.example.com'*"]
    )


def test_model_calls_follow_the_genai_conventions(
    receiver: tuple[Receiver, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_ruvqe.llm.base import CompletionRequest
    from pytest_ruvqe.llm.router import HybridRouter
    from tests.llm.conftest import ScriptedProvider

    got, url = receiver
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
    router = HybridRouter([ScriptedProvider("local")])
    telemetry.start("pytest-ruvqe", {})
    try:
        with telemetry.span("ruvqe.generation"):
            done = router.complete(CompletionRequest(prompt="def f():", max_tokens=8))
    finally:
        telemetry.stop()
    model = done.model
    _, attrs, span_id = got.span(f"text_completion {model}")
    assert attrs["gen_ai.operation.name"] == "text_completion"
    assert attrs["gen_ai.request.model"] == model
    assert got.parents[span_id] == got.span("ruvqe.generation")[2]
    tokens = got.value("gen_ai.client.token.usage", **{"gen_ai.token.type": "output"})
    assert tokens == done.completion_tokens
    assert got.value("gen_ai.client.operation.duration") >= 0


def test_the_dashboard_charts_only_exported_metrics() -> None:
    from pathlib import Path

    dashboard = Path(__file__).parents[1] / "docs" / "grafana-dashboard.json"
    panels = json.loads(dashboard.read_text(encoding="utf-8"))["panels"]
    exported = (
        "ruvqe_coverage", "ruvqe_quality_score", "ruvqe_mutation_score",
        "ruvqe_generation_accepted", "ruvqe_generation_rejected", "ruvqe_cost",
        "ruvqe_tests", "gen_ai_client_token_usage", "gen_ai_client_operation_duration",
    )  # fmt: skip
    assert len(panels) >= 6
    for panel in panels:
        for target in panel["targets"]:
            assert any(name in target["expr"] for name in exported), target["expr"]

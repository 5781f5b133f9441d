"""OpenTelemetry's own instrumentations reporting through jaeger_lite, on real servers.

A client -> server -> client -> server chain (tests/otel_chain.py, two processes, since
OpenTelemetry's global provider is set once per process) mixes OpenTelemetry-instrumented
code (requests, Flask, httpx, ASGI with Starlette under uvicorn, logging, threading) with
jaeger_lite-instrumented code (start_active_span, @tracer.trace). The spans arrive in our
UDP datagrams, decoded by thrift's own protocol with the classes generated from Jaeger's IDL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("opentelemetry.instrumentation.flask")
pytest.importorskip("opentelemetry.instrumentation.asgi")
pytest.importorskip("uvicorn")

from jaeger_lite._gen.jaeger import ttypes

from ._wire_helpers import UDPAgent, tag_dict, unsigned

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "otel_chain.py"
TIMEOUT = 60


class Chain:
    """What one run of the chain produced: the frontend's report and the decoded spans."""

    def __init__(self, report: dict[str, Any], batches: list[ttypes.Batch]) -> None:
        self.report = report
        self.spans: list[tuple[str, ttypes.Span]] = [
            (batch.process.serviceName, span) for batch in batches for span in batch.spans
        ]

    def one(self, service: str, name: str, library: str = "") -> ttypes.Span:
        """The span of ``service`` named ``name`` (made by that instrumentation library)."""
        scope = f"opentelemetry.instrumentation.{library}" if library else None
        found = [
            span
            for svc, span in self.spans
            if svc == service
            and span.operationName == name
            and (scope is None or tag_dict(span.tags).get("otel.scope.name") == scope)
        ]
        assert len(found) == 1, (service, name, library, self.names())
        return found[0]

    def names(self) -> list[tuple[str, str]]:
        return sorted((svc, span.operationName) for svc, span in self.spans)


def run_chain(agent: UDPAgent) -> Chain:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAEGER_", "OTEL_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        JAEGER_AGENT_HOST="127.0.0.1",
        JAEGER_AGENT_PORT=str(agent.port),
        JAEGER_SAMPLER_TYPE="const",
        JAEGER_SAMPLER_PARAM="1",
    )
    backend = subprocess.Popen(
        [sys.executable, str(SCRIPT), "backend"],
        env={**env, "JAEGER_SERVICE_NAME": "backend", "JAEGER_PROPAGATION": "w3c"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert backend.stdout is not None and backend.stdin is not None
        line = backend.stdout.readline()
        assert line.startswith("PORT "), line
        frontend = subprocess.run(
            [sys.executable, str(SCRIPT), "frontend", f"http://127.0.0.1:{line.split()[1]}"],
            env={**env, "JAEGER_SERVICE_NAME": "frontend", "JAEGER_PROPAGATION": "jaeger,w3c"},
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        assert frontend.returncode == 0, frontend.stderr
    finally:
        if backend.stdin is not None:
            backend.stdin.close()
        backend.wait(TIMEOUT)
    assert backend.returncode == 0
    # Both tracers were closed (flushed) before their processes exited: 6 + 5 spans.
    agent.wait_for_spans(11, timeout=10)
    return Chain(json.loads(frontend.stdout.splitlines()[-1]), agent.batches())


@pytest.fixture(scope="module")
def chain() -> Iterator[Chain]:
    agent = UDPAgent()
    try:
        yield run_chain(agent)
    finally:
        agent.close()


def http_method(tags: dict[str, Any]) -> Any:
    """The request method under the old or the stable HTTP semantic conventions."""
    return tags.get("http.request.method", tags.get("http.method"))


def http_status(tags: dict[str, Any]) -> Any:
    return tags.get("http.response.status_code", tags.get("http.status_code"))


def test_the_request_went_through_and_baggage_crossed_both_hops(chain: Chain) -> None:
    """Baggage set in a @tracer.trace handler reached the ASGI handler via W3C baggage."""
    assert chain.report["body"] == "42 EUR for acme"


def test_every_span_arrived_in_one_trace(chain: Chain) -> None:
    """11 spans from two services, one trace id, none twice."""
    assert chain.names() == [
        ("backend", "GET /price"),
        ("backend", "GET /price http send"),
        ("backend", "GET /price http send"),
        ("backend", "db.query"),
        ("backend", "price.lookup"),
        ("frontend", "GET"),
        ("frontend", "GET"),
        ("frontend", "GET /checkout"),
        ("frontend", "checkout.handle"),
        ("frontend", "client-job"),
        ("frontend", "in-thread"),
    ]
    trace_ids = {(span.traceIdHigh, unsigned(span.traceIdLow)) for _, span in chain.spans}
    assert trace_ids == {(0, chain.report["trace_id"])}
    assert len({span.spanId for _, span in chain.spans}) == 11


def test_parents_across_both_apis_and_both_processes(chain: Chain) -> None:
    """Each span's parent, alternating OTel- and jaeger_lite-started spans."""
    job = chain.one("frontend", "client-job")
    requests_get = chain.one("frontend", "GET", "requests")
    flask_server = chain.one("frontend", "GET /checkout")
    handle = chain.one("frontend", "checkout.handle")
    in_thread = chain.one("frontend", "in-thread")
    httpx_get = chain.one("frontend", "GET", "httpx")
    asgi_server = chain.one("backend", "GET /price")
    lookup = chain.one("backend", "price.lookup")
    query = chain.one("backend", "db.query")
    expected = [
        (job, None),
        (requests_get, job),  # OTel requests span under a jaeger_lite span
        (flask_server, requests_get),  # across HTTP: Jaeger headers
        (handle, flask_server),  # @tracer.trace under the OTel Flask span
        (in_thread, handle),  # the threading instrumentation carried the context
        (httpx_get, handle),  # OTel httpx span under a jaeger_lite span
        (asgi_server, httpx_get),  # across HTTP: W3C traceparent
        (lookup, asgi_server),  # start_active_span under the OTel ASGI span
        (query, lookup),  # an OTel span under a jaeger_lite span
    ]
    for span, parent in expected:
        want = 0 if parent is None else parent.spanId
        assert span.parentSpanId == want, span.operationName
    for _, span in chain.spans:
        if span.operationName == "GET /price http send":
            assert span.parentSpanId == asgi_server.spanId


def test_kinds_scopes_and_typed_attributes(chain: Chain) -> None:
    """span.kind from SpanKind, otel.scope.name per instrumentation, HTTP attributes typed."""
    cases = [
        (chain.one("frontend", "GET", "requests"), "requests", "client"),
        (chain.one("frontend", "GET", "httpx"), "httpx", "client"),
        (chain.one("frontend", "GET /checkout"), "flask", "server"),
        (chain.one("backend", "GET /price"), "asgi", "server"),
    ]
    for span, library, kind in cases:
        tags = tag_dict(span.tags)
        assert tags["otel.scope.name"] == f"opentelemetry.instrumentation.{library}"
        assert tags["span.kind"] == kind
        assert http_method(tags) == "GET"
        assert http_status(tags) == 200
        status_tag = next(
            t for t in span.tags if t.key in ("http.status_code", "http.response.status_code")
        )
        assert status_tag.vType == ttypes.TagType.LONG
    assert tag_dict(chain.one("frontend", "GET /checkout").tags)["http.route"] == "/checkout"
    query = tag_dict(chain.one("backend", "db.query").tags)
    assert (query["span.kind"], query["db.system"], query["otel.scope.name"]) == (
        "client",
        "sqlite",
        "backend.db",
    )
    assert query["otel.scope.version"] == "0.1"
    for name in ("client-job", "checkout.handle", "in-thread"):
        assert "span.kind" not in tag_dict(chain.one("frontend", name).tags)
    assert tag_dict(chain.one("backend", "price.lookup").tags)["sku"] == "sku-1"


def test_log_records_carry_the_active_jaeger_lite_span(chain: Chain) -> None:
    """The logging instrumentation's otelTraceID/otelSpanID/otelTraceSampled/
    otelServiceName name the jaeger_lite span active when the record was made."""
    (record,) = chain.report["records"]
    assert record == {
        "otelTraceID": format(chain.report["trace_id"], "032x"),
        "otelSpanID": chain.report["handle_span"],
        "otelTraceSampled": True,
        "otelServiceName": "frontend",
    }
    assert unsigned(chain.one("frontend", "checkout.handle").spanId) == int(
        chain.report["handle_span"], 16
    )


def serve_asgi(provider: Any) -> None:
    """Serve a Starlette app in OpenTelemetry's ASGI middleware (over ``provider``) with
    uvicorn on 127.0.0.1, request /ok (200), /missing (404) and /broken (503)."""
    import socket
    import threading
    import urllib.error
    import urllib.request

    import uvicorn
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def answer(request: Request) -> PlainTextResponse:
        status = {"/ok": 200, "/broken": 503}.get(request.url.path, 404)
        return PlainTextResponse("x", status_code=status)

    routes = [Route(path, answer) for path in ("/ok", "/missing", "/broken")]
    app = OpenTelemetryMiddleware(Starlette(routes=routes), tracer_provider=provider)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    port = sock.getsockname()[1]
    try:
        for path in ("/ok", "/missing", "/broken"):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10).close()
            except urllib.error.HTTPError as error:
                error.close()
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def test_asgi_4xx_send_spans_keep_the_unset_status_the_sdk_sends() -> None:
    """OpenTelemetry's ASGI middleware leaves its INTERNAL "http send" span UNSET for a
    404 (and the SERVER span); the http.status_code attribute must not turn it into an
    ERROR on the OTLP wire (it did: Jaeger's translator infers ERROR from a 4xx off SERVER
    spans when no status was set). Side by side with the SDK, decoded by opentelemetry-proto."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )
    from opentelemetry.sdk.trace import TracerProvider as SDKProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    import jaeger_lite.otel
    from jaeger_lite import OTLPSender
    from jaeger_lite.testing import new_test_tracer

    def statuses(spans: Any) -> dict[tuple[str, int], int]:
        found: dict[tuple[str, int], int] = {}
        for span in spans:
            codes = [kv.value.int_value for kv in span.attributes if kv.key == "http.status_code"]
            if codes:  # the server span, and the "http send" span of the response start
                which = "http send" if span.name.endswith(" http send") else "server"
                found[(which, codes[0])] = span.status.code
        return found

    exporter = InMemorySpanExporter()
    sdk = SDKProvider()
    sdk.add_span_processor(SimpleSpanProcessor(exporter))
    serve_asgi(sdk)
    sdk_request = encode_spans(exporter.get_finished_spans())
    expected = statuses(sdk_request.resource_spans[0].scope_spans[0].spans)

    tracer, reporter = new_test_tracer("svc")
    serve_asgi(jaeger_lite.otel.TracerProvider(tracer, set_propagator=False))
    sender = OTLPSender("http://127.0.0.1:9/v1/traces")
    sender.set_process("svc", {})
    ours = ExportTraceServiceRequest.FromString(sender.body(sender.encode_spans(reporter.spans)))
    got = statuses(span for scope in ours.resource_spans[0].scope_spans for span in scope.spans)
    tracer.close()
    # UNSET 0, ERROR 2: a 404 leaves both spans unset, a 503 is an error on both.
    assert expected == {
        ("server", 200): 0, ("http send", 200): 0,
        ("server", 404): 0, ("http send", 404): 0,
        ("server", 503): 2, ("http send", 503): 2,
    }  # fmt: skip
    assert got == expected

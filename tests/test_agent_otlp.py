"""The development agent speaks OTLP/HTTP: the OpenTelemetry Python SDK's own OTLP exporter
(protobuf, gzip) and jaeger_lite's OTLPSender (JSON) send to it over real sockets, its
traces join Thrift ones, bad bodies are refused, and it forwards OTLP unchanged."""

from __future__ import annotations

import gzip
import io
import json
import signal
import threading
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status as ProtoStatus
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

import jaeger_lite
from jaeger_lite import ConstSampler, OTLPSender, RemoteReporter, Tracer, UDPSender
from jaeger_lite.agent import DevAgent
from jaeger_lite.agent.model import FOLLOWS_FROM, SpanRecord

from ._otlp_collector import OTLPCollector

WAIT = 10.0


@pytest.fixture
def agent() -> Iterator[DevAgent]:
    with DevAgent(
        compact_port=0, binary_port=None, http_port=None, otlp_port=0, quiet_after=30,
        out=io.StringIO(), width=100,
    ) as running:  # fmt: skip
        yield running


def tags(span: SpanRecord) -> dict[str, Any]:
    return {t.key: t.value for t in span.tags}


def received(agent: DevAgent, count: int) -> dict[str, SpanRecord]:
    assert agent.wait_for_spans(count, WAIT)
    agent.flush()
    return {s.operation: s for trace in agent.traces for s in trace.spans}


def otel_tracer(agent: DevAgent, **exporter: Any) -> tuple[Any, TracerProvider]:
    provider = TracerProvider(resource=Resource.create({"service.name": "otel-svc", "zone": "eu"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(agent.otlp_url, **exporter)))
    return provider.get_tracer("my.library", "2.1"), provider


@pytest.mark.parametrize(
    "compression", [Compression.NoCompression, Compression.Gzip, Compression.Deflate]
)
def test_the_opentelemetry_sdk_exporter_sends_to_the_agent(
    agent: DevAgent, compression: Compression
) -> None:
    """Spans from the OTel SDK's own OTLP/HTTP exporter read as the Collector's
    translator makes Jaeger spans of them."""
    tracer, provider = otel_tracer(agent, compression=compression)
    other = SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=TraceFlags(1))
    with tracer.start_as_current_span("parent", kind=SpanKind.SERVER) as parent:
        with tracer.start_as_current_span(
            "child",
            kind=SpanKind.CLIENT,
            links=[Link(other, {"opentracing.ref_type": "follows_from"})],
        ) as child:
            child.set_attribute("http.method", "GET")
            child.set_attribute("retries", 3)
            child.add_event("cache-miss", {"key": "user:42"})
            child.set_status(Status(StatusCode.ERROR, "card declined"))
    provider.shutdown()
    spans = received(agent, 2)
    parent_record, child_record = spans["parent"], spans["child"]
    context = parent.get_span_context()
    assert parent_record.trace_id == context.trace_id == child_record.trace_id
    assert parent_record.span_id == context.span_id == child_record.parent_id
    assert parent_record.process.service == "otel-svc"
    assert {t.key: t.value for t in parent_record.process.tags}["zone"] == "eu"
    assert tags(child_record) == {
        "otel.scope.name": "my.library", "otel.scope.version": "2.1", "http.method": "GET",
        "retries": 3, "span.kind": "client", "otel.status_code": "ERROR", "error": True,
        "otel.status_description": "card declined",
    }  # fmt: skip
    assert tags(parent_record)["span.kind"] == "server"
    assert child_record.is_error and child_record.error_message == "card declined"
    (log,) = child_record.logs
    assert {f.key: f.value for f in log.fields} == {"event": "cache-miss", "key": "user:42"}
    assert [(r.kind, r.trace_id, r.span_id) for r in child_record.refs] == [
        (FOLLOWS_FROM, 0xABC, 0xDEF)
    ]
    assert child_record.duration >= 0 and child_record.start >= parent_record.start
    assert agent.stats.bad_http_bodies == 0


def test_otlp_json_and_thrift_spans_join_one_trace(agent: DevAgent) -> None:
    """A trace whose root went over UDP Thrift and whose child went over OTLP/JSON is
    one trace in the agent."""
    udp = Tracer("front", RemoteReporter(UDPSender("127.0.0.1", agent.compact_port or 0)),
                 ConstSampler(True))  # fmt: skip
    otlp = Tracer("back", RemoteReporter(OTLPSender(agent.otlp_url, protocol="http/json")),
                  ConstSampler(True))  # fmt: skip
    root = udp.start_span("root", tags={"span.kind": "server"})
    child = otlp.start_span("child", child_of=root, tags={"span.kind": "client", "n": 1.5})
    child.log_kv({"event": "retry", "attempt": 2})
    child.finish()
    root.finish()
    udp.close(WAIT)
    otlp.close(WAIT)
    assert agent.wait_for_spans(2, WAIT)
    agent.flush()
    (trace,) = agent.traces
    by_name = {s.operation: s for s in trace.spans}
    assert by_name["child"].parent_id == by_name["root"].span_id
    assert by_name["child"].process.service == "back"
    assert tags(by_name["child"]) == {
        "otel.scope.name": "jaeger_lite",  # as the Collector's translator shows every scope
        "otel.scope.version": jaeger_lite.__version__,
        "n": 1.5,
        "span.kind": "client",
    }
    assert tags(by_name["root"])["span.kind"] == "server"  # Thrift keeps it as a tag
    assert [(f.key, f.value) for f in by_name["child"].logs[0].fields] == [
        ("event", "retry"), ("attempt", 2),
    ]  # fmt: skip


def post(url: str, body: bytes, content_type: str, encoding: str = "") -> int:
    headers = {"Content-Type": content_type}
    if encoding:
        headers["Content-Encoding"] = encoding
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=WAIT) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_bad_bodies_are_refused_and_counted(agent: DevAgent) -> None:
    url = agent.otlp_url or ""
    assert post(url, b"\x0a\xff\xff", "application/x-protobuf") == 400  # truncated
    assert post(url, b"[1, 2]", "application/json") == 400
    assert post(url, b"{}", "text/plain") == 415
    assert post(url.replace("/v1/traces", "/v1/metrics"), b"", "application/json") == 404
    assert post(url, b"", "application/x-protobuf") == 200  # an empty request is valid
    assert agent.wait_for_payloads(2, WAIT)
    assert agent.stats.bad_http_bodies == 2


def test_compressed_bodies_cut_short_or_inflating_too_far_are_refused(
    agent: DevAgent, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gzip or deflate body cut short is refused (part of a request is not the request,
    as the Collector's readers say unexpected EOF); one inflating past the body limit (a
    compression bomb) gets 413 without being inflated further; the agent keeps serving."""
    from jaeger_lite.agent import server

    url = agent.otlp_url or ""
    whole = b'{"resourceSpans": []}'
    packed = {"gzip": gzip.compress(whole), "deflate": zlib.compress(whole)}
    checksum = {"gzip": 8, "deflate": 4}  # the trailer: CRC-32 and size, or Adler-32
    for encoding, body in packed.items():
        assert post(url, body, "application/json", encoding) == 200
        # Every byte of the request is there, but the stream is not whole: unchecked.
        assert post(url, body[: -checksum[encoding]], "application/json", encoding) == 400
        assert post(url, body[: len(body) // 2], "application/json", encoding) == 400
        assert post(url, b"not compressed", "application/json", encoding) == 400
    monkeypatch.setattr(server, "MAX_HTTP_BODY", 1 << 20)
    bomb = gzip.compress(b"\0" * (8 << 20))  # 8 MiB of zeros in about 8 KiB
    assert len(bomb) < 64 << 10
    assert post(url, bomb, "application/x-protobuf", "gzip") == 413
    assert post(url, packed["gzip"], "application/json", "gzip") == 200


def test_otlp_json_written_by_protobufs_own_json_mapping(agent: DevAgent) -> None:
    """protobuf's canonical JSON (``json_format`` here; Java's ``JsonFormat`` and Go's
    ``protojson`` write the same) gives enums by name and ids in base64; the Collector
    reads both, and so does the agent (names were answered 400 and the spans lost)."""
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    service = resource_spans.resource.attributes.add()
    service.key, service.value.string_value = "service.name", "proto-json"
    span = resource_spans.scope_spans.add().spans.add()
    span.trace_id, span.span_id = bytes(range(1, 17)), bytes(range(1, 9))
    span.name, span.kind = "charge", ProtoSpan.SPAN_KIND_SERVER
    span.start_time_unix_nano = 1_700_000_000 * 10**9
    span.end_time_unix_nano = span.start_time_unix_nano + 10**9
    span.status.code, span.status.message = ProtoStatus.STATUS_CODE_ERROR, "declined"
    body = json_format.MessageToJson(request).encode()
    assert b'"SPAN_KIND_SERVER"' in body and b'"STATUS_CODE_ERROR"' in body
    assert post(agent.otlp_url or "", body, "application/json") == 200
    record = received(agent, 1)["charge"]
    assert record.trace_id == int.from_bytes(bytes(range(1, 17)), "big")
    assert record.process.service == "proto-json" and record.duration == 1_000_000
    assert {k: v for k, v in tags(record).items() if k != "otel.status_description"} == {
        "span.kind": "server", "otel.status_code": "ERROR", "error": True,
    }  # fmt: skip


def test_a_lone_surrogate_in_otlp_json_does_not_break_the_query_api() -> None:
    """A JavaScript SDK that cuts an attribute at its length limit can split an emoji and
    JSON.stringify the half as a lone ``\\ud83d``. Go's decoder (the Collector's) turns it
    into U+FFFD; so does the agent, and the query API keeps answering for every trace (a
    string that UTF-8 cannot encode made /api/services and every search answer 500)."""
    with DevAgent(
        compact_port=None, binary_port=None, http_port=None, otlp_port=0, ui_port=0,
        quiet_after=30, out=io.StringIO(),
    ) as agent:  # fmt: skip
        span = (
            '{"traceId": "0102030405060708090a0b0c0d0e0f10", "spanId": "0102030405060708",'
            ' "name": "op \\ud83d", "startTimeUnixNano": "1700000000000000000",'
            ' "endTimeUnixNano": "1700000000100000000", "attributes": [{"key": "k\\udc00",'
            ' "value": {"stringValue": "cut \\ud83d"}}, {"key": "ok",'
            ' "value": {"stringValue": "\\ud83d\\ude00"}}]}'
        )
        service = '{"key": "service.name", "value": {"stringValue": "web\\ud83d"}}'
        body = (
            '{"resourceSpans": [{"resource": {"attributes": [' + service + "]},"
            ' "scopeSpans": [{"spans": [' + span + "]}]}]}"
        )
        assert post(agent.otlp_url or "", body.encode(), "application/json") == 200
        assert agent.wait_for_spans(1, WAIT)
        with urllib.request.urlopen(f"{agent.ui_url}api/services", timeout=WAIT) as answer:
            assert json.load(answer)["data"] == ["web\ufffd"]
        url = f"{agent.ui_url}api/traces?service=web%EF%BF%BD"
        with urllib.request.urlopen(url, timeout=WAIT) as answer:
            (trace,) = json.load(answer)["data"]
    (got,) = trace["spans"]
    assert got["operationName"] == "op \ufffd"
    found = {t["key"]: t["value"] for t in got["tags"]}
    assert found["k\ufffd"] == "cut \ufffd" and found["ok"] == "\U0001f600"


def test_forwarding_to_an_otlp_endpoint() -> None:
    """--forward URL: every OTLP export goes on unchanged (marked, so an agent receiving
    it does not forward it again)."""
    with OTLPCollector() as collector, DevAgent(
        compact_port=None, binary_port=None, http_port=None, otlp_port=0,
        forward_otlp=collector.url, out=io.StringIO(),
    ) as agent:  # fmt: skip
        tracer = Tracer("svc", RemoteReporter(OTLPSender(agent.otlp_url)), ConstSampler(True))
        tracer.start_span("relayed").finish()
        tracer.close(WAIT)
        assert collector.wait_for(1)
        assert [s.name for s in collector.spans()] == ["relayed"]
        assert collector.received[0].headers["X-Jaeger-Lite-Forwarded"] == "1"
        assert agent.stats.forwarded == 1


def test_forwarding_exports_from_many_senders_at_once() -> None:
    """Each OTLP request is served on its own thread; the relay's one connection carries
    one exchange at a time, so every export is kept and forwarded (interleaved on the
    connection, they garbled each other: exports answered 400 and their spans were lost)."""
    senders, each = 12, 5
    statuses: list[int] = []
    with OTLPCollector() as collector, DevAgent(
        compact_port=None, binary_port=None, http_port=None, otlp_port=0,
        forward_otlp=collector.url, out=io.StringIO(), quiet_after=30,
    ) as agent:  # fmt: skip

        def send(sender: int) -> None:
            for n in range(each):
                span = {
                    "traceId": f"{sender * 100 + n + 1:032x}",
                    "spanId": f"{1:016x}",
                    "name": "x" * 4000,
                    "startTimeUnixNano": "1",
                    "endTimeUnixNano": "2",
                }
                scope = {"scopeSpans": [{"spans": [span]}]}
                body = json.dumps({"resourceSpans": [scope]}).encode()
                statuses.append(post(agent.otlp_url or "", body, "application/json"))

        threads = [threading.Thread(target=send, args=(i,)) for i in range(senders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT)
        assert statuses == [200] * (senders * each)
        assert agent.wait_for_spans(senders * each, WAIT)
        assert collector.wait_for(senders * each)
        assert len(collector.spans()) == senders * each
        assert agent.stats.forwarded == senders * each and agent.stats.forward_errors == 0


def test_a_forwarded_export_is_not_forwarded_again() -> None:
    with OTLPCollector() as collector, DevAgent(
        compact_port=None, binary_port=None, http_port=None, otlp_port=0,
        forward_otlp=collector.url, out=io.StringIO(),
    ) as agent:  # fmt: skip
        sender = OTLPSender(agent.otlp_url, headers={"X-Jaeger-Lite-Forwarded": "1"})
        tracer = Tracer("svc", RemoteReporter(sender), ConstSampler(True))
        tracer.start_span("looped").finish()
        tracer.close(WAIT)
        assert agent.wait_for_spans(1, WAIT)
        assert collector.received == [] and agent.stats.forwarded == 0


def test_the_command_listens_for_otlp() -> None:
    """`jaeger-lite agent --otlp-port auto` names the OTLP listener in its banner."""
    from .test_agent_cli import Agent

    agent = Agent("--compact-port", "auto", "--binary-port", "off", "--http-port", "off",
                  "--otlp-port", "auto")  # fmt: skip
    try:
        agent.wait_for(lambda line: "traces print after" in line)
        assert any("otlp     http://127.0.0.1:" in line for line in agent.lines)
    finally:
        assert agent.stop(signal.SIGINT) == 0

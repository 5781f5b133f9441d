"""What OTLPSender puts on the wire, decoded by opentelemetry-proto's generated classes
(protobuf) and protobuf's json_format (JSON): a rich trace, field by field, and each
mapping rule (the OpenTelemetry Collector translator's, docs/otlp.md)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as PbSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status

import jaeger_lite
from jaeger_lite import OTLPSender, SpanContext, Tracer, child_of, follows_from
from jaeger_lite.span import Span
from jaeger_lite.testing import new_test_tracer

from ._otlp_collector import parse_otlp_json

PROTOCOLS = ["http/protobuf", "http/json"]
TRACE_ID = (1 << 127) | 0x0123_4567_89AB_CDEF_FEDC_BA98  # 128 bits, top bit set
PARENT_ID = (1 << 63) + 0xBEEF  # >= 2**63: negative as an i64
OTHER_TRACE = 0xFFFF_FFFF_FFFF_FFFF  # a 64-bit trace id: high half zero on the wire


def export(spans: list[Span], protocol: str, tracer_tags: Any = None) -> ExportTraceServiceRequest:
    """Encode ``spans`` as one request and decode it independently."""
    sender = OTLPSender("http://127.0.0.1:9/v1/traces", protocol=protocol)
    sender.set_process("checkout", tracer_tags or {"team": "payments"})
    body = sender.body(sender.encode_spans(spans))
    if protocol == "http/json":
        return parse_otlp_json(body)
    return ExportTraceServiceRequest.FromString(body)


def only_span(request: ExportTraceServiceRequest) -> PbSpan:
    (resource_spans,) = request.resource_spans
    (scope_spans,) = resource_spans.scope_spans
    (span,) = scope_spans.spans
    return span


def value(any_value: AnyValue) -> Any:
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind)


def attrs(items: Any) -> dict[str, Any]:
    return {kv.key: value(kv.value) for kv in items}


def finished(tracer: Tracer, name: str, **kwargs: Any) -> Span:
    """A finished span; a child (of a remote parent) unless told otherwise, so it carries
    no sampler tags (roots do)."""
    if "child_of" not in kwargs and "references" not in kwargs:
        kwargs["child_of"] = SpanContext(TRACE_ID, PARENT_ID, flags=1)
    span = tracer.start_span(name, **kwargs)
    span.finish()
    return span


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_rich_span_field_by_field(protocol: str) -> None:
    """128-bit ids, an id >= 2**63, every tag type, events, a link, times, flags."""
    tracer, _ = new_test_tracer("checkout")
    parent = SpanContext(TRACE_ID, PARENT_ID, flags=1)
    other = SpanContext(OTHER_TRACE, PARENT_ID + 1, flags=1)
    span = tracer.start_span(
        "GET /users/{id}", child_of=parent, references=[follows_from(other)], start_time=1.5
    )
    tags = {
        "str": "text ✓", "true": True, "false": False, "zero": 0, "neg": -7,
        "i64max": (1 << 63) - 1, "i64min": -(1 << 63), "huge": 1 << 64, "float": 2.25,
        "nan": math.nan, "inf": math.inf, "-inf": -math.inf, "bytes": b"\x00\xffx",
        "object": ["a", 1],
    }  # fmt: skip
    for key, tag in tags.items():
        span.set_tag(key, tag)
    span.log_kv({"event": "cache-miss", "key": "user:42", "n": 3}, timestamp=1.75)
    span.log_kv({"message": "no event field"}, timestamp=1.875)
    span.finish(finish_time=2.0)
    pb = only_span(export([span], protocol))

    assert pb.trace_id == TRACE_ID.to_bytes(16, "big")
    assert pb.span_id == span.context.span_id.to_bytes(8, "big")
    assert pb.parent_span_id == PARENT_ID.to_bytes(8, "big")
    assert pb.name == "GET /users/{id}"
    assert pb.kind == PbSpan.SPAN_KIND_UNSPECIFIED  # no span.kind tag, as the translator
    assert (pb.start_time_unix_nano, pb.end_time_unix_nano) == (1_500_000_000, 2_000_000_000)
    assert pb.flags == 1  # the W3C sampled bit
    got = attrs(pb.attributes)
    assert got.pop("nan") != got.pop("nan", 0)  # NaN is not equal to itself
    assert got == {
        "str": "text ✓", "true": True, "false": False, "zero": 0, "neg": -7,
        "i64max": (1 << 63) - 1, "i64min": -(1 << 63), "huge": str(1 << 64), "float": 2.25,
        "inf": math.inf, "-inf": -math.inf, "bytes": b"\x00\xffx", "object": "['a', 1]",
    }  # fmt: skip
    first, second = pb.events
    assert (first.name, first.time_unix_nano) == ("cache-miss", 1_750_000_000)
    assert attrs(first.attributes) == {"key": "user:42", "n": 3}
    assert (second.name, second.time_unix_nano) == ("", 1_875_000_000)
    assert attrs(second.attributes) == {"message": "no event field"}
    (link,) = pb.links
    assert link.trace_id == OTHER_TRACE.to_bytes(16, "big")
    assert link.span_id == (PARENT_ID + 1).to_bytes(8, "big")
    assert attrs(link.attributes) == {"opentracing.ref_type": "follows_from"}
    assert pb.status.code == Status.STATUS_CODE_UNSET


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_resource_and_scope(protocol: str) -> None:
    """Service name, the SDK's and the process's attributes, the tracer's tags (a Jaeger
    ``hostname`` is ``host.name``); scope jaeger_lite at our version."""
    tracer, _ = new_test_tracer("checkout")
    request = export([finished(tracer, "op")], protocol, {"team": "x", "hostname": "box-1"})
    (resource_spans,) = request.resource_spans
    resource = attrs(resource_spans.resource.attributes)
    assert resource.pop("service.instance.id")
    assert isinstance(resource.pop("process.pid"), int)
    assert resource.pop("process.runtime.name") == "cpython"
    assert resource.pop("process.runtime.version")
    assert resource == {
        "service.name": "checkout",
        "telemetry.sdk.name": "jaeger_lite",
        "telemetry.sdk.language": "python",
        "telemetry.sdk.version": jaeger_lite.__version__,
        "host.name": "box-1",
        "team": "x",
    }
    (scope_spans,) = resource_spans.scope_spans
    assert (scope_spans.scope.name, scope_spans.scope.version) == (
        "jaeger_lite",
        jaeger_lite.__version__,
    )


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_root_span_keeps_the_sampler_tags(protocol: str) -> None:
    """sampler.type/sampler.param stay on root spans (Jaeger v2's adaptive sampling)."""
    tracer = Tracer("svc", jaeger_lite.InMemoryReporter(), jaeger_lite.ProbabilisticSampler(1.0))
    root = tracer.start_span("root")
    root.finish()
    pb = only_span(export([root], protocol))
    assert attrs(pb.attributes) == {"sampler.type": "probabilistic", "sampler.param": 1.0}
    assert pb.parent_span_id == b""


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(
    ("tag", "kind"),
    [("client", 3), ("server", 2), ("producer", 4), ("consumer", 5), ("internal", 1)],
)
def test_span_kind_tag_becomes_the_kind(protocol: str, tag: str, kind: int) -> None:
    tracer, _ = new_test_tracer()
    pb = only_span(export([finished(tracer, "op", tags={"span.kind": tag, "a": 1})], protocol))
    assert pb.kind == kind
    assert attrs(pb.attributes) == {"a": 1}  # not repeated as an attribute


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_unknown_span_kind_stays_an_attribute(protocol: str) -> None:
    tracer, _ = new_test_tracer()
    pb = only_span(export([finished(tracer, "op", tags={"span.kind": "rpc"})], protocol))
    assert pb.kind == 0
    assert attrs(pb.attributes) == {"span.kind": "rpc"}


def _status(protocol: str, tags: dict[str, Any], error: bool = False) -> tuple[int, str, dict]:
    tracer, _ = new_test_tracer()
    span = tracer.start_span("op", tags=tags, child_of=SpanContext(TRACE_ID, PARENT_ID, flags=1))
    if error:
        span.record_exception(ValueError("card declined"))
    span.finish()
    pb = only_span(export([span], protocol))
    return pb.status.code, pb.status.message, attrs(pb.attributes)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_status_rules(protocol: str) -> None:
    """error=true → ERROR (the description from otel.status_description, else the error
    log); otel.status_code OK/ERROR; an HTTP status of 5xx, or 4xx on a client span →
    ERROR."""
    assert _status(protocol, {}, error=True) == (2, "card declined", {})
    assert _status(protocol, {"error": True, "otel.status_description": "d"}) == (2, "d", {})
    assert _status(protocol, {"otel.status_code": "OK", "otel.status_description": "fine"}) == (
        1, "fine", {},
    )  # fmt: skip
    assert _status(protocol, {"otel.status_code": "ERROR", "x": 1}) == (2, "", {"x": 1})
    assert _status(protocol, {"error": False}) == (0, "", {"error": False})
    assert _status(protocol, {"http.status_code": 503}) == (2, "", {"http.status_code": 503})
    client_404 = {"http.status_code": 404, "span.kind": "client"}
    assert _status(protocol, client_404)[:2] == (2, "")
    server_404 = {"http.status_code": 404, "span.kind": "server"}
    assert _status(protocol, server_404)[:2] == (0, "")
    assert _status(protocol, {"http.status_code": 200})[:2] == (0, "")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_error_log_alone_is_no_error(protocol: str) -> None:
    """OpenTracing's error tag says the operation failed, not an event=error log (which
    the Collector's translator does not read either: Thrift and OTLP agree)."""
    tracer, _ = new_test_tracer()
    span = tracer.start_span("op")
    span.log_kv({"event": "error", "message": "retried, then fine"})
    span.finish()
    pb = only_span(export([span], protocol))
    assert (pb.status.code, pb.status.message) == (0, "")
    assert pb.events[0].name == "error"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_error_tag_takes_its_message_from_the_error_log(protocol: str) -> None:
    """error=true with an event=error log: ERROR, the log's message as the description."""
    tracer, _ = new_test_tracer()
    span = tracer.start_span("op", tags={"error": True})
    span.log_kv({"event": "error", "message": "timed out"})
    span.finish()
    pb = only_span(export([span], protocol))
    assert (pb.status.code, pb.status.message) == (2, "timed out")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_bridge_span_s_status_is_set_status_s_alone(protocol: str) -> None:
    """An OpenTelemetry span's event named "error" sets no status, gives no description
    to set_status(ERROR) and does not override set_status(OK)."""
    pytest.importorskip("opentelemetry.trace")
    from opentelemetry.trace import StatusCode

    import jaeger_lite.otel

    tracer, reporter = new_test_tracer()
    otel_tracer = jaeger_lite.otel.TracerProvider(tracer, set_propagator=False).get_tracer("t")
    for name, status in (("unset", None), ("error", StatusCode.ERROR), ("ok", StatusCode.OK)):
        span = otel_tracer.start_span(name)
        span.add_event("error", {"message": "an event, not a status"})
        if status is not None:
            span.set_status(status)
        span.end()
    request = export(reporter.spans, protocol)
    statuses = {
        span.name: (span.status.code, span.status.message)
        for scope_spans in request.resource_spans[0].scope_spans
        for span in scope_spans.spans
    }
    assert statuses == {"unset": (0, ""), "error": (2, ""), "ok": (1, "")}
    tracer.close()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_references_parent_and_links(protocol: str) -> None:
    """The first ChildOf is the parent; a second ChildOf and a FollowsFrom are links
    marked child_of / follows_from."""
    tracer, _ = new_test_tracer()
    a = SpanContext(TRACE_ID, 11, flags=1)
    b = SpanContext(TRACE_ID, 12, flags=1)
    c = SpanContext(OTHER_TRACE, 13, flags=0)
    span = finished(tracer, "join", references=[child_of(a), child_of(b), follows_from(c)])
    pb = only_span(export([span], protocol))
    assert pb.parent_span_id == (11).to_bytes(8, "big")
    links = [(int.from_bytes(x.span_id, "big"), attrs(x.attributes), x.flags) for x in pb.links]
    assert links == [
        (12, {"opentracing.ref_type": "child_of"}, 1),
        (13, {"opentracing.ref_type": "follows_from"}, 0),
    ]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_follows_from_only_span_has_that_parent_and_a_marked_link(protocol: str) -> None:
    """As Jaeger and the translator read it: the FollowsFrom span is the parent, and the
    link says follows_from so a reader (or the way back to Jaeger) can tell."""
    tracer, _ = new_test_tracer()
    upstream = finished(tracer, "producer")
    span = finished(tracer, "consumer", references=[follows_from(upstream)])
    assert span.context.parent_id == 0
    pb = only_span(export([span], protocol))
    assert pb.parent_span_id == upstream.context.span_id.to_bytes(8, "big")
    (link,) = pb.links
    assert link.span_id == upstream.context.span_id.to_bytes(8, "big")
    assert attrs(link.attributes) == {"opentracing.ref_type": "follows_from"}


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_trace_state(protocol: str) -> None:
    """A W3C tracestate carried by the context, or a w3c.tracestate tag, is trace_state."""
    tracer, _ = new_test_tracer()
    parent = SpanContext(TRACE_ID, PARENT_ID, flags=1, trace_state="vendor=a,other=b")
    pb = only_span(export([finished(tracer, "op", child_of=parent)], protocol))
    assert pb.trace_state == "vendor=a,other=b"
    tagged = finished(tracer, "op", tags={"w3c.tracestate": "k=v"})
    pb = only_span(export([tagged], protocol))
    assert (pb.trace_state, attrs(pb.attributes)) == ("k=v", {})


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_scope_tags_group_spans_by_scope(protocol: str) -> None:
    """otel.scope.name/version (or the older otel.library.*) put a span in a ScopeSpans
    of that scope, in order of first appearance, and leave its attributes."""
    tracer, _ = new_test_tracer()
    spans = [
        finished(tracer, "a"),
        finished(tracer, "b", tags={"otel.scope.name": "flask", "otel.scope.version": "3.0"}),
        finished(tracer, "c", tags={"otel.library.name": "old", "otel.library.version": "1"}),
        finished(tracer, "d", tags={"otel.scope.name": "flask", "otel.scope.version": "3.0"}),
    ]
    (resource_spans,) = export(spans, protocol).resource_spans
    groups = [
        (g.scope.name, g.scope.version, [(x.name, len(x.attributes)) for x in g.spans])
        for g in resource_spans.scope_spans
    ]
    assert groups == [
        ("jaeger_lite", jaeger_lite.__version__, [("a", 0)]),
        ("flask", "3.0", [("b", 0), ("d", 0)]),
        ("old", "1", [("c", 0)]),
    ]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_text_that_is_not_unicode_still_encodes(protocol: str) -> None:
    tracer, _ = new_test_tracer()
    span = finished(tracer, "bad\ud800name", tags={"k\udfff": "v\ud800"})
    pb = only_span(export([span], protocol))
    assert pb.name == "bad?name"
    assert attrs(pb.attributes) == {"k?": "v?"}

"""OTLP Span.flags and Link.flags bits 8-9 (trace.proto's CONTEXT_HAS_IS_REMOTE 0x100 and
CONTEXT_IS_REMOTE 0x200, beside the W3C sampled bit): whether the parent (or the linked
context) came from another process, decoded by opentelemetry-proto's classes."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as PbSpan
from opentelemetry.proto.trace.v1.trace_pb2 import SpanFlags

from jaeger_lite import Format, OTLPSender, SpanContext, Tracer, child_of, follows_from
from jaeger_lite.span import Span
from jaeger_lite.testing import new_test_tracer

from ._otlp_collector import parse_otlp_json

PROTOCOLS = ["http/protobuf", "http/json"]
HAS = SpanFlags.SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK  # 0x100
REMOTE = SpanFlags.SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK  # 0x200
SAMPLED = SpanFlags.SPAN_FLAGS_TRACE_FLAGS_MASK & 1

LOCAL_PARENT = HAS | SAMPLED  # also a root's
REMOTE_PARENT = HAS | REMOTE | SAMPLED
UNKNOWN = SAMPLED  # bits 8-9 clear: not known


def test_the_masks_are_the_proto_s() -> None:
    """The values this file expects come from trace.proto itself."""
    assert (HAS, REMOTE) == (0x100, 0x200)


def decoded(spans: list[Span], protocol: str) -> dict[str, PbSpan]:
    """The spans as an independent decoder reads our request, by name."""
    sender = OTLPSender("http://127.0.0.1:9/v1/traces", protocol=protocol)
    sender.set_process("svc", {})
    body = sender.body(sender.encode_spans(spans))
    request = (
        parse_otlp_json(body)
        if protocol == "http/json"
        else ExportTraceServiceRequest.FromString(body)
    )
    return {
        span.name: span
        for resource_spans in request.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    }


def headers_from(propagation: str, fmt: str = Format.HTTP_HEADERS) -> dict[str, str]:
    """What another process (its own tracer) sends for a sampled span."""
    upstream, _ = new_test_tracer("upstream", propagation=propagation)
    carrier: dict[str, str] = {}
    with upstream.start_active_span("caller") as scope:
        scope.span.set_baggage_item("k", "v")
        upstream.inject(scope.span.context, fmt, carrier)
    return carrier


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_root_and_its_local_children_have_a_local_parent(protocol: str) -> None:
    """Root: HAS_IS_REMOTE set, IS_REMOTE clear; children made every local way alike."""
    tracer, reporter = new_test_tracer()
    with tracer.start_active_span("root") as scope:
        with tracer.start_active_span("active child"):
            pass
        tracer.start_span("child of span", child_of=scope.span).finish()
        tracer.start_span("child of its context", child_of=scope.span.context).finish()
        scope.span.set_baggage_item("k", "v")  # a side object, inherited by the child
        with tracer.start_active_span("child with baggage"):
            pass
    spans = decoded(reporter.spans, protocol)
    assert {name: span.flags for name, span in spans.items()} == {
        "root": LOCAL_PARENT,
        "active child": LOCAL_PARENT,
        "child of span": LOCAL_PARENT,
        "child of its context": LOCAL_PARENT,
        "child with baggage": LOCAL_PARENT,
    }


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("propagation", ["jaeger", "b3", "b3-single", "w3c"])
@pytest.mark.parametrize("fmt", [Format.TEXT_MAP, Format.HTTP_HEADERS])
def test_a_child_of_an_extracted_context_has_a_remote_parent(
    protocol: str, propagation: str, fmt: str
) -> None:
    """Both carrier formats, every header family; the grandchild's parent is local again."""
    tracer, reporter = new_test_tracer(propagation=propagation)
    context = tracer.extract(fmt, headers_from(propagation, fmt))
    assert context is not None and context.is_remote is True
    with tracer.start_active_span("server", child_of=context):
        with tracer.start_active_span("grandchild"):
            pass
    tracer.start_span("started", child_of=context).finish()
    spans = decoded(reporter.spans, protocol)
    assert spans["server"].parent_span_id == context.span_id.to_bytes(8, "big")
    assert spans["server"].flags == REMOTE_PARENT
    assert spans["started"].flags == REMOTE_PARENT
    assert spans["grandchild"].flags == LOCAL_PARENT


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_binary_format_and_a_user_codec_extract_remote_contexts(protocol: str) -> None:
    """The BINARY codec marks its contexts; a codec of the user's that builds a plain
    SpanContext is marked by tracer.extract."""

    class HandMade:
        def inject(self, span_context: SpanContext, carrier: Any) -> None:
            carrier["id"] = f"{span_context.trace_id}:{span_context.span_id}"

        def extract(self, carrier: Any) -> SpanContext:
            trace_id, span_id = map(int, carrier["id"].split(":"))
            return SpanContext(trace_id, span_id, 0, 1)

    tracer, reporter = new_test_tracer(codecs={"mine": HandMade()})
    upstream, _ = new_test_tracer("upstream", codecs={"mine": HandMade()})
    carrier: dict[str, Any] = {}
    with upstream.start_active_span("caller") as scope:
        upstream.inject(scope.span.context, "mine", carrier)
        binary = bytearray()
        upstream.inject(scope.span.context, Format.BINARY, binary)
    tracer.start_span("mine", child_of=tracer.extract("mine", carrier)).finish()
    tracer.start_span("binary", child_of=tracer.extract(Format.BINARY, binary)).finish()
    spans = decoded(reporter.spans, protocol)
    assert spans["mine"].flags == REMOTE_PARENT
    assert spans["binary"].flags == REMOTE_PARENT


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_hand_built_parent_is_not_known_and_a_baggage_only_one_starts_a_root(
    protocol: str,
) -> None:
    """SpanContext(...) says nothing of where it came from: bits 8-9 stay clear. A context
    extracted with baggage but no trace makes a root (HAS_IS_REMOTE, not remote)."""
    tracer, reporter = new_test_tracer()
    tracer.start_span("hand-built", child_of=SpanContext(7, 8, 0, 1)).finish()
    baggage_only = tracer.extract(Format.HTTP_HEADERS, {"jaeger-baggage": "k=v"})
    assert baggage_only is not None and not baggage_only.has_trace
    tracer.start_span("baggage only", child_of=baggage_only).finish()
    spans = decoded(reporter.spans, protocol)
    assert spans["hand-built"].flags == UNKNOWN
    assert spans["baggage only"].flags == LOCAL_PARENT
    assert not spans["baggage only"].parent_span_id


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_links_say_whether_their_context_is_remote(protocol: str) -> None:
    """A reference that becomes a link carries its context's origin; a FollowsFrom-only
    span's parent (taken from the reference) is remote when the context is."""
    tracer, reporter = new_test_tracer()
    remote = tracer.extract(Format.HTTP_HEADERS, headers_from("jaeger"))
    assert remote is not None
    with tracer.start_active_span("local") as scope:
        local = scope.span
    other_trace = tracer.start_span("other root", ignore_active_span=True)
    other_trace.finish()
    tracer.start_span(
        "linked",
        child_of=local,
        references=[
            follows_from(remote),
            follows_from(other_trace),
            child_of(SpanContext(5, 6, 0, 1)),
        ],
    ).finish()
    tracer.start_span("follows remote", references=[follows_from(remote)]).finish()
    spans = decoded(reporter.spans, protocol)
    links = {int.from_bytes(link.span_id, "big"): link.flags for link in spans["linked"].links}
    assert links == {
        remote.span_id: REMOTE_PARENT,
        other_trace.context.span_id: LOCAL_PARENT,
        6: UNKNOWN,
    }
    assert spans["linked"].flags == LOCAL_PARENT
    follows = spans["follows remote"]
    assert follows.parent_span_id == remote.span_id.to_bytes(8, "big")
    assert follows.flags == REMOTE_PARENT


def test_is_remote_survives_new_baggage_and_is_not_part_of_equality() -> None:
    """with_baggage_item keeps it (the OTel bridge adds baggage that way); two contexts
    that differ only in it are equal, as before."""
    tracer, _ = new_test_tracer()
    context = tracer.extract(Format.HTTP_HEADERS, headers_from("jaeger"))
    assert context is not None
    assert context.with_baggage_item("x", "y").is_remote is True
    assert context.with_flags(0).is_remote is True
    plain = SpanContext(
        context.trace_id, context.span_id, context.parent_id, context.flags, context.baggage
    )
    assert plain.is_remote is None and plain == context


def exported(tracer: Tracer, protocol: str) -> dict[str, PbSpan]:
    reporter: Any = tracer.reporter
    return decoded(reporter.spans, protocol)


otel = pytest.importorskip("opentelemetry.trace")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_bridge_spans_under_remote_and_local_parents(protocol: str) -> None:
    """The bridge's parents: our propagator's remote context, OpenTelemetry's own W3C
    propagator's, a local bridge span; a jaeger_lite span under a remote OTel parent."""
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    import jaeger_lite.otel

    tracer, _ = new_test_tracer("svc")
    provider = jaeger_lite.otel.TracerProvider(tracer, set_propagator=False)
    otel_tracer = provider.get_tracer("tests")
    ours = jaeger_lite.otel.Propagator(tracer).extract(headers_from("jaeger"))
    theirs = TraceContextTextMapPropagator().extract(headers_from("w3c"))
    with otel_tracer.start_as_current_span("under ours", context=ours):
        with otel_tracer.start_as_current_span("local"):
            pass
    otel_tracer.start_span("under theirs", context=theirs).end()
    from opentelemetry import context as otel_context

    token = otel_context.attach(theirs)
    try:
        with tracer.start_active_span("jaeger api under theirs"):
            pass
    finally:
        otel_context.detach(token)
    spans = exported(tracer, protocol)
    assert spans["under ours"].flags == REMOTE_PARENT
    assert spans["under theirs"].flags == REMOTE_PARENT
    assert spans["jaeger api under theirs"].flags == REMOTE_PARENT
    assert spans["local"].flags == LOCAL_PARENT
    tracer.close()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_bridge_links_to_remote_and_local_contexts(protocol: str) -> None:
    """OpenTelemetry links keep their context's is_remote; the bridge's ``parent`` too."""
    from opentelemetry.trace import Link, NonRecordingSpan, TraceFlags
    from opentelemetry.trace import SpanContext as OTelSpanContext

    import jaeger_lite.otel

    tracer, _ = new_test_tracer("svc")
    provider = jaeger_lite.otel.TracerProvider(tracer, set_propagator=False)
    otel_tracer = provider.get_tracer("tests")
    remote = OTelSpanContext(0xABC, 0xDEF, True, TraceFlags(1))
    with otel_tracer.start_as_current_span("local") as local:
        pass
    otel_tracer.start_span("linked", links=[Link(remote), Link(local.get_span_context())]).end()
    parent = otel.set_span_in_context(NonRecordingSpan(remote))
    child = otel_tracer.start_span("child", context=parent)
    child.end()
    assert child.parent is not None and child.parent.is_remote is True
    spans = exported(tracer, protocol)
    links = {int.from_bytes(link.span_id, "big"): link.flags for link in spans["linked"].links}
    assert links == {0xDEF: REMOTE_PARENT, local.get_span_context().span_id: LOCAL_PARENT}
    tracer.close()

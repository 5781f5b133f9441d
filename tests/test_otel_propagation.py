"""OpenTelemetry's propagation API carrying jaeger_lite contexts: our Propagator writes the
tracer's formats, OpenTelemetry's own propagators read and write our spans' contexts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("opentelemetry.trace")

from opentelemetry import baggage, propagate, trace
from opentelemetry import context as otel_context
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagators.b3 import B3MultiFormat, B3SingleFormat
from opentelemetry.propagators.jaeger import JaegerPropagator
from opentelemetry.trace.propagation.tracecontext import (
    TraceContextTextMapPropagator,
)

import jaeger_lite
import jaeger_lite.otel
from jaeger_lite import ConstSampler, Format, InMemoryReporter, Tracer


@pytest.fixture(autouse=True)
def _restore_global_propagator() -> Iterator[None]:
    saved = propagate.get_global_textmap()
    yield
    propagate.set_global_textmap(saved)


def make(propagation: str = "jaeger", sampled: bool = True) -> tuple[Tracer, InMemoryReporter]:
    reporter = InMemoryReporter()
    tracer = Tracer("svc", reporter, ConstSampler(sampled), propagation=propagation)
    return tracer, reporter


def otel_tracer(tracer: Tracer, **options: Any) -> trace.Tracer:
    return jaeger_lite.otel.TracerProvider(tracer, **options).get_tracer("tests")


def test_the_provider_installs_the_propagator_unless_otel_propagators_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No OTEL_PROPAGATORS: ours becomes global; with it (or set_propagator=False): not."""
    tracer, _ = make()
    monkeypatch.setenv("OTEL_PROPAGATORS", "tracecontext")
    before = propagate.get_global_textmap()
    jaeger_lite.otel.TracerProvider(tracer)
    assert propagate.get_global_textmap() is before
    jaeger_lite.otel.TracerProvider(tracer, set_propagator=False)
    assert propagate.get_global_textmap() is before
    monkeypatch.delenv("OTEL_PROPAGATORS")
    jaeger_lite.otel.TracerProvider(tracer)
    assert isinstance(propagate.get_global_textmap(), jaeger_lite.otel.Propagator)


@pytest.mark.parametrize("propagation", ["jaeger", "b3", "b3-single", "w3c", "jaeger,w3c"])
def test_inject_writes_what_the_tracers_own_inject_writes(propagation: str) -> None:
    """opentelemetry.propagate.inject in an OTel span = tracer.inject of that span."""
    tracer, _ = make(propagation)
    otel = otel_tracer(tracer)
    with otel.start_as_current_span("client") as span:
        span.jaeger_span.set_baggage_item("tenant", "acme")
        headers: dict[str, str] = {}
        propagate.inject(headers)
        expected: dict[str, str] = {}
        tracer.inject(span.jaeger_span, Format.HTTP_HEADERS, expected)
    assert headers == expected
    assert headers  # something was written


def test_inject_of_a_jaeger_lite_active_span(monkeypatch: pytest.MonkeyPatch) -> None:
    """The span active through jaeger_lite's API is what OTel instrumentations inject."""
    tracer, _ = make()
    otel_tracer(tracer)
    with tracer.start_active_span("op") as scope:
        headers: dict[str, str] = {}
        propagate.inject(headers)
    assert headers["uber-trace-id"] == str(scope.span.context)


def test_otel_baggage_is_injected_too_and_the_spans_own_wins() -> None:
    """Baggage set through OpenTelemetry's API travels with the span's own baggage."""
    tracer, _ = make()
    otel = otel_tracer(tracer)
    with otel.start_as_current_span("op") as span:
        span.jaeger_span.set_baggage_item("tenant", "from-span")
        ctx = baggage.set_baggage("tenant", "from-otel")
        ctx = baggage.set_baggage("region", "eu", ctx)
        headers: dict[str, str] = {}
        propagate.inject(headers, context=trace.set_span_in_context(span, ctx))
    assert headers["uberctx-tenant"] == "from-span"
    assert headers["uberctx-region"] == "eu"


@pytest.mark.parametrize("propagation", ["jaeger", "b3", "w3c"])
def test_otel_baggage_without_a_span_is_injected_as_opentelemetrys_propagators_do(
    propagation: str,
) -> None:
    """Baggage set through OpenTelemetry's API with no span current (or the invalid span)
    travels in the format's baggage headers, as OpenTelemetry's W3C baggage propagator
    sends it without a span, and reads back as baggage (it was dropped)."""
    tracer, _ = make(propagation)
    ours = jaeger_lite.otel.Propagator(tracer)
    alone = baggage.set_baggage("tenant", "acme")
    for context in (alone, trace.set_span_in_context(trace.INVALID_SPAN, alone)):
        headers: dict[str, str] = {}
        ours.inject(headers, context=context)
        expected: dict[str, str] = {}
        tracer.inject(
            jaeger_lite.SpanContext(0, 0, baggage={"tenant": "acme"}), Format.HTTP_HEADERS, expected
        )
        assert headers == expected != {}
        assert baggage.get_all(ours.extract(headers)) == {"tenant": "acme"}
        otel_headers: dict[str, str] = {}
        W3CBaggagePropagator().inject(otel_headers, context=context)
        assert otel_headers == {"baggage": "tenant=acme"}
    nothing: dict[str, str] = {}
    ours.inject(nothing, context=trace.set_span_in_context(trace.INVALID_SPAN))
    ours.inject(nothing, context=otel_context.Context())
    assert nothing == {}


def test_extract_continues_the_trace_with_baggage_in_both_apis() -> None:
    """Extracted context: the parent of the next span, baggage readable through both."""
    upstream, _ = make("w3c")
    tracer, reporter = make("w3c")
    otel = otel_tracer(tracer)
    with upstream.start_active_span("upstream") as scope:
        scope.span.set_baggage_item("tenant", "acme")
        headers: dict[str, str] = {}
        upstream.inject(scope.span, Format.HTTP_HEADERS, headers)
    context = propagate.extract(headers)
    assert baggage.get_baggage("tenant", context) == "acme"
    with otel.start_as_current_span("server", context=context) as span:
        assert span.jaeger_span.get_baggage_item("tenant") == "acme"
    (server,) = reporter.spans
    assert server.context.trace_id == scope.span.context.trace_id
    assert server.context.parent_id == scope.span.context.span_id


def test_extract_keeps_jaeger_only_semantics() -> None:
    """A jaeger-debug-id header starts a sampled debug trace, though the sampler says no."""
    tracer, reporter = make(sampled=False)
    otel = otel_tracer(tracer)
    context = propagate.extract({"jaeger-debug-id": "ticket-7"})
    with otel.start_as_current_span("server", context=context):
        pass
    (span,) = reporter.spans
    assert span.context.is_debug and span.tags["jaeger-debug-id"] == "ticket-7"


@pytest.mark.parametrize("sampled", [True, False])
def test_a_deferred_b3_decision_is_left_to_our_sampler(sampled: bool) -> None:
    """B3 ids without X-B3-Sampled: our sampler decides, as with jaeger_lite's extract."""
    tracer, reporter = make("b3", sampled=sampled)
    otel = otel_tracer(tracer)
    context = propagate.extract({"X-B3-TraceId": "a" * 16, "X-B3-SpanId": "b" * 16})
    with otel.start_as_current_span("server", context=context) as span:
        assert span.is_recording() is sampled
    assert len(reporter.spans) == int(sampled)


def test_extract_without_a_context_returns_the_context_given() -> None:
    """Nothing in the carrier: the context passed in, unchanged."""
    tracer, _ = make()
    otel_tracer(tracer)
    base = baggage.set_baggage("k", "v")
    assert propagate.extract({"unrelated": "1"}, context=base) is base
    assert trace.get_current_span(propagate.extract({})) is trace.INVALID_SPAN


def test_extract_reads_a_wsgi_environ_through_its_getter() -> None:
    """OpenTelemetry's WSGI getter (what the Flask instrumentation passes) works."""
    wsgi = pytest.importorskip("opentelemetry.instrumentation.wsgi")
    wsgi_getter = wsgi.wsgi_getter

    tracer, _ = make()
    propagator = jaeger_lite.otel.Propagator(tracer)
    environ = {
        "HTTP_UBER_TRACE_ID": "00000000000000aa:00000000000000bb:0:1",
        "HTTP_UBERCTX_TENANT": "acme",
        "REQUEST_METHOD": "GET",
    }
    context = propagator.extract(environ, getter=wsgi_getter)
    remote = trace.get_current_span(context).get_span_context()
    assert (remote.trace_id, remote.span_id, remote.is_remote) == (0xAA, 0xBB, True)
    assert baggage.get_baggage("tenant", context) == "acme"


def test_fields_are_the_header_names_written() -> None:
    """fields lists the fixed headers of the tracer's formats."""
    tracer, _ = make("jaeger,w3c")
    assert jaeger_lite.otel.Propagator(tracer).fields == {"uber-trace-id", "traceparent"}


def test_a_propagator_without_tracer_uses_the_global_one() -> None:
    """Propagator() (the OTEL_PROPAGATORS=jaeger_lite entry point) follows the global tracer."""
    tracer, _ = make("b3-single")
    jaeger_lite.set_global_tracer(tracer)
    assert jaeger_lite.otel.Propagator().fields == {"b3"}


def test_carriers_that_fail_never_raise() -> None:
    """A carrier that cannot take headers or a getter that raises: no error, no context."""
    tracer, _ = make()
    otel = otel_tracer(tracer)

    class Broken:
        def __setitem__(self, key: str, value: str) -> None:
            raise RuntimeError("read-only")

    class BadGetter:
        def keys(self, carrier: object) -> list[str]:
            raise RuntimeError("no keys")

        def get(self, carrier: object, key: str) -> None:
            raise RuntimeError("no get")

    with otel.start_as_current_span("op"):
        propagate.inject(Broken())
    context = propagate.extract({}, getter=BadGetter())  # type: ignore[arg-type]
    assert trace.get_current_span(context) is trace.INVALID_SPAN


@pytest.mark.parametrize(
    ("propagation", "otel_propagator"),
    [
        ("w3c", TraceContextTextMapPropagator()),
        ("b3", B3MultiFormat()),
        ("b3-single", B3SingleFormat()),
        ("jaeger", JaegerPropagator()),
    ],
    ids=["tracecontext", "b3multi", "b3", "jaeger"],
)
def test_otel_propagators_write_our_contexts_as_we_do(
    propagation: str, otel_propagator: Any
) -> None:
    """OTEL_PROPAGATORS' propagators write our spans' contexts in the tracer's formats: what
    jaeger_lite reads back from theirs is what it reads from its own (ids, sampled); and
    what they extract from ours continues the trace."""
    tracer, reporter = make(propagation)
    otel = otel_tracer(tracer, set_propagator=False)
    with otel.start_as_current_span("client") as span:
        theirs: dict[str, str] = {}
        otel_propagator.inject(theirs)
        ours: dict[str, str] = {}
        tracer.inject(span.jaeger_span, Format.HTTP_HEADERS, ours)
    read_theirs = tracer.extract(Format.HTTP_HEADERS, theirs)
    read_ours = tracer.extract(Format.HTTP_HEADERS, ours)
    assert read_theirs is not None and read_ours is not None
    assert (read_theirs.trace_id, read_theirs.span_id, read_theirs.is_sampled) == (
        read_ours.trace_id,
        read_ours.span_id,
        True,
    )
    with otel.start_as_current_span("server", context=otel_propagator.extract(ours)):
        pass
    client, server = reporter.spans[1], reporter.spans[0]
    assert (client.operation_name, server.operation_name) == ("server", "client")
    assert client.context.trace_id == server.context.trace_id
    assert client.context.parent_id == server.context.span_id


def test_remote_parents_from_otel_propagators_keep_the_upstream_decision() -> None:
    """A W3C parent with sampled=00 read by OTel's own propagator: not recorded here."""
    tracer, reporter = make("w3c")
    otel = otel_tracer(tracer, set_propagator=False)
    context = TraceContextTextMapPropagator().extract(
        {"traceparent": f"00-{'1' * 32}-{'2' * 16}-00"}
    )
    token = otel_context.attach(context)
    try:
        with otel.start_as_current_span("server") as span:
            assert not span.is_recording()
            assert span.get_span_context().trace_id == int("1" * 32, 16)
    finally:
        otel_context.detach(token)
    assert reporter.spans == []

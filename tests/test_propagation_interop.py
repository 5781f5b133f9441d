"""Round trips with implementations nobody here wrote, in both directions: OpenTelemetry's
Jaeger, B3 (multi and single) and W3C TraceContext + W3C Baggage propagators."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from jaeger_lite import FLAG_DEBUG, FLAG_SAMPLED, Format, SpanContext, Tracer

otel_trace = pytest.importorskip(
    "opentelemetry.trace", reason="opentelemetry-api is not installed (test extra)"
)
otel_baggage = pytest.importorskip("opentelemetry.baggage")
jaeger_propagator = pytest.importorskip(
    "opentelemetry.propagators.jaeger",
    reason="opentelemetry-propagator-jaeger is not installed for this Python (test extra)",
)
b3_propagator = pytest.importorskip(
    "opentelemetry.propagators.b3",
    reason="opentelemetry-propagator-b3 is not installed for this Python (test extra)",
)
from opentelemetry.baggage.propagation import W3CBaggagePropagator  # noqa: E402
from opentelemetry.propagators.composite import CompositePropagator  # noqa: E402
from opentelemetry.trace.propagation.tracecontext import (  # noqa: E402
    TraceContextTextMapPropagator,
)

PEERS: dict[str, Any] = {
    "jaeger": jaeger_propagator.JaegerPropagator(),
    "b3": b3_propagator.B3MultiFormat(),
    "b3-single": b3_propagator.B3SingleFormat(),
    "w3c": CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()]),
}
TRACERS = {name: Tracer("svc", propagation=name) for name in PEERS}

trace_ids = st.integers(1, 2**128 - 1)
span_ids = st.integers(1, 2**64 - 1)
keys = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=10)
#: Values both sides agree on; spaces and '+' are tested separately (see below).
values = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Zs", "Zl", "Zp")).filter(
        lambda c: c != "+" and not 0x80 <= ord(c) <= 0x9F
    ),
    min_size=1,
    max_size=20,
).filter(lambda v: v == v.strip())


def otel_context(trace_id: int, span_id: int, sampled: bool, baggage: dict[str, str]) -> Any:
    """An OpenTelemetry Context holding a remote span context and baggage."""
    span_context = otel_trace.SpanContext(
        trace_id, span_id, is_remote=True, trace_flags=otel_trace.TraceFlags(int(sampled))
    )
    context = otel_trace.set_span_in_context(otel_trace.NonRecordingSpan(span_context))
    for key, value in baggage.items():
        context = otel_baggage.set_baggage(key, value, context)
    return context


def otel_read(context: Any) -> tuple[int, int, bool, dict[str, Any]]:
    span_context = otel_trace.get_current_span(context).get_span_context()
    return (
        span_context.trace_id,
        span_context.span_id,
        span_context.trace_flags.sampled,
        dict(otel_baggage.get_all(context)),
    )


def has_baggage(name: str) -> bool:
    """OpenTelemetry's B3 propagators carry no baggage."""
    return not name.startswith("b3")


@settings(max_examples=100, deadline=None)
@given(trace_ids, span_ids, st.booleans(), st.dictionaries(keys, values, max_size=3))
@pytest.mark.parametrize("name", list(PEERS))
def test_ours_to_opentelemetry(
    name: str, trace_id: int, span_id: int, sampled: bool, baggage: dict[str, str]
) -> None:
    """What we inject, OpenTelemetry extracts: ids, sampling and (where it has it) baggage."""
    # OpenTelemetry's Jaeger propagator strips the prefix with str.replace, so it reads the
    # header "uberctx-uberctx-x" (which we write correctly) as key "x": its bug, not ours.
    assume(name != "jaeger" or not any("uberctx-" in key for key in baggage))
    carrier: dict[str, str] = {}
    context = SpanContext(trace_id, span_id, 0, FLAG_SAMPLED if sampled else 0, baggage)
    TRACERS[name].inject(context, Format.HTTP_HEADERS, carrier)
    read = otel_read(PEERS[name].extract(carrier))
    assert read[:3] == (trace_id, span_id, sampled)
    if has_baggage(name):
        assert read[3] == baggage


@settings(max_examples=100, deadline=None)
@given(trace_ids, span_ids, st.booleans(), st.dictionaries(keys, values, max_size=3))
@pytest.mark.parametrize("name", list(PEERS))
def test_opentelemetry_to_ours(
    name: str, trace_id: int, span_id: int, sampled: bool, baggage: dict[str, str]
) -> None:
    """What OpenTelemetry injects, we extract."""
    carrier: dict[str, str] = {}
    PEERS[name].inject(carrier, context=otel_context(trace_id, span_id, sampled, baggage))
    context = TRACERS[name].extract(Format.HTTP_HEADERS, carrier)
    assert context is not None
    assert (context.trace_id, context.span_id, context.is_sampled) == (trace_id, span_id, sampled)
    if has_baggage(name):
        assert dict(context.baggage) == baggage


def test_opentelemetry_jaeger_debug_bit() -> None:
    """OpenTelemetry sets the debug bit on every sampled uber-trace-id: we read it as such."""
    carrier: dict[str, str] = {}
    PEERS["jaeger"].inject(carrier, context=otel_context(1, 2, True, {}))
    context = TRACERS["jaeger"].extract(Format.HTTP_HEADERS, carrier)
    assert context is not None and context.flags == FLAG_SAMPLED | FLAG_DEBUG


@pytest.mark.parametrize("name", ["b3", "b3-single"])
def test_our_debug_flag_reads_as_sampled_in_opentelemetry(name: str) -> None:
    """X-B3-Flags: 1 / b3 ...-d: OpenTelemetry treats debug as sampled."""
    carrier: dict[str, str] = {}
    TRACERS[name].inject(
        SpanContext(5, 6, 0, FLAG_SAMPLED | FLAG_DEBUG), Format.HTTP_HEADERS, carrier
    )
    assert otel_read(PEERS[name].extract(carrier))[:3] == (5, 6, True)


def test_tracestate_passes_through_both_ways() -> None:
    """tracestate from OpenTelemetry comes back unchanged through us, and the reverse."""
    incoming = {
        "traceparent": f"00-{0xABC:032x}-{0xDEF:016x}-01",
        "tracestate": "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
    }
    ours = TRACERS["w3c"].extract(Format.HTTP_HEADERS, incoming)
    assert ours is not None
    out: dict[str, str] = {}
    TRACERS["w3c"].inject(ours, Format.HTTP_HEADERS, out)
    state = otel_trace.get_current_span(PEERS["w3c"].extract(out)).get_span_context().trace_state
    assert state.to_header() == incoming["tracestate"]
    again: dict[str, str] = {}
    PEERS["w3c"].inject(again, context=PEERS["w3c"].extract(out))
    assert TRACERS["w3c"].extract(Format.HTTP_HEADERS, again).trace_state == incoming["tracestate"]  # type: ignore[union-attr]


def test_jaeger_baggage_with_spaces_both_ways() -> None:
    """Jaeger: both sides percent-encode a space, so spaces and '+' survive either way."""
    carrier: dict[str, str] = {}
    PEERS["jaeger"].inject(carrier, context=otel_context(1, 2, True, {"k": "a b+c"}))
    assert TRACERS["jaeger"].extract(Format.HTTP_HEADERS, carrier).baggage == {"k": "a b+c"}  # type: ignore[union-attr]
    carrier = {}
    TRACERS["jaeger"].inject(SpanContext(1, 2, 0, 1, {"k": "a b+c"}), Format.HTTP_HEADERS, carrier)
    assert otel_read(PEERS["jaeger"].extract(carrier))[3] == {"k": "a b+c"}


def test_w3c_baggage_spaces_and_plus() -> None:
    """We encode ' ' as %20 and '+' as %2B, which OpenTelemetry-Python decodes right; it
    encodes ' ' as '+', which the W3C spec defines as a literal '+' (and we read so)."""
    carrier: dict[str, str] = {}
    TRACERS["w3c"].inject(SpanContext(1, 2, 0, 1, {"k": "a b+c"}), Format.HTTP_HEADERS, carrier)
    assert otel_read(PEERS["w3c"].extract(carrier))[3] == {"k": "a b+c"}
    carrier = {}
    PEERS["w3c"].inject(carrier, context=otel_context(1, 2, True, {"k": "a%b"}))
    assert TRACERS["w3c"].extract(Format.HTTP_HEADERS, carrier).baggage == {"k": "a%b"}  # type: ignore[union-attr]

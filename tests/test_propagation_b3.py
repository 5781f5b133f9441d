"""Zipkin B3 propagation, multi-header and single-header (docs/protocol.md#b3-headers)."""

from __future__ import annotations

from typing import Optional

import pytest

from jaeger_lite import FLAG_DEBUG, FLAG_SAMPLED, ConstSampler, Format, SpanContext, Tracer
from jaeger_lite.propagation.b3 import B3Codec, B3SingleCodec, parse_single

MULTI = B3Codec(url_encoding=True)
SINGLE = B3SingleCodec(url_encoding=True)
T64 = "463ac35c9f6413ad"
T128 = "463ac35c9f6413ad48485a3953bb6124"
SPAN = "a2fb4a1d1a96d312"
PARENT = "0020000000000001"


def ids(context: Optional[SpanContext]) -> Optional[tuple[int, int, int, int, Optional[bool]]]:
    if context is None:
        return None
    return (
        context.trace_id,
        context.span_id,
        context.parent_id,
        context.flags,
        context.sampling_deferred,
    )


S, D = FLAG_SAMPLED, FLAG_SAMPLED | FLAG_DEBUG


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            {"X-B3-TraceId": T64, "X-B3-SpanId": SPAN, "X-B3-Sampled": "1"},
            (int(T64, 16), int(SPAN, 16), 0, S, None),
        ),
        (
            {
                "x-b3-traceid": T128,
                "x-b3-spanid": SPAN,
                "x-b3-parentspanid": PARENT,
                "x-b3-sampled": "0",
            },
            (int(T128, 16), int(SPAN, 16), int(PARENT, 16), 0, None),
        ),
        (
            {"X-B3-TraceId": T64, "X-B3-SpanId": SPAN},  # no state: we decide
            (int(T64, 16), int(SPAN, 16), 0, 0, True),
        ),
        (
            {"X-B3-TraceId": T64, "X-B3-SpanId": SPAN, "X-B3-Sampled": "true"},
            (int(T64, 16), int(SPAN, 16), 0, S, None),
        ),
        (
            {"X-B3-TraceId": T64, "X-B3-SpanId": SPAN, "X-B3-Sampled": "False"},
            (int(T64, 16), int(SPAN, 16), 0, 0, None),
        ),
        (
            {"X-B3-TraceId": T64, "X-B3-SpanId": SPAN, "X-B3-Flags": "1"},
            (int(T64, 16), int(SPAN, 16), 0, D, None),
        ),
        (
            {"X-B3-TraceId": T64, "X-B3-SpanId": SPAN, "X-B3-Flags": "1", "X-B3-Sampled": "0"},
            (int(T64, 16), int(SPAN, 16), 0, D, None),
        ),  # debug implies accept
        (
            {"X-B3-TraceId": T64, "X-B3-SpanId": SPAN, "X-B3-Sampled": "yes"},
            (int(T64, 16), int(SPAN, 16), 0, 0, True),
        ),  # garbage state: ignored
        (
            {"X-B3-TraceId": T64.upper(), "X-B3-SpanId": "abc"},
            (int(T64, 16), 0xABC, 0, 0, True),
        ),  # lenient: upper case, left-padded
        (
            {"X-B3-TraceId": T64, "X-B3-SpanId": SPAN, "X-B3-ParentSpanId": "zz"},
            (int(T64, 16), int(SPAN, 16), 0, 0, True),
        ),  # a bad parent is ignored
        ({"X-B3-Sampled": "1"}, (0, 0, 0, S, False)),  # a state without ids
        ({"X-B3-Sampled": "0"}, (0, 0, 0, 0, False)),
        ({"X-B3-Flags": "1"}, (0, 0, 0, D, False)),
        ({"X-B3-TraceId": "", "X-B3-SpanId": SPAN, "X-B3-Sampled": "1"}, (0, 0, 0, S, False)),
        ({"X-B3-TraceId": T64, "X-B3-SpanId": "0" * 16}, None),
        ({"X-B3-TraceId": "0" * 32, "X-B3-SpanId": SPAN}, None),
        ({"X-B3-TraceId": "g" * 16, "X-B3-SpanId": SPAN}, None),
        ({"X-B3-TraceId": "1" * 33, "X-B3-SpanId": SPAN}, None),
        ({"X-B3-TraceId": T64}, None),
        ({"X-B3-SpanId": SPAN}, None),
        ({}, None),
    ],
)
def test_multi_header_extract(headers: dict[str, str], expected: object) -> None:
    """Every multi-header rule: ids, states, debug, leniency, malformed values."""
    assert ids(MULTI.extract(headers)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"{T64}-{SPAN}", (int(T64, 16), int(SPAN, 16), 0, 0, True)),
        (f"{T64}-{SPAN}-1", (int(T64, 16), int(SPAN, 16), 0, S, None)),
        (f"{T128}-{SPAN}-0", (int(T128, 16), int(SPAN, 16), 0, 0, None)),
        (f"{T64}-{SPAN}-d", (int(T64, 16), int(SPAN, 16), 0, D, None)),
        (f"{T64}-{SPAN}-1-{PARENT}", (int(T64, 16), int(SPAN, 16), int(PARENT, 16), S, None)),
        (f" {T64}-{SPAN}-1 ", (int(T64, 16), int(SPAN, 16), 0, S, None)),
        ("0", (0, 0, 0, 0, False)),  # b3: 0 alone means deny
        ("1", (0, 0, 0, S, False)),
        ("d", (0, 0, 0, D, False)),
        ("x", None),
        ("", None),
        (f"{T64}-{SPAN}-2", None),
        (f"{T64}-{SPAN}-true", None),
        (f"{T64}", None),
        (f"{T64}-", None),
        (f"-{SPAN}", None),
        (f"{T64}-{SPAN}-1-{PARENT}-extra", None),
        (f"{'0' * 16}-{SPAN}-1", None),
        (f"{T64}-{'0' * 16}-1", None),
        ("-" * 10_000, None),
    ],
)
def test_single_header_parse(value: str, expected: object) -> None:
    """b3: {trace}-{span}[-{state}[-{parent}]], b3: 0, d for debug, garbage rejected."""
    assert ids(parse_single(value)) == expected


def test_single_header_wins_over_multi() -> None:
    """A valid b3 header wins over X-B3-* in both codecs."""
    carrier = {"b3": f"{T64}-{SPAN}-0", "X-B3-TraceId": T128, "X-B3-SpanId": PARENT}
    for codec in (MULTI, SINGLE):
        context = codec.extract(carrier)
        assert context is not None and context.trace_id == int(T64, 16) and not context.is_sampled


def test_malformed_single_header_falls_back_to_multi() -> None:
    """A garbage b3 header is ignored and the multi-header form is read."""
    context = SINGLE.extract({"b3": "garbage", "X-B3-TraceId": T64, "X-B3-SpanId": SPAN})
    assert context is not None and context.trace_id == int(T64, 16)


def test_first_value_wins() -> None:
    """Repeated headers (list carriers, case variants): the first value counts."""
    carrier = [("X-B3-TraceId", T64), ("x-b3-traceid", T128), ("X-B3-SpanId", SPAN)]
    context = MULTI.extract(carrier)
    assert context is not None and context.trace_id == int(T64, 16)


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (
            SpanContext(int(T64, 16), int(SPAN, 16), 0, S),
            {"x-b3-traceid": T64, "x-b3-spanid": SPAN, "x-b3-sampled": "1"},
        ),
        (
            SpanContext(int(T128, 16), int(SPAN, 16), int(PARENT, 16), 0),
            {
                "x-b3-traceid": T128,
                "x-b3-spanid": SPAN,
                "x-b3-parentspanid": PARENT,
                "x-b3-sampled": "0",
            },
        ),
        (
            SpanContext(int(T64, 16), int(SPAN, 16), 0, D),  # debug: Flags, no Sampled
            {"x-b3-traceid": T64, "x-b3-spanid": SPAN, "x-b3-flags": "1"},
        ),
        (
            SpanContext(int(T64, 16), int(SPAN, 16), 0, 0, sampling_deferred=True),
            {"x-b3-traceid": T64, "x-b3-spanid": SPAN},
        ),
        (SpanContext(0, 0, 0, 0, sampling_deferred=False), {"x-b3-sampled": "0"}),
        (SpanContext(0, 0, 0, 0), {}),
    ],
)
def test_multi_header_inject(context: SpanContext, expected: dict[str, str]) -> None:
    """Ids padded to 16/32 digits, parent only when set, Sampled or Flags, none if deferred."""
    carrier: dict[str, str] = {}
    MULTI.inject(context, carrier)
    assert carrier == expected
    assert ids(MULTI.extract(carrier)) == (ids(context) if carrier else None)


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (SpanContext(int(T64, 16), int(SPAN, 16), 0, S), f"{T64}-{SPAN}-1"),
        (
            SpanContext(int(T128, 16), int(SPAN, 16), int(PARENT, 16), 0),
            f"{T128}-{SPAN}-0-{PARENT}",
        ),
        (SpanContext(int(T64, 16), int(SPAN, 16), 0, D), f"{T64}-{SPAN}-d"),
        (SpanContext(int(T64, 16), int(SPAN, 16), 1, 0, sampling_deferred=True), f"{T64}-{SPAN}"),
        (SpanContext(0, 0, 0, 0, sampling_deferred=False), "0"),
        (SpanContext(0, 0, 0, D, sampling_deferred=False), "d"),
    ],
)
def test_single_header_inject(context: SpanContext, expected: str) -> None:
    """b3: trace-span-state[-parent]; a bare decision; nothing after the ids when deferred."""
    carrier: dict[str, str] = {}
    SINGLE.inject(context, carrier)
    assert carrier == {"b3": expected}


def test_baggage_travels_as_baggage_prefixed_headers() -> None:
    """Like jaeger-client-go/java, B3 carries baggage as baggage-{key}, URL-encoded in HTTP."""
    for codec in (MULTI, SINGLE):
        carrier: dict[str, str] = {}
        codec.inject(SpanContext(1, 2, 0, 1, {"user": "a b"}), carrier)
        assert carrier["baggage-user"] == "a%20b"
        assert codec.extract(carrier).baggage == {"user": "a b"}  # type: ignore[union-attr]
    text: dict[str, str] = {}
    B3Codec(url_encoding=False).inject(SpanContext(1, 2, 0, 1, {"u": "a b", "x": "\n"}), text)
    assert text["baggage-u"] == "a b" and "baggage-x" not in text


def test_deny_without_ids_starts_an_unsampled_trace() -> None:
    """b3: 0 — the next span starts a new trace and honours 'not sampled'."""
    tracer = Tracer("svc", propagation="b3", sampler=ConstSampler(True))
    context = tracer.extract(Format.HTTP_HEADERS, {"b3": "0"})
    span = tracer.start_span("op", child_of=context)
    assert span.context.has_trace and span.context.parent_id == 0
    assert not span.context.is_sampled


def test_accept_without_ids_starts_a_sampled_trace() -> None:
    """X-B3-Sampled: 1 alone — a new trace, sampled whatever our sampler says."""
    tracer = Tracer("svc", propagation="b3", sampler=ConstSampler(False))
    context = tracer.extract(Format.HTTP_HEADERS, {"X-B3-Sampled": "1"})
    span = tracer.start_span("op", child_of=context)
    assert span.context.is_sampled and "sampler.type" not in span.tags


def test_ids_without_state_are_sampled_by_us() -> None:
    """Ids without a sampling state: our sampler decides, the trace is continued."""
    tracer = Tracer("svc", propagation="b3", sampler=ConstSampler(True))
    context = tracer.extract(Format.HTTP_HEADERS, {"X-B3-TraceId": T64, "X-B3-SpanId": SPAN})
    span = tracer.start_span("op", child_of=context)
    assert span.context.is_sampled and span.context.trace_id == int(T64, 16)
    assert span.context.parent_id == int(SPAN, 16) and span.tags["sampler.type"] == "const"

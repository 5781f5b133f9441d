"""Property tests for every format: round trips of arbitrary contexts and baggage, and
extraction from at least 10,000 arbitrary carriers per format without an exception."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jaeger_lite import (
    FLAG_DEBUG,
    FLAG_FIREHOSE,
    FLAG_SAMPLED,
    Format,
    SpanContext,
    SpanContextCorruptedException,
    Tracer,
)
from jaeger_lite.propagation.binary import BinaryCodec

FORMATS = ["jaeger", "b3", "b3-single", "w3c"]
TRACERS = {name: Tracer("svc", propagation=name) for name in FORMATS}
ALL = Tracer("svc", propagation="jaeger,b3,b3-single,w3c")
STRICT = Tracer("svc", propagation="jaeger,b3,w3c", strict_extract=True)

#: 10,000 carriers per format: 200 examples of 50 carriers each (fast to generate).
CARRIERS_PER_EXAMPLE = 50
EXAMPLES = 200

trace_ids = st.one_of(st.integers(1, 2**64 - 1), st.integers(1, 2**128 - 1))
span_ids = st.integers(1, 2**64 - 1)
flag_sets = st.sampled_from(
    [0, FLAG_SAMPLED, FLAG_SAMPLED | FLAG_DEBUG, FLAG_SAMPLED | FLAG_FIREHOSE]
)
tokens = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_.!#$&'*+^`|~", min_size=1, max_size=12)
any_text = st.text(st.characters(codec="utf-8"), max_size=30)
printable = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc",)).filter(
        lambda c: not 0x80 <= ord(c) <= 0x9F
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(trace_ids, span_ids, span_ids, flag_sets, st.dictionaries(tokens, any_text, max_size=4))
@pytest.mark.parametrize("name", FORMATS)
def test_http_round_trip(
    name: str, trace_id: int, span_id: int, parent_id: int, flags: int, baggage: dict[str, str]
) -> None:
    """inject then extract through HTTP headers gives back the ids, decision and baggage."""
    tracer = TRACERS[name]
    carrier: dict[str, str] = {}
    tracer.inject(
        SpanContext(trace_id, span_id, parent_id, flags, baggage), Format.HTTP_HEADERS, carrier
    )
    for key, value in carrier.items():
        assert value.isascii() and value.isprintable() and key.isascii() and key.isprintable()
    context = tracer.extract(Format.HTTP_HEADERS, carrier)
    assert context is not None
    assert (context.trace_id, context.span_id) == (trace_id, span_id)
    expected_flags = {
        "jaeger": flags,
        "b3": flags & (FLAG_SAMPLED | FLAG_DEBUG),
        "b3-single": flags & (FLAG_SAMPLED | FLAG_DEBUG),
        "w3c": flags & FLAG_SAMPLED,
    }[name]
    assert context.flags == expected_flags
    assert context.parent_id == (parent_id if name.startswith("b3") else 0)
    assert dict(context.baggage) == baggage  # (lower-case keys: HTTP names carry no case)


@settings(max_examples=300, deadline=None)
@given(
    trace_ids, span_ids, flag_sets, st.dictionaries(printable.filter(bool), printable, max_size=4)
)
@pytest.mark.parametrize("name", ["jaeger", "b3"])
def test_text_map_round_trip(
    name: str, trace_id: int, span_id: int, flags: int, baggage: dict[str, str]
) -> None:
    """The text-map format keeps baggage keys and values exactly (no encoding)."""
    tracer = TRACERS[name]
    carrier: dict[str, str] = {}
    tracer.inject(SpanContext(trace_id, span_id, 0, flags, baggage), Format.TEXT_MAP, carrier)
    context = tracer.extract(Format.TEXT_MAP, carrier)
    assert context is not None and context.trace_id == trace_id
    assert dict(context.baggage) == baggage


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(st.just(0), trace_ids),
    span_ids,
    span_ids,
    st.integers(0, 255),
    st.dictionaries(any_text, any_text, max_size=4),
    st.one_of(st.none(), st.just("a=1,b=2")),
)
def test_binary_round_trip(
    trace_id: int,
    span_id: int,
    parent_id: int,
    flags: int,
    baggage: dict[str, str],
    state: Any,
) -> None:
    """The BINARY layout keeps everything, trace-less contexts with baggage included."""
    context = SpanContext(
        trace_id, span_id if trace_id else 0, parent_id, flags, baggage, trace_state=state
    )
    carrier = bytearray()
    BinaryCodec().inject(context, carrier)
    back = BinaryCodec().extract(bytes(carrier))
    if trace_id or baggage:
        assert back is not None and back.baggage == baggage
        assert (back.trace_id, back.span_id) == (context.trace_id, context.span_id)
    else:
        assert back is None


# -- arbitrary carriers -------------------------------------------------------------------

NAMES = [
    "uber-trace-id",
    "Uber-Trace-Id",
    "uberctx-k",
    "UBERCTX-",
    "jaeger-debug-id",
    "jaeger-baggage",
    "x-b3-traceid",
    "X-B3-SpanId",
    "X-B3-ParentSpanId",
    "X-B3-Sampled",
    "X-B3-Flags",
    "b3",
    "B3",
    "baggage-k",
    "traceparent",
    "TraceParent",
    "tracestate",
    "baggage",
    "Baggage",
]
VALID = [
    "0af7651916cd43dd:b7ad6b7169203331:0:1",
    "1:2:0:3",
    "abc%3Adef%3A0%3A1",
    "0af7651916cd43dd8448eb211c80319c",
    "b7ad6b7169203331",
    "1",
    "0",
    "d",
    "true",
    "0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1-0020000000000001",
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "congo=t61rcWkgMzE,rojo=00f0",
    "k1=v1;p=1, k2=%E2%82%AC",
    "a%20b+c",
    "k=v,x",
]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A valid value with a few characters changed, inserted, removed or repeated."""
    value = draw(st.sampled_from(VALID))
    for _ in range(draw(st.integers(0, 3))):
        pos = draw(st.integers(0, len(value)))
        op = draw(st.integers(0, 3))
        char = draw(st.characters())
        if op == 0:
            value = value[:pos] + char + value[pos + 1 :]
        elif op == 1:
            value = value[:pos] + char + value[pos:]
        elif op == 2:
            value = value[:pos] + value[pos + 1 :]
        else:
            value = value * draw(st.integers(2, 50))
    return value


keys = st.one_of(
    st.sampled_from(NAMES), st.sampled_from(NAMES).map(str.swapcase), st.text(max_size=8)
)
values = st.one_of(
    mutated(),
    st.sampled_from(VALID),
    st.text(max_size=20),
    st.binary(max_size=20),
    st.integers(),
    st.none(),
    st.just("9" * 100_000),
)
pair = st.tuples(st.one_of(keys, keys.map(str.encode)), values)
carriers = st.one_of(
    st.dictionaries(keys, values, max_size=6),
    st.lists(pair, max_size=6),
    st.sampled_from([None, 0, "", b"", object(), [1, 2, 3], ("a",)]),
)


def _extract_everything(carrier: Any) -> None:
    for tracer in (*TRACERS.values(), ALL):
        for fmt in (Format.HTTP_HEADERS, Format.TEXT_MAP):
            context = tracer.extract(fmt, carrier)
            assert context is None or isinstance(context, SpanContext)
            if context is not None:
                out: dict[str, str] = {}
                tracer.inject(context, fmt, out)  # whatever came in can go out again
    with contextlib.suppress(SpanContextCorruptedException):
        STRICT.extract(Format.HTTP_HEADERS, carrier)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(carriers, min_size=CARRIERS_PER_EXAMPLE, max_size=CARRIERS_PER_EXAMPLE))
def test_arbitrary_carriers_never_raise(batch: list[Any]) -> None:
    """Garbage, mutations of valid headers, bytes, huge values: every format returns a
    context or None (10,000 carriers, each read by every format and their combination)."""
    # No codec bug hidden by the tracer, carrier by carrier. The delta, not the total: the
    # tracers are shared with the other tests of this module, and a count left by an
    # earlier example would make every later (innocent) example fail and mislead the
    # shrinker (seen once: a replayed database pinned the blame on `{}` carriers).
    tracers = (*TRACERS.values(), ALL, STRICT)
    for carrier in batch:
        before = [tracer.metrics["propagation_errors"] for tracer in tracers]
        _extract_everything(carrier)
        after = [tracer.metrics["propagation_errors"] for tracer in tracers]
        assert after == before, f"propagation errors {before} -> {after} for {carrier!r:.200}"


binary_blobs = st.one_of(
    st.binary(max_size=80),
    st.binary(max_size=60).map(lambda b: b"J\x01" + b),
    st.binary(max_size=60).map(lambda b: bytes(16) + b),
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(binary_blobs, min_size=CARRIERS_PER_EXAMPLE, max_size=CARRIERS_PER_EXAMPLE))
def test_arbitrary_binary_carriers_never_raise(batch: list[bytes]) -> None:
    """10,000 arbitrary byte strings: the BINARY format returns a context or None."""
    tracer = TRACERS["jaeger"]
    for blob in batch:
        for form in (blob, bytearray(blob), memoryview(blob)):
            context = tracer.extract(Format.BINARY, form)
            assert context is None or isinstance(context, SpanContext)
    assert tracer.metrics["propagation_errors"] == 0

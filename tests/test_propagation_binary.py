"""The BINARY format: jaeger-client's layout (the default) and our versioned one."""

from __future__ import annotations

import struct

import pytest

from jaeger_lite import (
    FLAG_DEBUG,
    FLAG_SAMPLED,
    BaggageLimits,
    Format,
    InvalidCarrierException,
    SpanContext,
    Tracer,
)
from jaeger_lite.propagation.binary import BinaryCodec

CODEC = BinaryCodec()
VERSIONED = BinaryCodec(layout="versioned")
CONTEXTS = [
    SpanContext(1, 2, 3, FLAG_SAMPLED),
    SpanContext(2**128 - 1, 2**64 - 1, 2**64 - 1, 0xFF, {"k": "v", "\u00e9": "\u20ac"}),
    SpanContext(5, 6, 0, 0, trace_state="a=1,b=2"),
    SpanContext(0, 0, 0, 0, {"only": "baggage"}),
    SpanContext(0, 0, 0, FLAG_SAMPLED | FLAG_DEBUG, debug_id="dbg"),
]


@pytest.mark.parametrize("context", CONTEXTS)
def test_versioned_round_trip(context: SpanContext) -> None:
    """Ids (64/128-bit), flags, baggage, tracestate and a debug id survive the versioned
    layout, read back by either codec."""
    carrier = bytearray()
    VERSIONED.inject(context, carrier)
    assert carrier[:2] == b"J\x01"
    for form in (bytes(carrier), carrier, memoryview(carrier)):
        assert VERSIONED.extract(form) == context
        assert CODEC.extract(form) == context


@pytest.mark.parametrize("context", CONTEXTS[:4])
def test_jaeger_layout_round_trip(context: SpanContext) -> None:
    """The default layout keeps ids, flags and baggage; it has no room for a tracestate."""
    carrier = bytearray()
    CODEC.inject(context, carrier)
    assert len(carrier) >= 37 and carrier[:1] != b"J"
    for form in (bytes(carrier), carrier, memoryview(carrier)):
        assert CODEC.extract(form) == context._replace(trace_state=None)


def test_jaeger_layout_drops_a_lone_debug_id() -> None:
    """A debug id without a trace has no place in jaeger-client's layout: nothing comes back."""
    carrier = bytearray()
    CODEC.inject(CONTEXTS[4], carrier)
    assert carrier == bytes(32) + bytes([FLAG_SAMPLED | FLAG_DEBUG]) + bytes(4)
    assert CODEC.extract(carrier) is None


def test_unknown_layout_is_api_misuse() -> None:
    """A layout name that does not exist raises when the codec is made."""
    with pytest.raises(ValueError, match="layout"):
        BinaryCodec(layout="go")


@pytest.mark.parametrize("context", CONTEXTS[:2])
def test_jaeger_client_reads_what_we_write_and_the_reverse(context: SpanContext) -> None:
    """jaeger-client's own BinaryCodec extracts our default layout, and ours its output."""
    jaeger_client = pytest.importorskip("jaeger_client")
    from jaeger_client.codecs import BinaryCodec as ClientCodec

    carrier = bytearray()
    Tracer("svc").inject(context, Format.BINARY, carrier)
    theirs = ClientCodec().extract(carrier)
    assert (theirs.trace_id, theirs.span_id, theirs.parent_id, theirs.flags) == (
        context.trace_id,
        context.span_id,
        context.parent_id,
        context.flags,
    )
    assert theirs.baggage == dict(context.baggage)

    written = bytearray()
    ClientCodec().inject(
        jaeger_client.SpanContext(
            context.trace_id,
            context.span_id,
            context.parent_id,
            context.flags,
            dict(context.baggage),
        ),
        written,
    )
    assert bytes(written) == bytes(carrier)
    assert Tracer("svc").extract(Format.BINARY, written) == context


def test_inject_appends_to_the_bytearray() -> None:
    """Inject appends, so a prefix the caller wrote stays."""
    carrier = bytearray(b"head")
    CODEC.inject(SpanContext(1, 2), carrier)
    assert carrier.startswith(b"head") and CODEC.extract(carrier[4:]) == SpanContext(1, 2)


def test_inject_needs_a_bytearray() -> None:
    """Another carrier type is API misuse: InvalidCarrierException."""
    with pytest.raises(InvalidCarrierException):
        Tracer("svc").inject(SpanContext(1, 2), Format.BINARY, b"")


def go_layout(
    high: int, low: int, span: int, parent: int, flags: int, baggage: dict[str, str]
) -> bytes:
    out = struct.pack(">QQQQBI", high, low, span, parent, flags, len(baggage))
    for key, value in baggage.items():
        k, v = key.encode(), value.encode()
        out += struct.pack(">I", len(k)) + k + struct.pack(">I", len(v)) + v
    return out


def test_reads_jaeger_client_go_and_java_layout() -> None:
    """The unversioned layout of jaeger-client-go/java's BINARY codecs is understood."""
    data = go_layout(0x1, 0x2, 0x3, 0x4, 1, {"k": "v"})
    assert CODEC.extract(data) == SpanContext((1 << 64) | 2, 3, 4, 1, {"k": "v"})


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"J",
        b"J\x01",
        b"J\x02" + bytes(40),  # an unknown version
        b"J\x01\x01\x07" + bytes(40),  # a bad trace id length
        bytes(37),  # zero ids and no baggage in the Go layout
        bytes(60),  # ... with trailing bytes
        go_layout(0, 0, 5, 0, 1, {}),  # a span id without a trace id
        go_layout(0, 5, 0, 0, 1, {}),  # a trace id without a span id
        go_layout(0, 1, 2, 0, 1, {})[:-1],  # truncated
        go_layout(0, 1, 2, 0, 1, {}) + b"x",  # trailing bytes
        go_layout(0, 1, 2, 0, 1, {"k": "v"})[:-2],
        struct.pack(">QQQQBI", 0, 1, 2, 0, 1, 2**31) + bytes(8),  # a huge count
        b"\xff" * 1000,
    ],
)
def test_garbage_is_none(data: bytes) -> None:
    """Truncated, trailing, unknown-version and zero-id buffers yield None."""
    assert CODEC.extract(data) is None


@pytest.mark.parametrize("carrier", ["text", 123, None, {"k": "v"}, [1, 2]])
def test_non_bytes_carriers_are_none(carrier: object) -> None:
    """Only bytes, bytearray and memoryview are read."""
    assert CODEC.extract(carrier) is None


def test_invalid_utf8_becomes_replacement_characters() -> None:
    """Baggage bytes that are not UTF-8 decode with U+FFFD instead of failing."""
    data = go_layout(0, 1, 2, 0, 1, {"k": "v"}).replace(b"v", b"\xff")
    context = CODEC.extract(data)
    assert context is not None and context.baggage == {"k": "\ufffd"}


def test_oversized_baggage_items_are_dropped_and_counted() -> None:
    """An item longer than 65535 bytes does not fit the versioned layout."""
    codec = BinaryCodec(layout="versioned")
    carrier = bytearray()
    codec.inject(SpanContext(1, 2, baggage={"big": "x" * 70000, "ok": "1"}), carrier)
    assert codec.extract(carrier) == SpanContext(1, 2, baggage={"ok": "1"})
    assert codec.dropped.value == 1


def test_long_baggage_items_fit_the_jaeger_layout() -> None:
    """jaeger-client's layout has 32-bit lengths: a 70,000-byte value goes through (when the
    baggage limits allow it)."""
    codec = BinaryCodec(limits=BaggageLimits(max_value_length=10**5, max_bytes=10**6))
    carrier = bytearray()
    context = SpanContext(1, 2, baggage={"big": "x" * 70000, "ok": "1"})
    codec.inject(context, carrier)
    assert codec.extract(carrier) == context and codec.dropped.value == 0


def test_a_tracer_can_write_the_versioned_layout() -> None:
    """``codecs={Format.BINARY: BinaryCodec(layout="versioned")}`` keeps a tracestate."""
    tracer = Tracer("svc", codecs={Format.BINARY: BinaryCodec(layout="versioned")})
    carrier = bytearray()
    context = SpanContext(5, 6, 0, FLAG_SAMPLED, trace_state="a=1")
    tracer.inject(context, Format.BINARY, carrier)
    assert carrier[:2] == b"J\x01" and Tracer("svc").extract(Format.BINARY, carrier) == context

"""The BINARY format: our versioned layout and jaeger-client-go/java's layout."""

from __future__ import annotations

import struct

import pytest

from jaeger_lite import (
    FLAG_DEBUG,
    FLAG_SAMPLED,
    Format,
    InvalidCarrierException,
    SpanContext,
    Tracer,
)
from jaeger_lite.propagation.binary import BinaryCodec

CODEC = BinaryCodec()


@pytest.mark.parametrize(
    "context",
    [
        SpanContext(1, 2, 3, FLAG_SAMPLED),
        SpanContext(2**128 - 1, 2**64 - 1, 2**64 - 1, 0xFF, {"k": "v", "\u00e9": "\u20ac"}),
        SpanContext(5, 6, 0, 0, trace_state="a=1,b=2"),
        SpanContext(0, 0, 0, 0, {"only": "baggage"}),
        SpanContext(0, 0, 0, FLAG_SAMPLED | FLAG_DEBUG, debug_id="dbg"),
    ],
)
def test_round_trip(context: SpanContext) -> None:
    """Ids (64/128-bit), flags, baggage, tracestate and a debug id survive."""
    carrier = bytearray()
    CODEC.inject(context, carrier)
    assert carrier[:2] == b"J\x01"
    for form in (bytes(carrier), carrier, memoryview(carrier)):
        assert CODEC.extract(form) == context


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
        bytes(60),  # zero ids in the Go layout
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
    """An item longer than 65535 bytes does not fit the layout."""
    codec = BinaryCodec()
    carrier = bytearray()
    codec.inject(SpanContext(1, 2, baggage={"big": "x" * 70000, "ok": "1"}), carrier)
    assert codec.extract(carrier) == SpanContext(1, 2, baggage={"ok": "1"})
    assert codec.dropped.value == 1

"""Jaeger native propagation (docs/protocol.md#jaeger-headers): uber-trace-id, uberctx-,
debug id, jaeger-baggage."""

from __future__ import annotations

import pytest

from jaeger_lite import (
    FLAG_DEBUG,
    FLAG_FIREHOSE,
    FLAG_SAMPLED,
    ConstSampler,
    Format,
    SpanContext,
    SpanContextCorruptedException,
    Tracer,
)
from jaeger_lite.propagation.jaeger import JaegerCodec, format_uber_trace_id, parse_uber_trace_id

HTTP = JaegerCodec(url_encoding=True)
TEXT = JaegerCodec(url_encoding=False)

T64 = 0x0AF7651916CD43DD
T128 = 0x0AF7651916CD43DD8448EB211C80319C
SPAN = 0xB7AD6B7169203331


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0af7651916cd43dd:b7ad6b7169203331:0:1", (T64, SPAN, 1)),
        (f"{T128:032x}:{SPAN:016x}:{0:016x}:01", (T128, SPAN, 1)),
        ("abc:def:0:1", (0xABC, 0xDEF, 1)),  # Python clients emit unpadded ids
        ("ABC:DEF:0:1", (0xABC, 0xDEF, 1)),  # upper-case hex is read too
        ("1:2:3:0", (1, 2, 0)),
        ("1:2::1", (1, 2, 1)),  # an empty (deprecated) parent
        ("1:2:0:3", (1, 2, FLAG_SAMPLED | FLAG_DEBUG)),
        ("1:2:0:2", (1, 2, 0)),  # debug without sampled means nothing
        ("1:2:0:9", (1, 2, FLAG_SAMPLED | FLAG_FIREHOSE)),
        ("1:2:0:a", (1, 2, 0x0A & ~FLAG_DEBUG)),  # flags are hex, not decimal
        ("1:2:0:ff", (1, 2, 0xFF)),
        ("1:2:0:1F", (1, 2, 0x1F)),
        ("  1:2:0:1\t", (1, 2, 1)),
        ("1%3A2%3A0%3A1", (1, 2, 1)),  # jaeger-client-python URL-encodes the colons
        ("1%3a2%3a0%3a1", (1, 2, 1)),
    ],
)
def test_valid_uber_trace_ids_parse(value: str, expected: tuple[int, int, int]) -> None:
    """Lenient receive: short ids left-padded, any case, hex flags, blanks, URL-encoding."""
    context = parse_uber_trace_id(value)
    assert context is not None
    assert (context.trace_id, context.span_id, context.flags) == expected
    assert context.parent_id == 0  # deprecated and ignored on receive


@pytest.mark.parametrize(
    "value",
    [
        "",
        "1:2:0",  # three parts
        "1:2:0:1:5",  # five parts
        "0:2:0:1",  # zero trace id
        "00000000000000000000000000000000:2:0:1",
        "1:0:0:1",  # zero span id
        "1:0000000000000000:0:1",
        "1" * 33 + ":2:0:1",  # trace id longer than 32 digits
        "1:" + "2" * 17 + ":0:1",  # span id longer than 16 digits
        "1:2:" + "3" * 17 + ":1",
        "1:2:0:",  # no flags
        "1:2:0:100",  # flags longer than a byte
        "g:2:0:1",
        "1:2:0:z",
        "+1:2:0:1",  # int() would accept these
        "-1:2:0:1",
        "0x1:2:0:1",
        "1_0:2:0:1",
        "1:2:0:1\n",
        "\u0661:2:0:1",  # a non-ASCII digit int() would take
        "１:2:0:1",
        "1:2:0:1" + " " * 200,
        "x" * 10_000,
    ],
)
def test_invalid_uber_trace_ids_are_rejected(value: str) -> None:
    """Wrong part counts or lengths, zero ids, non-hex, non-ASCII and huge values: None."""
    assert parse_uber_trace_id(value) is None


def test_inject_writes_16_digit_ids_and_hex_flags() -> None:
    """Senders emit 16-digit ids (32 for a 128-bit trace) like jaeger-client-go."""
    carrier: dict[str, str] = {}
    HTTP.inject(SpanContext(T64, SPAN, 0x11, FLAG_SAMPLED | FLAG_FIREHOSE), carrier)
    assert carrier == {"uber-trace-id": f"{T64:016x}:{SPAN:016x}:0000000000000011:9"}
    carrier = {}
    TEXT.inject(SpanContext(T128, SPAN, 0, 3), carrier)
    assert carrier["uber-trace-id"] == f"{T128:032x}:{SPAN:016x}:0000000000000000:3"
    assert format_uber_trace_id(SpanContext(T128, SPAN, 0, 3)) == carrier["uber-trace-id"]


def test_inject_does_not_url_encode_the_trace_id() -> None:
    """Like Go, the colons of uber-trace-id stay as they are in HTTP headers."""
    carrier: dict[str, str] = {}
    HTTP.inject(SpanContext(1, 2, 0, 1), carrier)
    assert carrier["uber-trace-id"] == "0000000000000001:0000000000000002:0000000000000000:1"


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        ("plain", "plain"),
        ("a b", "a%20b"),
        ("a+b", "a%2Bb"),
        ("50%", "50%25"),
        ("k=v,x", "k%3Dv%2Cx"),
        ("caf\u00e9 \u20ac", "caf%C3%A9%20%E2%82%AC"),
        ("line\r\nbreak", "line%0D%0Abreak"),
        ("tab\tdel\x7f", "tab%09del%7F"),
    ],
)
def test_http_inject_percent_encodes_baggage_values(value: str, wire: str) -> None:
    """HTTP headers: values are URL-encoded, so no control character reaches the wire."""
    carrier: dict[str, str] = {}
    HTTP.inject(SpanContext(1, 2, baggage={"k": value}), carrier)
    assert carrier["uberctx-k"] == wire
    assert HTTP.extract(carrier).baggage == {"k": value}  # type: ignore[union-attr]


def test_text_map_inject_writes_values_unencoded() -> None:
    """The text-map format does no encoding."""
    carrier: dict[str, str] = {}
    TEXT.inject(SpanContext(1, 2, baggage={"k": "a b+c%20"}), carrier)
    assert carrier["uberctx-k"] == "a b+c%20"
    assert TEXT.extract(carrier).baggage == {"k": "a b+c%20"}  # type: ignore[union-attr]


@pytest.mark.parametrize("codec", [HTTP, TEXT], ids=["http", "text"])
@pytest.mark.parametrize(
    ("key", "value"),
    [("ok", "bad\r\nX-Injected: 1"), ("bad\nkey", "v"), ("", "v"), ("ok", "\x00"), ("ok", "\x85")],
)
def test_inject_never_writes_control_characters(codec: JaegerCodec, key: str, value: str) -> None:
    """Control characters are encoded (HTTP values) or the item is dropped, and counted."""
    codec = JaegerCodec(codec.url_encoding)
    carrier: dict[str, str] = {}
    codec.inject(SpanContext(1, 2, baggage={key: value}), carrier)
    for name, written in carrier.items():
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in name + written)
    if len(carrier) == 1:
        assert codec.dropped.value == 1


def test_http_inject_drops_keys_that_are_not_header_tokens() -> None:
    """A baggage key that cannot be part of a header name is dropped and counted."""
    codec = JaegerCodec(url_encoding=True)
    carrier: dict[str, str] = {}
    codec.inject(SpanContext(1, 2, baggage={"a b": "1", "a:b": "2", "fine": "3"}), carrier)
    assert set(carrier) == {"uber-trace-id", "uberctx-fine"}
    assert codec.dropped.value == 2


@pytest.mark.parametrize(("wire", "value"), [("a+b", "a b"), ("a%20b", "a b"), ("a%2Bb", "a+b")])
def test_http_extract_decodes_plus_and_percent_20(wire: str, value: str) -> None:
    """Go/Java encode a space as '+', Python as '%20': both decode to a space."""
    context = HTTP.extract({"uber-trace-id": "1:2:0:1", "uberctx-k": wire})
    assert context is not None and context.baggage == {"k": value}


def test_header_names_are_case_insensitive() -> None:
    """Uber-Trace-Id and UBERCTX-* are recognised; HTTP baggage keys come back lower-case."""
    context = HTTP.extract({"Uber-Trace-Id": "1:2:0:1", "UberCtx-User-Id": "u"})
    assert context is not None and context.trace_id == 1 and context.baggage == {"user-id": "u"}
    text = TEXT.extract({"UBER-TRACE-ID": "1:2:0:1", "uberctx-UserId": "u"})
    assert text is not None and text.baggage == {"UserId": "u"}


def test_first_uber_trace_id_wins() -> None:
    """With two uber-trace-id headers (different case or a list carrier) the first counts."""
    context = HTTP.extract([("uber-trace-id", "1:2:0:1"), ("Uber-Trace-Id", "3:4:0:1")])
    assert context is not None and context.trace_id == 1


def test_malformed_trace_id_keeps_baggage() -> None:
    """A corrupt uber-trace-id counts as absent: the baggage still makes a context."""
    context = HTTP.extract({"uber-trace-id": "garbage", "uberctx-k": "v"})
    assert context is not None and not context.has_trace and context.baggage == {"k": "v"}


def test_nothing_found_is_none() -> None:
    """No trace id, debug id or baggage: None."""
    assert HTTP.extract({"other": "x", "uberctx-": "empty key"}) is None
    assert HTTP.extract({"uber-trace-id": "0:0:0:0"}) is None


def test_debug_id_without_a_trace_starts_a_sampled_debug_root() -> None:
    """jaeger-debug-id: a new root, sampled+debug, tagged with the id."""
    tracer = Tracer("svc", sampler=ConstSampler(False))
    context = tracer.extract(Format.HTTP_HEADERS, {"Jaeger-Debug-Id": " req-42 "})
    assert context is not None and context.debug_id == "req-42" and not context.has_trace
    span = tracer.start_span("op", child_of=context)
    assert span.context.is_sampled and span.context.is_debug and span.context.parent_id == 0
    assert span.tags["jaeger-debug-id"] == "req-42"


def test_debug_id_is_ignored_with_a_valid_trace() -> None:
    """A valid uber-trace-id wins over jaeger-debug-id."""
    context = HTTP.extract({"uber-trace-id": "1:2:0:0", "jaeger-debug-id": "x"})
    assert context is not None and context.debug_id is None and not context.is_sampled


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("k1=v1, k2=v2", {"k1": "v1", "k2": "v2"}),
        ("k1=v1,bad,k2=a=b, k3 = v3 ", {"k1": "v1", "k3": "v3"}),
        ("k1%3Dv1%2Ck2%3Dv%20x", {"k1": "v1", "k2": "v x"}),  # URL-decoded first
        ("=v,k=", {"k": ""}),
        ("", {}),
    ],
)
def test_jaeger_baggage_header(header: str, expected: dict[str, str]) -> None:
    """jaeger-baggage: URL-decode, split on commas, trim, keep parts with one '='."""
    for codec in (HTTP, TEXT):
        context = codec.extract({"jaeger-baggage": header})
        assert (context.baggage if context else {}) == expected


def test_jaeger_baggage_merges_with_a_trace_and_uberctx_wins() -> None:
    """jaeger-baggage items join a trace's baggage; an uberctx- item of the same key wins."""
    context = HTTP.extract(
        {"uber-trace-id": "1:2:0:1", "uberctx-k": "header", "jaeger-baggage": "k=other,j=1"}
    )
    assert context is not None and context.baggage == {"k": "header", "j": "1"}


def test_debug_id_and_baggage_are_injected_for_trace_less_contexts() -> None:
    """A trace-less context passes its debug id and baggage on (e.g. through a proxy)."""
    carrier: dict[str, str] = {}
    HTTP.inject(SpanContext(0, 0, flags=3, baggage={"k": "v"}, debug_id="d 1"), carrier)
    assert carrier == {"jaeger-debug-id": "d%201", "uberctx-k": "v"}


def test_strict_codec_raises_for_a_corrupt_trace_id() -> None:
    """strict=True: a present but malformed uber-trace-id raises SpanContextCorrupted."""
    strict = JaegerCodec(url_encoding=True, strict=True)
    with pytest.raises(SpanContextCorruptedException):
        strict.extract({"uber-trace-id": "1:2:0"})
    assert strict.extract({"other": "x"}) is None


def test_strict_extract_on_the_tracer() -> None:
    """Tracer(strict_extract=True) raises only for a corrupt uber-trace-id."""
    tracer = Tracer("svc", strict_extract=True, propagation="jaeger,w3c")
    with pytest.raises(SpanContextCorruptedException):
        tracer.extract(Format.TEXT_MAP, {"uber-trace-id": "zz:1:0:1"})
    assert tracer.extract(Format.HTTP_HEADERS, {"traceparent": "garbage"}) is None
    assert Tracer("svc").extract(Format.HTTP_HEADERS, {"uber-trace-id": "zz"}) is None


def test_custom_header_names() -> None:
    """The header names can be changed (e.g. to talk to a renamed deployment)."""
    codec = JaegerCodec(True, trace_id_header="X-Trace", baggage_prefix="X-Ctx-")
    carrier: dict[str, str] = {}
    codec.inject(SpanContext(1, 2, baggage={"k": "v"}), carrier)
    assert set(carrier) == {"x-trace", "x-ctx-k"}
    assert codec.extract(carrier) == SpanContext(1, 2, 0, 0, {"k": "v"})


def test_remote_context_sets_every_slot_like_the_constructor() -> None:
    """The extract fast path builds the same context as SpanContext(...) would."""
    from types import MappingProxyType

    from jaeger_lite.context import remote_context

    fast = remote_context(1, 2, 3, MappingProxyType({"k": "v"}))
    slow = SpanContext(1, 2, 0, 3, {"k": "v"}, is_remote=True)  # what extract reads is remote
    assert fast == slow
    for slot in SpanContext.__slots__:  # a slot added later must be set there too
        assert getattr(fast, slot) == getattr(slow, slot)

"""W3C Baggage: the baggage header (docs/protocol.md#w3c-baggage) and the tracer's baggage
limits."""

from __future__ import annotations

import pytest

from jaeger_lite import Format, SpanContext, Tracer
from jaeger_lite._baggage import BaggageLimits
from jaeger_lite.propagation.baggage import W3CBaggageCodec, encode_value, parse_baggage


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["k=v"], {"k": "v"}),
        (["k1=v1,k2=v2"], {"k1": "v1", "k2": "v2"}),
        ([" k1 = v1 ,\tk2=v2\t"], {"k1": "v1", "k2": "v2"}),  # OWS everywhere it may be
        (["k1=v1", "k2=v2"], {"k1": "v1", "k2": "v2"}),  # all headers count together
        (["k=v;prop1;prop2=x"], {"k": "v"}),  # properties tolerated
        (["k=v ; p = x"], {"k": "v"}),
        (["k=a=b"], {"k": "a=b"}),  # a value may hold '='
        (["k="], {"k": ""}),
        (["k=%20%2C%3B%25"], {"k": " ,;%"}),  # percent-decoded
        (["k=caf%C3%A9"], {"k": "caf\u00e9"}),
        (["k=%FF%FE"], {"k": "\ufffd\ufffd"}),  # invalid UTF-8
        (["k=50%"], {"k": "50%"}),  # a stray '%' is kept
        (["k=a+b"], {"k": "a+b"}),  # '+' is a literal plus in W3C baggage
        (["k=v1,k=v2"], {"k": "v1"}),  # the first value of a key wins
        (["bad key=v,ok=1"], {"ok": "1"}),  # a malformed member is skipped
        (["k=v v,ok=1"], {"ok": "1"}),
        (['k="q",ok=1'], {"ok": "1"}),
        (["k=caf\u00e9,ok=1"], {"ok": "1"}),
        (["novalue,ok=1"], {"ok": "1"}),
        (["=v,ok=1"], {"ok": "1"}),
        ([",,,ok=1,,"], {"ok": "1"}),
        ([""], {}),
    ],
)
def test_parse(values: list[str], expected: dict[str, str]) -> None:
    """Members, OWS, properties, percent-decoding, malformed members skipped."""
    assert parse_baggage(values) == expected


def test_at_most_64_members_are_kept() -> None:
    """Members beyond 64 are dropped whole and counted."""
    codec = W3CBaggageCodec()
    context = codec.extract({"baggage": ",".join(f"k{i}=v" for i in range(100))})
    assert context is not None and len(context.baggage) == 64
    assert context.baggage["k63"] == "v" and "k64" not in context.baggage
    assert codec.dropped.value == 36


def test_at_most_8192_bytes_are_kept_never_part_of_a_member() -> None:
    """Members that would pass 8192 bytes (all headers together) are dropped whole."""
    member = "k{}=" + "v" * 1000
    codec = W3CBaggageCodec()
    context = codec.extract({"baggage": ",".join(member.format(i) for i in range(10))})
    assert context is not None and len(context.baggage) == 8
    assert all(len(v) == 1000 for v in context.baggage.values())


def test_a_huge_header_costs_no_more_than_the_limit() -> None:
    """Megabytes of commas or members are cut without splitting them all."""
    codec = W3CBaggageCodec()
    context = codec.extract({"baggage": "k=v" + "," * 5_000_000 + "j=1"})
    assert context is not None and context.baggage == {"k": "v"}


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        ("plain", "plain"),
        ("a b", "a%20b"),
        ("a+b", "a%2Bb"),  # OpenTelemetry-Python reads '+' as a space
        ("50%", "50%25"),
        ('x,y;z\\"', "x%2Cy%3Bz%5C%22"),
        ("a=b/c:d?e@f[g]!$&'()*", "a=b/c:d?e@f[g]!$&'()*"),
        ("caf\u00e9", "caf%C3%A9"),
        ("\r\n\x00", "%0D%0A%00"),
    ],
)
def test_encode_value(value: str, wire: str) -> None:
    """Everything outside the baggage octets (and '%', '+') is percent-encoded as UTF-8."""
    assert encode_value(value) == wire
    assert parse_baggage([f"k={wire}"]) == {"k": value}


def test_a_lone_surrogate_is_encoded_not_raised() -> None:
    """A value holding a lone surrogate (a str from a dict carrier, or set by the
    application) is written as its surrogatepass bytes, as the Jaeger and B3 codecs write
    it, and reads back as U+FFFD: W3C inject used to raise (a counted propagation error, and
    no baggage header). Found by test_propagation_properties."""
    assert encode_value("a\ud8d5") == "a%ED%A3%95"
    tracer = Tracer("svc", propagation="w3c")
    headers: dict[str, str] = {}
    tracer.inject(SpanContext(1, 2, 0, 1, {"k": "a\ud8d5"}), Format.HTTP_HEADERS, headers)
    assert headers["baggage"] == "k=a%ED%A3%95"
    assert tracer.metrics["propagation_errors"] == 0
    assert parse_baggage([headers["baggage"]]) == {"k": "a\ufffd\ufffd\ufffd"}


def test_inject_joins_members_and_drops_non_token_keys() -> None:
    """key=value members joined with ','; a key that is not a token is dropped, counted."""
    codec = W3CBaggageCodec()
    carrier: dict[str, str] = {}
    codec.inject(SpanContext(1, 2, baggage={"a": "1", "b c": "2", "d": "x y"}), carrier)
    assert carrier == {"baggage": "a=1,d=x%20y"}
    assert codec.dropped.value == 1


def test_inject_respects_the_w3c_limits() -> None:
    """At most 64 members and 8192 bytes are written; whole members are dropped."""
    codec = W3CBaggageCodec()
    carrier: dict[str, str] = {}
    codec.inject(SpanContext(1, 2, baggage={f"k{i}": "v" for i in range(70)}), carrier)
    assert carrier["baggage"].count(",") == 63 and codec.dropped.value == 6
    carrier = {}
    codec.inject(SpanContext(1, 2, baggage={f"k{i}": "v" * 3000 for i in range(3)}), carrier)
    assert len(carrier["baggage"]) <= 8192 and carrier["baggage"].count("=") == 2


def test_inject_writes_nothing_without_baggage() -> None:
    """No baggage: no header."""
    carrier: dict[str, str] = {}
    W3CBaggageCodec().inject(SpanContext(1, 2), carrier)
    assert carrier == {}


def test_baggage_alone_gives_a_trace_less_context() -> None:
    """A baggage header without a trace: a context that starts a new trace with it."""
    tracer = Tracer("svc", propagation="w3c")
    context = tracer.extract(Format.HTTP_HEADERS, {"baggage": "k=v"})
    assert context is not None and not context.has_trace and context.baggage == {"k": "v"}
    span = tracer.start_span("op", child_of=context)
    assert span.get_baggage_item("k") == "v" and span.context.has_trace


def test_tracer_limits_apply_to_set_baggage_item() -> None:
    """Items, value length and total bytes are limited when set; drops are counted."""
    tracer = Tracer("svc", baggage_max_items=2, baggage_max_value_length=5, baggage_max_bytes=12)
    span = tracer.start_span("op")
    span.set_baggage_item("a", "1").set_baggage_item("b", "123456")  # value too long
    span.set_baggage_item("c", "12345").set_baggage_item("d", "1")  # too many items
    assert dict(span.context.baggage) == {"a": "1", "c": "12345"}
    span.set_baggage_item("a", "12345")  # 1+5+1+5 = 12 bytes: fits
    span.set_baggage_item("c", "\u20ac\u20ac")  # 6 bytes in UTF-8: 1+5+1+6 > 12
    assert dict(span.context.baggage) == {"a": "12345", "c": "12345"}
    assert tracer.metrics["baggage_dropped"] == 3


@pytest.mark.parametrize("propagation", ["jaeger", "b3", "b3-single", "w3c"])
def test_tracer_limits_apply_to_extracted_baggage(propagation: str) -> None:
    """Extracted baggage is cut to the tracer's limits, whole items, first ones kept."""
    sender = Tracer("a", propagation=propagation)
    receiver = Tracer("b", propagation=propagation, baggage_max_items=3)
    carrier: dict[str, str] = {}
    baggage = {f"k{i}": "v" for i in range(5)}
    sender.inject(SpanContext(1, 2, 0, 1, baggage), Format.HTTP_HEADERS, carrier)
    context = receiver.extract(Format.HTTP_HEADERS, carrier)
    assert context is not None and len(context.baggage) == 3
    assert receiver.metrics["baggage_dropped"] == 2


@pytest.mark.parametrize("propagation", ["jaeger", "b3", "b3-single", "w3c"])
def test_extracted_baggage_is_held_to_value_length_and_bytes(propagation: str) -> None:
    """The quick limits test on extract falls back to the exact one: a value over the
    length limit is dropped, and the total is kept under the byte limit (first items kept),
    while baggage that fits exactly (4 x its characters > the limit) is kept whole."""
    sender = Tracer("a", propagation=propagation)
    carrier: dict[str, str] = {}
    baggage = {"a": "123", "b": "12345", "c": "1"}
    sender.inject(SpanContext(1, 2, 0, 1, baggage), Format.HTTP_HEADERS, carrier)
    short = Tracer("b", propagation=propagation, baggage_max_value_length=3)
    context = short.extract(Format.HTTP_HEADERS, carrier)
    assert context is not None and dict(context.baggage) == {"a": "123", "c": "1"}
    assert short.metrics["baggage_dropped"] == 1
    small = Tracer("c", propagation=propagation, baggage_max_bytes=6)  # a+123, c+1
    context = small.extract(Format.HTTP_HEADERS, carrier)
    assert context is not None and dict(context.baggage) == {"a": "123", "c": "1"}
    exact = Tracer("d", propagation=propagation, baggage_max_bytes=12)  # all 12 bytes
    context = exact.extract(Format.HTTP_HEADERS, carrier)
    assert context is not None and dict(context.baggage) == baggage
    assert exact.metrics["baggage_dropped"] == 0


def test_limits_keep_whole_items() -> None:
    """BaggageLimits.limit keeps items in order until one does not fit, then skips it."""
    limits = BaggageLimits(max_items=10, max_value_length=100, max_bytes=10)
    assert limits.limit({"a": "1234", "b": "123456789", "c": "12"}) == {"a": "1234", "c": "12"}
    assert limits.limit({"a": "1"}) is None
    assert limits.dropped.value == 1

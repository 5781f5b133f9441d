"""Choosing formats (Tracer(propagation=...)), multi-format inject/extract and merging."""

from __future__ import annotations

from typing import Any, Optional

import pytest

from jaeger_lite import FLAG_SAMPLED, Format, SpanContext, Tracer
from jaeger_lite.propagation.b3 import B3Codec
from jaeger_lite.propagation.binary import BinaryCodec
from jaeger_lite.propagation.composite import (
    CompositeCodec,
    codecs_for_propagation,
    merge_contexts,
    parse_propagation,
)
from jaeger_lite.propagation.jaeger import JaegerCodec

TRACE, SPAN = 0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331
TRACEPARENT = f"00-{TRACE:032x}-{SPAN:016x}-01"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("jaeger", ("jaeger",)),
        ("jaeger,b3,w3c", ("jaeger", "b3", "w3c")),
        (" W3C , b3-single ,", ("w3c", "b3-single")),
        (["b3", "jaeger", "b3"], ("b3", "jaeger")),
        (("w3c",), ("w3c",)),
    ],
)
def test_parse_propagation(value: Any, expected: tuple[str, ...]) -> None:
    """One name, a comma-separated string or a list; trimmed, lower-cased, deduplicated."""
    assert parse_propagation(value) == expected


@pytest.mark.parametrize("value", ["", " , ", "zipkin", "jaeger,tracecontext", ["b3", 3], 5, None])
def test_unknown_or_missing_names_are_a_clear_value_error(value: Any) -> None:
    """An unknown name (or none) raises ValueError naming the valid choices."""
    with pytest.raises(ValueError, match="jaeger, b3, b3-single, w3c|strings"):
        parse_propagation(value)
    with pytest.raises(ValueError):
        Tracer("svc", propagation=value)


def test_codecs_for_each_format() -> None:
    """TEXT_MAP and HTTP_HEADERS get the named formats, BINARY stays the binary codec."""
    codecs = codecs_for_propagation("jaeger")
    assert isinstance(codecs[Format.TEXT_MAP], JaegerCodec)
    assert not codecs[Format.TEXT_MAP].url_encoding  # type: ignore[attr-defined]
    assert codecs[Format.HTTP_HEADERS].url_encoding  # type: ignore[attr-defined]
    assert isinstance(codecs[Format.BINARY], BinaryCodec)
    multi = codecs_for_propagation("b3,w3c")[Format.HTTP_HEADERS]
    assert isinstance(multi, CompositeCodec) and len(multi.codecs) == 2  # b3; w3c + baggage


def test_inject_writes_every_configured_format() -> None:
    """jaeger,b3,b3-single,w3c: every format's headers are written."""
    tracer = Tracer("svc", propagation="jaeger,b3,b3-single,w3c")
    carrier: dict[str, str] = {}
    tracer.inject(
        SpanContext(TRACE, SPAN, 0, FLAG_SAMPLED, {"k": "v"}), Format.HTTP_HEADERS, carrier
    )
    assert set(carrier) == {
        "uber-trace-id",
        "uberctx-k",
        "x-b3-traceid",
        "x-b3-spanid",
        "x-b3-sampled",
        "baggage-k",
        "b3",
        "traceparent",
        "baggage",
    }


def test_text_map_is_not_url_encoded_http_headers_are() -> None:
    """The same formats, with URL-encoding of Jaeger/B3 baggage only in HTTP headers."""
    tracer = Tracer("svc", propagation="jaeger,b3")
    context = SpanContext(1, 2, 0, 1, {"k": "a b"})
    text: dict[str, str] = {}
    http: dict[str, str] = {}
    tracer.inject(context, Format.TEXT_MAP, text)
    tracer.inject(context, Format.HTTP_HEADERS, http)
    assert text["uberctx-k"] == text["baggage-k"] == "a b"
    assert http["uberctx-k"] == http["baggage-k"] == "a%20b"


@pytest.mark.parametrize(
    ("propagation", "winner"),
    [("jaeger,w3c", 0xAAA), ("w3c,jaeger", TRACE), ("b3,jaeger,w3c", 0xBBB)],
)
def test_extract_takes_the_first_valid_context_in_order(propagation: str, winner: int) -> None:
    """Formats are tried in the configured order; the first with a trace wins."""
    carrier = {
        "uber-trace-id": "aaa:1:0:1",
        "traceparent": TRACEPARENT,
        "x-b3-traceid": "bbb",
        "x-b3-spanid": "2",
    }
    context = Tracer("svc", propagation=propagation).extract(Format.HTTP_HEADERS, carrier)
    assert context is not None and context.trace_id == winner


def test_a_later_format_is_used_when_an_earlier_one_is_garbage() -> None:
    """A corrupt uber-trace-id does not hide a valid traceparent."""
    carrier = {"uber-trace-id": "garbage", "traceparent": TRACEPARENT}
    context = Tracer("svc", propagation="jaeger,w3c").extract(Format.HTTP_HEADERS, carrier)
    assert context is not None and context.trace_id == TRACE


def test_baggage_is_merged_from_all_formats_earlier_ones_winning() -> None:
    """Baggage from every format is merged; for the same key the earlier format wins."""
    carrier = {
        "uber-trace-id": "aaa:1:0:1",
        "uberctx-k": "from-jaeger",
        "baggage": "k=from-w3c,w=1",
        "baggage-b": "from-b3",
    }
    context = Tracer("svc", propagation="jaeger,b3,w3c").extract(Format.HTTP_HEADERS, carrier)
    assert context is not None
    assert context.baggage == {"k": "from-jaeger", "b": "from-b3", "w": "1"}


def test_tracestate_joins_a_winner_of_the_same_trace() -> None:
    """tracestate comes along when the W3C context names the winner's trace."""
    carrier = {
        "uber-trace-id": f"{TRACE:032x}:{SPAN:016x}:0:1",
        "traceparent": TRACEPARENT,
        "tracestate": "vendor=x",
    }
    context = Tracer("svc", propagation="jaeger,w3c").extract(Format.HTTP_HEADERS, carrier)
    assert context is not None and context.trace_state == "vendor=x"
    carrier["uber-trace-id"] = "aaa:1:0:1"  # another trace: its tracestate does not apply
    other = Tracer("svc", propagation="jaeger,w3c").extract(Format.HTTP_HEADERS, carrier)
    assert other is not None and other.trace_state is None


def test_trace_less_contexts_merge_debug_id_first() -> None:
    """Without a trace, a jaeger-debug-id wins over a bare B3 decision."""
    carrier = {"jaeger-debug-id": "dbg", "b3": "0", "baggage": "k=v"}
    context = Tracer("svc", propagation="b3-single,jaeger,w3c").extract(
        Format.HTTP_HEADERS, carrier
    )
    assert context is not None and context.debug_id == "dbg" and context.baggage == {"k": "v"}


def test_merge_contexts_edge_cases() -> None:
    """No contexts: None; one: itself."""
    one = SpanContext(1, 2)
    assert merge_contexts([]) is None and merge_contexts([one]) is one


class EchoCodec:
    """A user codec storing the context object itself."""

    def inject(self, span_context: SpanContext, carrier: Any) -> None:
        carrier["ctx"] = span_context

    def extract(self, carrier: Any) -> Optional[SpanContext]:
        context: Optional[SpanContext] = carrier.get("ctx")
        return context


def test_user_codecs_are_held_to_the_baggage_limits() -> None:
    """A registered codec works for any format name and its baggage is limited too."""
    tracer = Tracer("svc", codecs={"echo": EchoCodec()}, baggage_max_items=1)
    plain = SpanContext(1, 2)
    carrier: dict[str, Any] = {}
    tracer.inject(plain, "echo", carrier)
    assert tracer.extract("echo", carrier) is plain
    carrier = {"ctx": SpanContext(1, 2, baggage={"a": "1", "b": "2"})}
    assert tracer.extract("echo", carrier).baggage == {"a": "1"}  # type: ignore[union-attr]


def test_composite_mixes_user_and_built_in_codecs() -> None:
    """CompositeCodec accepts codecs without extract_pairs, calling their extract."""
    composite = CompositeCodec([EchoCodec(), B3Codec(url_encoding=True)])
    carrier: dict[str, Any] = {"X-B3-Sampled": "1"}
    context = composite.extract(carrier)
    assert context is not None and context.sampling_deferred is False


def test_public_names_are_exported() -> None:
    """The codecs and the propagation helpers are part of the facade."""
    import jaeger_lite

    for name in (
        "B3Codec",
        "B3SingleCodec",
        "BaggageLimits",
        "BinaryCodec",
        "CompositeCodec",
        "JaegerCodec",
        "TraceContextCodec",
        "W3CBaggageCodec",
        "codecs_for_propagation",
        "parse_propagation",
    ):
        assert name in jaeger_lite.__all__ and hasattr(jaeger_lite, name)

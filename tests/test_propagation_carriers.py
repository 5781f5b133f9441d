"""Carriers: dicts, header objects (stdlib, requests), pair lists, get-only and hostile ones."""

from __future__ import annotations

import email.message
import http.client
import io
from typing import Any, Optional
from wsgiref.headers import Headers

import pytest

from jaeger_lite import (
    Format,
    InvalidCarrierException,
    SpanContext,
    Tracer,
    UnsupportedFormatException,
)

CONTEXT = SpanContext(0xABC, 0xDEF, 0, 1, {"user": "a b"})
ALL = "jaeger,b3,w3c"


def http_message(raw: bytes) -> http.client.HTTPMessage:
    return http.client.parse_headers(io.BytesIO(raw + b"\r\n"))


@pytest.mark.parametrize("propagation", ["jaeger", "b3", "b3-single", "w3c", ALL])
@pytest.mark.parametrize(
    "make",
    [dict, email.message.Message, lambda: Headers([]), lambda: http_message(b"")],
    ids=["dict", "email.message", "wsgiref", "http.client"],
)
def test_inject_and_extract_through_stdlib_header_objects(propagation: str, make: Any) -> None:
    """dict, email.message.Message, http.client.HTTPMessage and wsgiref Headers all work."""
    tracer = Tracer("svc", propagation=propagation)
    carrier = make()
    tracer.inject(CONTEXT, Format.HTTP_HEADERS, carrier)
    tracer.inject(CONTEXT, Format.HTTP_HEADERS, carrier)  # re-injecting replaces, not adds
    context = tracer.extract(Format.HTTP_HEADERS, carrier)
    assert context is not None and (context.trace_id, context.span_id) == (0xABC, 0xDEF)
    assert context.baggage == {"user": "a b"}


def test_requests_case_insensitive_dict() -> None:
    """requests' CaseInsensitiveDict (and so response.headers) is a carrier."""
    requests = pytest.importorskip("requests")
    headers = requests.structures.CaseInsensitiveDict({"Content-Type": "text/plain"})
    tracer = Tracer("svc", propagation=ALL)
    tracer.inject(CONTEXT, Format.HTTP_HEADERS, headers)
    assert headers["TRACEPARENT"] == headers["traceparent"]
    context = tracer.extract(Format.HTTP_HEADERS, headers)
    assert context is not None and context.trace_id == 0xABC and context.baggage == {"user": "a b"}


def test_headers_parsed_from_the_wire() -> None:
    """Headers as an HTTP server parses them, mixed case, from raw bytes."""
    raw = (
        b"Host: x\r\nUber-Trace-Id: abc:def:0:1\r\nUberctx-User: a%20b\r\n"
        b"X-B3-TraceId: 0000000000000abc\r\nX-B3-SpanId: 0000000000000def\r\n"
    )
    context = Tracer("svc", propagation=ALL).extract(Format.HTTP_HEADERS, http_message(raw))
    assert context is not None and context.trace_id == 0xABC and context.baggage == {"user": "a b"}


def test_asgi_style_bytes_pairs() -> None:
    """A list of (bytes, bytes) pairs, as ASGI delivers headers, is read as Latin-1."""
    carrier = [(b"uber-trace-id", b"abc:def:0:1"), (b"uberctx-user", b"a%20b"), (b"x", 1)]
    context = Tracer("svc").extract(Format.HTTP_HEADERS, carrier)
    assert context is not None and context.trace_id == 0xABC and context.baggage == {"user": "a b"}


@pytest.mark.parametrize(
    ("propagation", "carrier", "baggage"),
    [
        pytest.param(
            "jaeger",
            {b"uber-trace-id": b"abc:def:0:1", "uberctx-n": 5, 7: "x"},
            {},
            id="jaeger",
        ),
        pytest.param(
            "b3",
            {
                b"x-b3-traceid": b"0000000000000abc",
                "x-b3-spanid": b"0000000000000def",
                b"baggage-user": "a%20b",
                "baggage-n": 5,
                7: "x",
            },
            {"user": "a b"},
            id="b3",
        ),
        pytest.param(
            "w3c",
            {
                "traceparent": b"00-00000000000000000000000000000abc-0000000000000def-01",
                b"baggage": b"user=a%20b",
                "tracestate": 5,
                7: "x",
            },
            {"user": "a b"},
            id="w3c",
        ),
    ],
)
def test_bytes_values_in_a_dict(
    propagation: str, carrier: dict[Any, Any], baggage: dict[str, str]
) -> None:
    """bytes names and values in a dict are decoded too; other types are skipped."""
    context = Tracer("svc", propagation=propagation).extract(Format.HTTP_HEADERS, carrier)
    assert context is not None and context.trace_id == 0xABC and context.baggage == baggage


class GetOnly:
    """A carrier with nothing but get(), case-sensitive like a plain mapping."""

    def __init__(self, data: dict[str, str]) -> None:
        self.data = data

    def get(self, key: str) -> Optional[str]:
        return self.data.get(key)


@pytest.mark.parametrize(
    ("propagation", "data"),
    [
        ("jaeger", {"uber-trace-id": "abc:def:0:1"}),
        ("b3", {"X-B3-TraceId": "0000000000000abc", "X-B3-SpanId": "0000000000000def"}),
        ("b3-single", {"b3": "0000000000000abc-0000000000000def-1"}),
        ("w3c", {"traceparent": f"00-{0xABC:032x}-{0xDEF:016x}-01", "baggage": "u=1"}),
    ],
)
def test_get_only_carriers(propagation: str, data: dict[str, str]) -> None:
    """Carriers with only get(): the fixed header names are probed."""
    context = Tracer("svc", propagation=propagation).extract(Format.HTTP_HEADERS, GetOnly(data))
    assert context is not None and (context.trace_id, context.span_id) == (0xABC, 0xDEF)


class Hostile:
    """A carrier whose items() raises."""

    def items(self) -> Any:
        raise RuntimeError("boom")

    def __setitem__(self, key: str, value: str) -> None:
        raise RuntimeError("boom")


@pytest.mark.parametrize(
    "carrier", [None, 42, "uber-trace-id", b"uber-trace-id: 1:2:0:1", object(), Hostile(), [1, 2]]
)
def test_odd_carriers_extract_none(carrier: object) -> None:
    """Anything that is not a carrier, or breaks while read, yields None, never raises."""
    for propagation in ("jaeger", ALL):
        assert Tracer("svc", propagation=propagation).extract(Format.HTTP_HEADERS, carrier) is None


@pytest.mark.parametrize("carrier", [None, (), "text", 3])
def test_inject_into_something_that_takes_no_items_is_invalid(carrier: object) -> None:
    """API misuse: a carrier without item assignment raises InvalidCarrierException."""
    with pytest.raises(InvalidCarrierException):
        Tracer("svc").inject(CONTEXT, Format.HTTP_HEADERS, carrier)


def test_inject_into_a_carrier_that_breaks_is_counted_not_raised() -> None:
    """A carrier whose __setitem__ fails with its own error does not break the caller."""
    tracer = Tracer("svc")
    tracer.inject(CONTEXT, Format.HTTP_HEADERS, Hostile())
    assert tracer.metrics["propagation_errors"] == 1


class RaisingGetOnly:
    """A carrier with only get(), which fails."""

    def get(self, key: str) -> Any:
        raise RuntimeError("boom")


@pytest.mark.parametrize("propagation", ["jaeger", "b3", "b3-single", "w3c", ALL])
@pytest.mark.parametrize("carrier", [Hostile(), RaisingGetOnly()], ids=["items", "get"])
def test_extract_from_a_carrier_that_breaks_is_counted(propagation: str, carrier: Any) -> None:
    """A carrier whose items() (or get()) raises yields None and counts one
    propagation_errors, as inject does."""
    tracer = Tracer("svc", propagation=propagation)
    for format in (Format.HTTP_HEADERS, Format.TEXT_MAP):
        assert tracer.extract(format, carrier) is None
    assert tracer.metrics["propagation_errors"] == 2


class Unhashable:
    __hash__ = None  # type: ignore[assignment]


class HashRaises:
    def __hash__(self) -> int:
        raise RuntimeError("no hash")


class EqRaises:
    """Hashes like a registered format, so the lookup has to call __eq__, which fails."""

    def __hash__(self) -> int:
        return hash(Format.HTTP_HEADERS)

    def __eq__(self, other: object) -> bool:
        raise ValueError("no eq")

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


@pytest.mark.parametrize(
    "format",
    [[], {}, Unhashable(), HashRaises(), EqRaises(), None, 42, b"http_headers"],
    ids=["list", "dict", "unhashable", "hash-raises", "eq-raises", "None", "int", "bytes"],
)
def test_junk_format_is_unsupported(format: Any) -> None:
    """Any format that is not a registered one raises UnsupportedFormatException (the
    documented misuse), never TypeError, RuntimeError or ValueError."""
    tracer = Tracer("svc")
    span = tracer.start_span("op")
    with pytest.raises(UnsupportedFormatException):
        tracer.inject(span.context, format, {})
    with pytest.raises(UnsupportedFormatException):
        tracer.extract(format, {})


@pytest.mark.parametrize("propagation", ["jaeger", "b3", "b3-single", "w3c", ALL])
@pytest.mark.parametrize("fmt", [Format.HTTP_HEADERS, Format.TEXT_MAP])
def test_header_values_given_as_lists(propagation: str, fmt: str) -> None:
    """A carrier whose values are lists (``{"uber-trace-id": ["..."]}``, AWS API Gateway's
    ``multiValueHeaders``): each item counts as the header repeated, so a one-item list
    reads as the value, as jaeger-client read it (it ignored the whole context before)."""
    tracer = Tracer("svc", propagation=propagation)
    flat: dict[str, str] = {}
    tracer.inject(CONTEXT, fmt, flat)
    got = tracer.extract(fmt, {key: [value] for key, value in flat.items()})
    assert got is not None
    assert (got.trace_id, got.span_id, dict(got.baggage)) == (0xABC, 0xDEF, {"user": "a b"})
    assert tracer.extract(fmt, {key: (value,) for key, value in flat.items()}) == got
    assert tracer.metrics["propagation_errors"] == 0


def test_list_values_follow_each_formats_rule_for_repeated_headers() -> None:
    """Two values: uber-trace-id and B3 take the first; two traceparents are invalid (W3C);
    an empty list is no header."""
    first, second = "1:2:0:1", "3:4:0:1"
    jaeger = Tracer("svc")
    got = jaeger.extract(Format.HTTP_HEADERS, {"uber-trace-id": [first, second]})
    assert got is not None and (got.trace_id, got.span_id) == (1, 2)
    assert jaeger.extract(Format.HTTP_HEADERS, {"uber-trace-id": []}) is None
    b3 = Tracer("svc", propagation="b3")
    got = b3.extract(Format.HTTP_HEADERS, {"x-b3-traceid": ["a", "b"], "x-b3-spanid": ["c"]})
    assert got is not None and (got.trace_id, got.span_id) == (0xA, 0xC)
    w3c = Tracer("svc", propagation="w3c")
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    assert w3c.extract(Format.HTTP_HEADERS, {"traceparent": [parent]}) is not None
    assert w3c.extract(Format.HTTP_HEADERS, {"traceparent": [parent, parent]}) is None


def test_list_values_read_as_jaeger_client_reads_them() -> None:
    """jaeger-client (installed for the tests) accepts a one-item list for uber-trace-id
    in a TEXT_MAP (its HTTP_HEADERS codec URL-decodes first, and fails on a list)."""
    jaeger_client = pytest.importorskip("jaeger_client")
    from jaeger_client.reporter import NullReporter
    from jaeger_client.sampler import ConstSampler

    peer = jaeger_client.Tracer("peer", NullReporter(), ConstSampler(True))
    carrier = {"uber-trace-id": ["abc:def:0:1"], "uberctx-user": "a b"}
    theirs = peer.extract(Format.TEXT_MAP, carrier)
    ours = Tracer("svc").extract(Format.TEXT_MAP, carrier)
    assert ours is not None
    assert (ours.trace_id, ours.span_id, ours.flags, dict(ours.baggage)) == (
        theirs.trace_id,
        theirs.span_id,
        theirs.flags,
        theirs.baggage,
    )

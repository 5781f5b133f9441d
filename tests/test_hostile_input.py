"""Garbage and hostile input end to end: whatever the application hands us, nothing raises
into it, every finished sampled span is delivered or counted as dropped, and what goes on
the wire is decoded by thrift's own pure-Python readers (UDP datagrams never over
``max_packet_size``)."""

from __future__ import annotations

import email.message
import math
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from thrift.protocol.TBinaryProtocol import TBinaryProtocol
from thrift.transport.TTransport import TMemoryBuffer

from jaeger_lite import HTTPSender, RemoteReporter, Span, Tracer, UDPSender
from jaeger_lite._gen.jaeger import ttypes
from tests._wire_helpers import Collector, UDPAgent, accounted, decode_emit_batch, tag_dict

MB = 1 << 20
FORMATS = ["jaeger", "b3", "b3-single", "w3c", "jaeger,b3,w3c"]


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


class NotAStr:
    def __str__(self) -> str:
        return 42  # type: ignore[return-value]  # noqa: PLE0307  (hostile on purpose)


class WeirdStr(str):
    def __str__(self) -> str:
        return 42  # type: ignore[return-value]  # noqa: PLE0307  (hostile on purpose)


class WeirdInt(int):
    def __int__(self) -> int:
        raise RuntimeError("no int")


recursive: dict[str, Any] = {}
recursive["self"] = recursive

VALUES: dict[str, Any] = {
    "1MB": "x" * MB,
    "nan": math.nan,
    "inf": math.inf,
    "-inf": -math.inf,
    "2^64+1": (1 << 64) + 1,
    "10^5000": 10**5000,
    "nested": {"a": [1, {"b": (2, 3)}]},
    "recursive": recursive,
    "unprintable": Unprintable(),
    "not-a-str": NotAStr(),
    "weird-str": WeirdStr("abc"),
    "weird-int": WeirdInt(5),
    "bytes-1MB": b"\xff" * MB,
    "memoryview": memoryview(b"xyz"),
    "none": None,
    "surrogate": "\udcff",
}


def hostile_spans(tracer: Tracer) -> int:
    """Finish spans carrying every hostile value in every place; return how many."""
    count = 0
    for name, value in VALUES.items():
        with tracer.start_span(f"tag-{name}", tags={name: value}) as span:
            span.set_tag(name, value).set_tag(Unprintable(), value)  # type: ignore[arg-type]
            span.log_kv({name: value, Unprintable(): value})
            span.log(event=value, payload=value)
            span.set_baggage_item(name, value)
            span.set_baggage_item(Unprintable(), value)  # type: ignore[arg-type]
        count += 1
        tracer.start_span(value).finish()  # as an operation name
        count += 1
    tracer.start_span("o" * (10 * MB)).finish()  # far too big for a datagram
    many_logs = tracer.start_span("many-logs")
    for i in range(10_000):
        many_logs.log_kv({"i": i, "event": "tick"})
    many_logs.finish()
    elsewhere = tracer.start_span("finished-in-another-thread")
    thread = threading.Thread(target=elsewhere.finish)
    thread.start()
    thread.join()
    return count + 3


@pytest.fixture
def agent() -> Iterator[UDPAgent]:
    agent = UDPAgent()
    yield agent
    agent.close()


def test_hostile_spans_over_udp(agent: UDPAgent) -> None:
    """Over UDP: datagrams within max_packet_size and decodable by thrift's pure-Python
    compact reader; only the spans too big for one are lost, and they are counted."""
    reporter = RemoteReporter(UDPSender("127.0.0.1", agent.port))
    tracer = Tracer("svc", reporter, tags={f"process-{k}": v for k, v in VALUES.items()})
    finished = hostile_spans(tracer)
    assert tracer.flush(10)
    metrics = tracer.metrics
    assert metrics["spans_sampled"] == finished == accounted(metrics)
    assert metrics["spans_dropped_encode_error"] == 0
    # Operation names are not cut: the 10 MB one, the 1 MB one and the repr of 1 MB of
    # bytes cannot fit in a datagram. The span given 10,000 logs keeps 1,000 (the default
    # max_logs_per_span), which fit.
    assert metrics["spans_dropped_too_large"] == 3
    assert metrics["span_logs_dropped"] == 9_000
    received = agent.wait_for_spans(metrics["spans_sent"])
    assert len(received) == metrics["spans_sent"] == finished - 3
    assert max(map(len, agent.datagrams)) <= 65000
    process = tag_dict(decode_emit_batch(agent.datagrams[0]).process.tags)
    assert process["process-10^5000"] == "<int of 16610 bits>"
    assert process["process-unprintable"] == "<unprintable Unprintable>"
    assert len(process["process-1MB"]) == 1024
    tracer.close()


def test_hostile_spans_over_http() -> None:
    """Over HTTP every span goes, whole batches decodable by thrift's binary reader."""
    collector = Collector()
    try:
        tracer = Tracer("svc", RemoteReporter(HTTPSender(collector.url)))
        finished = hostile_spans(tracer)
        assert tracer.flush(10)
        metrics = tracer.metrics
        assert metrics["spans_sent"] == metrics["spans_sampled"] == finished
        spans = []
        for request in collector.requests:
            batch = ttypes.Batch()
            batch.read(TBinaryProtocol(TMemoryBuffer(request["body"])))
            spans.extend(batch.spans)
        assert len(spans) == finished
        tracer.close()
    finally:
        collector.stop()


def test_close_from_many_threads_while_reporting(agent: UDPAgent) -> None:
    """close() from several threads while others still report: nothing raises, and every
    finished span is sent or counted (after close, as dropped_closed)."""
    tracer = Tracer("svc", RemoteReporter(UDPSender("127.0.0.1", agent.port)))
    errors: list[BaseException] = []
    stop = threading.Event()
    started = threading.Barrier(4 + 3)

    def report() -> None:
        started.wait()
        try:
            while not stop.is_set():
                tracer.start_span("op").set_tag("k", 1).finish()
        except BaseException as exc:
            errors.append(exc)

    def close() -> None:
        started.wait()
        try:
            tracer.close(5)
        except BaseException as exc:
            errors.append(exc)

    reporters = [threading.Thread(target=report) for _ in range(4)]
    closers = [threading.Thread(target=close) for _ in range(3)]
    for thread in reporters + closers:
        thread.start()
    for thread in closers:
        thread.join(10)
    stop.set()
    for thread in reporters:
        thread.join(10)
    assert not errors
    metrics = tracer.metrics
    assert metrics["spans_sampled"] == accounted(metrics)
    assert metrics["queue_length"] == 0
    assert len(agent.wait_for_spans(metrics["spans_sent"])) == metrics["spans_sent"]


def carriers() -> list[tuple[str, Any]]:
    big = "x" * MB
    trace = "00-" + "1" * 32 + "-" + "2" * 16 + "-01"
    duplicated = email.message.Message()
    for header, value in [
        ("uber-trace-id", "1:2:0:1"),
        ("uber-trace-id", "3:4:0:1"),
        ("traceparent", trace),
        ("traceparent", trace.replace("1", "5")),
        ("b3", "1" * 16 + "-" + "2" * 16),
        ("b3", "3" * 16 + "-" + "4" * 16),
        ("x-b3-traceid", "1" * 16),
        ("x-b3-traceid", "3" * 16),
        ("baggage", "a=1"),
        ("baggage", "a=2,b=3"),
        ("uberctx-k", "1"),
        ("uberctx-k", "2"),
    ]:
        duplicated[header] = value

    class Raising(dict):  # type: ignore[type-arg]
        def items(self) -> Any:
            raise RuntimeError("items")

        def __iter__(self) -> Any:
            raise RuntimeError("iter")

        def __getitem__(self, key: Any) -> Any:
            raise RuntimeError("getitem")

        def get(self, key: Any, default: Any = None) -> Any:
            raise RuntimeError("get")

    class RaisingGet:
        def get(self, key: Any) -> Any:
            raise RuntimeError("get")

    every = ("uber-trace-id", "uberctx-a", "traceparent", "tracestate", "baggage", "b3")
    return [
        ("CR/LF", {"uber-trace-id": "1:2:0:1\r\nX: y", "uberctx-a": "b\r\nc", "b3": "1\n"}),
        ("NUL", {"uber-trace-id": "1:2:0:1\x00", "x-b3-traceid": "\x00", "baggage": "\x00=\x00"}),
        ("1MB values", dict.fromkeys((*every, "x-b3-traceid", "jaeger-debug-id"), big)),
        ("1MB lists", dict.fromkeys(("baggage", "tracestate", "jaeger-baggage"), "a=b," * MB)),
        ("non-UTF-8", {b"uber-trace-id": b"\xff:1:0:1", b"uberctx-\xff": b"\xff"}),
        ("non-UTF-8 baggage", {b"baggage": b"\xff=\xff", b"traceparent": b"\xff" * 55}),
        ("surrogates", {"uber-trace-id": "\udcff", "uberctx-\udcff": "\udcff"}),
        ("surrogate baggage", {"baggage": "a=\udcff", "traceparent": "\udcff"}),
        ("non-str", {"uber-trace-id": 12, "uberctx-a": None, "baggage": ["a=b"], 5: "x"}),
        ("duplicates", duplicated),
        ("raising carrier", Raising()),
        ("raising get", RaisingGet()),
    ]  # fmt: skip


@pytest.mark.parametrize("propagation", FORMATS)
@pytest.mark.parametrize("format", ["http_headers", "text_map"])
def test_extract_never_raises(propagation: str, format: str) -> None:
    """Every format extracts garbage, huge and hostile carriers without raising."""
    tracer = Tracer("svc", propagation=propagation)
    for name, carrier in carriers():
        context = tracer.extract(format, carrier)
        assert context is None or context.trace_id >= 0, name


@pytest.mark.parametrize("propagation", FORMATS)
@pytest.mark.parametrize("format", ["http_headers", "text_map"])
def test_inject_never_writes_control_characters(propagation: str, format: str) -> None:
    """Hostile baggage never puts CR, LF or NUL in a header; a failing carrier is contained."""
    tracer = Tracer("svc", propagation=propagation)
    span: Span = tracer.start_span("op")
    for key, value in [
        ("k", "v\r\nX-Injected: 1"),
        ("cr\r\nlf", "v"),
        ("nul", "\x00"),
        ("uni", "ü\u2028\x85"),
        ("sp ace", "a b"),
    ]:
        span.set_baggage_item(key, value)
    carrier: dict[str, str] = {}
    tracer.inject(span.context, format, carrier)
    assert carrier
    for header, value in carrier.items():
        assert not set(header + value) & {"\r", "\n", "\x00", "\x85", "\u2028"}, header

    class Raising:
        def __setitem__(self, key: str, value: str) -> None:
            raise RuntimeError("read-only")

    tracer.inject(span.context, format, Raising())
    assert tracer.metrics["propagation_errors"] == 1


class RaisingKey:
    """A key whose comparison and hashing fail (a tag key passed by mistake)."""

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no eq")

    def __hash__(self) -> int:
        raise RuntimeError("no hash")

    def __str__(self) -> str:
        return "raising-key"


class RaisingMapping:
    """``tags=`` that looks like a mapping and fails when read."""

    def __init__(self, fail: str) -> None:
        self.fail = fail

    def __bool__(self) -> bool:
        if self.fail == "bool":
            raise RuntimeError("no bool")
        return True

    def __len__(self) -> int:
        if self.fail == "bool":
            raise RuntimeError("no len")
        return 1

    def items(self) -> Any:
        if self.fail == "items":
            raise RuntimeError("no items")
        if self.fail == "pairs":
            return [("ok", 1), ("a", "b", "c"), 7]
        return [("ok", 1)]


class PairsMapping:
    """A mapping in the duck-typed sense: only items() (a dict cannot hold RaisingKey)."""

    def __init__(self, pairs: list[tuple[Any, Any]]) -> None:
        self.pairs = pairs

    def items(self) -> list[tuple[Any, Any]]:
        return self.pairs


def test_tag_key_that_cannot_compare_or_hash_is_kept_as_text() -> None:
    """set_tag with a key whose __eq__/__hash__ raise records the tag under str(key)."""
    tracer = Tracer("svc")
    span = tracer.start_span("op")
    span.set_tag(RaisingKey(), 1)  # type: ignore[arg-type]
    span.log_kv(PairsMapping([(RaisingKey(), 2)]))
    assert span.tags["raising-key"] == 1
    assert span.logs[0].fields["raising-key"] == 2
    span.set_baggage_item(RaisingKey(), "v")  # type: ignore[arg-type]
    assert span.get_baggage_item("raising-key") == "v"
    assert span.get_baggage_item(RaisingKey()) is None  # type: ignore[arg-type]
    assert span.get_baggage_item([]) is None  # type: ignore[arg-type]
    span.finish()


@pytest.mark.parametrize("fail", ["items", "bool", "pairs"])
@pytest.mark.parametrize("active", [False, True])
def test_start_span_tags_that_fail_to_read_are_ignored(fail: str, active: bool) -> None:
    """start_span(tags=...) whose truth value or items() raises, or whose items are not
    pairs: the span starts; the pairs read before the failure are kept."""
    tracer = Tracer("svc")
    tags: Any = RaisingMapping(fail)
    if active:
        with tracer.start_active_span("op", tags=tags) as scope:
            span = scope.span
    else:
        span = tracer.start_span("op", tags=tags)
        span.finish()
    assert span.tags.get("ok") == (None if fail == "items" else 1)


@pytest.mark.parametrize(
    "references",
    [iter([]), 42, [None, "x", 3], RaisingMapping("items")],
    ids=["iterator", "int", "junk-list", "raising-mapping"],
)
def test_start_span_with_junk_references_is_a_root(references: Any) -> None:
    """References that are not references (or fail to iterate) are ignored, not raised.
    (Their truth value is asked first, as of any argument: an object whose __bool__
    raises is the caller's own error.)"""
    tracer = Tracer("svc")
    span = tracer.start_span("op", references=references)
    assert span.context.parent_id == 0
    span.finish()


def test_documented_misuse_raises() -> None:
    """The misuse README "What raises" lists raises what it says; nothing else does."""
    from jaeger_lite import (
        InvalidCarrierException,
        SpanContextCorruptedException,
        UnsupportedFormatException,
    )

    tracer = Tracer("svc", strict_extract=True)
    span = tracer.start_span("op")
    with pytest.raises(TypeError):
        Span()
    with pytest.raises(ValueError):
        Tracer("")
    with pytest.raises(UnsupportedFormatException):
        tracer.inject(span.context, "no-such-format", {})
    with pytest.raises(UnsupportedFormatException):
        tracer.extract("no-such-format", {})
    with pytest.raises(InvalidCarrierException):
        tracer.inject(span.context, "http_headers", 42)
    with pytest.raises(TypeError):
        tracer.inject("not a context", "http_headers", {})  # type: ignore[arg-type]
    with pytest.raises(SpanContextCorruptedException):
        tracer.extract("http_headers", {"uber-trace-id": "garbage"})


HEADERS_OF = {
    "jaeger": ["uber-trace-id", "uberctx-k", "jaeger-baggage", "jaeger-debug-id"],
    "b3": ["b3", "x-b3-traceid", "baggage-k"],
    "w3c": ["traceparent", "tracestate", "baggage"],
}


@pytest.mark.parametrize("propagation", ["jaeger", "b3", "w3c"])
def test_a_10_mb_header_costs_milliseconds(propagation: str) -> None:
    """Every extract is bounded by its limits: a 10 MB header of '%' (or of other text that
    is costly to decode or split) is judged by its length before it is decoded. It took
    3.8 s (a Python loop per '%'); now each costs what a C-level scan of it does."""
    from time import perf_counter

    tracer = Tracer("svc", propagation=propagation)
    worst, worst_case = 0.0, ""
    for header in HEADERS_OF[propagation]:
        for unit in ("%", "%F0%9F%98%80", "a=%,", ","):
            value = unit * (10 * MB // len(unit))
            for format in ("http_headers", "text_map"):
                started = perf_counter()
                tracer.extract(format, {header: value})
                took = perf_counter() - started
                if took > worst:
                    worst, worst_case = took, f"{header}: {unit!r} x {len(value)} ({format})"
    assert worst < 1.0, worst_case


@pytest.mark.parametrize(
    ("propagation", "header"),
    [("jaeger", "uberctx-k"), ("b3", "baggage-k"), ("jaeger", "jaeger-baggage")],
)
def test_baggage_too_long_to_fit_once_decoded_is_dropped_and_counted(
    propagation: str, header: str
) -> None:
    """A value whose decoded form cannot fit is dropped and counted whether or not it is
    decoded first: at most 12 characters of percent-encoding make one character."""
    tracer = Tracer("svc", propagation=propagation, baggage_max_value_length=10)
    prefix = "k=" if header == "jaeger-baggage" else ""
    for count in (11, 41, 1000):  # decoded (33 chars) or not (123, 3000 chars): same outcome
        context = tracer.extract("http_headers", {header: prefix + "%41" * count})
        assert context is None or "k" not in context.baggage
    assert tracer.metrics["baggage_dropped"] == 3
    context = tracer.extract("http_headers", {header: prefix + "%41" * 10})
    assert context is not None and context.baggage["k"] == "A" * 10


@pytest.mark.parametrize(
    "junk", [None, "boom", 42, Unprintable()], ids=["None", "str", "int", "unprintable"]
)
def test_record_exception_of_something_that_is_not_an_exception(junk: Any) -> None:
    """record_exception() of a non-exception records nothing and raises nothing (it
    raised AttributeError: no __traceback__)."""
    span = Tracer("svc").start_span("op")
    span.record_exception(junk)
    assert "error" not in span.tags
    span.finish()


class _BrokenError(Exception):
    """An exception whose __str__ and __repr__ fail, as one that reads an attribute its
    __init__ never set does."""

    def __str__(self) -> str:
        return self.detail  # type: ignore[attr-defined, no-any-return]

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


class _NotAStrError(Exception):
    def __str__(self) -> str:
        return 42  # type: ignore[return-value]  # noqa: PLE0307  (hostile on purpose)


@pytest.mark.parametrize("error", [_BrokenError(), _NotAStrError()], ids=["raises", "not-str"])
def test_an_error_that_cannot_print_itself_is_still_logged(error: Exception) -> None:
    """An exception whose str()/repr() fails still gets its event=error log (error.kind,
    stack): the whole log was dropped, leaving error=true with nothing saying what failed."""
    from jaeger_lite import InMemoryReporter

    reporter = InMemoryReporter()
    tracer = Tracer("svc", reporter)
    with pytest.raises(type(error)):
        with tracer.start_active_span("op"):
            raise error
    span = tracer.start_span("handled")
    span.record_exception(error)
    span.finish()
    for finished in reporter.spans:
        assert finished.tags["error"] is True
        (log,) = finished.logs
        assert log.fields["event"] == "error"
        assert log.fields["error.kind"] == type(error).__name__
        assert isinstance(log.fields["message"], str)
        assert isinstance(log.fields["error.object"], str)
        assert type(error).__name__ in log.fields["stack"]

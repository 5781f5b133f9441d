"""jaeger-client's span surface and close() Future: code written for jaeger-client runs
unchanged, and gives the answers jaeger-client (installed for the tests) gives."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Callable

import jaeger_client
import pytest
from jaeger_client.reporter import InMemoryReporter as ClientReporter
from jaeger_client.sampler import ConstSampler as ClientConstSampler

import jaeger_lite
from jaeger_lite import ConstSampler, InMemoryReporter, Tracer

SAMPLING_PRIORITY = "sampling.priority"


def lite_tracer(sampled: bool) -> Any:
    return Tracer("svc", InMemoryReporter(), ConstSampler(sampled))


def client_tracer(sampled: bool) -> Any:
    return jaeger_client.Tracer("svc", ClientReporter(), ClientConstSampler(sampled))


TRACERS = pytest.mark.parametrize(
    "make", [lite_tracer, client_tracer], ids=["jaeger_lite", "jaeger_client"]
)


def client_style_code(tracer: Any) -> dict[str, Any]:
    """What jaeger-client users wrote (from its own tests and instrumentation)."""
    root = tracer.start_span("root", tags={"span.kind": "server"})
    child = tracer.start_span("child", child_of=root, tags={"span.kind": "client"})
    child.info("cache miss", {"key": "k"})
    child.error("upstream failed")
    seen = {
        "sampled": child.is_sampled(),
        "debug": child.is_debug(),
        "same trace": child.trace_id == root.trace_id,
        "parent": child.parent_id == root.span_id,
        "root parent": bool(root.parent_id),
        "flags": child.flags,
        "rpc": (root.is_rpc(), root.is_rpc_client(), child.is_rpc(), child.is_rpc_client()),
        "hex": "%x" % child.trace_id == f"{child.trace_id:x}",  # noqa: UP031  (as real code)
        "end before": child.end_time,
    }
    child.finish()
    root.finish()
    seen["ended"] = child.end_time is not None and child.end_time >= child.start_time
    unsampled = tracer.start_span("forced")
    forced_before = unsampled.is_sampled()
    unsampled.set_tag(SAMPLING_PRIORITY, 1)
    seen["forced"] = (forced_before, unsampled.is_sampled(), unsampled.is_debug())
    return seen


@TRACERS
def test_client_style_code_runs_and_answers_as_jaeger_client(make: Callable[..., Any]) -> None:
    """The same jaeger-client-style code gives the same answers on both tracers."""
    assert client_style_code(make(True)) == {
        "sampled": True,
        "debug": False,
        "same trace": True,
        "parent": True,
        "root parent": False,
        "flags": 1,
        "rpc": (True, False, True, True),
        "hex": True,
        "end before": None,
        "ended": True,
        "forced": (True, True, True),
    }


@TRACERS
def test_is_sampled_is_a_real_bool_when_called(make: Callable[..., Any]) -> None:
    """``span.is_sampled() is False`` (jaeger-client's own tests write it so)."""
    span = make(False).start_span("x")
    assert span.is_sampled() is False
    span.set_tag(SAMPLING_PRIORITY, 1)
    assert span.is_sampled() is True and span.is_debug() is True


def test_is_sampled_still_reads_as_jaeger_lites_property() -> None:
    """jaeger_lite's own users keep the property: truthiness, ==, not, repr."""
    sampled = lite_tracer(True).start_span("x")
    unsampled = lite_tracer(False).start_span("y")
    assert sampled.is_sampled and not unsampled.is_sampled
    assert sampled.is_sampled == True  # noqa: E712  (what existing code may write)
    assert unsampled.is_sampled == False  # noqa: E712
    assert repr(sampled.is_sampled) == "True" and f"{unsampled.is_sampled}" == "False"
    assert json.dumps(sampled.is_sampled()) == "true"
    assert [s.operation_name for s in (sampled, unsampled) if s.is_sampled] == ["x"]


def test_info_and_error_write_jaeger_clients_logs() -> None:
    """info() logs the event and payload; error() also tags error=true."""
    span = lite_tracer(True).start_span("x")
    span.info("hello", {"a": 1}).error("bad")
    assert [dict(log.fields) for log in span.logs] == [
        {"event": "hello", "payload": "{'a': 1}"},
        {"event": "bad"},
    ]
    assert span.tags["error"] is True
    assert not span.finished
    span.finish()
    assert span.finished


def test_close_returns_a_done_future() -> None:
    """close() has finished when it returns; its Future says so, with None."""
    tracer = lite_tracer(True)
    future = tracer.close()
    assert future.done() and future.result() is None
    called: list[Any] = []
    tracer.close().add_done_callback(called.append)  # idempotent, still a Future
    assert len(called) == 1 and called[0].done()


def test_await_tracer_close() -> None:
    """``await tracer.close()`` in asyncio code."""

    async def main() -> Any:
        tracer = lite_tracer(True)
        tracer.start_span("x").finish()
        return await tracer.close()

    assert asyncio.run(main()) is None


def test_yield_tracer_close_in_a_tornado_coroutine() -> None:
    """Tornado-era code: ``yield tracer.close()`` in a gen.coroutine, and
    ``IOLoop.run_sync(tracer.close)``."""
    gen = pytest.importorskip("tornado.gen")
    ioloop = pytest.importorskip("tornado.ioloop")

    @gen.coroutine  # type: ignore[misc]
    def shutdown(tracer: Any) -> Any:
        tracer.start_span("x").finish()
        yield tracer.close()
        return "closed"

    loop = ioloop.IOLoop()
    try:
        assert loop.run_sync(lambda: shutdown(lite_tracer(True))) == "closed"
        assert loop.run_sync(lite_tracer(True).close) is None
    finally:
        loop.close()


def test_tracer_reads_like_jaeger_clients() -> None:
    """The tracer attributes jaeger-client code reads."""
    tracer = Tracer("svc", max_tag_value_length=77, max_traceback_length=99)
    assert (tracer.service_name, tracer.max_tag_value_length) == ("svc", 77)
    assert tracer.max_traceback_length == 99
    assert isinstance(tracer.reporter, jaeger_lite.NullReporter)


@pytest.mark.parametrize(
    "args",
    [(1, 2, None, 1), (2**64 - 1, 2**63, None, 3, {"k": "v"}), (2**100 + 7, 9, 5, 1, None, None)],
)
def test_span_context_built_as_jaeger_client_code_builds_it(args: tuple[Any, ...]) -> None:
    """jaeger-client's positional order (trace, span, parent, flags, baggage, debug_id) and
    its None parent for a root: the context injects as jaeger-client's own does (its
    codecs read back the same ids and baggage) and prints, where the None used to make
    inject write nothing and repr() raise."""
    from opentracing import Format

    ours = jaeger_lite.SpanContext(*args)
    theirs = jaeger_client.SpanContext(*args)
    assert ours.parent_id == (theirs.parent_id or 0)
    assert repr(ours).startswith("SpanContext(")
    peer = client_tracer(True)
    lite = lite_tracer(True)
    for fmt in (Format.TEXT_MAP, Format.HTTP_HEADERS):
        carrier: dict[str, str] = {}
        lite.inject(ours, fmt, carrier)
        back = peer.extract(fmt, carrier)
        assert (back.trace_id, back.span_id, back.flags) == (args[0], args[1], args[3])
        assert back.baggage == (theirs.baggage or {})
    binary = bytearray()
    peer.inject(theirs, Format.BINARY, binary)
    read = lite.extract(Format.BINARY, binary)
    assert read == ours
    assert lite.metrics["propagation_errors"] == 0
    assert jaeger_lite.SpanContext(0, 0, 0, 3, None, "dbg").debug_id == "dbg"


CLIENT_KEYWORDS: dict[str, Any] = {
    "generate_128bit_trace_id": True,
    "trace_id_header": "X_Trace_Id",
    "baggage_header_prefix": "X_Ctx_",
    "debug_id_header": "X_Debug_Id",
}


@pytest.mark.parametrize("writer_is_ours", [True, False], ids=["ours", "theirs"])
def test_tracer_takes_jaeger_clients_keywords(writer_is_ours: bool) -> None:
    """``Tracer(...)`` with jaeger-client's own keywords: 128-bit trace ids and the renamed
    headers, written by either client the same way and read by the other."""
    ours = Tracer("svc", InMemoryReporter(), ConstSampler(True), **CLIENT_KEYWORDS)
    theirs = jaeger_client.Tracer(
        "svc", ClientReporter(), ClientConstSampler(True), **CLIENT_KEYWORDS
    )
    writer, reader = (ours, theirs) if writer_is_ours else (theirs, ours)
    span = writer.start_span("op")
    span.set_baggage_item("user", "ada")
    headers: dict[str, str] = {}
    writer.inject(span.context, "http_headers", headers)
    assert span.context.trace_id >> 64  # 128 bits
    assert set(headers) == {"x-trace-id", "x-ctx-user"}
    read = reader.extract("http_headers", headers)
    assert (read.trace_id, read.span_id, dict(read.baggage)) == (
        span.context.trace_id,
        span.context.span_id,
        {"user": "ada"},
    )


def test_extra_codecs_replace_a_formats_codec_as_in_jaeger_client() -> None:
    """``extra_codecs={HTTP_HEADERS: B3Codec()}`` (jaeger-client's way to speak B3) makes
    HTTP_HEADERS B3 and leaves TEXT_MAP Jaeger."""
    tracer = Tracer("svc", extra_codecs={"http_headers": jaeger_lite.B3Codec()})
    context = jaeger_lite.SpanContext(1, 2, 0, 1)
    http: dict[str, str] = {}
    text: dict[str, str] = {}
    tracer.inject(context, "http_headers", http)
    tracer.inject(context, "text_map", text)
    assert "x-b3-traceid" in http and "uber-trace-id" not in http
    assert list(text) == ["uber-trace-id"]


def test_jaeger_client_keywords_without_effect_warn(caplog: pytest.LogCaptureFixture) -> None:
    """metrics_factory, throttler and one_span_per_rpc are accepted with a warning each;
    a keyword neither client knows is a TypeError, as for any function."""
    with caplog.at_level("WARNING", logger="jaeger_lite"):
        Tracer("svc", metrics_factory=object(), throttler=object(), one_span_per_rpc=True)
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert all(name in warned for name in ("metrics_factory", "throttler", "one_span_per_rpc"))
    with pytest.raises(TypeError, match="colour"):
        Tracer("svc", colour="blue")

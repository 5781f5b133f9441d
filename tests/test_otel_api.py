"""OpenTelemetry's Tracer and Span API over jaeger_lite spans: what each call records, and
the tag mapping of the Collector's Jaeger translator (docs/otel.md)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("opentelemetry.trace")

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

import jaeger_lite
import jaeger_lite.otel
from jaeger_lite import (
    ConstSampler,
    InMemoryReporter,
    OTLPSender,
    ReferenceType,
    Tracer,
    UDPSender,
)
from jaeger_lite.testing import new_test_tracer
from tests._otlp_collector import parse_otlp_json
from tests._wire_helpers import decode_compact_span, tag_dict

Env = tuple[trace.Tracer, Tracer, InMemoryReporter]


@pytest.fixture
def env() -> Iterator[Env]:
    tracer, reporter = new_test_tracer("svc")
    provider = jaeger_lite.otel.TracerProvider(tracer, set_propagator=False)
    yield provider.get_tracer("tests.scope", "1.2.3"), tracer, reporter
    tracer.close()


def only(reporter: InMemoryReporter, name: str) -> jaeger_lite.Span:
    (span,) = [s for s in reporter.spans if s.operation_name == name]
    return span


def test_start_span_records_a_jaeger_span_with_scope_kind_and_attributes(env: Env) -> None:
    """Name, span.kind, otel.scope.* and typed attributes become tags."""
    otel, _, reporter = env
    span = otel.start_span(
        "GET /users",
        kind=SpanKind.SERVER,
        attributes={"http.status_code": 200, "ok": True, "ratio": 0.5, "route": "/users"},
    )
    span.end()
    tags = dict(only(reporter, "GET /users").tags)
    assert tags["span.kind"] == "server"
    assert tags["otel.scope.name"] == "tests.scope"
    assert tags["otel.scope.version"] == "1.2.3"
    assert (tags["http.status_code"], tags["ok"], tags["ratio"], tags["route"]) == (
        200,
        True,
        0.5,
        "/users",
    )
    assert type(tags["http.status_code"]) is int and type(tags["ok"]) is bool


@pytest.mark.parametrize(
    ("kind", "tag"),
    [
        (SpanKind.CLIENT, "client"),
        (SpanKind.SERVER, "server"),
        (SpanKind.PRODUCER, "producer"),
        (SpanKind.CONSUMER, "consumer"),
        (SpanKind.INTERNAL, "internal"),
    ],
)
def test_kinds_map_to_span_kind_tags(env: Env, kind: SpanKind, tag: str) -> None:
    """Each kind has its tag, INTERNAL included, as Jaeger's and the Collector's translators
    write an SDK span's kind; both ways of starting a span agree."""
    otel, _, reporter = env
    otel.start_span("op", kind=kind).end()
    with otel.start_as_current_span("root"):
        with otel.start_as_current_span("child", kind=kind):
            pass
    assert [s.tags.get("span.kind") for s in reporter.spans] == [tag, tag, "internal"]


def test_sequences_are_kept_as_tuples_and_thrift_shows_them_as_the_jaeger_exporter_did(
    env: Env,
) -> None:
    """Lists and tuples are kept as tuples (strings cut at max_tag_value_length, as many
    elements at most, None elements kept); Jaeger Thrift sends their str(), as
    OpenTelemetry's Jaeger exporter did. None values are not recorded."""
    otel, tracer, reporter = env
    limit = tracer._owner.max_tag_value_length
    with otel.start_as_current_span("op", attributes={"a": ["x", "y"], "skip": None}) as span:
        span.set_attribute("ints", (1, 2))
        span.set_attribute("one", ["solo"])
        span.set_attribute("none", None)
        span.set_attributes({"bools": [True, False], "also_none": None})
        span.set_attribute("holes", ["a", None, "b"])
        span.set_attribute("long", ["z" * (limit + 5)] * (limit + 3))
        span.set_attribute("odd", [object, 1.5])  # not OpenTelemetry's types: str() of them
    (recorded,) = reporter.spans
    tags = dict(recorded.tags)
    assert tags["a"] == ("x", "y") and tags["ints"] == (1, 2) and tags["one"] == ("solo",)
    assert tags["bools"] == (True, False) and tags["holes"] == ("a", None, "b")
    assert tags["long"] == ("z" * limit,) * limit
    assert tags["odd"] == (str(object), 1.5)
    assert "skip" not in tags and "none" not in tags and "also_none" not in tags
    thrift = tag_dict(decode_compact_span(UDPSender().encode(recorded)).tags)
    assert thrift["a"] == "('x', 'y')" and thrift["ints"] == "(1, 2)"
    assert thrift["one"] == "('solo',)" and thrift["holes"] == "('a', None, 'b')"


def test_hostile_sequences_never_raise_into_the_caller(env: Env) -> None:
    """A list or tuple subclass whose __getitem__, __iter__ and __len__ raise is read
    through the base class; its elements' own __str__ raising is contained too."""

    class Hostile(list):  # type: ignore[type-arg]
        def __getitem__(self, index: Any) -> Any:
            raise RuntimeError("no")

        def __iter__(self) -> Any:
            raise RuntimeError("no")

        def __len__(self) -> int:
            raise RuntimeError("no")

    class Loud:
        def __str__(self) -> str:
            raise RuntimeError("no")

        def __eq__(self, other: object) -> bool:
            raise RuntimeError("no")

        __hash__ = object.__hash__

    otel, _, reporter = env
    start = {"h": Hostile([1, 2]), Loud(): 2}
    with otel.start_as_current_span("op", attributes=start) as span:  # type: ignore[arg-type]
        span.set_attribute("h2", Hostile(["a"]))
        span.set_attribute("loud", [Loud()])
        span.set_attribute(Loud(), "a key that raises")  # type: ignore[arg-type]
        span.set_attributes({Loud(): 1})
        span.add_event("e", {"h3": Hostile([3])})
        span.record_exception(ValueError("x"), {"h4": Hostile([4])})
    (recorded,) = reporter.spans
    assert recorded.tags["h"] == (1, 2) and recorded.tags["h2"] == ("a",)
    assert len(recorded.tags["loud"]) == 1 and isinstance(recorded.tags["loud"][0], str)
    (event, exception) = [fields for _, fields in recorded._logs or []]
    assert event["h3"] == (3,) and exception["h4"] == (4,)


@pytest.mark.parametrize("bad", ["soon", b"1", object(), [1], float("nan"), 10**30])
def test_bad_times_kinds_and_links_never_raise(env: Env, bad: Any) -> None:
    """A time that is not epoch nanoseconds means now (as a bad time in seconds does in
    jaeger_lite's API), a kind that is not a SpanKind means INTERNAL, links that are not
    links are ignored: the span is recorded, and nothing reaches the caller."""
    otel, _, reporter = env
    before = time.time_ns()
    span = otel.start_span("a", kind=bad, links=bad, start_time=bad)
    span.add_event("e", timestamp=bad)
    span.record_exception(ValueError("x"), timestamp=bad)
    span.end(end_time=bad)
    with otel.start_as_current_span("b", kind=bad, links=bad, start_time=bad):
        pass
    after = time.time_ns()
    assert [s.operation_name for s in reporter.spans] == ["a", "b"]
    for recorded in reporter.spans:
        assert recorded.tags["span.kind"] == "internal" and not recorded.references
        start, end = recorded._start_ns, recorded._start_ns + (recorded._duration_ns or 0)
        assert before <= start <= end <= after
        for stamp, _ in recorded._logs or []:
            assert before <= stamp <= after


@pytest.mark.parametrize("protocol", ["http/protobuf", "http/json"])
def test_array_attributes_reach_otlp_as_the_opentelemetry_sdk_sends_them(
    env: Env, protocol: str
) -> None:
    """The same attributes, events and exception recorded through the OpenTelemetry SDK
    (its own OTLP encoder) and through jaeger_lite (OTLPSender), decoded by
    opentelemetry-proto: the same ArrayValues."""
    sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")
    exporting = pytest.importorskip("opentelemetry.sdk.trace.export.in_memory_span_exporter")
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    attributes = {"strs": ["x", "y"], "ints": (1, 2), "floats": [0.5], "bools": [True]}

    def record(tracer: Any) -> None:
        with tracer.start_as_current_span("op", attributes=attributes) as span:
            if tracer is otel:  # SDK 1.41 (Python 3.9) cannot encode a None element
                span.set_attribute("holes", ["a", None])
            span.add_event("retry", {"codes": [500, 503]})
            span.record_exception(ValueError("x"), {"ids": ["u1", "u2"]})

    otel, _, reporter = env
    exporter = exporting.InMemorySpanExporter()
    provider = sdk_trace.TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    record(provider.get_tracer("t"))
    (sdk_span,) = encode_spans(exporter.get_finished_spans()).resource_spans[0].scope_spans[0].spans
    record(otel)
    sender = OTLPSender("http://127.0.0.1:9/v1/traces", protocol=protocol)
    sender.set_process("svc", {})
    body = sender.body(sender.encode_spans(reporter.spans))
    if protocol == "http/json":
        request = parse_otlp_json(body)
    else:
        request = ExportTraceServiceRequest.FromString(body)
    (ours,) = request.resource_spans[0].scope_spans[0].spans

    def arrays(items: Any) -> dict[str, Any]:
        return {kv.key: kv.value for kv in items if kv.value.WhichOneof("value") == "array_value"}

    mine = arrays(ours.attributes)
    holes = mine.pop("holes").array_value.values  # None: an empty AnyValue, as SDK 1.45 sends it
    assert [v.WhichOneof("value") for v in holes] == ["string_value", None]
    assert mine == arrays(sdk_span.attributes)
    assert set(mine) == set(attributes)
    for mine, theirs in zip(ours.events, sdk_span.events):
        assert arrays(mine.attributes) == arrays(theirs.attributes) != {}
    assert ours.kind == sdk_span.kind == 1  # SPAN_KIND_INTERNAL, not UNSPECIFIED
    assert "span.kind" not in {kv.key for kv in ours.attributes}


def test_events_become_logs_with_the_event_name_and_exact_timestamps(env: Env) -> None:
    """add_event: a log whose `event` is the name, attributes as fields, time in ns."""
    otel, _, reporter = env
    stamp = 1_700_000_000_123_456_789
    with otel.start_as_current_span("op") as span:
        span.add_event("cache-miss", {"key": "user:42", "tries": [1, 2]}, timestamp=stamp)
        span.add_event("plain")
    (first, second) = reporter.spans[0]._logs or []
    assert first == (stamp, {"event": "cache-miss", "key": "user:42", "tries": (1, 2)})
    assert second[1] == {"event": "plain"}
    assert abs(second[0] - time.time_ns()) < 60e9


def test_an_event_attribute_named_event_takes_precedence(env: Env) -> None:
    """As the translator says: an `event` attribute wins over the event's name."""
    otel, _, reporter = env
    with otel.start_as_current_span("op") as span:
        span.add_event("name", {"event": "explicit"})
    assert reporter.spans[0].logs[0].fields["event"] == "explicit"


def test_start_and_end_times_are_exact_nanoseconds(env: Env) -> None:
    """start_time/end_time in epoch ns reach the span without float rounding."""
    otel, _, reporter = env
    start, end = 1_700_000_000_000_000_001, 1_700_000_000_000_999_999
    otel.start_span("op", start_time=start).end(end_time=end)
    span = reporter.spans[0]
    assert span._start_ns == start
    assert span._duration_ns == end - start


def test_links_become_follows_from_references(env: Env) -> None:
    """Links at start and add_link later: FollowsFrom references, never the parent."""
    otel, _, reporter = env
    first = otel.start_span("first")
    second = otel.start_span("second")
    linked = otel.start_span("linked", links=[Link(first.get_span_context(), {"why": "batch"})])
    linked.add_link(second.get_span_context())
    linked.add_link(trace.INVALID_SPAN_CONTEXT)  # no span to point at: ignored
    for span in (linked, second, first):
        span.end()
    done = only(reporter, "linked")
    assert done.context.parent_id == 0  # links do not make a parent
    assert done.context.trace_id != first.get_span_context().trace_id  # a trace of its own
    refs = [(r.type, r.referenced_context.span_id) for r in done.references]
    assert refs == [
        (ReferenceType.FOLLOWS_FROM, first.get_span_context().span_id),
        (ReferenceType.FOLLOWS_FROM, second.get_span_context().span_id),
    ]


def test_update_name_renames_the_span(env: Env) -> None:
    """update_name changes the operation name until the span ends."""
    otel, _, reporter = env
    span = otel.start_span("GET")
    span.update_name("GET /users/{id}")
    span.end()
    span.update_name("too late")
    assert reporter.spans[0].operation_name == "GET /users/{id}"


def test_is_recording_follows_sampling_and_end(env: Env) -> None:
    """A sampled span records until it ends."""
    otel, _, _ = env
    span = otel.start_span("op")
    assert span.is_recording()
    span.end()
    assert not span.is_recording()


def test_unsampled_spans_do_not_record_but_carry_their_context() -> None:
    """The sampler said no: nothing recorded, nothing reported, a valid context."""
    reporter = InMemoryReporter()
    tracer = Tracer("svc", reporter, ConstSampler(False))
    otel = jaeger_lite.otel.TracerProvider(tracer, set_propagator=False).get_tracer("t")
    with otel.start_as_current_span("op", attributes={"a": 1}) as span:
        assert not span.is_recording()
        span.set_attribute("b", 2)
        span.add_event("e")
        span.set_status(StatusCode.ERROR, "bad")
        span.record_exception(ValueError("x"))
        context = span.get_span_context()
    assert context.is_valid and not context.trace_flags.sampled
    assert reporter.spans == []
    assert tracer.metrics["spans_finished"] == 1


def test_error_status_sets_error_and_otel_status_tags(env: Env) -> None:
    """ERROR: error=true, otel.status_code=ERROR and the description."""
    otel, _, reporter = env
    with otel.start_as_current_span("op") as span:
        span.set_status(Status(StatusCode.ERROR, "upstream timed out"))
    tags = dict(reporter.spans[0].tags)
    assert tags["error"] is True
    assert tags["otel.status_code"] == "ERROR"
    assert tags["otel.status_description"] == "upstream timed out"


def test_ok_status_is_final_and_replaces_an_error_status(env: Env) -> None:
    """OK removes what ERROR added and later calls change nothing; UNSET never does."""
    otel, _, reporter = env
    with otel.start_as_current_span("op") as span:
        span.set_status(StatusCode.ERROR, "first")
        span.set_status(StatusCode.UNSET)
        span.set_status(StatusCode.OK)
        span.set_status(StatusCode.ERROR, "after OK")
    tags = dict(reporter.spans[0].tags)
    assert tags["otel.status_code"] == "OK"
    assert "error" not in tags and "otel.status_description" not in tags


def test_ok_status_keeps_an_error_tag_set_by_hand(env: Env) -> None:
    """An `error` tag the status did not add stays."""
    otel, _, reporter = env
    with otel.start_as_current_span("op") as span:
        span.set_attribute("error", True)
        span.set_status(StatusCode.OK)
    assert reporter.spans[0].tags["error"] is True


def test_record_exception_is_an_exception_event(env: Env) -> None:
    """exception.type/message/stacktrace/escaped, extra attributes; the status unchanged."""
    otel, _, reporter = env

    class Declined(Exception):
        pass

    with otel.start_as_current_span("op") as span:
        try:
            raise Declined("card declined")
        except Declined as exc:
            span.record_exception(exc, {"retry": False})
    done = reporter.spans[0]
    fields = done.logs[0].fields
    assert fields["event"] == "exception"
    assert fields["exception.type"] == f"{__name__}.{Declined.__qualname__}"
    assert fields["exception.message"] == "card declined"
    assert fields["exception.stacktrace"].startswith("Traceback (most recent call last):")
    assert fields["exception.stacktrace"].rstrip().endswith("Declined: card declined")
    assert fields["exception.escaped"] == "False"
    assert fields["retry"] is False
    assert "error" not in done.tags and "otel.status_code" not in done.tags


def test_record_exception_cuts_long_stacks_keeping_the_innermost_frames() -> None:
    """The stack trace follows max_traceback_length, as jaeger_lite's error logs do."""
    tracer, reporter = new_test_tracer("svc", max_traceback_length=200)
    otel = jaeger_lite.otel.TracerProvider(tracer, set_propagator=False).get_tracer("t")

    def deep(n: int) -> None:
        if n:
            deep(n - 1)
        raise RuntimeError("the innermost message")

    span = otel.start_span("op")
    try:
        deep(30)
    except RuntimeError as exc:
        span.record_exception(exc)
    span.end()
    stack = reporter.spans[0].logs[0].fields["exception.stacktrace"]
    assert len(stack) == 200
    assert stack.rstrip().endswith("RuntimeError: the innermost message")


def test_an_exception_escaping_start_as_current_span_marks_the_span(env: Env) -> None:
    """Recorded as an exception event and an ERROR status "Type: message"; re-raised."""
    otel, _, reporter = env
    with pytest.raises(KeyError), otel.start_as_current_span("op"):
        raise KeyError("sku-9")
    tags = dict(reporter.spans[0].tags)
    assert tags["error"] is True and tags["otel.status_code"] == "ERROR"
    assert tags["otel.status_description"] == "KeyError: 'sku-9'"
    assert reporter.spans[0].logs[0].fields["event"] == "exception"


def test_exception_handling_can_be_switched_off(env: Env) -> None:
    """record_exception=False and set_status_on_exception=False record nothing."""
    otel, _, reporter = env
    with (
        pytest.raises(ValueError),
        otel.start_as_current_span("op", record_exception=False, set_status_on_exception=False),
    ):
        raise ValueError("quiet")
    tags = dict(reporter.spans[0].tags)
    assert "error" not in tags and "otel.status_code" not in tags
    assert reporter.spans[0].logs == ()


def test_a_status_set_by_hand_is_not_replaced_by_the_escaping_exception(env: Env) -> None:
    """The status is set by the exception only if none was set."""
    otel, _, reporter = env

    def fail() -> None:
        with otel.start_as_current_span("op") as span:
            span.set_status(StatusCode.ERROR, "mine")
            raise ValueError("theirs")

    with pytest.raises(ValueError):
        fail()
    assert reporter.spans[0].tags["otel.status_description"] == "mine"


def test_base_exceptions_end_the_span_unmarked(env: Env) -> None:
    """KeyboardInterrupt and the like are not errors of the operation."""
    otel, _, reporter = env
    with pytest.raises(KeyboardInterrupt), otel.start_as_current_span("op"):
        raise KeyboardInterrupt
    assert "error" not in reporter.spans[0].tags


def test_start_span_as_a_context_manager_ends_without_activating(env: Env) -> None:
    """`with tracer.start_span()` ends the span (recording an escaping exception) and
    never makes it current."""
    otel, _, reporter = env
    span = otel.start_span("op")

    def fail() -> None:
        with span:
            assert trace.get_current_span() is not span
            raise ValueError("x")

    with pytest.raises(ValueError):
        fail()
    assert not span.is_recording()
    assert reporter.spans[0].tags["otel.status_code"] == "ERROR"
    # As the SDK's Span.__exit__ records it (use_span, under start_as_current_span, says
    # "False"): the exception is known to escape the span.
    assert reporter.spans[0].logs[0].fields["exception.escaped"] == "True"


def test_exception_escaped_is_what_the_sdk_records_in_each_block() -> None:
    """``exception.escaped`` for an exception leaving ``with start_span()`` and ``with
    start_as_current_span()``: the same as the OpenTelemetry SDK's, side by side."""
    from opentelemetry.sdk.trace import TracerProvider as SDKProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    sdk = SDKProvider()
    sdk.add_span_processor(SimpleSpanProcessor(exporter))
    tracer, reporter = new_test_tracer("svc")
    ours = jaeger_lite.otel.TracerProvider(tracer, set_propagator=False)
    for provider in (sdk, ours):
        otel = provider.get_tracer("t")
        with pytest.raises(ValueError), otel.start_span("plain"):
            raise ValueError("x")
        with pytest.raises(ValueError), otel.start_as_current_span("current"):
            raise ValueError("x")
    expected = {
        span.name: span.events[0].attributes["exception.escaped"]
        for span in exporter.get_finished_spans()
    }
    assert expected == {"plain": "True", "current": "False"}
    got = {s.operation_name: s.logs[0].fields["exception.escaped"] for s in reporter.spans}
    assert got == expected
    tracer.close()
    sdk.shutdown()


def test_end_on_exit_false_leaves_the_span_open(env: Env) -> None:
    """The span stays open after the block; ending it reports it."""
    otel, _, reporter = env
    with otel.start_as_current_span("op", end_on_exit=False) as span:
        pass
    assert reporter.spans == [] and span.is_recording()
    span.end()
    assert len(reporter.spans) == 1


def test_start_as_current_span_decorates_functions_one_span_per_call(env: Env) -> None:
    """Each call gets its own span, made current while the function runs."""
    otel, _, reporter = env
    seen = []

    @otel.start_as_current_span("work")
    def work(n: int) -> int:
        seen.append(trace.get_current_span())
        return n * 2

    assert reporter.spans == []  # decorating starts nothing
    assert (work(1), work(2)) == (2, 4)
    assert [s.operation_name for s in reporter.spans] == ["work", "work"]
    assert seen[0] is not seen[1]
    assert work.__name__ == "work"


def test_start_as_current_span_decorates_coroutine_functions(env: Env) -> None:
    """The span covers the coroutine until it returns, across its awaits."""
    otel, _, reporter = env

    @otel.start_as_current_span("fetch")
    async def fetch() -> str:
        await asyncio.sleep(0.01)
        return trace.get_current_span().get_span_context().span_id.to_bytes(8, "big").hex()

    span_id = asyncio.run(fetch())
    (done,) = reporter.spans
    assert done.context.span_id_hex == span_id
    assert done.duration is not None and done.duration >= 0.009


def test_the_parent_is_the_current_span(env: Env) -> None:
    """Nested start_as_current_span: a child in the same trace; siblings share the parent."""
    otel, _, reporter = env
    with otel.start_as_current_span("parent") as parent:
        with otel.start_as_current_span("child"):
            pass
        otel.start_span("sibling").end()
    ctx = parent.get_span_context()
    for name in ("child", "sibling"):
        span = only(reporter, name)
        assert (span.context.trace_id, span.context.parent_id) == (ctx.trace_id, ctx.span_id)
        assert span.references == ()  # the parent is implicit, as for jaeger_lite's API


def test_an_explicit_context_without_a_span_starts_a_new_trace(env: Env) -> None:
    """context=Context() ignores the current span, as OpenTelemetry specifies."""
    otel, _, reporter = env
    with otel.start_as_current_span("current") as current:
        otel.start_span("detached", context=otel_context.Context()).end()
        explicit = trace.set_span_in_context(current, otel_context.Context())
        otel.start_span("explicit", context=explicit).end()
    detached = only(reporter, "detached")
    assert detached.context.parent_id == 0
    assert detached.context.trace_id != current.get_span_context().trace_id
    assert only(reporter, "explicit").context.parent_id == current.get_span_context().span_id


def test_use_span_makes_a_span_current(env: Env) -> None:
    """OpenTelemetry's own use_span works with our spans (and ends them on request)."""
    otel, _, reporter = env
    span = otel.start_span("op")
    with trace.use_span(span, end_on_exit=True):
        assert trace.get_current_span() is span
        otel.start_span("child").end()
    assert only(reporter, "child").context.parent_id == span.get_span_context().span_id
    assert not span.is_recording()


def test_get_span_context_maps_ids_and_the_sampled_flag_only(env: Env) -> None:
    """Ids equal ours; Jaeger's debug bit (0x02) never becomes OTel's random bit."""
    otel, _, _ = env
    span = otel.start_span("op")
    span.set_attribute("sampling.priority", 1)  # forces sampled + debug (flags 0x03)
    jaeger = span.jaeger_span.context
    context = span.get_span_context()
    assert jaeger.flags == 3
    assert (context.trace_id, context.span_id) == (jaeger.trace_id, jaeger.span_id)
    assert int(context.trace_flags) == 1 and not context.is_remote
    span.end()


def test_sampling_priority_attribute_forces_sampling() -> None:
    """The sampling.priority attribute works as the tag does in jaeger_lite's API."""
    reporter = InMemoryReporter()
    tracer = Tracer("svc", reporter, ConstSampler(False))
    otel = jaeger_lite.otel.TracerProvider(tracer, set_propagator=False).get_tracer("t")
    with otel.start_as_current_span("op") as span:
        assert not span.get_span_context().trace_flags.sampled
        span.set_attribute("sampling.priority", 1)
        assert span.is_recording() and span.get_span_context().trace_flags.sampled
        span.set_attribute("kept", "yes")
    assert reporter.spans[0].tags["kept"] == "yes"


def test_the_provider_hands_out_one_tracer_per_scope(env: Env) -> None:
    """get_tracer caches per (name, version); a scope without version has no version tag."""
    _, tracer, reporter = env
    provider = jaeger_lite.otel.TracerProvider(tracer, set_propagator=False)
    assert provider.get_tracer("a", "1") is provider.get_tracer("a", "1")
    assert provider.get_tracer("a", "1") is not provider.get_tracer("a", "2")
    provider.get_tracer("bare").start_span("op").end()
    assert "otel.scope.version" not in reporter.spans[0].tags
    assert reporter.spans[0].tags["otel.scope.name"] == "bare"


def test_an_http_status_code_never_makes_an_error_the_status_did_not_set(env: Env) -> None:
    """http.status_code outside 100-399 with no status set: the tag otel.status_code=UNSET
    says the status is decided (Jaeger's translator and our OTLP encoder would infer ERROR
    from it, a 4xx off SERVER spans); set_status and an escaping exception still win."""
    otel, _, reporter = env
    with otel.start_as_current_span("send") as span:
        span.set_attribute("http.status_code", 404)
    span = otel.start_span("start", attributes={"http.status_code": 502})
    span.end()
    with otel.start_as_current_span("later") as span:
        span.set_attribute("http.status_code", 500)
        span.set_status(StatusCode.ERROR, "upstream")

    def fail() -> None:
        with otel.start_as_current_span("raised") as span:
            span.set_attribute("http.status_code", 500)
            raise ValueError("boom")

    with pytest.raises(ValueError):
        fail()
    with otel.start_as_current_span("ok") as span:
        span.set_status(StatusCode.OK)
        span.set_attribute("http.status_code", 404)
    for kind, code in ((SpanKind.SERVER, 404), (SpanKind.CLIENT, 200)):
        with otel.start_as_current_span(f"plain {code}", kind=kind) as span:
            span.set_attribute("http.status_code", code)  # the inference agrees: no tag
    tags = {s.operation_name: dict(s.tags) for s in reporter.spans}
    assert tags["send"]["otel.status_code"] == tags["start"]["otel.status_code"] == "UNSET"
    assert (tags["later"]["otel.status_code"], tags["later"]["error"]) == ("ERROR", True)
    assert tags["raised"]["otel.status_description"] == "ValueError: boom"
    assert tags["ok"]["otel.status_code"] == "OK"
    assert not {"otel.status_code"} & (tags["plain 404"].keys() | tags["plain 200"].keys())
    sender = OTLPSender("http://127.0.0.1:9/v1/traces", protocol="http/json")
    sender.set_process("svc", {})
    request = parse_otlp_json(sender.body(sender.encode_spans(reporter.spans)))
    spans = {span.name: span for span in request.resource_spans[0].scope_spans[0].spans}
    codes = {name: span.status.code for name, span in spans.items()}
    assert codes == {
        "send": 0, "start": 0, "later": 2, "raised": 2, "ok": 1, "plain 404": 0, "plain 200": 0
    }  # fmt: skip
    assert all(kv.key != "otel.status_code" for span in spans.values() for kv in span.attributes)


def test_a_version_without_a_scope_name_is_no_stray_attribute(env: Env) -> None:
    """get_tracer("", "1.0"): no otel.scope.version tag (a version only with a name, as
    the translator reads them), so OTLP carries no stray attribute (it did)."""
    _, tracer, reporter = env
    provider = jaeger_lite.otel.TracerProvider(tracer, set_propagator=False)
    provider.get_tracer("", "1.0").start_span("op").end()
    assert not any(key.startswith("otel.scope.") for key in reporter.spans[0].tags)
    sender = OTLPSender("http://127.0.0.1:9/v1/traces")
    sender.set_process("svc", {})
    request = ExportTraceServiceRequest.FromString(sender.body(sender.encode_spans(reporter.spans)))
    (scope_spans,) = request.resource_spans[0].scope_spans
    assert [kv.key for kv in scope_spans.spans[0].attributes] == ["sampler.type", "sampler.param"]


def test_the_provider_flushes_closes_and_names_the_service(env: Env) -> None:
    """force_flush/shutdown reach the tracer; resource carries service.name."""
    _, tracer, _ = env
    provider = jaeger_lite.otel.TracerProvider(tracer, set_propagator=False)
    assert provider.resource.attributes["service.name"] == "svc"
    assert provider.force_flush(1000) is True
    provider.shutdown()
    provider.shutdown()  # idempotent
    assert tracer._closed


def test_the_provider_takes_only_jaeger_lite_tracers() -> None:
    """Documented misuse raises TypeError."""
    with pytest.raises(TypeError, match="jaeger_lite.Tracer"):
        jaeger_lite.otel.TracerProvider(object())  # type: ignore[arg-type]


def test_a_provider_without_tracer_follows_the_global_tracer() -> None:
    """No-op (unsampled) spans until a global tracer is set, then that tracer's spans."""
    provider = jaeger_lite.otel.TracerProvider(set_propagator=False)
    otel = provider.get_tracer("t")
    with otel.start_as_current_span("before") as span:
        assert not span.is_recording()
    tracer, reporter = new_test_tracer("late")
    jaeger_lite.set_global_tracer(tracer)
    with otel.start_as_current_span("after") as span:
        assert span.is_recording()
        with tracer.start_active_span("inner"):
            pass
    assert [s.operation_name for s in reporter.spans] == ["inner", "after"]
    assert only(reporter, "inner").context.parent_id == span.get_span_context().span_id


def test_bytes_attributes_are_binary_tags(env: Env) -> None:
    """bytes keep their type (a BINARY tag on the wire)."""
    otel, _, reporter = env
    otel.start_span("op", attributes={"raw": b"\x00\x01"}).end()
    assert reporter.spans[0].tags["raw"] == b"\x00\x01"


def test_spans_answer_what_instrumentations_read_of_sdk_spans(env: Env) -> None:
    """kind, name, attributes, parent, start_time and end_time, as an SDK span has them
    (the Flask instrumentation reads span.kind)."""
    otel, tracer, _ = env
    with otel.start_as_current_span("parent", kind=SpanKind.SERVER) as parent:
        child = otel.start_span("child", attributes={"a": 1})
        assert (parent.kind, child.kind, child.name) == (
            SpanKind.SERVER,
            SpanKind.INTERNAL,
            "child",
        )
        assert child.attributes["a"] == 1
        assert child.parent is not None
        assert child.parent.span_id == parent.get_span_context().span_id
        assert parent.parent is None
        child.end(end_time=child.start_time + 5)
        assert child.end_time == child.start_time + 5
        with tracer.start_active_span("jaeger", tags={"span.kind": "client"}):
            assert trace.get_current_span().kind == SpanKind.CLIENT  # type: ignore[attr-defined]
    assert parent.end_time is not None


def test_attributes_that_are_not_a_mapping_are_ignored(env: Env) -> None:
    """Misused attributes never raise into the application: the span goes on without them."""
    otel, _, reporter = env
    with otel.start_as_current_span("op", attributes=["not", "a", "mapping"]) as span:  # type: ignore[arg-type]
        span.set_attributes(42)  # type: ignore[arg-type]
        span.add_event("e", attributes="nope")  # type: ignore[arg-type]
    assert reporter.spans[0].logs[0].fields == {"event": "e"}


def test_empty_attribute_keys_are_dropped_as_the_sdk_drops_them(env: Env) -> None:
    """An empty key (the specification: keys MUST be non-empty) is dropped wherever an
    attribute can be set, as the SDK drops it; the other attributes stay."""
    sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")
    exporting = pytest.importorskip("opentelemetry.sdk.trace.export.in_memory_span_exporter")
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    def record(tracer: Any) -> None:
        with tracer.start_as_current_span("op", attributes={"": "start", "a": 1}) as span:
            span.set_attribute("", "set")
            span.set_attributes({"": "many", "b": 2})
            span.add_event("e", {"": "event", "c": 3})

    exporter = exporting.InMemorySpanExporter()
    provider = sdk_trace.TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    record(provider.get_tracer("t"))
    (theirs,) = exporter.get_finished_spans()
    otel, _, reporter = env
    record(otel)
    (ours,) = reporter.spans
    assert {k: v for k, v in ours.tags.items() if k in ("", "a", "b")} == dict(theirs.attributes)
    assert "" not in ours.tags and "" not in ours.logs[0].fields
    assert {k: v for k, v in ours.logs[0].fields.items() if k != "event"} == dict(
        theirs.events[0].attributes
    )


def test_events_past_max_logs_per_span_are_dropped_and_counted() -> None:
    """add_event and record_exception keep to the tracer's max_logs_per_span, as log_kv."""
    reporter = InMemoryReporter()
    tracer = Tracer("svc", reporter, max_logs_per_span=2)
    provider = jaeger_lite.otel.TracerProvider(tracer, set_propagator=False)
    with provider.get_tracer("t").start_as_current_span("op") as span:
        for i in range(4):
            span.add_event(f"e{i}")
        span.record_exception(ValueError("x"))
    (recorded,) = reporter.spans
    assert [log.fields["event"] for log in recorded.logs] == ["e0", "e1"]
    assert tracer.metrics["span_logs_dropped"] == 3
    tracer.close()

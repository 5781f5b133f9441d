"""Span: tags, logs, baggage, finish, errors and sampling priority."""

from __future__ import annotations

import enum
import random
import time
from typing import Any

import pytest

from jaeger_lite import ConstSampler, InMemoryReporter, Span, Tracer


class Color(enum.IntEnum):
    RED = 1


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no")


class BadInt(int):
    def __int__(self) -> int:
        raise RuntimeError("no")

    def __index__(self) -> int:
        raise RuntimeError("no")


def test_set_tag_is_chainable(tracer: Tracer) -> None:
    """set_tag returns the span."""
    span = tracer.start_span("op")
    assert span.set_tag("a", 1).set_tag("b", 2) is span


@pytest.mark.parametrize("value", ["text", True, False, 7, -(2**70), 1.5, b"\x00\xff"])
def test_tag_values_keep_their_type(tracer: Tracer, value: object) -> None:
    """str, bool, int (any size), float and bytes are stored as they are."""
    span = tracer.start_span("op").set_tag("k", value)
    stored = span.tags["k"]
    assert stored == value and type(stored) is type(value)


def test_other_tag_values_are_stored_as_str(tracer: Tracer) -> None:
    """Anything else becomes its str(); None becomes 'None'."""
    span = tracer.start_span("op").set_tag("list", [1, 2]).set_tag("none", None)
    assert span.tags["list"] == "[1, 2]"
    assert span.tags["none"] == "None"


def test_subclasses_of_primitives_become_the_base_type(tracer: Tracer) -> None:
    """An IntEnum is stored as a plain int."""
    span = tracer.start_span("op").set_tag("color", Color.RED)
    assert span.tags["color"] == 1 and type(span.tags["color"]) is int


def test_unprintable_values_get_a_placeholder(tracer: Tracer) -> None:
    """A value whose __str__ raises does not break the application."""
    span = tracer.start_span("op").set_tag("bad", Unprintable())
    assert span.tags["bad"] == "<unprintable Unprintable>"


def test_long_strings_and_bytes_are_truncated() -> None:
    """Strings and bytes longer than max_tag_value_length are cut to it."""
    tracer = Tracer("svc", max_tag_value_length=8)
    span = tracer.start_span("op").set_tag("s", "x" * 20).set_tag("b", b"y" * 20)
    span.log_kv({"s": "z" * 20})
    assert span.tags["s"] == "x" * 8
    assert span.tags["b"] == b"y" * 8
    assert span.logs[0].fields["s"] == "z" * 8


def test_non_string_keys_become_strings(tracer: Tracer) -> None:
    """A tag key that is not a str is stored as its str()."""
    span = tracer.start_span("op").set_tag(42, "v")  # type: ignore[arg-type]
    assert span.tags["42"] == "v"


def test_keys_and_names_whose_str_raises_get_a_placeholder(tracer: Tracer) -> None:
    """A tag/log key or operation name whose __str__ raises (or returns a non-str) does not
    break the application: it is stored as a placeholder."""
    span = tracer.start_span("op").set_tag(Unprintable(), 1)  # type: ignore[arg-type]
    span.log_kv({Unprintable(): 2})
    span.set_operation_name(Unprintable())  # type: ignore[arg-type]
    assert span.tags["<unprintable Unprintable>"] == 1
    assert span.logs[0].fields == {"<unprintable Unprintable>": 2}
    assert span.operation_name == "<unprintable Unprintable>"


def test_unprintable_baggage_is_dropped_and_counted(tracer: Tracer) -> None:
    """Baggage keys or values whose __str__ raises are dropped (counted), never raised."""
    span = tracer.start_span("op")
    span.set_baggage_item(Unprintable(), "v")  # type: ignore[arg-type]
    span.set_baggage_item("k", Unprintable())  # type: ignore[arg-type]
    assert dict(span.context.baggage) == {}
    assert tracer.metrics["baggage_dropped"] == 2


def test_log_kv_records_fields_and_timestamp(tracer: Tracer) -> None:
    """log_kv keeps the given timestamp and normalises values."""
    span = tracer.start_span("op")
    span.log_kv({"event": "x", "n": 1, "obj": [1]}, timestamp=123.5)
    (log,) = span.logs
    assert log.timestamp == 123.5
    assert dict(log.fields) == {"event": "x", "n": 1, "obj": "[1]"}


def test_log_kv_without_timestamp_uses_now(tracer: Tracer) -> None:
    """Without a timestamp the log is stamped between start and finish."""
    span = tracer.start_span("op")
    span.log_kv({"a": 1})
    span.finish()
    assert span.start_time <= span.logs[0].timestamp <= span.start_time + span.duration  # type: ignore[operator]


def test_times_in_seconds_come_back_exactly(tracer: Tracer) -> None:
    """Spans keep integer nanoseconds, yet a start, finish or log time given in seconds
    reads back as the very same float (seconds * 1e9 would be off by up to 128 ns)."""
    rng = random.Random(7)
    for _ in range(2000):
        start = 1_700_000_000 + rng.random() * 100_000_000
        end = start + rng.random() * 10
        logged = start + rng.random()
        span = tracer.start_span("op", start_time=start)
        span.log_kv({"n": 1}, timestamp=logged)
        span.finish(end)
        assert (span.start_time, span.finish_time, span.logs[0].timestamp) == (start, end, logged)
        assert span.duration == pytest.approx(end - start, abs=1e-9)


def test_times_given_as_decimal_or_fraction_are_kept(tracer: Tracer) -> None:
    """A Decimal or Fraction of epoch seconds is a time like a float (a Decimal counted
    as "now": its fraction could not be multiplied by a float)."""
    from decimal import Decimal
    from fractions import Fraction

    start, end, logged = Decimal("1700000000.123456789"), Fraction(3400000001, 2), Decimal(1)
    span = tracer.start_span("op", start_time=start)
    span.log_kv({"n": 1}, timestamp=logged)
    span.finish(end)
    assert span._start_ns == 1_700_000_000_123_456_789
    assert (span.finish_time, span.logs[0].timestamp) == (1_700_000_000.5, 1.0)
    for bad in (Decimal("NaN"), Decimal("Infinity"), Decimal("1e30")):
        before = time.time()
        assert tracer.start_span("op", start_time=bad).start_time >= before - 0.001


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "soon", None, 1e300, -1e19])
def test_a_time_that_is_not_a_number_counts_as_now(tracer: Tracer, bad: Any) -> None:
    """A start, finish or log time that is not a finite number of seconds, or that no
    signed 64-bit count of nanoseconds holds, is "now" (a wire time past the i64 range
    would make the pure-Python encoder write a varint no decoder reads)."""
    before = time.time()
    span = tracer.start_span("op", start_time=bad)
    span.log_kv({"n": 1}, timestamp=bad)
    span.finish(bad)
    after = time.time()
    times = (span.start_time, span.logs[0].timestamp, span.finish_time)
    assert all(before - 0.001 <= t <= after + 0.001 for t in times), times  # type: ignore[operator]


def test_log_kv_with_a_non_mapping_is_ignored(tracer: Tracer) -> None:
    """Wrong types get a documented outcome: nothing is logged, nothing raised."""
    span = tracer.start_span("op")
    span.log_kv(["not", "a", "mapping"])  # type: ignore[arg-type]
    assert span.logs == ()


def test_opentracing_1x_log_methods(tracer: Tracer) -> None:
    """log_event and log(**kwargs) map onto log_kv."""
    span = tracer.start_span("op")
    span.log_event("started", payload={"n": 1})
    span.log(event="stopped", timestamp=99.0)
    assert dict(span.logs[0].fields) == {"event": "started", "payload": "{'n': 1}"}
    assert span.logs[1].timestamp == 99.0
    assert dict(span.logs[1].fields) == {"event": "stopped"}


def test_baggage_is_set_read_and_inherited(tracer: Tracer) -> None:
    """Baggage is visible on the span, its context and its children."""
    with tracer.start_active_span("parent") as scope:
        scope.span.set_baggage_item("user", "42")
        assert scope.span.get_baggage_item("user") == "42"
        assert scope.span.context.baggage == {"user": "42"}
        with tracer.start_active_span("child") as child:
            assert child.span.get_baggage_item("user") == "42"


def test_setting_baggage_logs_an_event_on_sampled_spans(tracer: Tracer) -> None:
    """As in the other Jaeger clients, a baggage write is logged."""
    span = tracer.start_span("op").set_baggage_item("k", "v")
    assert dict(span.logs[0].fields) == {"event": "baggage", "key": "k", "value": "v"}


def test_baggage_item_set_to_none_is_removed_as_jaeger_client_does(
    tracer: Tracer,
) -> None:
    """set_baggage_item(key, None) removes the item, as jaeger-client's span (and our own
    SpanContext.with_baggage_item) does; it was sent on as the text "None"."""
    jaeger_client = pytest.importorskip("jaeger_client")
    theirs = jaeger_client.Tracer(
        "svc", jaeger_client.reporter.NullReporter(), jaeger_client.ConstSampler(True)
    )
    for make in (tracer.start_span, theirs.start_span):
        span = make("op")
        span.set_baggage_item("user", "42").set_baggage_item("tenant", "t")
        span.set_baggage_item("user", None)
        span.set_baggage_item("never-set", None)
        assert span.get_baggage_item("user") is None
        assert dict(span.context.baggage) == {"tenant": "t"}
    span = tracer.start_span("op").set_baggage_item(7, "x")  # type: ignore[arg-type]
    child = tracer.start_span("child", child_of=span).set_baggage_item(7, None)  # type: ignore[arg-type]
    assert dict(span.context.baggage) == {"7": "x"} and dict(child.context.baggage) == {}
    headers: dict[str, str] = {}
    tracer.inject(child.context, "http_headers", headers)
    assert not any(key.startswith("uberctx-") for key in headers)


def test_baggage_log_fields_match_jaeger_client(tracer: Tracer) -> None:
    """A write over an item, and a removal, log override=true as jaeger-client (and Go)
    do: the same fields, value for value, on both spans."""
    jaeger_client = pytest.importorskip("jaeger_client")
    theirs = jaeger_client.Tracer(
        "svc", jaeger_client.reporter.NullReporter(), jaeger_client.ConstSampler(True)
    )
    logged = []
    for make in (tracer.start_span, theirs.start_span):
        span = make("op")
        span.set_baggage_item("k", "1").set_baggage_item("k", "2").set_baggage_item("k", None)
        span.set_baggage_item("e", "").set_baggage_item("e", "x")
        logs = span.logs
        if not isinstance(logs[0], tuple):  # jaeger-client: thrift Log objects
            logs = [{f.key: f.vStr for f in log.fields} for log in logs]
        else:
            logs = [dict(log.fields) for log in logs]
        logged.append([{k: "None" if v is None else v for k, v in f.items()} for f in logs])
    ours, jaeger_clients = logged
    assert ours == jaeger_clients
    assert [f.get("override") for f in ours] == [None, "true", "true", None, None]


def test_baggage_works_on_unsampled_spans() -> None:
    """Unsampled spans still carry baggage to their children and across processes."""
    tracer = Tracer("svc", sampler=ConstSampler(False))
    span = tracer.start_span("op").set_baggage_item("k", "v")
    assert span.context.baggage == {"k": "v"}
    assert span.logs == ()


def test_context_reflects_baggage_changes(tracer: Tracer) -> None:
    """The context obtained before a baggage change keeps the old value (immutable)."""
    span = tracer.start_span("op")
    before = span.context
    span.set_baggage_item("k", "v")
    assert before.baggage == {}
    assert span.context.baggage == {"k": "v"}


def test_finish_twice_reports_once(tracer: Tracer, reporter: InMemoryReporter) -> None:
    """A second finish is harmless: the first duration stays and one span is reported."""
    span = tracer.start_span("op", start_time=100.0)
    span.finish(101.0)
    span.finish(105.0)
    assert span.duration == 1.0
    assert reporter.spans == [span]


def test_finish_before_start_gives_zero_duration(tracer: Tracer) -> None:
    """A finish time earlier than the start (clock steps) clamps the duration to 0."""
    span = tracer.start_span("op", start_time=100.0)
    span.finish(99.0)
    assert span.duration == 0.0


def test_finished_span_ignores_further_recording(tracer: Tracer) -> None:
    """After finish, tags, logs, name and baggage no longer change."""
    span = tracer.start_span("op")
    span.finish()
    span.set_tag("late", 1).log_kv({"late": 1}).set_operation_name("renamed")
    span.set_baggage_item("late", "1")
    assert "late" not in span.tags
    assert span.logs == ()
    assert span.operation_name == "op"
    assert span.get_baggage_item("late") is None


def test_set_operation_name(tracer: Tracer) -> None:
    """The operation can be renamed before finish."""
    assert tracer.start_span("a").set_operation_name("b").operation_name == "b"


def test_context_manager_records_errors_and_reraises(
    tracer: Tracer, reporter: InMemoryReporter
) -> None:
    """An exception inside `with span` sets error=true, logs the OpenTracing fields,
    finishes the span and propagates unchanged."""
    with pytest.raises(ValueError, match="boom"):
        with tracer.start_span("op"):
            raise ValueError("boom")
    (span,) = reporter.spans
    assert span.tags["error"] is True
    fields = span.logs[-1].fields
    assert fields["event"] == "error"
    assert fields["error.kind"] == "ValueError"
    assert fields["error.object"] == "ValueError('boom')"
    assert fields["message"] == "boom"
    assert "raise ValueError" in fields["stack"]


@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, GeneratorExit, SystemExit])
def test_base_exceptions_finish_without_marking_errors(
    tracer: Tracer, reporter: InMemoryReporter, exc_type: type[BaseException]
) -> None:
    """Interrupts and generator exits end the span but are not application errors."""
    with pytest.raises(exc_type):
        with tracer.start_span("op"):
            raise exc_type()
    (span,) = reporter.spans
    assert "error" not in span.tags


def test_unsampled_spans_record_nothing_and_are_not_reported() -> None:
    """Unsampled spans skip tags and logs and never reach the reporter."""
    reporter = InMemoryReporter()
    tracer = Tracer("svc", reporter, ConstSampler(False))
    with tracer.start_span("op") as span:
        span.set_tag("k", "v").log_kv({"a": 1})
    assert span.tags == {} and span.logs == ()
    assert reporter.spans == []


def test_sampling_priority_samples_an_unsampled_span() -> None:
    """sampling.priority > 0 makes the span sampled+debug and it is reported."""
    reporter = InMemoryReporter()
    tracer = Tracer("svc", reporter, ConstSampler(False))
    span = tracer.start_span("op").set_tag("sampling.priority", 1).set_tag("k", "v")
    span.finish()
    assert span.context.is_sampled and span.context.is_debug
    assert reporter.spans == [span]
    assert span.tags["k"] == "v"


def test_sampling_priority_zero_unsamples(tracer: Tracer, reporter: InMemoryReporter) -> None:
    """sampling.priority = 0 drops the span from reporting."""
    span = tracer.start_span("op").set_tag("sampling.priority", 0)
    span.finish()
    assert not span.context.is_sampled
    assert reporter.spans == []


def test_sampling_priority_in_start_tags(reporter: InMemoryReporter) -> None:
    """The tag works when passed to start_span too."""
    tracer = Tracer("svc", reporter, ConstSampler(False))
    tracer.start_span("op", tags={"sampling.priority": 1}).finish()
    assert len(reporter.spans) == 1


def test_non_numeric_sampling_priority_is_ignored(tracer: Tracer) -> None:
    """A priority that is not a number changes nothing."""
    span = tracer.start_span("op").set_tag("sampling.priority", "high")
    assert span.context.is_sampled and not span.context.is_debug


def test_sampling_priority_whose_int_raises_is_ignored(tracer: Tracer) -> None:
    """A sampling.priority value whose conversion to int raises is ignored."""
    span = tracer.start_span("op").set_tag("sampling.priority", BadInt(1))
    assert span.is_sampled and not span.context.is_debug


def test_repr_names_the_operation_and_state(tracer: Tracer) -> None:
    """repr shows operation, ids and whether the span is finished."""
    span = tracer.start_span("checkout")
    assert "checkout" in repr(span) and "open" in repr(span)
    span.finish()
    assert "finished" in repr(span)


def test_span_is_not_constructed_by_users_but_is_typed() -> None:
    """Spans come from the tracer and are Span instances."""
    assert isinstance(Tracer("svc").start_span("op"), Span)


def test_sampling_priority_zero_after_one_clears_debug_too(tracer: Tracer) -> None:
    """Debug never travels without sampled: priority 1 then 0 leaves flags 0."""
    span = tracer.start_span("op").set_tag("sampling.priority", 1).set_tag("sampling.priority", 0)
    assert span.context.flags == 0


def test_record_exception_marks_a_handled_error(tracer: Tracer) -> None:
    """An exception caught by the application can still be recorded on the span."""
    span = tracer.start_span("op")
    with pytest.raises(LookupError) as caught:
        raise LookupError("not here")
    assert span.record_exception(caught.value) is span
    assert span.tags["error"] is True
    fields = span.logs[-1].fields
    assert fields["error.kind"] == "LookupError" and "raise LookupError" in fields["stack"]


@pytest.mark.untraced
def test_threads_racing_to_finish_a_span_report_it_once() -> None:
    """Four threads finishing the same 2,000 spans: each span is counted and reported
    exactly once (a check-then-set once let two threads through)."""
    import sys
    import threading

    reporter = InMemoryReporter()
    tracer = Tracer("svc", reporter)
    spans = [tracer.start_span("op") for _ in range(2000)]
    start = threading.Barrier(4)

    def finish_all() -> None:
        start.wait()
        for span in spans:
            span.finish()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:
        threads = [threading.Thread(target=finish_all) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        sys.setswitchinterval(interval)
    assert tracer.metrics["spans_finished"] == 2000
    assert len(reporter.spans) == 2000
    assert len({id(span) for span in reporter.spans}) == 2000


def test_logs_past_max_logs_per_span_are_dropped_and_counted() -> None:
    """A span keeps max_logs_per_span logs, in order; later ones (log_kv, an error, an
    OpenTelemetry event) are dropped and counted, the span itself is kept. An error past
    the limit still marks the span, and its stack never lands on an earlier log."""
    reporter = InMemoryReporter()
    tracer = Tracer("svc", reporter, max_logs_per_span=3)
    with tracer.start_active_span("busy") as scope:
        for i in range(5):
            scope.span.log_kv({"step": i})
        try:
            raise ValueError("late")
        except ValueError as error:
            scope.span.record_exception(error)
    (span,) = reporter.get_spans()
    assert [log.fields for log in span.logs] == [{"step": 0}, {"step": 1}, {"step": 2}]
    assert span.tags["error"] is True
    assert tracer.metrics["span_logs_dropped"] == 3
    unlimited = Tracer("svc", InMemoryReporter(), max_logs_per_span=None)
    with unlimited.start_active_span("long") as scope:
        for i in range(2000):
            scope.span.log_kv({"step": i})
    assert len(unlimited.reporter.get_spans()[0].logs) == 2000
    assert Tracer("svc").metrics["span_logs_dropped"] == 0
    with pytest.raises(ValueError, match="max_logs_per_span"):
        Tracer("svc", max_logs_per_span=0)


def test_the_default_keeps_a_thousand_logs_a_span() -> None:
    """The default bound, 1,000 logs: a span logging in a loop stays bounded in memory."""
    reporter = InMemoryReporter()
    tracer = Tracer("svc", reporter)
    with tracer.start_active_span("loop") as scope:
        for i in range(1500):
            scope.span.log_kv({"i": i})
    assert len(reporter.get_spans()[0].logs) == 1000
    assert tracer.metrics["span_logs_dropped"] == 500

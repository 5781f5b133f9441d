"""The scope start_active_span makes under the default manager, which finishes the
tracer's own span inline: the same rules as Span.finish()."""

from __future__ import annotations

import sys
import threading
from typing import Any

from jaeger_lite import ConstSampler, InMemoryReporter, Tracer


class BrokenReporter(InMemoryReporter):
    def report_span(self, span: Any) -> None:
        raise RuntimeError("reporter bug")


def test_block_end_reports_a_sampled_span_once() -> None:
    """The end of the with block finishes and reports the span, and counts it."""
    reporter = InMemoryReporter()
    tracer = Tracer("svc", reporter)
    with tracer.start_active_span("op") as scope:
        scope.span.set_tag("k", "v")
    (span,) = reporter.spans
    assert span.duration is not None and span.duration >= 0
    assert span.tags["k"] == "v"
    assert tracer.metrics["spans_finished"] == 1 and tracer.metrics["spans_sampled"] == 1


def test_span_finished_inside_the_block_is_not_finished_again() -> None:
    """finish() inside the block claims the span: the block's end does nothing more."""
    reporter = InMemoryReporter()
    tracer = Tracer("svc", reporter)
    with tracer.start_active_span("op") as scope:
        scope.span.finish(scope.span.start_time + 1)
    (span,) = reporter.spans
    assert span.duration is not None and abs(span.duration - 1) < 1e-6
    assert tracer.metrics["spans_finished"] == 1


def test_unsampled_span_is_counted_not_reported() -> None:
    """An unsampled span ends with the block: counted as finished, never reported."""
    reporter = InMemoryReporter()
    tracer = Tracer("svc", reporter, ConstSampler(False))
    with tracer.start_active_span("parent"):
        with tracer.start_active_span("child") as scope:
            scope.span.set_tag("k", "v")
            assert not scope.span.tags
    assert reporter.spans == []
    metrics = tracer.metrics
    assert metrics["spans_started"] == 2 and metrics["spans_finished"] == 2
    assert metrics["spans_sampled"] == 0


def test_broken_reporter_is_counted_at_the_block_end() -> None:
    """A reporter that raises while the block ends is counted, never raised."""
    tracer = Tracer("svc", BrokenReporter())
    with tracer.start_active_span("op"):
        pass
    assert tracer.metrics["spans_reporter_errors"] == 1


def test_block_end_racing_finish_on_other_threads_reports_once() -> None:
    """Threads finishing the spans while their blocks end: each reported exactly once."""
    reporter = InMemoryReporter()
    tracer = Tracer("svc", reporter)
    scopes = [tracer.start_active_span("op") for _ in range(500)]
    start = threading.Barrier(3)

    def finish_all() -> None:
        start.wait()
        for scope in scopes:
            scope.span.finish()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=finish_all) for _ in range(2)]
        for thread in threads:
            thread.start()
        start.wait()
        for scope in reversed(scopes):  # innermost first: each is the active one
            scope.__exit__(None, None, None)
        for thread in threads:
            thread.join(30)
    finally:
        sys.setswitchinterval(interval)
    assert len({id(span) for span in reporter.spans}) == len(reporter.spans) == 500
    assert tracer.metrics["spans_finished"] == 500


def test_finish_on_close_false_leaves_the_span_open_at_the_block_end() -> None:
    """finish_on_close=False (a KeptSpanScope): the block's end restores the parent and
    leaves the span open; finishing it later reports it once."""
    reporter = InMemoryReporter()
    tracer = Tracer("svc", reporter)
    with tracer.start_active_span("parent") as parent:
        with tracer.start_active_span("kept", finish_on_close=False) as scope:
            assert scope.manager is tracer.scope_manager
            assert tracer.active_span is scope.span
        assert tracer.active_span is parent.span
        assert scope.span.duration is None and reporter.spans == []
        scope.close()  # closed already: nothing more
        assert scope.span.duration is None
        scope.span.finish()
    assert [span.operation_name for span in reporter.spans] == ["kept", "parent"]
    metrics = tracer.metrics
    assert metrics["spans_started"] == metrics["spans_finished"] == 2


def test_close_and_out_of_order_ends_follow_finish_on_close() -> None:
    """close() and a leak's unwinding read finish_on_close from either scope class."""
    reporter = InMemoryReporter()
    tracer = Tracer("svc", reporter)
    finishing = tracer.start_active_span("finishing")
    finishing.close()
    assert finishing.span.duration is not None and tracer.active_span is None
    kept = tracer.start_active_span("kept", finish_on_close=False)
    kept.close()
    assert kept.span.duration is None and tracer.active_span is None
    # Out of order: each block ends while a scope it left active is still active.
    outer = tracer.start_active_span("outer", finish_on_close=False)
    outer.__enter__()
    inner = tracer.start_active_span("inner")
    inner_span = inner.span
    outer.__exit__(None, None, None)  # inner leaked: outer's end unwinds past it
    assert tracer.active_span is None and outer.span.duration is None
    assert tracer.scope_manager.leaked_scopes() == 1
    outer2 = tracer.start_active_span("outer2")
    tracer.start_active_span("inner2", finish_on_close=False)
    outer2.__exit__(None, None, None)
    assert outer2.span.duration is not None and tracer.scope_manager.leaked_scopes() == 2
    inner.__exit__(None, None, None)  # its block ends late: finished, not counted again
    assert inner_span.duration is not None and tracer.scope_manager.leaked_scopes() == 2
    assert [span.operation_name for span in reporter.spans] == ["finishing", "outer2", "inner"]


def test_child_of_the_active_span_is_sampled_as_its_flags_say() -> None:
    """The inline child start reads the sampled bit of any flags (debug, firehose and
    unknown bits included), not just the usual 0 and 1."""
    from jaeger_lite import SpanContext

    tracer = Tracer("svc", InMemoryReporter(), ConstSampler(False))
    for flags, sampled in ((0, False), (1, True), (2, False), (3, True), (8, False), (9, True)):
        with tracer.start_active_span("parent", child_of=SpanContext(5, 6, flags=flags)):
            with tracer.start_active_span("child") as scope:
                assert bool(scope.span.is_sampled) is sampled, flags
                assert scope.span._flags == flags and scope.span._recording is sampled

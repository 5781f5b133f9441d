"""Counters: exact under threads, cheap on the span hot path."""

from __future__ import annotations

from jaeger_lite._metrics import Counter


def test_counter_counts_inc_and_ticks() -> None:
    """inc() returns the earlier inc() calls; next(ticks) counts too, allocating nothing."""
    counter = Counter()
    assert counter.inc() == 0 and counter.inc() == 1
    next(counter.ticks)
    counter.add(5)
    assert counter.value == 8


def test_a_clock_over_ticks_counts_each_reading() -> None:
    """starmap(time_ns, ticks) reads the time and counts in one next() (span start/end)."""
    from itertools import starmap
    from time import time_ns

    counter = Counter()
    clock = starmap(time_ns, counter.ticks)
    before = time_ns()
    first, second = next(clock), next(clock)
    assert before <= first <= second <= time_ns()
    assert type(first) is int
    next(counter.ticks)
    assert counter.value == 3


def test_tracer_counts_spans_started_and_finished_through_its_clocks() -> None:
    """Start and end times read from the counters' clocks: each span counted once, times
    in int nanoseconds, whether the block's end or finish() (timed or not) ends it."""
    from jaeger_lite import ConstSampler, InMemoryReporter, Tracer

    for sampled in (True, False):
        reporter = InMemoryReporter()
        tracer = Tracer("svc", reporter, ConstSampler(sampled))
        with tracer.start_active_span("block") as scope:
            pass
        assert type(scope.span._start_ns) is int and type(scope.span._duration_ns) is int
        timed = tracer.start_active_span("timed", finish_on_close=False).span
        timed.finish(timed.start_time + 2)
        timed.finish()  # a second finish: neither counted nor timed again
        untimed = tracer.start_span("untimed")
        untimed.finish()
        assert timed.duration is not None and abs(timed.duration - 2) < 1e-6
        assert untimed.duration is not None
        metrics = tracer.metrics
        assert metrics["spans_started"] == metrics["spans_finished"] == 3
        assert metrics["spans_sampled"] == (3 if sampled else 0)
        assert len(reporter.spans) == (3 if sampled else 0)

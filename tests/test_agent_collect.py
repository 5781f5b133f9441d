"""Tests for jaeger_lite.agent.collect: grouping spans into traces and deciding when to print."""

from __future__ import annotations

from jaeger_lite.agent.collect import TraceCollector
from tests.agent_batches import record


class Clock:
    """A hand-moved monotonic clock."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_spans_from_several_batches_form_one_trace() -> None:
    """Spans with one trace id, from different services and batches, are grouped."""
    clock = Clock()
    c = TraceCollector(1.0, clock=clock)
    c.add([record(1, 1, service="a"), record(2, 5, service="a")])
    c.add([record(1, 2, 1, service="b")])
    clock.now += 1.0
    traces = {tr.trace_id: tr for tr in c.pop_due()}
    assert sorted(s.span_id for s in traces[1].spans) == [1, 2]
    assert [s.span_id for s in traces[2].spans] == [5]


def test_trace_is_held_until_quiet() -> None:
    """A trace that keeps receiving spans is not handed out."""
    clock = Clock()
    c = TraceCollector(1.0, clock=clock)
    c.add([record(1, 1)])
    clock.now += 0.9
    c.add([record(1, 2, 1)])
    clock.now += 0.9
    assert c.pop_due() == []
    wait = c.seconds_until_due()
    assert wait is not None and abs(wait - 0.1) < 1e-9
    clock.now += 0.1
    assert [len(tr.spans) for tr in c.pop_due()] == [2]


def test_nothing_pending_means_no_deadline() -> None:
    """With no trace pending there is nothing to wait for."""
    assert TraceCollector(1.0).seconds_until_due() is None


def test_spans_after_printing_are_marked_late() -> None:
    """A span of an already handed-out trace starts a new trace flagged as late."""
    clock = Clock()
    c = TraceCollector(0.5, clock=clock)
    c.add([record(1, 1)])
    clock.now += 1
    first = c.pop_due()
    c.add([record(1, 2, 1)])
    clock.now += 1
    second = c.pop_due()
    assert not first[0].late and second[0].late and second[0].spans[0].span_id == 2


def test_too_many_pending_traces_hands_out_the_oldest() -> None:
    """Memory stays bounded: the least recently updated trace is released early."""
    c = TraceCollector(60.0, max_traces=2, clock=Clock())
    c.add([record(1, 1)])
    c.add([record(2, 1)])
    c.add([record(3, 1)])
    assert [tr.trace_id for tr in c.pop_due()] == [1]
    assert len(c) == 2


def test_span_limit_counts_the_rest() -> None:
    """Spans beyond the per-trace limit are counted, not kept."""
    clock = Clock()
    c = TraceCollector(0.0, max_spans=3, clock=clock)
    c.add([record(1, i) for i in range(1, 6)])
    (trace,) = c.pop_all()
    assert len(trace.spans) == 3 and trace.dropped == 2


def test_pop_all_releases_everything() -> None:
    """Shutdown takes traces that are not quiet yet."""
    c = TraceCollector(60.0, clock=Clock())
    c.add([record(1, 1), record(2, 1)])
    assert sorted(tr.trace_id for tr in c.pop_all()) == [1, 2]
    assert len(c) == 0

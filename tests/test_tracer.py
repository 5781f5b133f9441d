"""Tracer: parents, references, sampling at the local root, inject/extract, lifecycle."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

import pytest

from jaeger_lite import (
    FLAG_DEBUG,
    FLAG_SAMPLED,
    ConstSampler,
    Format,
    InMemoryReporter,
    ProbabilisticSampler,
    ReferenceType,
    SpanContext,
    Tracer,
    UnsupportedFormatException,
    child_of,
    follows_from,
)


class CountingSampler:
    """Samples everything and counts how often it was asked."""

    def __init__(self) -> None:
        self.calls = 0
        self.closed = 0

    def is_sampled(self, trace_id: int, operation_name: str) -> tuple[bool, Mapping[str, Any]]:
        self.calls += 1
        return True, {"sampler.type": "counting", "sampler.param": 1.0}

    def close(self) -> None:
        self.closed += 1


class BrokenSampler:
    def is_sampled(self, trace_id: int, operation_name: str) -> tuple[bool, Mapping[str, Any]]:
        raise RuntimeError("sampler bug")

    def close(self) -> None:
        raise RuntimeError("close bug")


class BrokenReporter(InMemoryReporter):
    def report_span(self, span: Any) -> None:
        raise RuntimeError("reporter bug")


def test_root_span_has_no_parent_and_span_id_equal_to_trace_id(tracer: Tracer) -> None:
    """A new root: parent 0, and (as in jaeger-client-go) span id = low trace id."""
    span = tracer.start_span("root")
    assert span.context.parent_id == 0
    assert span.context.span_id == span.context.trace_id
    assert 0 < span.context.trace_id < 2**64


def test_128_bit_trace_ids() -> None:
    """trace_id_128bit=True draws 128-bit trace ids; the span id is the low half."""
    tracer = Tracer("svc", trace_id_128bit=True)
    ids = [tracer.start_span("op").context for _ in range(20)]
    assert any(c.trace_id >= 2**64 for c in ids)
    assert all(c.span_id == c.trace_id & (2**64 - 1) for c in ids)


def test_sampled_root_carries_sampler_tags_children_do_not(tracer: Tracer) -> None:
    """sampler.type/param go on the local root only."""
    with tracer.start_active_span("root") as root:
        with tracer.start_active_span("child") as child:
            pass
    assert root.span.tags["sampler.type"] == "const"
    assert root.span.tags["sampler.param"] is True
    assert "sampler.type" not in child.span.tags


def test_active_span_is_the_implicit_parent(tracer: Tracer) -> None:
    """Without an explicit parent the active span is the parent."""
    with tracer.start_active_span("parent") as parent:
        assert tracer.active_span is parent.span
        child = tracer.start_span("child")
    assert child.context.trace_id == parent.span.context.trace_id
    assert child.context.parent_id == parent.span.context.span_id
    assert child.references == ()
    assert tracer.active_span is None


def test_ignore_active_span_starts_a_new_trace(tracer: Tracer) -> None:
    """ignore_active_span=True makes a root even inside an active span."""
    with tracer.start_active_span("parent") as parent:
        span = tracer.start_span("other", ignore_active_span=True)
    assert span.context.trace_id != parent.span.context.trace_id
    assert span.context.parent_id == 0


def test_child_of_argument_accepts_span_and_context(tracer: Tracer) -> None:
    """child_of= takes a Span or a SpanContext and is kept as the first reference."""
    parent = tracer.start_span("parent")
    for source in (parent, parent.context):
        child = tracer.start_span("child", child_of=source)
        assert child.context.parent_id == parent.context.span_id
        assert child.references[0].type == ReferenceType.CHILD_OF
        assert child.references[0].referenced_context.span_id == parent.context.span_id


def test_explicit_parent_wins_over_active_span(tracer: Tracer) -> None:
    """child_of= is used even when another span is active."""
    other = tracer.start_span("other")
    with tracer.start_active_span("active"):
        child = tracer.start_span("child", child_of=other)
    assert child.context.parent_id == other.context.span_id


def test_follows_from_only_continues_the_trace_without_parent_id(tracer: Tracer) -> None:
    """A span that only follows from another joins its trace, parent_id 0, ref kept."""
    cause = tracer.start_span("cause")
    with tracer.start_active_span("unrelated-active"):
        job = tracer.start_span("job", references=[follows_from(cause)])
    assert job.context.trace_id == cause.context.trace_id
    assert job.context.parent_id == 0
    assert job.references == (follows_from(cause),)


def test_several_references_are_kept_in_order_and_child_of_is_the_parent(
    tracer: Tracer,
) -> None:
    """The first ChildOf becomes the parent even after a FollowsFrom; order is kept."""
    a, b, c = (tracer.start_span(n) for n in "abc")
    refs = [follows_from(a), child_of(b), child_of(c)]
    span = tracer.start_span("multi", references=refs)
    assert span.context.trace_id == b.context.trace_id
    assert span.context.parent_id == b.context.span_id
    assert [r.referenced_context.span_id for r in span.references] == [
        a.context.span_id,
        b.context.span_id,
        c.context.span_id,
    ]


def test_opentracing_style_references_are_accepted(tracer: Tracer) -> None:
    """Any object with .type and .referenced_context works (e.g. opentracing.Reference)."""

    class ForeignRef:
        type = "follows_from"

        def __init__(self, context: SpanContext) -> None:
            self.referenced_context = context

    cause = tracer.start_span("cause")
    span = tracer.start_span("job", references=[ForeignRef(cause.context)])  # type: ignore[list-item]
    assert span.references[0].type == ReferenceType.FOLLOWS_FROM


def test_foreign_parent_objects_are_ignored(tracer: Tracer) -> None:
    """A parent that is not ours (e.g. another tracer's span) starts a new trace."""
    span = tracer.start_span("op", child_of=object())  # type: ignore[arg-type]
    assert span.context.parent_id == 0 and span.references == ()


def test_remote_context_is_continued_without_consulting_the_sampler() -> None:
    """A span continuing a remote sampled context inherits its flags."""
    sampler = CountingSampler()
    tracer = Tracer("svc", sampler=sampler)
    remote = SpanContext(0xAB, 0xCD, 0, FLAG_SAMPLED)
    span = tracer.start_span("server", child_of=remote)
    assert sampler.calls == 0
    assert span.context.is_sampled
    assert (span.context.trace_id, span.context.parent_id) == (0xAB, 0xCD)
    assert "sampler.type" not in span.tags


def test_unsampled_remote_context_stays_unsampled() -> None:
    """The upstream decision not to sample is honoured."""
    tracer = Tracer("svc", sampler=ConstSampler(True))
    span = tracer.start_span("server", child_of=SpanContext(1, 2, 0, 0))
    assert not span.context.is_sampled


def test_deferred_remote_context_is_sampled_locally() -> None:
    """A context whose sender deferred sampling gets our sampler's decision and tags."""
    sampler = CountingSampler()
    tracer = Tracer("svc", sampler=sampler)
    remote = SpanContext(0xAB, 0xCD, 0, 0, sampling_deferred=True)
    span = tracer.start_span("server", child_of=remote)
    assert sampler.calls == 1
    assert span.context.is_sampled and span.context.trace_id == 0xAB
    assert span.tags["sampler.type"] == "counting"


def test_debug_id_context_starts_a_sampled_debug_trace() -> None:
    """A jaeger-debug-id context starts a new sampled+debug root tagged with the id."""
    tracer = Tracer("svc", sampler=ConstSampler(False))
    carrier = SpanContext(0, 0, flags=FLAG_SAMPLED | FLAG_DEBUG, debug_id="dbg-1")
    span = tracer.start_span("op", child_of=carrier)
    assert span.context.is_sampled and span.context.is_debug
    assert span.context.parent_id == 0 and span.context.trace_id != 0
    assert span.tags["jaeger-debug-id"] == "dbg-1"


def test_baggage_only_context_starts_a_trace_with_that_baggage(tracer: Tracer) -> None:
    """Baggage without a trace is kept on the new root."""
    span = tracer.start_span("op", child_of=SpanContext(0, 0, baggage={"k": "v"}))
    assert span.context.has_trace and span.context.parent_id == 0
    assert span.get_baggage_item("k") == "v"


def test_probabilistic_sampler_decision_depends_on_trace_id_only() -> None:
    """Two tracers agree on the decision for the same trace id."""
    a, b = ProbabilisticSampler(0.5), ProbabilisticSampler(0.5)
    for trace_id in (1, 2**62, 2**62 + 1, 2**63 - 1, 2**64 - 1, 12345678901234567):
        assert a.is_sampled(trace_id, "x")[0] == b.is_sampled(trace_id, "y")[0]
    assert ProbabilisticSampler(0.5).is_sampled(2**62, "")[0]
    assert not ProbabilisticSampler(0.5).is_sampled(2**62 + 1, "")[0]


def test_probabilistic_sampler_rejects_rates_outside_0_1() -> None:
    """A rate outside [0, 1] is a configuration error."""
    with pytest.raises(ValueError):
        ProbabilisticSampler(1.5)


def test_sampler_exception_means_not_sampled_and_is_counted() -> None:
    """A broken sampler never breaks the application."""
    tracer = Tracer("svc", sampler=BrokenSampler())
    span = tracer.start_span("op")
    assert not span.context.is_sampled
    assert tracer.metrics["sampler_errors"] == 1


def test_reporter_exception_is_counted_not_raised() -> None:
    """A broken reporter never breaks the application."""
    tracer = Tracer("svc", BrokenReporter())
    tracer.start_span("op").finish()
    assert tracer.metrics["spans_reporter_errors"] == 1


def test_start_tags_are_recorded(tracer: Tracer) -> None:
    """tags= at start are set like set_tag."""
    span = tracer.start_span("op", tags={"span.kind": "server", "n": 1})
    assert span.tags["span.kind"] == "server" and span.tags["n"] == 1


def test_start_tags_that_are_not_a_mapping_are_ignored(tracer: Tracer) -> None:
    """Wrong types get a documented outcome: ignored, not raised."""
    span = tracer.start_span("op", tags=["k", "v"])  # type: ignore[arg-type]
    assert "k" not in span.tags


def test_operation_name_defaults_to_empty_and_is_coerced(tracer: Tracer) -> None:
    """None becomes '' and other types their str()."""
    assert tracer.start_span().operation_name == ""
    assert tracer.start_span(123).operation_name == "123"  # type: ignore[arg-type]


def test_operation_name_whose_str_raises_gets_a_placeholder(tracer: Tracer) -> None:
    """start_span with a name whose __str__ raises (or is a huge int) still starts a span."""

    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert tracer.start_span(Unprintable()).operation_name == "<unprintable Unprintable>"  # type: ignore[arg-type]
    assert tracer.start_span(10**5000).operation_name == "<unprintable int>"  # type: ignore[arg-type]


def test_tracer_tags_follow_the_tag_value_rules() -> None:
    """Process tags are coerced like span tags: long values cut, unprintable ones replaced."""

    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no")

    tracer = Tracer(
        "svc",
        tags={"long": "x" * 50, "blob": b"y" * 50, "obj": Unprintable(), 7: "seven"},
        max_tag_value_length=30,
    )
    assert dict(tracer.tags) == {
        "long": "x" * 30,
        "blob": b"y" * 30,
        "obj": "<unprintable Unprintable>",
        "7": "seven",
    }


def test_service_name_is_required() -> None:
    """An empty service name is a configuration error."""
    with pytest.raises(ValueError):
        Tracer("  ")


def test_unknown_format_raises(tracer: Tracer) -> None:
    """inject/extract with an unregistered format raise UnsupportedFormatException."""
    context = tracer.start_span("op").context
    with pytest.raises(UnsupportedFormatException):
        tracer.inject(context, "nope", {})
    with pytest.raises(UnsupportedFormatException):
        tracer.extract("nope", {})


def test_extract_from_an_empty_carrier_returns_none(tracer: Tracer) -> None:
    """No context in the carrier means None."""
    assert tracer.extract(Format.HTTP_HEADERS, {}) is None
    assert tracer.extract(Format.TEXT_MAP, {"unrelated": "x"}) is None


def test_inject_accepts_a_span(tracer: Tracer) -> None:
    """Passing the span instead of its context is tolerated."""
    span = tracer.start_span("op")
    carrier: dict[str, str] = {}
    tracer.inject(span, Format.TEXT_MAP, carrier)
    assert tracer.extract(Format.TEXT_MAP, carrier).span_id == span.context.span_id  # type: ignore[union-attr]


def test_registered_codec_is_used(tracer: Tracer) -> None:
    """register_codec plugs a user codec in for any format name."""

    class EchoCodec:
        def inject(self, span_context: SpanContext, carrier: Any) -> None:
            carrier["ctx"] = span_context

        def extract(self, carrier: Any) -> Optional[SpanContext]:
            return carrier.get("ctx")  # type: ignore[no-any-return]

    tracer.register_codec("echo", EchoCodec())
    context = tracer.start_span("op").context
    carrier: dict[str, Any] = {}
    tracer.inject(context, "echo", carrier)
    assert tracer.extract("echo", carrier) is context


def test_codec_bugs_in_extract_yield_none(tracer: Tracer) -> None:
    """An exception inside a codec's extract does not reach the application."""

    class BrokenCodec:
        def inject(self, span_context: SpanContext, carrier: Any) -> None:
            pass

        def extract(self, carrier: Any) -> Optional[SpanContext]:
            raise KeyError("bug")

    tracer.register_codec("broken", BrokenCodec())
    assert tracer.extract("broken", {}) is None


def test_metrics_count_started_finished_and_sampled() -> None:
    """The counters add up for sampled and unsampled spans."""
    tracer = Tracer("svc", sampler=ConstSampler(False))
    tracer.start_span("a").finish()
    tracer.start_span("b").set_tag("sampling.priority", 1).finish()
    tracer.start_span("open")
    metrics = tracer.metrics
    assert metrics["spans_started"] == 3
    assert metrics["spans_finished"] == 2
    assert metrics["spans_sampled"] == 1


def test_close_is_idempotent_and_closes_sampler_once() -> None:
    """close() stops the sampler and reporter once; later calls do nothing."""
    sampler = CountingSampler()
    tracer = Tracer("svc", sampler=sampler)
    tracer.close()
    tracer.close()
    assert sampler.closed == 1


def test_close_survives_a_broken_sampler() -> None:
    """Errors while closing are swallowed (and logged)."""
    Tracer("svc", sampler=BrokenSampler()).close()


def test_flush_delegates_to_the_reporter(tracer: Tracer) -> None:
    """flush() returns the reporter's answer."""
    assert tracer.flush(1.0) is True


def test_tracer_is_a_context_manager() -> None:
    """`with Tracer(...)` closes it on exit."""
    sampler = CountingSampler()
    with Tracer("svc", sampler=sampler) as tracer:
        tracer.start_span("op").finish()
    assert sampler.closed == 1


def test_debug_id_is_ignored_when_the_context_has_a_trace() -> None:
    """A debug id only starts new traces; a real parent's flags are kept (as in Go)."""
    tracer = Tracer("svc", sampler=ConstSampler(False))
    parent = SpanContext(0xAB, 0xCD, 0, 0, debug_id="dbg")
    span = tracer.start_span("op", child_of=parent)
    assert not span.context.is_sampled and not span.context.is_debug
    assert span.context.trace_id == 0xAB


def test_sampler_metrics_are_part_of_tracer_metrics() -> None:
    """A sampler with metrics() (e.g. RemoteSampler) contributes to tracer.metrics."""

    class MeteredSampler(CountingSampler):
        def metrics(self) -> dict[str, int]:
            return {"sampler_polls_ok": 3}

    assert Tracer("svc", sampler=MeteredSampler()).metrics["sampler_polls_ok"] == 3


def test_concurrent_close_waits_for_the_first_one() -> None:
    """A second close() made while another is draining returns only after it finished."""
    import threading

    release = threading.Event()
    entered = threading.Event()

    class SlowReporter(InMemoryReporter):
        def close(self, timeout: Optional[float] = None) -> None:
            entered.set()
            release.wait(10)

    tracer = Tracer("svc", SlowReporter())
    first = threading.Thread(target=tracer.close)
    first.start()
    assert entered.wait(10)
    second_done = threading.Event()
    second = threading.Thread(target=lambda: (tracer.close(), second_done.set()))
    second.start()
    assert not second_done.wait(0.2)  # still draining: the second close must wait
    release.set()
    first.join(10)
    second.join(10)
    assert second_done.is_set()

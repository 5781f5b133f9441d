"""Sampling through the Tracer: where the decision is made, its tags and its overrides."""

from __future__ import annotations

import random
from fractions import Fraction
from types import MappingProxyType
from typing import Any

import pytest

from jaeger_lite import (
    FLAG_DEBUG,
    FLAG_SAMPLED,
    ConstSampler,
    Format,
    InMemoryReporter,
    PerOperationSampler,
    ProbabilisticSampler,
    SpanContext,
    Tracer,
)
from jaeger_lite.reporting import RemoteReporter
from jaeger_lite.sampling import SamplingDecision
from jaeger_lite.senders import UDPSender

from ._wire_helpers import UDPAgent, tag_dict

SAMPLER_TAGS = {"sampler.type", "sampler.param"}


class CountingSampler:
    """Records every consultation and answers with a fixed decision."""

    def __init__(self, decision: bool) -> None:
        self.calls: list[tuple[int, str]] = []
        self.decision = decision

    def is_sampled(self, trace_id: int, operation_name: str) -> SamplingDecision:
        self.calls.append((trace_id, operation_name))
        return self.decision, {"sampler.type": "counting", "sampler.param": self.decision}

    def close(self) -> None:
        pass


class BrokenSampler:
    """A user sampler with a bug."""

    def is_sampled(self, trace_id: int, operation_name: str) -> SamplingDecision:
        raise RuntimeError("boom")

    def close(self) -> None:
        pass


def make_tracer(sampler: Any) -> tuple[Tracer, InMemoryReporter]:
    reporter = InMemoryReporter()
    return Tracer("svc", reporter, sampler), reporter


def test_sampled_root_carries_sampler_tags_children_do_not() -> None:
    """Only the root that made the decision is tagged sampler.type/param."""
    tracer, reporter = make_tracer(ProbabilisticSampler(1.0))
    with tracer.start_active_span("root"):
        with tracer.start_active_span("child"):
            pass
    child, root = reporter.spans
    assert {k: root.tags[k] for k in SAMPLER_TAGS} == {
        "sampler.type": "probabilistic",
        "sampler.param": 1.0,
    }
    assert not SAMPLER_TAGS & set(child.tags)


def test_unsampled_root_reports_nothing() -> None:
    """An unsampled trace records and reports no span."""
    tracer, reporter = make_tracer(ConstSampler(False))
    with tracer.start_active_span("root") as scope:
        assert not scope.span.is_sampled
        with tracer.start_active_span("child"):
            pass
    assert reporter.spans == []


def test_sampler_is_consulted_once_per_trace_with_the_root_name() -> None:
    """Children inherit the decision; the sampler sees the root's trace id and name."""
    sampler = CountingSampler(True)
    tracer, _ = make_tracer(sampler)
    with tracer.start_active_span("root") as scope:
        tracer.start_span("child").finish()
        trace_id = scope.span.context.trace_id
    assert sampler.calls == [(trace_id, "root")]


@pytest.mark.parametrize("flags", [0, FLAG_SAMPLED])
def test_remote_context_is_not_resampled(flags: int) -> None:
    """A span continuing a remote context inherits its flags without asking the sampler."""
    sampler = CountingSampler(not flags)
    tracer, reporter = make_tracer(sampler)
    remote = SpanContext(0xABC, 0xDEF, 0, flags)
    tracer.start_span("server", child_of=remote).finish()
    assert sampler.calls == []
    spans = reporter.spans
    assert len(spans) == (1 if flags else 0)
    if spans:
        assert not SAMPLER_TAGS & set(spans[0].tags)


def test_extracted_header_is_not_resampled() -> None:
    """An extracted uber-trace-id keeps the caller's decision."""
    sampler = CountingSampler(False)
    tracer, reporter = make_tracer(sampler)
    parent = tracer.extract(Format.HTTP_HEADERS, {"uber-trace-id": "abc:def:0:1"})
    tracer.start_span("server", child_of=parent).finish()
    assert sampler.calls == []
    assert len(reporter.spans) == 1


def test_deferred_context_is_sampled_here_with_its_trace_id() -> None:
    """A remote context that defers the decision consults the sampler with its trace id."""
    sampler = CountingSampler(True)
    tracer, reporter = make_tracer(sampler)
    remote = SpanContext(0xABC, 0xDEF, sampling_deferred=True)
    tracer.start_span("server", child_of=remote).finish()
    assert sampler.calls == [(0xABC, "server")]
    (span,) = reporter.spans
    assert span.tags["sampler.type"] == "counting"
    assert span.context.trace_id == 0xABC and span.context.parent_id == 0xDEF


def test_probabilistic_decision_agrees_across_tracers() -> None:
    """Two services with the same rate make the same decision for each trace id (Go's)."""
    rate = 0.3
    boundary = int(Fraction(rate) * (1 << 63))
    one, _ = make_tracer(ProbabilisticSampler(rate))
    two, _ = make_tracer(ProbabilisticSampler(rate))
    ids = random.Random(1234)
    decisions = []
    for _ in range(500):
        trace_id = ids.getrandbits(64) or 1
        remote = SpanContext(trace_id, 1, sampling_deferred=True)
        a = one.start_span("a", child_of=remote).is_sampled
        b = two.start_span("b", child_of=remote).is_sampled
        assert a() is b() is (trace_id & ((1 << 63) - 1) <= boundary)
        decisions.append(a)
    assert 0 < sum(decisions) < len(decisions)  # both outcomes were exercised


def test_debug_id_header_forces_sampling_without_the_sampler() -> None:
    """jaeger-debug-id starts a sampled+debug root tagged with the id; no sampler tags."""
    sampler = CountingSampler(False)
    tracer, reporter = make_tracer(sampler)
    parent = tracer.extract(Format.HTTP_HEADERS, {"jaeger-debug-id": "req-42"})
    tracer.start_span("server", child_of=parent).finish()
    assert sampler.calls == []
    (span,) = reporter.spans
    assert span.context.flags & (FLAG_SAMPLED | FLAG_DEBUG) == FLAG_SAMPLED | FLAG_DEBUG
    assert span.tags["jaeger-debug-id"] == "req-42"
    assert not SAMPLER_TAGS & set(span.tags)


def test_baggage_only_context_starts_a_sampled_trace_here() -> None:
    """jaeger-baggage without a trace: a new root, decided by the sampler."""
    sampler = CountingSampler(True)
    tracer, reporter = make_tracer(sampler)
    parent = tracer.extract(Format.HTTP_HEADERS, {"jaeger-baggage": "k=v"})
    span = tracer.start_span("server", child_of=parent)
    span.finish()
    assert sampler.calls == [(span.context.trace_id, "server")]
    assert span.get_baggage_item("k") == "v"
    assert reporter.spans[0].tags["sampler.type"] == "counting"


def test_sampling_priority_samples_an_unsampled_trace_with_debug() -> None:
    """sampling.priority > 0 turns an unsampled root into a sampled, debug one."""
    tracer, reporter = make_tracer(ConstSampler(False))
    with tracer.start_active_span("root") as scope:
        scope.span.set_tag("sampling.priority", 1)
        with tracer.start_active_span("child"):
            pass
    child, root = reporter.spans
    assert root.context.flags & FLAG_DEBUG and root.context.flags & FLAG_SAMPLED
    assert child.is_sampled
    assert not SAMPLER_TAGS & set(root.tags)  # the sampler did not make this decision


def test_sampling_priority_zero_unsamples() -> None:
    """sampling.priority = 0 drops a sampled span and its later children."""
    tracer, reporter = make_tracer(ConstSampler(True))
    with tracer.start_active_span("root") as scope:
        scope.span.set_tag("sampling.priority", 0)
        with tracer.start_active_span("child"):
            pass
    assert reporter.spans == []


def test_sampling_priority_zero_then_one_keeps_the_earlier_tags_on_the_wire(
    udp_agent: UDPAgent,
) -> None:
    """Priority 0 then 1 on a sampled root: sent with flags sampled|debug and the tags
    recorded before the 0 (the sampler's too); a tag set while unsampled is not recorded.
    jaeger-client 4.8 does the same: its tag list survives the 0 (Span.set_tag skips tags
    only while the span is unsampled) and the 1 appends sampling.priority=1."""
    jaeger_client = pytest.importorskip("jaeger_client")
    theirs = jaeger_client.Tracer(
        "svc", jaeger_client.reporter.InMemoryReporter(), jaeger_client.ConstSampler(True)
    )
    tracer = Tracer("svc", RemoteReporter(UDPSender("127.0.0.1", udp_agent.port)))
    for make in (tracer.start_span, theirs.start_span):
        span = make("root").set_tag("before", "kept")
        span.set_tag("sampling.priority", 0).set_tag("meanwhile", "lost")
        span.set_tag("sampling.priority", 1).set_tag("after", "kept")
        span.finish()
    tracer.close()
    (sent,) = udp_agent.wait_for_spans(1)
    assert sent.flags == FLAG_SAMPLED | FLAG_DEBUG
    assert tag_dict(sent.tags) == {
        "sampler.type": "const",
        "sampler.param": True,
        "before": "kept",
        "sampling.priority": 1,
        "after": "kept",
    }
    (their_span,) = theirs.reporter.get_spans()
    assert their_span.context.flags == sent.flags
    assert tag_dict(their_span.tags) == tag_dict(sent.tags)


def test_sampler_exception_means_not_sampled_and_is_counted() -> None:
    """A failing user sampler never reaches the application: unsampled and counted."""
    tracer, reporter = make_tracer(BrokenSampler())
    tracer.start_span("root").finish()
    assert reporter.spans == []
    assert tracer.metrics["sampler_errors"] == 1


def test_per_operation_lower_bound_tags_on_the_root() -> None:
    """A lower-bound decision tags the root lowerbound with the operation's sampling rate."""
    tracer, reporter = make_tracer(PerOperationSampler(0.0, 2.0))
    tracer.start_span("rare").finish()
    (span,) = reporter.spans
    assert {k: span.tags[k] for k in SAMPLER_TAGS} == {
        "sampler.type": "lowerbound",
        "sampler.param": 0.0,
    }


class GarbageSampler:
    """A user sampler that answers with something other than a (bool, mapping) pair."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer

    def is_sampled(self, trace_id: int, operation_name: str) -> Any:
        return self.answer


@pytest.mark.parametrize(
    "answer",
    [None, True, (True,), (True, {"a": 1}, 3), (True, [1, 2]), (1, "x"), "ab"],
    ids=["none", "bool", "1-tuple", "3-tuple", "list-tags", "str-tags", "str"],
)
@pytest.mark.parametrize("how", ["start_span", "start_active_span", "deferred"])
def test_sampler_garbage_answer_means_not_sampled_and_is_counted(answer: Any, how: str) -> None:
    """An answer that is no (sampled, tags) pair, or whose tags are no mapping, is the
    sampler's bug: the trace is not sampled, sampler_errors counts it, nothing raises."""
    tracer, reporter = make_tracer(GarbageSampler(answer))
    if how == "start_span":
        span = tracer.start_span("root")
        span.finish()
    elif how == "start_active_span":
        with tracer.start_active_span("root") as scope:
            span = scope.span
    else:  # B3 without X-B3-Sampled: the caller left the decision to this sampler
        headers = {"X-B3-TraceId": "0000000000000abc", "X-B3-SpanId": "0000000000000def"}
        context = Tracer("svc", InMemoryReporter(), propagation="b3").extract(
            Format.HTTP_HEADERS, headers
        )
        span = tracer.start_span("root", child_of=context)
        span.finish()
    assert not span.context.is_sampled
    assert reporter.spans == []
    assert tracer.metrics["sampler_errors"] == 1


@pytest.mark.parametrize("tags", [None, {}, MappingProxyType({"sampler.type": "mine"})])
def test_sampler_tags_may_be_none_or_any_mapping(tags: Any) -> None:
    """None means no tags; a mapping other than a dict is copied into the root."""
    tracer, reporter = make_tracer(GarbageSampler((True, tags)))
    with tracer.start_active_span("root"):
        pass
    tracer.start_span("other").finish()
    assert [dict(span.tags) for span in reporter.spans] == [dict(tags or {})] * 2
    assert tracer.metrics["sampler_errors"] == 0

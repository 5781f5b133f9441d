"""A span's rare fields (baggage, trace state, references, later logs, its context) kept
in a side object: children inherit the trace's part of it, never share it."""

from __future__ import annotations

from jaeger_lite import Tracer, follows_from
from jaeger_lite.context import SpanContext


def test_child_inherits_baggage_without_sharing_it(tracer: Tracer) -> None:
    """Baggage set on a child reaches its own children, not its parent."""
    with tracer.start_active_span("parent") as parent:
        parent.span.set_baggage_item("a", "1")
        with tracer.start_active_span("child") as child:
            child.span.set_baggage_item("b", "2")
            assert child.span.get_baggage_item("a") == "1"
        assert parent.span.get_baggage_item("b") is None
        assert dict(parent.span.context.baggage) == {"a": "1"}


def test_trace_state_reaches_local_children(tracer: Tracer) -> None:
    """A W3C trace state extracted with the parent is carried by every local descendant."""
    remote = SpanContext(5, 6, flags=1, trace_state="vendor=x")
    with tracer.start_active_span("server", child_of=remote):
        with tracer.start_active_span("local") as local:
            assert local.span.context.trace_state == "vendor=x"


def test_spans_without_rare_fields_have_none_until_one_is_set(tracer: Tracer) -> None:
    """References and logs are kept when set; a plain span reads their defaults."""
    plain = tracer.start_span("plain")
    assert plain.references == () and plain.logs == ()
    linked = tracer.start_span("linked", references=[follows_from(plain.context)])
    linked.log_kv({"event": "one"})
    linked.log_kv({"event": "two"})
    assert [log.fields["event"] for log in linked.logs] == ["one", "two"]
    assert linked.references[0].referenced_context == plain.context


def test_context_is_cached_until_baggage_changes(tracer: Tracer) -> None:
    """span.context is built once, and rebuilt after set_baggage_item."""
    span = tracer.start_span("op")
    first = span.context
    assert span.context is first
    span.set_baggage_item("k", "v")
    assert span.context is not first and span.context.baggage["k"] == "v"


def test_root_span_id_is_the_trace_id_object(tracer: Tracer) -> None:
    """A 64-bit root holds its trace id once (its span id is the same int: memory)."""
    with tracer.start_active_span("root") as scope:
        assert scope.span.span_id is scope.span.trace_id

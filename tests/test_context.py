"""SpanContext, Reference, child_of and follows_from."""

from __future__ import annotations

import pytest

from jaeger_lite import (
    FLAG_DEBUG,
    FLAG_FIREHOSE,
    FLAG_SAMPLED,
    ReferenceType,
    SpanContext,
    Tracer,
    child_of,
    follows_from,
)


def test_context_fields_are_read_only() -> None:
    """Public fields cannot be assigned: contexts are immutable values."""
    context = SpanContext(1, 2, 3, FLAG_SAMPLED)
    with pytest.raises(AttributeError):
        context.trace_id = 5  # type: ignore[misc]
    with pytest.raises(AttributeError):
        context.flags = 0  # type: ignore[misc]


def test_baggage_mapping_is_read_only() -> None:
    """The baggage mapping rejects item assignment."""
    context = SpanContext(1, 2, baggage={"k": "v"})
    with pytest.raises(TypeError):
        context.baggage["k"] = "x"  # type: ignore[index]
    assert dict(context.baggage) == {"k": "v"}


def test_baggage_is_copied_from_the_callers_dict() -> None:
    """Mutating the dict passed in does not change the context."""
    source = {"k": "v"}
    context = SpanContext(1, 2, baggage=source)
    source["k"] = "changed"
    assert context.baggage["k"] == "v"


def test_with_baggage_item_returns_a_new_context() -> None:
    """Adding baggage yields a new context and leaves the original unchanged."""
    original = SpanContext(1, 2, baggage={"a": "1"})
    changed = original.with_baggage_item("b", "2")
    assert dict(original.baggage) == {"a": "1"}
    assert dict(changed.baggage) == {"a": "1", "b": "2"}
    assert (changed.trace_id, changed.span_id) == (1, 2)


def test_with_baggage_item_none_removes_the_key() -> None:
    """A None value removes the item."""
    context = SpanContext(1, 2, baggage={"a": "1", "b": "2"}).with_baggage_item("a", None)
    assert dict(context.baggage) == {"b": "2"}


@pytest.mark.parametrize(
    ("flags", "sampled", "debug", "firehose"),
    [
        (0, False, False, False),
        (FLAG_SAMPLED, True, False, False),
        (FLAG_SAMPLED | FLAG_DEBUG, True, True, False),
        (FLAG_FIREHOSE, False, False, True),
    ],
)
def test_flag_properties(flags: int, sampled: bool, debug: bool, firehose: bool) -> None:
    """is_sampled/is_debug/is_firehose read the flag bits."""
    context = SpanContext(1, 2, flags=flags)
    assert (context.is_sampled, context.is_debug, context.is_firehose) == (sampled, debug, firehose)


def test_hex_forms_pad_64_bit_ids_to_16_digits() -> None:
    """64-bit ids print as 16 lower-case hex digits, zero-padded."""
    context = SpanContext(0xABC, 0x1, 0)
    assert context.trace_id_hex == "0000000000000abc"
    assert context.span_id_hex == "0000000000000001"
    assert context.parent_id_hex == "0000000000000000"


def test_hex_form_of_128_bit_trace_id_has_32_digits() -> None:
    """A trace id with a high half prints as 32 digits and splits into high/low."""
    trace_id = (0x1 << 64) | 0xFF
    context = SpanContext(trace_id, 2)
    assert context.trace_id_hex == "000000000000000100000000000000ff"
    assert (context.trace_id_high, context.trace_id_low) == (1, 0xFF)


def test_str_is_the_uber_trace_id_form() -> None:
    """str(context) is trace:span:parent:flags."""
    assert str(SpanContext(0x10, 0x20, 0x30, 3)) == (
        "0000000000000010:0000000000000020:0000000000000030:3"
    )


def test_equality_and_hash_follow_the_values() -> None:
    """Equal fields mean equal contexts with equal hashes; baggage counts."""
    a = SpanContext(1, 2, 3, 1, {"k": "v"})
    b = SpanContext(1, 2, 3, 1, {"k": "v"})
    assert a == b and hash(a) == hash(b)
    assert a != SpanContext(1, 2, 3, 1, {"k": "other"})


def test_has_trace_is_false_for_baggage_only_contexts() -> None:
    """A context without ids carries baggage only."""
    assert not SpanContext(0, 0, baggage={"k": "v"}).has_trace
    assert SpanContext(1, 2).has_trace


def test_child_of_and_follows_from_accept_spans_and_contexts() -> None:
    """Reference helpers take a Span (using its context) or a SpanContext."""
    span = Tracer("svc").start_span("op")
    ref = child_of(span)
    assert ref.type == ReferenceType.CHILD_OF
    assert ref.referenced_context == span.context
    context = SpanContext(5, 6)
    assert follows_from(context) == (ReferenceType.FOLLOWS_FROM, context)


def test_reference_helpers_reject_other_types() -> None:
    """Passing something that is neither a span nor a context is API misuse."""
    with pytest.raises(TypeError):
        child_of("not a span")  # type: ignore[arg-type]

"""Pieces shared by the compact and binary writers: ids, text, values and references as
they go on the wire (docs/protocol.md#ids-and-times, docs/protocol.md#logs-and-references)."""

from __future__ import annotations

from ..context import ReferenceType
from ..span import Span

__all__ = ["i32", "i64", "utf8", "wire_references"]

_TWO64 = 1 << 64


def i64(u: int) -> int:
    """An unsigned 64-bit id (or the low 64 bits of a wider one) as the signed wire i64."""
    u &= 0xFFFF_FFFF_FFFF_FFFF
    return u - _TWO64 if u >> 63 else u


def i32(value: int) -> int:
    """The low 32 bits of ``value`` as a signed i32."""
    value &= 0xFFFF_FFFF
    return value - (1 << 32) if value >> 31 else value


def utf8(text: str) -> bytes:
    # Lone surrogates cannot be UTF-8; Jaeger's backends reject invalid UTF-8, so they
    # become "?" rather than failing the whole span.
    return text.encode("utf-8", "replace")


_NO_REFS: list[tuple[int, int, int, int]] = []  # shared, never mutated


def wire_references(span: Span) -> list[tuple[int, int, int, int]]:
    """(refType, traceIdLow, traceIdHigh, spanId) of the references that go on the wire.

    Every reference except the one CHILD_OF that ``parentSpanId`` already says: the first
    CHILD_OF naming this span's trace and parent. FOLLOWS_FROM always goes out.
    """
    refs = span._references
    if not refs:
        return _NO_REFS
    parent_id = span._parent_id
    if len(refs) == 1:  # the common case: child_of=parent says nothing parentSpanId does not
        ref_type, context = refs[0]
        if (
            ref_type == ReferenceType.CHILD_OF
            and parent_id
            and context._span_id == parent_id
            and context._trace_id == span._trace_id
        ):
            return _NO_REFS
    wire = []
    parent_seen = parent_id == 0
    for ref_type, context in refs:
        if ref_type == ReferenceType.FOLLOWS_FROM:
            kind = 1
        else:
            kind = 0
            if (
                not parent_seen
                and context._span_id == parent_id
                and context._trace_id == span._trace_id
            ):
                parent_seen = True
                continue
        trace_id = context._trace_id
        wire.append((kind, i64(trace_id), i64(trace_id >> 64), i64(context._span_id)))
    return wire

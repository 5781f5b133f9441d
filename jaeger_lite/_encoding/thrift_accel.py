"""What thrift's C extension reads when it writes a span's head: scratch objects (it reads
fields by attribute name) and their ``thrift_spec``-style specs, mirroring jaeger.thrift."""

from __future__ import annotations

from typing import Any, Optional

from ..span import Span
from .common import wire_references

__all__ = [
    "HEAD_SPECS",
    "LOG_SPEC",
    "Head",
    "LogHead",
    "fastbinary",
    "reference_objects",
]

from thrift.Thrift import TType

try:  # thrift's optional C extension; absent when thrift was installed without a compiler
    from thrift.protocol import fastbinary
except ImportError:  # tested by hiding it (tests/test_thrift.py)
    fastbinary = None


def reference_objects(span: Span) -> Optional[list[_Ref]]:
    """The span's wire references as objects for the C extension (None when there are none)."""
    refs = wire_references(span)
    return [_Ref(*ref) for ref in refs] if refs else None


class Head:
    """Scratch object the C encoder reads the span's fields 3-9 from (by attribute)."""

    __slots__ = (
        "spanId",
        "parentSpanId",
        "operationName",
        "references",
        "flags",
        "startTime",
        "duration",
        "logTimestamp",
        "parent_id",
        "name",
    )
    spanId: int
    parentSpanId: int
    operationName: bytes
    references: Optional[list[_Ref]]
    flags: int
    startTime: int
    duration: int
    logTimestamp: int
    parent_id: Optional[int]  # the span values the fields above were computed from
    name: Optional[str]

    def __init__(self) -> None:
        self.parent_id = self.name = None


class LogHead:
    """Scratch object for a Log's timestamp."""

    __slots__ = ("timestamp",)
    timestamp: int


class _Ref:
    """One SpanRef, read by the C extension."""

    __slots__ = ("refType", "traceIdLow", "traceIdHigh", "spanId")

    def __init__(self, ref_type: int, low: int, high: int, span_id: int) -> None:
        self.refType = ref_type
        self.traceIdLow = low
        self.traceIdHigh = high
        self.spanId = span_id


LOG_SPEC = [LogHead, (None, (1, TType.I64, "timestamp", None, None))]
REF_SPEC = (
    None,
    (1, TType.I32, "refType", None, None),
    (2, TType.I64, "traceIdLow", None, None),
    (3, TType.I64, "traceIdHigh", None, None),
    (4, TType.I64, "spanId", None, None),
)
# jaeger.thrift's Span fields 3-9 (operationName passed pre-encoded). The encoder writes
# fields 1-2 (the trace id, cached as bytes) itself and the C extension continues after
# them: compact field headers hold the id's distance from the previous field, so the spec
# numbers each field by its distance from field 2 (spanId, field 3, is 1 here).
# Most spans have no references to send: their spec leaves field 6 out altogether.
HEAD_SPEC_REFS: list[Any] = [
    Head,
    (
        None,
        (1, TType.I64, "spanId", None, None),
        (2, TType.I64, "parentSpanId", None, None),
        (3, TType.STRING, "operationName", "BINARY", None),
        (4, TType.LIST, "references", (TType.STRUCT, [_Ref, REF_SPEC], False), None),
        (5, TType.I32, "flags", None, None),
        (6, TType.I64, "startTime", None, None),
        (7, TType.I64, "duration", None, None),
    ),
]
HEAD_SPEC: list[Any] = [
    Head,
    tuple(None if f and f[0] == 4 else f for f in HEAD_SPEC_REFS[1]),
]
LOG_TIMESTAMP = (8, TType.I64, "logTimestamp", None, None)  # not a Span field: cut off
# By index: 1 = with the first log's timestamp, 2 = with references.
HEAD_SPECS = [
    HEAD_SPEC,
    [Head, (*HEAD_SPEC[1], LOG_TIMESTAMP)],
    HEAD_SPEC_REFS,
    [Head, (*HEAD_SPEC_REFS[1], LOG_TIMESTAMP)],
]

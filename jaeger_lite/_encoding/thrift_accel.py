"""What thrift's C extension reads when it writes pieces of spans: scratch objects (it
reads fields by attribute name) and their ``thrift_spec``-style specs, mirroring
jaeger.thrift."""

from __future__ import annotations

from typing import Any, Optional

__all__ = [
    "MID_SPECS",
    "Mid",
    "encode_i64_list",
    "fastbinary",
    "reference_objects",
]

from thrift.Thrift import TType

try:  # thrift's optional C extension; absent when thrift was installed without a compiler
    from thrift.protocol import fastbinary
except ImportError:  # tested by hiding it (tests/test_thrift.py)
    fastbinary = None


def reference_objects(refs: list[tuple[int, int, int, int]]) -> list[_Ref]:
    """Wire references (``common.wire_references``) as objects for the C extension."""
    return [_Ref(*ref) for ref in refs]


def encode_i64_list(values: list[int]) -> bytes:
    """A struct of one list<i64> field: its field and list headers, the zigzag varints of
    ``values`` one after another, and its stop byte (many spans' numbers in one call)."""
    holder = _Values()
    holder.values = values
    encoded: bytes = fastbinary.encode_compact(holder, VALUES_SPEC)
    return encoded


class _Values:
    """What encode_i64_list hands the C extension (a new one a call: thread-safe)."""

    __slots__ = ("values",)
    values: list[int]


class Mid:
    """Scratch object for a span's fields 4-7 (parentSpanId to flags), read by attribute."""

    __slots__ = ("parentSpanId", "operationName", "references", "flags")
    parentSpanId: int
    operationName: bytes
    references: Optional[list[_Ref]]
    flags: int


class _Ref:
    """One SpanRef, read by the C extension."""

    __slots__ = ("refType", "traceIdLow", "traceIdHigh", "spanId")

    def __init__(self, ref_type: int, low: int, high: int, span_id: int) -> None:
        self.refType = ref_type
        self.traceIdLow = low
        self.traceIdHigh = high
        self.spanId = span_id


VALUES_SPEC: list[Any] = [
    _Values,
    (None, (1, TType.LIST, "values", (TType.I64, None, False), None)),
]
REF_SPEC = (
    None,
    (1, TType.I32, "refType", None, None),
    (2, TType.I64, "traceIdLow", None, None),
    (3, TType.I64, "traceIdHigh", None, None),
    (4, TType.I64, "spanId", None, None),
)
# jaeger.thrift's Span fields 4-7 (operationName passed pre-encoded). The encoder writes
# the span id (field 3) before them and the start time (field 8) after them: compact field
# headers hold the id's distance from the previous field, so the spec numbers each field by
# its distance from field 3 (parentSpanId, field 4, is 1 here). Most spans have no
# references to send: their spec leaves field 6 out altogether (flags then is +2).
MID_SPEC_REFS: list[Any] = [
    Mid,
    (
        None,
        (1, TType.I64, "parentSpanId", None, None),
        (2, TType.STRING, "operationName", "BINARY", None),
        (3, TType.LIST, "references", (TType.STRUCT, [_Ref, REF_SPEC], False), None),
        (4, TType.I32, "flags", None, None),
    ),
]
MID_SPEC: list[Any] = [Mid, tuple(None if f and f[0] == 3 else f for f in MID_SPEC_REFS[1])]
# By index: 0 = without references, 1 = with references.
MID_SPECS = [MID_SPEC, MID_SPEC_REFS]

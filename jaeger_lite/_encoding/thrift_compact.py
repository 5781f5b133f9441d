"""Thrift compact-protocol writers for Jaeger structs (the bytes a UDP agent reads).

Hand-written rather than built from generated objects: a span is encoded straight from the
``Span`` slots, repeated pieces (the trace id, tag keys, common tag values, operation
names, the parent id with name and flags) are cached as finished bytes, and the numbers
that differ from span to span (span ids, times) of a whole batch become varints in a single
call to thrift's C accelerator when it is available. The pure-Python path writes the same
bytes (tests compare them, and both with thrift's own encoder);
``JAEGER_LITE_NO_ACCELERATOR=1`` forces it. Fields go out in id order, as every Jaeger
client writes them.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Optional

from .._safe import int_text, safe_str
from .._values import normalize_value
from ..span import Span
from .common import i32, i64, utf8, wire_references
from .thrift_accel import MID_SPECS, Mid, reference_objects
from .thrift_accel import fastbinary as _fastbinary
from .thrift_varints import (
    binary,
    list_header,
    split_heads,
    split_stamps,
    varint,
    varint_pieces,
    zigzag,
)

__all__ = [
    "ACCELERATOR_AVAILABLE",
    "CompactEncoder",
    "binary",
    "list_header",
    "varint",
    "zigzag",
]

ACCELERATOR_AVAILABLE = _fastbinary is not None

_TWO64 = 1 << 64
_I64_END = 1 << 63  # unsigned 64-bit ids from here on are negative i64s on the wire
_I64_MIN = -(1 << 63)
_I64_MAX = (1 << 63) - 1
_pack_double = struct.Struct("<d").pack

# Compact field headers are (id delta << 4) | type; the deltas below follow the Tag layout
# 1 key, 2 vType, 3 vStr, 4 vDouble, 5 vBool, 6 vLong, 7 vBinary.
_STR_VALUE = b"\x15\x00\x18"  # vType=STRING(0), then field 3 (+1) binary
_DOUBLE_VALUE = b"\x15\x02\x27"  # vType=DOUBLE(1), then field 4 (+2) double
_BOOL_VALUES = (b"\x15\x04\x32\x00", b"\x15\x04\x31\x00")  # field 5 (+3): false, true
_LONG_VALUE = b"\x15\x06\x46"  # vType=LONG(3), then field 6 (+4) i64
_BINARY_VALUE = b"\x15\x08\x58"  # vType=BINARY(4), then field 7 (+5) binary
_STRUCT = 0x0C
# list<struct> field headers and sizes: +1 from the previous field (tags after duration,
# logs after tags, a Log's fields after its timestamp) and +2 (logs straight after duration)
_TAGS_FIELD = [bytes((0x19, (n << 4) | _STRUCT)) for n in range(15)]
# The same up to 63 elements, for a lookup without a test (1-byte sizes, then 0xF0 | type
# and the size's varint, 1 byte up to 127).
_TAGS_HEADER = _TAGS_FIELD + [bytes((0x19, 0xF0 | _STRUCT, n)) for n in range(15, 64)]
_LOGS_AFTER_TAGS = _TAGS_FIELD
_LOGS_FIELD = [bytes((0x29, (n << 4) | _STRUCT)) for n in range(15)]


def _trace_fields(trace_id: int) -> bytes:
    """Span fields 1 and 2 (traceIdLow, traceIdHigh), headers included."""
    return b"".join(
        [b"\x16", varint(zigzag(i64(trace_id))), b"\x16", varint(zigzag(i64(trace_id >> 64)))]
    )


class CompactEncoder:
    """Encodes finished spans, tags and processes as compact-protocol Jaeger structs.

    One instance per sender, used from one thread at a time (the reporter's worker).
    Caches: each tag key remembers its last value object and that tag's bytes (an
    identity check, so ``True`` never passes for ``1``), and common str/int values are
    kept per key (at most 256 each). All caches are bounded by ``cache_size`` keys: a full
    one is emptied and refills with what is current, so high-cardinality keys and values
    cost some speed, never unbounded memory.
    """

    __slots__ = (
        "_last",
        "_keys",
        "_strs",
        "_ints",
        "_ops",
        "_cache_size",
        "_accelerated",
        "_scratch",
        "_trace_id",
        "_trace_fields",
        "_mid",
    )

    def __init__(self, accelerated: Optional[bool] = None, cache_size: int = 4096) -> None:
        if accelerated is None:
            accelerated = not os.environ.get("JAEGER_LITE_NO_ACCELERATOR")
        self._accelerated = bool(accelerated) and _fastbinary is not None
        self._last: dict[str, tuple[Any, bytes]] = {}
        self._keys: dict[str, bytes] = {}
        self._strs: dict[str, dict[str, bytes]] = {}
        self._ints: dict[str, dict[int, bytes]] = {}
        self._ops: dict[str, bytes] = {}
        self._cache_size = cache_size
        self._scratch = Mid()
        self._trace_id: Optional[int] = None  # the trace id _trace_fields encodes
        self._trace_fields = b""  # fields 1-2 and the header of field 3 (spanId)
        # (parent id, operation name, flags) of the last span and its fields 4-7
        self._mid: tuple[Any, Any, Any, bytes] = (None, None, None, b"")

    @property
    def accelerated(self) -> bool:
        """True when thrift's C extension writes span ids, times and fields 4-7."""
        return self._accelerated

    # -- spans ------------------------------------------------------------------------

    def span(self, span: Span) -> bytes:
        """Encode one finished span as a compact ``Span`` struct (no field header)."""
        return self.spans((span,))[0]

    def spans(self, spans: Iterable[Span]) -> list[bytes]:
        """Encode finished spans as compact ``Span`` structs (no field headers), in order.

        The varying numbers of all spans (span id, start time, duration, log timestamps)
        become zigzag varints in one call to thrift's C extension for the whole batch (a
        list<i64>), split again at zeros put between them (``varint_pieces``): a call per span
        cost ~5,400 instructions, most of them the call itself; splitting with a regular
        expression instead of at zeros ~1,600 more a span. Fields 1-2 (the trace id) and 4-7
        (parent id, operation name, references, flags) come from caches keyed by the
        previous span's objects, tags and logs from the tag caches. One loop for a whole
        batch with the tag loops inline: each call or lookup it saves is a few % of it.
        """
        if not isinstance(spans, (list, tuple)):
            spans = list(spans)
        if not spans:
            return []
        # Per span: 0, span id, 0, start time, 11 and duration. Zeros (varint 0x00)
        # separate the pieces, 11 is 0x16, the duration's field header: split at the zeros,
        # two pieces a span, its id and its start time + the duration's field (the header
        # from the C call, not a piece of its own: ~310 instructions a span less).
        count = len(spans)
        values = [0, 0, 0, 0, 11, 0] * count
        # `v < 2**63` rather than `v >> 63`, and the list made with its zeros and 11s in
        # place: ~240 instructions a span less
        values[1::6] = [v if (v := span._span_id) < _I64_END else v - _TWO64 for span in spans]
        values[3::6] = [(span._start_ns + 500) // 1000 for span in spans]
        values[5::6] = [((span._duration_ns or 0) + 500) // 1000 for span in spans]
        heads = iter(varint_pieces(values, 2 * count, split_heads, self._accelerated))
        stamps: Optional[Callable[[], bytes]] = None  # log timestamps, at the first log

        out: list[bytes] = []
        emit = out.append
        last = self._last
        trace = self._trace_id
        prefix = self._trace_fields
        mid_parent, mid_name, mid_flags, mid = self._mid
        next(heads)  # the part before the first separator
        for span, span_id, times in zip(spans, heads, heads):
            # Spans of one trace, siblings and repeated operations share these very
            # objects: identity checks against the previous span's skip encoding them again
            # (attributes compared as loaded, not kept in locals: ~100 instructions less).
            if span._trace_id is not trace:
                trace = self._trace_id = span._trace_id
                prefix = self._trace_fields = _trace_fields(trace) + b"\x16"  # + spanId's header
            if (
                span._parent_id is not mid_parent
                or span._operation_name is not mid_name
                or span._flags is not mid_flags
            ):
                mid_parent, mid_name, mid_flags = span._parent_id, span._operation_name, span._flags
                mid = self._middle(mid_parent, mid_name, mid_flags, None)
                self._mid = mid_parent, mid_name, mid_flags, mid
            parts = [prefix, span_id, mid, times]
            # The side object, not the `_references` property: that call per span
            # cost ~770 of encode_spans' ~15,400 instructions a span (callgrind,
            # bench_reporter.py --callgrind) for a field few spans set.
            extras = span._extras
            if extras is not None and extras.references:
                refs = wire_references(span)
                if refs:
                    parts[2] = self._middle(mid_parent, mid_name, mid_flags, refs)
            # The tag loop is written out twice (span tags, log fields): a call per tag
            # list costs more than the loop body. `last[key]` in a try rather than
            # `last.get(key)`: no method call, ~140 instructions a tag less, and ~50 less
            # unpacked than indexed twice; a key not seen yet raises once (then _tag has
            # cached it), and `last` never is a value.
            tags = span._tags
            if tags:
                try:  # no size test: ~90 instructions a span less
                    parts.append(_TAGS_HEADER[len(tags)])
                except IndexError:
                    parts.append(b"\x19" + list_header(len(tags)))
                for key, value in tags.items():
                    try:
                        seen, encoded = last[key]
                    except KeyError:
                        seen = last
                    parts.append(encoded if seen is value else self._tag(key, value))
            fields = span._log_fields  # the first log's; None when there is no log
            if fields is not None:
                if stamps is None:
                    # Not before the loop: a test per span there cost ~130 instructions.
                    stamps = self._stamps(spans)
                # The first log is kept in the span; span._logs lists them all once a
                # second one is recorded.
                logs = (extras.logs if extras is not None else None) or ()
                log_count = len(logs) or 1
                if log_count < 15:
                    parts.append((_LOGS_AFTER_TAGS if tags else _LOGS_FIELD)[log_count])
                else:
                    parts.append((b"\x19" if tags else b"\x29") + list_header(log_count))
                index = 1
                while True:
                    parts.append(b"\x16")  # Log field 1, the timestamp
                    parts.append(stamps())
                    n = len(fields)
                    parts.append(_TAGS_FIELD[n] if n < 15 else b"\x19" + list_header(n))
                    for key, value in fields.items():
                        try:
                            seen, encoded = last[key]
                        except KeyError:
                            seen = last
                        parts.append(encoded if seen is value else self._tag(key, value))
                    parts.append(b"\x00")
                    if index == log_count:
                        break
                    fields = logs[index][1]
                    index += 1
            parts.append(b"\x00")
            emit(b"".join(parts))
        return out

    def _stamps(self, spans: Sequence[Span]) -> Callable[[], bytes]:
        """The varint of each log timestamp of ``spans`` in turn, from one C call."""
        values: list[int] = []
        for span in spans:
            if span._log_fields is not None:
                values += (0, (span._log_ns + 500) // 1000)
                extras = span._extras
                logs = extras.logs if extras is not None else None
                if logs:
                    for ns, _ in logs[1:]:
                        values += (0, (ns + 500) // 1000)
        stamps = iter(
            varint_pieces(values, len(values) // 2, split_stamps, self._accelerated)
        ).__next__
        stamps()  # the part before the first separator
        return stamps

    def _middle(
        self,
        parent_id: int,
        name: str,
        flags: int,
        refs: Optional[list[tuple[int, int, int, int]]],
    ) -> bytes:
        """Span fields 4-7 (parentSpanId, operationName, references, flags), headers
        included, and field 8's header: all that lies between the span id and the start
        time."""
        if flags > 0x7FFF_FFFF or flags < 0:
            flags = i32(flags)
        if self._accelerated:
            scratch = self._scratch
            scratch.parentSpanId = parent_id - _TWO64 if parent_id >> 63 else parent_id
            scratch.operationName = self._op_name(name)
            scratch.flags = flags
            scratch.references = reference_objects(refs) if refs else None
            encoded: bytes = _fastbinary.encode_compact(scratch, MID_SPECS[refs is not None])
            return encoded[:-1] + b"\x16"  # its stop byte replaced by startTime's header
        parts = [
            b"\x16",
            varint(zigzag(i64(parent_id))),
            b"\x18",
            binary(self._op_name(name)),
        ]
        if refs:
            parts.append(b"\x19" + list_header(len(refs)))
            for ref_type, low, high, span_id in refs:
                parts.append(
                    b"\x15"
                    + varint(zigzag(ref_type))
                    + b"\x16"
                    + varint(zigzag(low))
                    + b"\x16"
                    + varint(zigzag(high))
                    + b"\x16"
                    + varint(zigzag(span_id))
                    + b"\x00"
                )
        parts.append(b"\x15" if refs else b"\x25")  # flags is field 7: +1 after refs, else +2
        parts.append(varint(zigzag(flags)))
        parts.append(b"\x16")  # startTime's header
        return b"".join(parts)

    def _op_name(self, name: str) -> bytes:
        encoded = self._ops.get(name)
        if encoded is None:
            if len(self._ops) >= self._cache_size:
                self._ops.clear()
            encoded = self._ops[name] = utf8(name)
        return encoded

    # -- tags -------------------------------------------------------------------------

    def tags(self, tags: Mapping[str, Any]) -> bytes:
        """A compact ``list<Tag>`` body (header included) for any mapping."""
        parts = [list_header(len(tags))]
        self._append_tags(parts, tags)
        return b"".join(parts)

    def _append_tags(self, parts: list[bytes], tags: Mapping[str, Any]) -> None:
        append = parts.append
        last = self._last
        for key, value in tags.items():
            entry = last.get(key)
            if entry is not None and entry[0] is value:  # the very object seen last time
                append(entry[1])
            else:
                append(self._tag(key, value))

    def _tag(self, key: Any, value: Any) -> bytes:
        """Encode one tag through the per-key value caches (slow path of _append_tags)."""
        if key.__class__ is not str:
            key = safe_str(key)
        cls = value.__class__
        if cls is str or cls is int:
            caches: dict[str, dict[Any, bytes]] = self._strs if cls is str else self._ints
            cache = caches.get(key)
            if cache is None:
                if len(caches) >= self._cache_size:
                    caches.clear()
                cache = caches[key] = {}
            encoded = cache.get(value)
            if encoded is None:
                encoded = self._key(key) + _uncached_value(value)
                if len(cache) < 256:  # a high-cardinality key (ids, counters): not kept
                    cache[value] = encoded
        else:
            encoded = self._key(key) + _uncached_value(value)
        if len(self._last) >= self._cache_size:
            self._last.clear()
        self._last[key] = (value, encoded)
        return encoded

    def _key(self, key: str) -> bytes:
        encoded = self._keys.get(key)
        if encoded is None:
            if len(self._keys) >= self._cache_size:
                self._keys.clear()
            encoded = self._keys[key] = b"\x18" + binary(utf8(key))
        return encoded


def _uncached_value(value: Any) -> bytes:
    """vType and value fields plus the Tag's stop byte, for any value."""
    cls = value.__class__
    if cls is str:
        return _STR_VALUE + binary(utf8(value)) + b"\x00"
    if cls is bool:
        return _BOOL_VALUES[value]
    if cls is int:
        if _I64_MIN <= value <= _I64_MAX:
            return _LONG_VALUE + varint(zigzag(value)) + b"\x00"
        return _STR_VALUE + binary(int_text(value).encode()) + b"\x00"  # beyond i64: text
    if cls is float:
        return _DOUBLE_VALUE + _pack_double(value) + b"\x00"
    if cls is bytes:
        return _BINARY_VALUE + binary(value) + b"\x00"
    return _uncached_value(normalize_value(value))

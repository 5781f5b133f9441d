"""The BINARY format: a span context and its baggage as bytes
(docs/protocol.md#the-binary-carrier).

``inject`` writes jaeger-client's layout by default, the one jaeger-client-go, -java and
-python read and write (all integers big-endian)::

    trace id high, trace id low, span id, parent id    u64 each
    flags                                              1 byte
    baggage count                                      u32, then per item: u32 key
                                                       length, UTF-8 key, u32 value
                                                       length, UTF-8 value

It has no room for a ``tracestate`` or a lone ``jaeger-debug-id``; a context without a trace
(baggage only) is written with zero ids. ``layout="versioned"`` writes jaeger_lite's own
layout instead, which carries both (version 1)::

    0      'J' (0x4A)           magic
    1      0x01                 layout version
    2      flags                sampled 0x01, debug 0x02, firehose 0x08
    3      n = 8 or 16          trace id length in bytes
    4      trace id             n bytes
    4+n    span id, parent id   8 bytes each
    20+n   baggage count        u16, then per item: u16 key length, UTF-8 key,
                                u16 value length, UTF-8 value
    ...    tracestate           u16 length + ASCII (0 = none)
    ...    debug id             u16 length + UTF-8 (0 = none; only without a trace)

Items that do not fit a layout's lengths are dropped and counted. ``extract`` reads both
layouts whichever is written. Unknown versions, truncated or trailing bytes, and a trace id
without a span id (or the reverse) yield None; invalid UTF-8 becomes U+FFFD. Only
``bytes``, ``bytearray`` and ``memoryview`` are read; any other carrier yields None.
"""

from __future__ import annotations

import struct
from typing import Any, Optional

from .._baggage import BaggageLimits
from .._ids import MAX_ID, MAX_TRACE_ID
from .._log import LOG as _log
from .._safe import plural
from ..context import FLAG_DEBUG, FLAG_SAMPLED, SpanContext
from ..errors import InvalidCarrierException

__all__ = ["BinaryCodec"]


_MAGIC = 0x4A
_VERSION = 1
_U16 = struct.Struct(">H")
_IDS = struct.Struct(">QQ")
_GO_HEAD = struct.Struct(">QQQQBI")  # trace high, trace low, span, parent, flags, count
_U32 = struct.Struct(">I")
_MAX_U16 = 0xFFFF
_MAX_I32 = 0x7FFFFFFF  # jaeger-client-python reads the lengths as signed
LAYOUTS = ("jaeger", "versioned")


class BinaryCodec:
    """Injects into a ``bytearray`` (appending) in jaeger-client's layout, or with
    ``layout="versioned"`` in jaeger_lite's; extracts either from bytes-like objects."""

    __slots__ = ("limits", "dropped", "layout")

    def __init__(self, *, limits: Optional[BaggageLimits] = None, layout: str = "jaeger") -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"layout={layout!r}: expected one of {', '.join(LAYOUTS)}")
        self.limits = limits if limits is not None else BaggageLimits()
        self.dropped = self.limits.dropped
        self.layout = layout

    def inject(self, span_context: SpanContext, carrier: Any) -> None:
        if not isinstance(carrier, bytearray):
            raise InvalidCarrierException("the BINARY format needs a bytearray carrier")
        if self.layout == "jaeger":
            carrier.extend(self._jaeger_layout(span_context))
        else:
            carrier.extend(self._versioned_layout(span_context))

    def _jaeger_layout(self, span_context: SpanContext) -> bytearray:
        """jaeger-client's layout: what its Go, Java and Python codecs extract."""
        trace_id = span_context.trace_id & MAX_TRACE_ID
        items = bytearray()
        count = 0
        for key, value in span_context.baggage.items():
            k = str(key).encode("utf-8", "replace")
            v = str(value).encode("utf-8", "replace")
            if len(k) > _MAX_I32 or len(v) > _MAX_I32:  # pragma: no cover - 2 GiB of text
                self.dropped.inc()
                continue
            items += _U32.pack(len(k)) + k + _U32.pack(len(v)) + v
            count += 1
        head = _GO_HEAD.pack(
            trace_id >> 64,
            trace_id & MAX_ID,
            span_context.span_id & MAX_ID,
            span_context.parent_id & MAX_ID,
            span_context.flags & 0xFF,
            count,
        )
        return bytearray(head) + items

    def _versioned_layout(self, span_context: SpanContext) -> bytearray:
        """jaeger_lite's layout, version 1: also a tracestate and a lone debug id."""
        trace_id = span_context.trace_id & MAX_TRACE_ID
        trace_len = 16 if trace_id >> 64 else 8
        out = bytearray((_MAGIC, _VERSION, span_context.flags & 0xFF, trace_len))
        out += trace_id.to_bytes(trace_len, "big")
        out += _IDS.pack(span_context.span_id & MAX_ID, span_context.parent_id & MAX_ID)
        items: list[tuple[bytes, bytes]] = []
        for key, value in span_context.baggage.items():
            k = str(key).encode("utf-8", "replace")
            v = str(value).encode("utf-8", "replace")
            if len(k) > _MAX_U16 or len(v) > _MAX_U16 or len(items) == _MAX_U16:
                self.dropped.inc()
                _log.debug("baggage item %.50r too long for BINARY; dropped", key)
                continue
            items.append((k, v))
        out += _U16.pack(len(items))
        for k, v in items:
            out += _U16.pack(len(k)) + k + _U16.pack(len(v)) + v
        state = (span_context.trace_state or "").encode("ascii", "replace")
        out += _U16.pack(len(state) if len(state) <= _MAX_U16 else 0)
        if len(state) <= _MAX_U16:
            out += state
        debug = b""
        if span_context.debug_id and not span_context.has_trace:
            debug = span_context.debug_id.encode("utf-8", "replace")[:_MAX_U16]
        out += _U16.pack(len(debug)) + debug
        return out

    def extract(self, carrier: Any) -> Optional[SpanContext]:
        if not isinstance(carrier, (bytes, bytearray, memoryview)):
            return None
        data = bytes(carrier)
        if not data:
            return None
        context = None
        try:
            if data[0] == _MAGIC and len(data) > 1 and data[1] == _VERSION:
                context = _read_v1(data)
            if context is None:
                context = _read_go_layout(data)
        except (struct.error, IndexError, ValueError):
            _log.debug("ignoring malformed BINARY carrier (%s)", plural(len(data), "byte"))
            return None
        if context is not None and context.baggage:
            kept = self.limits.limit(context.baggage)
            if kept is not None:
                context = context._replace(baggage=kept)
        return context


def _read_v1(data: bytes) -> Optional[SpanContext]:
    flags, trace_len = data[2], data[3]
    if trace_len not in (8, 16):
        return None
    pos = 4 + trace_len
    trace_id = int.from_bytes(data[4:pos], "big")
    span_id, parent_id = _IDS.unpack_from(data, pos)
    pos += 16
    (count,) = _U16.unpack_from(data, pos)
    pos += 2
    baggage = {}
    for _ in range(count):
        key, pos = _read_str16(data, pos)
        value, pos = _read_str16(data, pos)
        baggage[key] = value
    state, pos = _read_str16(data, pos)
    debug_id, pos = _read_str16(data, pos)
    if pos != len(data) or (trace_id == 0) != (span_id == 0):
        return None
    if trace_id:
        return SpanContext(
            trace_id, span_id, parent_id, flags, baggage, trace_state=state or None, is_remote=True
        )
    if debug_id:
        return SpanContext(0, 0, 0, FLAG_SAMPLED | FLAG_DEBUG, baggage, debug_id=debug_id)
    return SpanContext(0, 0, 0, 0, baggage) if baggage else None


def _read_str16(data: bytes, pos: int) -> tuple[str, int]:
    (length,) = _U16.unpack_from(data, pos)
    pos += 2
    chunk = data[pos : pos + length]
    if len(chunk) != length:
        raise ValueError("truncated")
    return chunk.decode("utf-8", "replace"), pos + length


def _read_go_layout(data: bytes) -> Optional[SpanContext]:
    high, low, span_id, parent_id, flags, count = _GO_HEAD.unpack_from(data, 0)
    pos = _GO_HEAD.size
    baggage = {}
    for _ in range(count):
        key, pos = _read_str32(data, pos)
        value, pos = _read_str32(data, pos)
        baggage[key] = value
    trace_id = (high << 64) | low
    if pos != len(data) or (trace_id == 0) != (span_id == 0):
        return None
    if trace_id == 0:  # no trace: what jaeger-client writes for a baggage-only context
        return SpanContext(0, 0, 0, 0, baggage) if baggage else None
    return SpanContext(trace_id, span_id, parent_id, flags, baggage, is_remote=True)


def _read_str32(data: bytes, pos: int) -> tuple[str, int]:
    (length,) = _U32.unpack_from(data, pos)
    pos += 4
    chunk = data[pos : pos + length]
    if len(chunk) != length:
        raise ValueError("truncated")
    return chunk.decode("utf-8", "replace"), pos + length

"""OTLP protobuf, written by hand: finished spans as ``Span`` messages and the
``ExportTraceServiceRequest`` around them (opentelemetry-proto's trace.proto and
trace_service.proto; field numbers in the comments).

A span is encoded straight from its slots; the trace id, operation names, and attributes
(key and value together) are cached as finished bytes, as the Thrift encoders do. Each
encoded span is already framed as a ``ScopeSpans.spans`` field, so a request is a join.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Optional

from .._safe import int_text, safe_str
from .._values import normalize_value
from ..span import Span
from .common import utf8
from .otlp_model import (
    EVENT_NAME,
    HAS_IS_REMOTE,
    REF_TYPE,
    SCOPE_NAME,
    Link,
    map_span,
    parent_flags,
)
from .protobuf import DecodeError, fields, signed64, varint

__all__ = [
    "ProtoEncoder",
    "encode_resource",
    "export_request",
    "read_export_response",
    "read_status_message",
    "scope_marker",
]

_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1
_pack_double = struct.Struct("<d").pack
_pack_fixed64 = struct.Struct("<Q").pack
# Span fields 7 and 8 (start and end, fixed64) in one call: their keys and values.
_pack_times = struct.Struct("<BQBQ").pack
# Span fields 2 and 4 (span_id, parent_span_id): keys, lengths and big-endian ids.
_pack_ids = struct.Struct(">HQHQ").pack
_pack_id = struct.Struct(">HQ").pack
_pack_flags = struct.Struct("<BBI").pack  # Span.flags (16, fixed32): its key and value
# The flags of a span whose parent is local (or which has none): HAS_IS_REMOTE, sampled or not.
_LOCAL_FLAGS = [_pack_flags(0x85, 0x01, HAS_IS_REMOTE | sampled) for sampled in (0, 1)]
# Frames (key and length) of a span in ScopeSpans (field 2) and of an event in a Span
# (field 11), ready-made for the common sizes.
_SPAN_FRAMES = [b"\x12" + varint(n) for n in range(2048)]
_EVENT_FRAMES = [b"\x5a" + varint(n) for n in range(256)]
_BOOLS = (b"\x10\x00", b"\x10\x01")  # AnyValue.bool_value (2)


def _len(field_key: bytes, payload: bytes) -> bytes:
    return field_key + varint(len(payload)) + payload


def _string(field_key: bytes, text: Any) -> bytes:
    return _len(field_key, utf8(text if text.__class__ is str else safe_str(text)))


def any_value(value: Any) -> bytes:
    """An ``AnyValue`` message: str, bool, int (int64; beyond it, its text), float, bytes,
    and a tuple (an OpenTelemetry array attribute) as an ``ArrayValue`` of them (None: an
    empty AnyValue)."""
    cls = value.__class__
    if cls is str:
        return _len(b"\x0a", utf8(value))  # string_value (1)
    if cls is bool:
        return _BOOLS[value]
    if cls is int:
        if _I64_MIN <= value <= _I64_MAX:
            return b"\x18" + varint(value)  # int_value (3)
        return _len(b"\x0a", int_text(value).encode())
    if cls is float:
        return b"\x21" + _pack_double(value)  # double_value (4)
    if cls is bytes:
        return _len(b"\x3a", value)  # bytes_value (7)
    if cls is tuple:  # an OpenTelemetry array attribute: array_value (5), its values (1)
        items = [b"\x0a\x00" if item is None else _len(b"\x0a", any_value(item)) for item in value]
        return _len(b"\x2a", b"".join(items))
    return any_value(normalize_value(value))


def key_value(field_key: bytes, name: Any, value: Any) -> bytes:
    """A ``KeyValue`` (key 1, value 2) as field ``field_key`` of its parent."""
    return _len(field_key, _string(b"\x0a", name) + _len(b"\x12", any_value(value)))


def attributes(field_key: bytes, items: Mapping[str, Any]) -> list[bytes]:
    return [key_value(field_key, name, value) for name, value in items.items()]


class ProtoEncoder:
    """Encodes finished spans as framed OTLP ``Span`` messages. One per sender, used by one
    thread at a time; every cache is bounded by ``cache_size`` entries (a full one is
    emptied and refills with what is current)."""

    __slots__ = ("_attrs", "_event_attrs", "_names", "_trace_id", "_trace_field", "_cache_size")

    def __init__(self, cache_size: int = 4096) -> None:
        # key -> (value object, encoded KeyValue field): an identity check, so True is
        # never taken for 1; span attributes are field 9, event attributes field 3.
        self._attrs: dict[str, tuple[Any, bytes]] = {}
        self._event_attrs: dict[str, tuple[Any, bytes]] = {}
        self._names: dict[str, bytes] = {}
        self._trace_id: Optional[int] = None
        self._trace_field = b""
        self._cache_size = cache_size

    def spans(self, spans: Iterable[Span]) -> list[bytes]:
        """Each span as a ``ScopeSpans.spans`` field (key 2, length, Span); a span naming
        its own scope (``otel.scope.name``) carries a :func:`scope_marker` in front."""
        out: list[bytes] = []
        emit = out.append
        attrs = self._attrs
        event_attrs = self._event_attrs
        names = self._names
        for span in spans:
            trace_id = span._trace_id
            if trace_id is not self._trace_id:
                self._trace_id = trace_id
                self._trace_field = b"\x0a\x10" + trace_id.to_bytes(16, "big")  # trace_id (1)
            mapped = map_span(span)
            if mapped is None:
                tags: Mapping[str, Any] = span._tags or {}
                parent_id = span._parent_id
            else:
                tags = mapped.attributes
                parent_id = mapped.parent_id
            name = names.get(span._operation_name)
            if name is None:
                name = self._name(span._operation_name)
            parts = [
                self._trace_field,
                _pack_ids(0x1208, span._span_id, 0x2208, parent_id)
                if parent_id
                else _pack_id(0x1208, span._span_id),
                name,  # name (5)
            ]
            append = parts.append
            if mapped is not None:
                if mapped.trace_state:
                    append(_string(b"\x1a", mapped.trace_state))  # trace_state (3)
                if mapped.kind:
                    append(b"\x30" + varint(mapped.kind))  # kind (6)
            start = span._start_ns
            append(_pack_times(0x39, start, 0x41, start + (span._duration_ns or 0)))
            for key, value in tags.items():  # attributes (9)
                entry = attrs.get(key)
                append(
                    entry[1] if entry is not None and entry[0] is value else self._attr(key, value)
                )
            first = span._log_fields
            if first is not None:  # events (11)
                for ns, fields in span._logs or ((span._log_ns, first),):
                    event = [b"\x09", _pack_fixed64(ns)]  # time_unix_nano (1)
                    for key, value in fields.items():  # the name (2), the attributes (3)
                        entry = event_attrs.get(key)
                        event.append(
                            entry[1]
                            if entry is not None and entry[0] is value
                            else self._event_attr(key, value)
                        )
                    body = b"".join(event)
                    size = len(body)
                    append((_EVENT_FRAMES[size] if size < 256 else b"\x5a" + varint(size)) + body)
            if mapped is not None:
                if mapped.links:
                    parts.extend(_link(link) for link in mapped.links)  # links (13)
                if mapped.status is not None:
                    append(_status(*mapped.status))  # status (15)
            # flags (16): the W3C sampled bit, and whether the parent is remote (bits 8-9)
            if span._extras is None:
                append(_LOCAL_FLAGS[span._flags & 1])
            else:
                append(_pack_flags(0x85, 0x01, span._flags & 1 | parent_flags(span, parent_id)))
            body = b"".join(parts)
            size = len(body)
            framed = (_SPAN_FRAMES[size] if size < 2048 else b"\x12" + varint(size)) + body
            if mapped is not None and mapped.scope is not None:
                framed = scope_marker(*mapped.scope) + framed
            emit(framed)
        return out

    def _attr(self, key: str, value: Any) -> bytes:
        encoded = key_value(b"\x4a", key, value)
        if len(self._attrs) >= self._cache_size:
            self._attrs.clear()
        self._attrs[key] = (value, encoded)
        return encoded

    def _event_attr(self, key: str, value: Any) -> bytes:
        # The ``event`` field is the event's name (2), not an attribute (3).
        name = key == EVENT_NAME
        encoded = _string(b"\x12", value) if name else key_value(b"\x1a", key, value)
        if len(self._event_attrs) >= self._cache_size:
            self._event_attrs.clear()
        self._event_attrs[key] = (value, encoded)
        return encoded

    def _name(self, name: str) -> bytes:
        if len(self._names) >= self._cache_size:
            self._names.clear()
        encoded = self._names[name] = _string(b"\x2a", name)
        return encoded


def _link(link: Link) -> bytes:
    parts = [
        b"\x0a\x10",
        link.trace_id.to_bytes(16, "big"),
        b"\x12\x08",
        link.span_id.to_bytes(8, "big"),
    ]
    if link.trace_state:
        parts.append(_string(b"\x1a", link.trace_state))
    parts.append(key_value(b"\x22", REF_TYPE, link.ref_type))
    parts.append(b"\x35" + struct.pack("<I", link.flags))  # flags (6)
    return _len(b"\x6a", b"".join(parts))


def _status(code: int, message: str) -> bytes:
    body = (_string(b"\x12", message) if message else b"") + (b"\x18" + varint(code))
    return _len(b"\x7a", body)


def scope_marker(name: str, version: str) -> bytes:
    """What goes in front of a span of another scope than jaeger_lite's: a zero byte (no
    protobuf field starts with one), then the length-prefixed ``InstrumentationScope``."""
    scope = _string(b"\x0a", name) + (_string(b"\x12", version) if version else b"")
    return b"\x00" + varint(len(scope)) + scope


def _default_scope(version: str) -> bytes:
    return _string(b"\x0a", SCOPE_NAME) + _string(b"\x12", version)


def export_request(resource: bytes, spans: Sequence[bytes], version: str) -> bytes:
    """An ``ExportTraceServiceRequest`` with one ``ResourceSpans`` (``resource``: the
    Resource message, see :func:`encode_resource`) and a ``ScopeSpans`` per scope, in
    order of first appearance."""
    groups: dict[bytes, list[bytes]] = {_default_scope(version): []}
    default = groups[next(iter(groups))]
    for span in spans:
        if span[0]:  # a field key: a span of jaeger_lite's scope
            default.append(span)
            continue
        length, start = _read_marker(span)
        groups.setdefault(span[start : start + length], []).append(span[start + length :])
    scope_spans = [
        _len(b"\x12", _len(b"\x0a", scope) + b"".join(members))  # ResourceSpans.scope_spans
        for scope, members in groups.items()
        if members
    ]
    resource_spans = _len(b"\x0a", resource) + b"".join(scope_spans)
    return _len(b"\x0a", resource_spans)  # ExportTraceServiceRequest.resource_spans (1)


def _read_marker(span: bytes) -> tuple[int, int]:
    length = shift = 0
    pos = 1
    while True:
        byte = span[pos]
        pos += 1
        length |= (byte & 0x7F) << shift
        if byte < 0x80:
            return length, pos
        shift += 7


def encode_resource(attributes_: Mapping[str, Any]) -> bytes:
    """A ``Resource`` message: its attributes (1)."""
    return b"".join(attributes(b"\x0a", attributes_))


def read_export_response(body: bytes) -> tuple[int, str]:
    """(rejected spans, error message) of an ``ExportTraceServiceResponse``; (0, "") for
    an empty one. Raises :class:`DecodeError` for bytes that are not one."""
    rejected, message = 0, ""
    for number, wire_type, start, end in fields(body):
        if number == 1 and wire_type == 2:  # partial_success
            for inner, inner_type, value, value_end in fields(body, start, end):
                if inner == 1 and inner_type == 0:  # rejected_spans
                    rejected = signed64(value)
                elif inner == 2 and inner_type == 2:  # error_message
                    message = body[value:value_end].decode("utf-8", "replace")
    if rejected < 0:
        raise DecodeError(f"negative rejected_spans {rejected}")
    return rejected, message


def read_status_message(body: bytes) -> str:
    """The ``message`` of a ``google.rpc.Status`` error body, or "" when there is none."""
    try:
        for number, wire_type, start, end in fields(body):
            if number == 2 and wire_type == 2:
                return body[start:end].decode("utf-8", "replace")
    except DecodeError:
        pass
    return ""

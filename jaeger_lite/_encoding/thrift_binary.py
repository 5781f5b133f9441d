"""Thrift binary-protocol writers for Jaeger structs (the body of an HTTP collector POST).

Binary is fixed-width and big-endian, so ``struct`` (C code in the standard library) writes
it as fast as thrift's accelerator would; there is a single path. Tag keys and common tag
values are cached as finished bytes, as in the compact writer.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

from .._safe import int_text, safe_str
from .._values import normalize_value
from ..span import Span, log_entries
from .common import i64, utf8, wire_references

__all__ = ["BinaryEncoder"]

_I64_MIN = -(1 << 63)
_I64_MAX = (1 << 63) - 1
_TWO64 = 1 << 64

# Field headers are a type byte and a big-endian i16 id. Types: BOOL 2, DOUBLE 4, I32 8,
# I64 10, STRING 11, STRUCT 12, LIST 15.
_ids = struct.Struct(">bhqbhqbhqbhq").pack  # Span fields 1-4
_tail = struct.Struct(">bhibhqbhq").pack  # Span fields 7 (flags), 8, 9
_ref = struct.Struct(">bhibhqbhqbhqb").pack  # one SpanRef, stop byte included
_list = struct.Struct(">bhbi").pack  # list field header: type, id, element type, size
_i32 = struct.Struct(">i").pack
_log_ts = struct.Struct(">bhq").pack
_STRING_1 = b"\x0b\x00\x01"
_STRING_5 = b"\x0b\x00\x05"
_VTYPE = [b"\x08\x00\x02" + _i32(t) for t in range(5)]
_STR_VALUE = _VTYPE[0] + b"\x0b\x00\x03"
_DOUBLE_VALUE = _VTYPE[1] + b"\x04\x00\x04"
_BOOL_VALUES = (_VTYPE[2] + b"\x02\x00\x05\x00\x00", _VTYPE[2] + b"\x02\x00\x05\x01\x00")
_LONG_VALUE = _VTYPE[3] + b"\x0a\x00\x06"
_BINARY_VALUE = _VTYPE[4] + b"\x0b\x00\x07"
_pack_double = struct.Struct(">d").pack
_pack_i64 = struct.Struct(">q").pack


def _string(data: bytes) -> bytes:
    return _i32(len(data)) + data


class BinaryEncoder:
    """Encodes finished spans, tags and processes as binary-protocol Jaeger structs."""

    __slots__ = ("_keys", "_strs", "_cache_size")

    def __init__(self, cache_size: int = 4096) -> None:
        self._keys: dict[str, bytes] = {}
        self._strs: dict[tuple[str, str], bytes] = {}
        self._cache_size = cache_size

    def span(self, span: Span) -> bytes:
        """The binary ``Span`` struct (stop byte included) for a finished span."""
        trace_id = span._trace_id
        parts = [
            _ids(
                10,
                1,
                i64(trace_id),
                10,
                2,
                i64(trace_id >> 64),
                10,
                3,
                i64(span._span_id),
                10,
                4,
                i64(span._parent_id),
            ),  # fmt: skip
            _STRING_5,
            _string(utf8(span._operation_name)),
        ]
        refs = wire_references(span) if span._references else None
        if refs:
            parts.append(_list(15, 6, 12, len(refs)))
            for kind, low, high, span_id in refs:
                parts.append(_ref(8, 1, kind, 10, 2, low, 10, 3, high, 10, 4, span_id, 0))
        flags = span._flags & 0xFFFF_FFFF
        parts.append(
            _tail(
                8,
                7,
                flags - (1 << 32) if flags >> 31 else flags,
                10,
                8,
                (span._start_ns + 500) // 1000,
                10,
                9,
                ((span._duration_ns or 0) + 500) // 1000,
            )  # fmt: skip
        )
        tags = span._tags
        if tags:
            parts.append(_list(15, 10, 12, len(tags)))
            self._append_tags(parts, tags)
        logs = log_entries(span)
        if logs:
            parts.append(_list(15, 11, 12, len(logs)))
            for timestamp, fields in logs:
                parts.append(_log_ts(10, 1, (timestamp + 500) // 1000))
                parts.append(_list(15, 2, 12, len(fields)))
                self._append_tags(parts, fields)
                parts.append(b"\x00")
        parts.append(b"\x00")
        return b"".join(parts)

    def process(self, service_name: str, tags: Mapping[str, Any]) -> bytes:
        """The binary ``Process`` struct."""
        parts = [_STRING_1, _string(utf8(service_name)), _list(15, 2, 12, len(tags))]
        self._append_tags(parts, tags)
        parts.append(b"\x00")
        return b"".join(parts)

    @staticmethod
    def batch(process: bytes, spans: list[bytes]) -> bytes:
        """A bare ``Batch`` (no message envelope), as the collector's /api/traces wants it."""
        return b"".join([b"\x0c\x00\x01", process, _list(15, 2, 12, len(spans)), *spans, b"\x00"])

    def _append_tags(self, parts: list[bytes], tags: Mapping[str, Any]) -> None:
        append = parts.append
        strs = self._strs
        for key, value in tags.items():
            if value.__class__ is str:
                encoded = strs.get((key, value))
                if encoded is None:
                    encoded = self._key(key) + _STR_VALUE + _string(utf8(value)) + b"\x00"
                    if len(strs) >= self._cache_size:
                        strs.clear()
                    strs[(key, value)] = encoded
                append(encoded)
            else:
                append(self._key(key) + _value(value))

    def _key(self, key: Any) -> bytes:
        encoded = self._keys.get(key)
        if encoded is None:
            if len(self._keys) >= self._cache_size:
                self._keys.clear()
            text = key if key.__class__ is str else safe_str(key)
            encoded = self._keys[key] = _STRING_1 + _string(utf8(text))
        return encoded


def _value(value: Any) -> bytes:
    """vType and value fields plus the Tag's stop byte."""
    cls = value.__class__
    if cls is str:
        return _STR_VALUE + _string(utf8(value)) + b"\x00"
    if cls is bool:
        return _BOOL_VALUES[value]
    if cls is int:
        if _I64_MIN <= value <= _I64_MAX:
            return _LONG_VALUE + _pack_i64(value) + b"\x00"
        return _STR_VALUE + _string(int_text(value).encode()) + b"\x00"  # beyond i64: text
    if cls is float:
        return _DOUBLE_VALUE + _pack_double(value) + b"\x00"
    if cls is bytes:
        return _BINARY_VALUE + _string(value) + b"\x00"
    return _value(normalize_value(value))

"""The protobuf wire format, by hand: varints, fixed-width and length-delimited fields.

That is all OTLP needs, so jaeger_lite writes (and the development agent reads) it without
the ``protobuf`` package: no runtime dependency, no version conflicts, no slow import.
Field keys are ``(number << 3) | wire type``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

__all__ = [
    "FIXED32",
    "FIXED64",
    "LEN",
    "VARINT",
    "DecodeError",
    "fields",
    "key",
    "len_field",
    "signed64",
    "varint",
]

VARINT, FIXED64, LEN, FIXED32 = 0, 1, 2, 5
_BYTE = [bytes((i,)) for i in range(256)]
_MASK64 = (1 << 64) - 1
_unpack_fixed64 = struct.Struct("<Q").unpack_from
_unpack_fixed32 = struct.Struct("<I").unpack_from


class DecodeError(ValueError):
    """Bytes that are not a well-formed protobuf message."""


def varint(n: int) -> bytes:
    """Base-128 varint of ``n``; a negative int64 as its 10-byte two's complement."""
    if n < 0x80:
        if n >= 0:
            return _BYTE[n]
        n &= _MASK64
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def key(number: int, wire_type: int) -> bytes:
    """The key of field ``number``."""
    return varint((number << 3) | wire_type)


def len_field(field_key: bytes, payload: bytes) -> bytes:
    """A length-delimited field: key, length, payload."""
    return field_key + varint(len(payload)) + payload


def signed64(n: int) -> int:
    """A decoded varint as the int64 it encodes."""
    return n - (1 << 64) if n >> 63 else n


def _read_varint(data: bytes, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end:
            raise DecodeError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result & _MASK64, pos
        shift += 7
        if shift >= 70:
            raise DecodeError("varint longer than 10 bytes")


def fields(data: bytes, start: int = 0, end: int = -1) -> Iterator[tuple[int, int, int, int]]:
    """(field number, wire type, value, value end) of each field of a message, in order.

    VARINT values are unsigned (see :func:`signed64`), FIXED64/FIXED32 values unsigned;
    for LEN fields ``value`` is where the bytes start in ``data`` and ``value end`` where
    they end (decode the text or the nested message from there); it is -1 for the others.
    Groups and unknown wire types are errors.
    """
    end = len(data) if end < 0 else end
    pos = start
    while pos < end:
        field_key, pos = _read_varint(data, pos, end)
        number, wire_type = field_key >> 3, field_key & 7
        if number == 0:
            raise DecodeError("field number 0")
        value_end = -1
        if wire_type == VARINT:
            value, pos = _read_varint(data, pos, end)
        elif wire_type == LEN:
            length, pos = _read_varint(data, pos, end)
            if length > end - pos:
                raise DecodeError("length-delimited field past the end of its message")
            value = pos
            pos = value_end = pos + length
        elif wire_type == FIXED64:
            if pos + 8 > end:
                raise DecodeError("truncated fixed64")
            value = _unpack_fixed64(data, pos)[0]
            pos += 8
        elif wire_type == FIXED32:
            if pos + 4 > end:
                raise DecodeError("truncated fixed32")
            value = _unpack_fixed32(data, pos)[0]
            pos += 4
        else:
            raise DecodeError(f"unsupported wire type {wire_type}")
        yield number, wire_type, value, value_end

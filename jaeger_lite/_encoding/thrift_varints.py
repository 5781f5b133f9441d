"""Compact-protocol varints: one at a time in Python, or a whole batch of them in one call
to thrift's C extension, split again into pieces at zeros put between them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .protobuf import varint  # the compact protocol's varint is protobuf's (LEB128)
from .thrift_accel import encode_i64_list

__all__ = [
    "binary",
    "list_header",
    "split_heads",
    "split_stamps",
    "varint",
    "varint_pieces",
    "zigzag",
]

_BYTE = [bytes((i,)) for i in range(256)]
_STRUCT = 0x0C
# A zigzag varint as thrift writes it: bytes with the high bit set, then one without.
_VARINT = rb"[\x80-\xff]*[\x00-\x7f]"
#: Fallbacks of varint_pieces for the span encoder's pieces: (span id, start time + 0x16 +
#: duration) a span, and log timestamps.
split_heads = re.compile(b"\x00(%s)\x00(%s\x16%s)" % (_VARINT, _VARINT, _VARINT)).findall
split_stamps = re.compile(b"\x00(%s)" % _VARINT).findall


def zigzag(n: int) -> int:
    """Zigzag form of a signed 64-bit integer (small magnitudes give short varints)."""
    return (n << 1) ^ (n >> 63)


def list_header(size: int, etype: int = _STRUCT) -> bytes:
    """Compact list header: size and element type in one byte up to 14 elements."""
    if size < 15:
        return _BYTE[(size << 4) | etype]
    return _BYTE[0xF0 | etype] + varint(size)


def binary(data: bytes) -> bytes:
    """A compact string/binary value: varint length, then the bytes."""
    return varint(len(data)) + data


def varint_pieces(
    values: list[int],
    count: int,
    fallback: Callable[[bytes, int], list[Any]],
    accelerated: bool,
) -> list[bytes]:
    """The zigzag varints of ``values`` (i64s), split at the varints of the zeros among
    them that separate ``count`` pieces (the first value is one): whatever comes before
    the first separator, the pieces, and b"" (or nothing).

    One call to thrift's C extension (when ``accelerated``) and ``bytes.split`` for a
    batch: a zero is the only varint with a 0x00 byte. When other values are zero too,
    ``fallback`` (findall of a regular expression for the pieces) finds them varint by
    varint (~1,600 instructions a span more).
    """
    if accelerated:
        # After the field and list headers; the struct's stop byte (0x00) ends it.
        encoded = encode_i64_list(values)
    else:
        encoded = b"".join([varint(zigzag(value)) for value in values]) + b"\x00"
    pieces = encoded.split(b"\x00")
    if len(pieces) == count + 2:
        return pieces
    found = fallback(encoded, encoded.index(b"\x00"))
    if found and found[0].__class__ is tuple:
        found = [piece for group in found for piece in group]
    return [b"", *found]

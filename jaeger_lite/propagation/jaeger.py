"""Jaeger native propagation: ``uber-trace-id``, ``uberctx-*`` baggage, ``jaeger-debug-id``
and ``jaeger-baggage`` (docs/protocol.md#jaeger-headers).

Send: ``{trace}:{span}:{parent}:{flags}`` with 16 (or, for a 128-bit id, 32) trace-id
digits, 16-digit span and parent ids and the flags byte in hex, never URL-encoded (as Go
does). Baggage goes one ``uberctx-{key}`` header per item; the HTTP-headers format
percent-encodes values (a space becomes ``%20``), the text-map format writes them as they
are and drops items holding control characters.

Receive is lenient: header names in any case, ids of any length up to the maximum
left-padded, upper-case hex, flags parsed as hex, a URL-encoded ``uber-trace-id``,
surrounding blanks, both ``+`` and ``%20`` for a space in HTTP baggage. The parent id must
be empty or up to 16 hex digits but is not read: it is deprecated and ignored on receive,
so an extracted context has ``parent_id == 0`` (the next span's parent is its span id).
In the HTTP-headers format baggage keys come back lower-cased (header names carry no case);
the text-map format keeps them as sent.
A debug bit without the sampled bit is dropped (debug only means something when sampled).
A malformed ``uber-trace-id`` counts as absent (baggage and a debug id still make a
context), unless the codec is ``strict``: then it raises SpanContextCorruptedException.
"""

from __future__ import annotations

import re
import struct
from types import MappingProxyType
from typing import Any, Optional

from .._baggage import BaggageLimits
from .._log import LOG as _log
from ..context import EMPTY_BAGGAGE, FLAG_DEBUG, FLAG_SAMPLED, SpanContext, remote_context
from ..errors import SpanContextCorruptedException
from ._carriers import PairList, inject_through_dict, pair_list
from ._text import CONTROL_RE, HeaderNames, decodes_within, url_decode, url_encode, url_safe

__all__ = [
    "JaegerCodec",
    "format_uber_trace_id",
    "parse_jaeger_baggage",
    "parse_uber_trace_id",
    "read_jaeger_baggage",
]


_IDS_RE = re.compile(
    r"([0-9a-fA-F]{1,32}):([0-9a-fA-F]{1,16}):[0-9a-fA-F]{0,16}:([0-9a-fA-F]{1,2})"
)
#: Longer values cannot be valid (32+16+16+2 digits, 3 colons, some blanks): skip the regex.
_MAX_TRACE_VALUE = 128
_ids_match = _IDS_RE.fullmatch
_pack = struct.Struct(">QQQ").pack


def _flag_tables() -> tuple[dict[str, int], tuple[str, ...]]:
    """Hex text → flags (a debug bit without the sampled bit dropped), and flags → ``:hex``."""
    parse = {}
    for flags in range(256):
        value = flags & ~FLAG_DEBUG if flags & FLAG_DEBUG and not flags & FLAG_SAMPLED else flags
        for text in {f"{flags:x}", f"{flags:X}", f"{flags:02x}", f"{flags:02X}"}:
            parse[text] = value
        digits = f"{flags:02x}"
        parse[digits[0].upper() + digits[1]] = parse[digits[0] + digits[1].upper()] = value
    return parse, tuple(f":{flags:x}" for flags in range(256))


_PARSE_FLAGS, _FORMAT_FLAGS = _flag_tables()


def format_uber_trace_id(context: SpanContext) -> str:
    """``trace:span:parent:flags`` with a 16 (or 32) digit trace id, like jaeger-client-go."""
    trace_id = context._trace_id
    trace = f"{trace_id:032x}" if trace_id >> 64 else f"{trace_id:016x}"
    return f"{trace}:{context._span_id:016x}:{context._parent_id:016x}:{context._flags & 0xFF:x}"


def parse_uber_trace_id(value: str) -> Optional[SpanContext]:
    """Parse an ``uber-trace-id`` value; None when it is malformed or has a zero id."""
    ids = _parse_ids(value)
    return None if ids is None else SpanContext(ids[0], ids[1], 0, ids[2], is_remote=True)


def _parse_ids(value: str) -> Optional[tuple[int, int, int]]:
    """``(trace_id, span_id, flags)`` of an ``uber-trace-id`` value, or None."""
    match = _IDS_RE.fullmatch(value)
    if match is None:  # blanks around it, URL-encoded colons, or garbage
        if len(value) > _MAX_TRACE_VALUE:
            return None
        if "%" in value:  # jaeger-client-python URL-encodes the colons
            from urllib.parse import unquote  # rare: loads on first use

            value = unquote(value)
        match = _IDS_RE.fullmatch(value.strip(" \t"))
        if match is None:
            return None
    trace_hex, span_hex, flags_hex = match.groups()
    trace_id = int(trace_hex, 16)
    span_id = int(span_hex, 16)
    if trace_id and span_id:
        return trace_id, span_id, _PARSE_FLAGS[flags_hex]
    return None


def _as_str(value: Any) -> Optional[str]:
    """A header name or value as a str (bytes decoded as Latin-1), or None."""
    if value.__class__ is str:
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    return str(value) if isinstance(value, str) else None


def _value_str(value: Any) -> Optional[str]:
    """A header value as a str; of a list or tuple of values, the first (first wins)."""
    if isinstance(value, (list, tuple)):
        return _as_str(value[0]) if value else None
    return _as_str(value)


def parse_jaeger_baggage(value: str) -> dict[str, str]:
    """``jaeger-baggage: k1=v1, k2=v2`` (already URL-decoded): keep the comma-separated
    parts with exactly one ``=`` and a non-empty key, trimmed."""
    baggage: dict[str, str] = {}
    for part in value.split(","):
        pieces = part.split("=")
        if len(pieces) == 2:
            key = pieces[0].strip()
            if key:
                baggage.setdefault(key, pieces[1].strip())
    return baggage


def read_jaeger_baggage(value: str, limits: BaggageLimits) -> dict[str, str]:
    """A ``jaeger-baggage`` header as sent (URL-encoded or not): what decoding it whole
    and :func:`parse_jaeger_baggage` give, at a cost bounded by ``limits``. Members
    are split at commas first (an escape never holds one) and decoded one by one; past
    ``4 * max_items`` of them the rest is dropped, and so is a member too long to fit
    ``max_bytes`` once decoded (each counted once in ``limits.dropped``)."""
    most = 4 * limits.max_items  # empty members between commas cost nothing: some slack
    members = value.split(",", most)
    if len(members) > most:
        members.pop()
        limits.dropped.inc()
    baggage: dict[str, str] = {}
    for member in members:
        if not decodes_within(member, limits.max_bytes + 1):
            limits.dropped.inc()
            continue
        for key, item in parse_jaeger_baggage(url_decode(member)).items():
            baggage.setdefault(key, item)
    return baggage


class JaegerCodec:
    """The Jaeger native codec for text maps (``url_encoding=False``) and HTTP headers.

    ``limits`` bound the baggage extracted (default: :class:`BaggageLimits` ``()``); its
    ``dropped`` counter, also :attr:`dropped`, counts the items left out on extract and
    those inject cannot write into this format (see the module docstring).
    """

    #: ``extract`` also takes the PairList a CompositeCodec reads once for all formats
    reads_pair_lists = True

    __slots__ = (
        "url_encoding",
        "strict",
        "limits",
        "dropped",
        "trace_id_header",
        "baggage_prefix",
        "debug_id_header",
        "baggage_header",
        "fields",
        "_names",
    )

    def __init__(
        self,
        url_encoding: bool,
        *,
        strict: bool = False,
        limits: Optional[BaggageLimits] = None,
        trace_id_header: str = "uber-trace-id",
        baggage_prefix: str = "uberctx-",
        debug_id_header: str = "jaeger-debug-id",
        baggage_header: str = "jaeger-baggage",
    ) -> None:
        self.url_encoding = url_encoding
        self.strict = strict
        self.limits = limits if limits is not None else BaggageLimits()
        self.dropped = self.limits.dropped
        self.trace_id_header = trace_id_header.lower()
        self.baggage_prefix = baggage_prefix.lower()
        self.debug_id_header = debug_id_header.lower()
        self.baggage_header = baggage_header.lower()
        #: the fixed header names, probed on carriers that only have ``get``
        self.fields = (self.trace_id_header, self.debug_id_header, self.baggage_header)
        self._names = HeaderNames(self.baggage_prefix, url_encoding)

    def inject(self, span_context: SpanContext, carrier: Any) -> None:
        if carrier.__class__ is not dict:
            inject_through_dict(self.inject, span_context, carrier)
            return
        trace_id = span_context._trace_id
        if trace_id and span_context._span_id:
            try:  # bytes.hex with a separator is twice as fast as three format specs
                packed = _pack(trace_id, span_context._span_id, span_context._parent_id)
                carrier[self.trace_id_header] = (
                    packed.hex(":", 8) + _FORMAT_FLAGS[span_context._flags & 0xFF]
                )
            except struct.error:  # a 128-bit trace id (or an id out of range)
                carrier[self.trace_id_header] = format_uber_trace_id(span_context)
        elif span_context._debug_id:
            debug_id = span_context._debug_id
            if self.url_encoding:
                debug_id = url_encode(debug_id)
            if not CONTROL_RE.search(debug_id):
                carrier[self.debug_id_header] = debug_id
        baggage = span_context._baggage
        if baggage:
            known = self._names.cache
            http = self.url_encoding
            for key, value in baggage.items():
                name = known.get(key) or self._names.get(key)
                if name is None or value.__class__ is not str:
                    self._drop(key, "its key cannot be a header name")
                elif http:
                    carrier[name] = value if url_safe(value) else url_encode(value)
                elif CONTROL_RE.search(value):
                    self._drop(key, "its value holds a control character")
                else:
                    carrier[name] = value

    def _drop(self, key: object, why: str) -> None:
        self.dropped.inc()
        _log.debug("baggage item %.50r not injected: %s", key, why)

    def extract(self, carrier: Any) -> Optional[SpanContext]:
        trace_name = self.trace_id_header
        prefix = self.baggage_prefix
        cut = len(prefix)
        http = self.url_encoding
        trace_value: Optional[str] = None
        debug_id: Optional[str] = None
        header_baggage: Optional[list[str]] = None
        baggage: Optional[dict[str, str]] = None
        chars = longest = 0  # for the quick baggage limits test
        # A value longer than this once decoded is dropped by the limits: left encoded.
        fits = min(self.limits.max_value_length, self.limits.max_bytes)
        if carrier.__class__ is not dict:  # read any other carrier into a dict, in order
            headers: dict[Any, Any] = {}
            pairs = carrier if carrier.__class__ is PairList else pair_list(carrier, self.fields)
            for key, value in pairs:
                headers.setdefault(key, value)
            carrier = headers
        # Only names are looked at until one matters: most headers of a real request are
        # someone else's, and a keys-only loop is a quarter faster than items().
        for raw in carrier:
            key = raw if raw.__class__ is str else _as_str(raw)
            if key is None:
                continue
            lower = key.lower()
            if lower == trace_name:
                if trace_value is None:
                    trace_value = carrier[raw]
                    if trace_value.__class__ is not str:
                        trace_value = _value_str(trace_value)
            elif lower.startswith(prefix):
                value = carrier[raw]
                if value.__class__ is not str:
                    value = _value_str(value)
                    if value is None:
                        continue
                if http:
                    name = lower[cut:]
                    if ("%" in value or "+" in value) and decodes_within(value, fits):
                        value = url_decode(value)
                else:
                    name = key[cut:]
                if not name:
                    continue
                if baggage is None:
                    baggage = {name: value}
                elif name not in baggage:
                    baggage[name] = value
                chars += len(name) + len(value)
                if len(value) > longest:
                    longest = len(value)
            elif lower == self.debug_id_header:
                if debug_id is None:
                    value = _value_str(carrier[raw])
                    debug_id = value.strip() or None if value is not None else None
            elif lower == self.baggage_header:
                value = _value_str(carrier[raw])
                if value is not None:
                    if header_baggage is None:
                        header_baggage = []
                    header_baggage.append(value)

        if header_baggage is not None:
            if baggage is None:
                baggage = {}
            for value in header_baggage:
                for key, item in read_jaeger_baggage(value, self.limits).items():
                    baggage.setdefault(key, item)
            chars = self.limits.max_bytes  # force the exact check below
        if baggage is not None:
            baggage = self.limits.fit(baggage, chars, longest)
        ids = None
        if trace_value is not None:
            match = _ids_match(trace_value)  # inlined _parse_ids: the common, valid case
            if match is not None:
                trace_hex, span_hex, flags_hex = match.groups()
                ids = int(trace_hex, 16), int(span_hex, 16), _PARSE_FLAGS[flags_hex]
                if not (ids[0] and ids[1]):
                    ids = None
            else:
                ids = _parse_ids(trace_value)
            if ids is None:
                if self.strict:
                    raise SpanContextCorruptedException(
                        f"malformed uber-trace-id {trace_value[:100]!r}"
                    )
                _log.debug("ignoring malformed uber-trace-id %.100r", trace_value)
        if ids is not None:
            # a read-only view of our own new dict: the context need not copy it
            frozen = MappingProxyType(baggage) if baggage else EMPTY_BAGGAGE
            return remote_context(ids[0], ids[1], ids[2], frozen)
        if baggage or debug_id:
            flags = FLAG_SAMPLED | FLAG_DEBUG if debug_id else 0
            return SpanContext(0, 0, 0, flags, baggage, debug_id=debug_id)
        return None

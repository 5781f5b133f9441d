"""Jaeger native propagation: ``uber-trace-id``, ``uberctx-*`` baggage, ``jaeger-debug-id``
and ``jaeger-baggage`` (PROTOCOL.md §4).

Receive is lenient: header names in any case, short ids left-padded, upper-case hex, a
URL-encoded ``uber-trace-id``, both ``+`` and ``%20`` for spaces in HTTP baggage. Anything
unparseable yields "no context" (``None``), or ``SpanContextCorruptedException`` when the
codec is built with ``strict=True``.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Optional
from urllib.parse import quote, unquote, unquote_plus

from ..context import FLAG_DEBUG, FLAG_SAMPLED, SpanContext
from ..errors import SpanContextCorruptedException
from ._carriers import iter_str_items, set_item

__all__ = ["JaegerCodec", "parse_uber_trace_id", "format_uber_trace_id"]

_log = logging.getLogger("jaeger_lite")

_TRACE_RE = re.compile(
    r"([0-9a-fA-F]{1,32}):([0-9a-fA-F]{1,16}):([0-9a-fA-F]{1,16}):([0-9a-fA-F]{1,2})"
)
#: RFC 7230 token: what an HTTP header name may contain.
_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def format_uber_trace_id(context: SpanContext) -> str:
    """``trace:span:parent:flags`` with 16 (or 32) digit trace id, like jaeger-client-go."""
    trace_id = context._trace_id
    trace = f"{trace_id:032x}" if trace_id >> 64 else f"{trace_id:016x}"
    return f"{trace}:{context._span_id:016x}:{context._parent_id:016x}:{context._flags & 0xFF:x}"


def parse_uber_trace_id(value: str) -> Optional[SpanContext]:
    """Parse an ``uber-trace-id`` value; None when it is malformed or has a zero id."""
    match = _TRACE_RE.fullmatch(value.strip())
    if match is None:
        return None
    trace_hex, span_hex, parent_hex, flags_hex = match.groups()
    trace_id = int(trace_hex, 16)
    span_id = int(span_hex, 16)
    if trace_id == 0 or span_id == 0:
        return None
    flags = int(flags_hex, 16)
    return SpanContext(trace_id, span_id, int(parent_hex, 16), flags)


def parse_jaeger_baggage(value: str) -> dict[str, str]:
    """``jaeger-baggage: k1=v1, k2=v2``: keep comma-separated parts with exactly one ``=``."""
    baggage = {}
    for part in value.split(","):
        pieces = part.strip().split("=")
        if len(pieces) == 2 and pieces[0].strip():
            baggage[pieces[0].strip()] = pieces[1].strip()
    return baggage


class JaegerCodec:
    """The Jaeger native codec for text maps (``url_encoding=False``) and HTTP headers."""

    __slots__ = (
        "url_encoding",
        "strict",
        "trace_id_header",
        "baggage_prefix",
        "debug_id_header",
        "baggage_header",
    )

    def __init__(
        self,
        url_encoding: bool,
        *,
        strict: bool = False,
        trace_id_header: str = "uber-trace-id",
        baggage_prefix: str = "uberctx-",
        debug_id_header: str = "jaeger-debug-id",
        baggage_header: str = "jaeger-baggage",
    ) -> None:
        self.url_encoding = url_encoding
        self.strict = strict
        self.trace_id_header = trace_id_header.lower()
        self.baggage_prefix = baggage_prefix.lower()
        self.debug_id_header = debug_id_header.lower()
        self.baggage_header = baggage_header.lower()

    def inject(self, span_context: SpanContext, carrier: Any) -> None:
        if span_context.has_trace:
            set_item(carrier, self.trace_id_header, format_uber_trace_id(span_context))
        prefix = self.baggage_prefix
        for key, value in span_context.baggage.items():
            if self.url_encoding:
                if not _TOKEN_RE.fullmatch(key):
                    _log.debug("jaeger_lite: baggage key %r is not an HTTP token; dropped", key)
                    continue
                value = quote(value, safe="")
            elif _CONTROL_RE.search(key) or _CONTROL_RE.search(value):
                _log.debug("jaeger_lite: baggage item %r has control characters; dropped", key)
                continue
            set_item(carrier, prefix + key, value)

    def extract(self, carrier: Any) -> Optional[SpanContext]:
        trace_value: Optional[str] = None
        debug_id: Optional[str] = None
        baggage: dict[str, str] = {}
        header_baggage: Optional[str] = None
        prefix = self.baggage_prefix
        prefix_len = len(prefix)
        decode = unquote_plus if self.url_encoding else None
        for key, value in iter_str_items(carrier):
            lower = key.lower()
            if lower == self.trace_id_header:
                if trace_value is None:
                    trace_value = value
            elif lower.startswith(prefix):
                if len(key) > prefix_len:
                    baggage[key[prefix_len:]] = decode(value) if decode else value
            elif lower == self.debug_id_header:
                debug_id = value.strip() or None
            elif lower == self.baggage_header:
                header_baggage = value

        context = None
        if trace_value is not None:
            text = unquote(trace_value) if "%" in trace_value else trace_value
            context = parse_uber_trace_id(text)
            if context is None:
                if self.strict:
                    raise SpanContextCorruptedException(f"malformed uber-trace-id {trace_value!r}")
                _log.debug("jaeger_lite: ignoring malformed uber-trace-id %r", trace_value[:100])
        if header_baggage is not None:
            text = unquote_plus(header_baggage) if decode else header_baggage
            for key, value in parse_jaeger_baggage(text).items():
                baggage.setdefault(key, value)

        if context is not None:
            return SpanContext(
                context._trace_id,
                context._span_id,
                context._parent_id,
                context._flags,
                baggage,
            )
        if baggage or debug_id:
            flags = FLAG_SAMPLED | FLAG_DEBUG if debug_id else 0
            return SpanContext(0, 0, 0, flags, baggage, debug_id=debug_id)
        return None

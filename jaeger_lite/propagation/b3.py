"""Zipkin B3 propagation: the multi-header ``X-B3-*`` form and the single ``b3`` header
(docs/protocol.md#b3-headers).

Send: header names in lower case (HTTP/2 and gRPC metadata require it; HTTP/1 does not
care), a 16-digit trace id (32 for a 128-bit id), 16-digit span and parent ids (the parent
only when there is one), then the sampling state: ``X-B3-Sampled: 1``/``0``, or
``X-B3-Flags: 1`` for a debug trace (which implies sampling, so no ``X-B3-Sampled``); the
single form writes ``{trace}-{span}-{1|0|d}[-{parent}]``. A context whose sampling was left
to the receiver is sent without a state. B3 has no baggage: like jaeger-client-go and -java
we send it as ``baggage-{key}`` headers, encoded as in the Jaeger format.

Receive: header names in any case; the first value of a repeated header wins; ids of 1–32
(trace) or 1–16 (span, parent) hex digits of either case, left-padded; a zero, empty or
garbage id makes the ids malformed (ignored); ``X-B3-Sampled`` accepts ``1``/``0`` and,
leniently, ``true``/``false``; ``X-B3-Flags: 1`` means debug. A valid ``b3`` header wins over
the multi-header form; a malformed one is ignored and the multi-header form is tried. A
sampling state without ids (``b3: 0``, ``X-B3-Sampled: 1`` alone) gives a context with no
trace that carries the decision: the next span starts a new trace honouring it. Ids without
a state give a context with ``sampling_deferred=True``: our sampler decides.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Any, Optional

from .._baggage import BaggageLimits
from ..context import EMPTY_BAGGAGE, FLAG_DEBUG, FLAG_SAMPLED, SpanContext, remote_context
from ._carriers import carrier_pairs, inject_through_dict, pair_list
from ._text import CONTROL_RE, HeaderNames, decodes_within, url_decode, url_encode, url_safe

__all__ = ["B3Codec", "B3SingleCodec"]

_TRACE_RE = re.compile(r"[0-9a-fA-F]{1,32}")
_ID_RE = re.compile(r"[0-9a-fA-F]{1,16}")
_SAMPLED = {"1": True, "true": True, "0": False, "false": False}
_SINGLE_STATES = {"1": FLAG_SAMPLED, "0": 0, "d": FLAG_SAMPLED | FLAG_DEBUG}
_MAX_SINGLE = 128

TRACE_ID = "x-b3-traceid"
SPAN_ID = "x-b3-spanid"
PARENT_ID = "x-b3-parentspanid"
SAMPLED = "x-b3-sampled"
FLAGS = "x-b3-flags"
SINGLE = "b3"
BAGGAGE_PREFIX = "baggage-"
_CUT = len(BAGGAGE_PREFIX)
_SPEC_NAMES = ("X-B3-TraceId", "X-B3-SpanId", "X-B3-ParentSpanId", "X-B3-Sampled", "X-B3-Flags")


def _trace(text: str) -> int:
    """The trace id (blanks around it tolerated), or 0 when malformed."""
    if _TRACE_RE.fullmatch(text) or _TRACE_RE.fullmatch(text := text.strip()):
        return int(text, 16)
    return 0


def _span(text: str) -> int:
    """A span id (blanks around it tolerated), or 0 when malformed."""
    if _ID_RE.fullmatch(text) or _ID_RE.fullmatch(text := text.strip()):
        return int(text, 16)
    return 0


def _ids(trace_id: int, span_id: int) -> tuple[str, str]:
    # %-formatting is about twice as fast as format specs (inject is a hot path)
    trace = ("%032x" if trace_id >> 64 else "%016x") % trace_id
    return trace, "%016x" % span_id  # noqa: UP031


#: ``(trace_id, span_id, parent_id, flags, sampling_deferred)`` read from the headers
_State = tuple[int, int, int, int, Optional[bool]]


def _decision(flags: Optional[int]) -> Optional[_State]:
    """A bare sampling state (no trace), or None without a state."""
    return None if flags is None else (0, 0, 0, flags, False)


def parse_single(value: str) -> Optional[SpanContext]:
    """Parse a ``b3`` header; None when it is malformed."""
    state = _parse_single(value)
    return (
        None
        if state is None
        else SpanContext(*state[:4], sampling_deferred=state[4], is_remote=True)
    )


def _parse_single(value: str) -> Optional[_State]:
    value = value.strip()
    if len(value) > _MAX_SINGLE:
        return None
    parts = value.split("-")
    if len(parts) == 1:  # a bare sampling state
        return _decision(_SINGLE_STATES.get(parts[0]))
    if len(parts) > 4:
        return None
    trace_id, span_id = _trace(parts[0]), _span(parts[1])
    if not trace_id or not span_id:
        return None
    if len(parts) == 2:
        return trace_id, span_id, 0, 0, True
    flags = _SINGLE_STATES.get(parts[2])
    if flags is None:
        return None
    parent_id = _span(parts[3]) if len(parts) == 4 else 0  # a bad parent is ignored
    return trace_id, span_id, parent_id, flags, None


class _B3Base:
    """What both B3 codecs share: baggage headers and extraction (either form is read)."""

    #: ``extract`` also takes the PairList a CompositeCodec reads once for all formats
    reads_pair_lists = True

    __slots__ = ("url_encoding", "limits", "dropped", "_names")

    fields: tuple[str, ...] = (*_SPEC_NAMES, SINGLE)

    def __init__(
        self, url_encoding: bool = True, *, limits: Optional[BaggageLimits] = None
    ) -> None:
        # url_encoding defaults to HTTP headers', B3's home: ``B3Codec()`` as jaeger-client
        # users wrote it for ``extra_codecs={Format.HTTP_HEADERS: B3Codec()}``.
        self.url_encoding = url_encoding
        self.limits = limits if limits is not None else BaggageLimits()
        self.dropped = self.limits.dropped
        self._names = HeaderNames(BAGGAGE_PREFIX, url_encoding)

    def _inject_baggage(self, span_context: SpanContext, carrier: dict[str, str]) -> None:
        names = self._names
        http = self.url_encoding
        for key, value in span_context._baggage.items():
            name = names.get(key)
            if name is None or value.__class__ is not str:
                self.dropped.inc()
            elif http:
                carrier[name] = value if url_safe(value) else url_encode(value)
            elif CONTROL_RE.search(value):
                self.dropped.inc()
            else:
                carrier[name] = value

    def extract(self, carrier: Any) -> Optional[SpanContext]:
        found: dict[str, str] = {}
        baggage: Optional[dict[str, str]] = None
        chars = longest = 0  # for the quick baggage limits test
        http = self.url_encoding
        for key, value in carrier_pairs(carrier, self.fields):
            if key.__class__ is not str or value.__class__ is not str:  # in a dict's items
                return self.extract(pair_list(carrier, self.fields))  # converted, once
            lower = key.lower()
            if lower.startswith("x-b3-") or lower == SINGLE:
                if lower not in found:
                    found[lower] = value
            elif lower.startswith(BAGGAGE_PREFIX) and len(lower) > _CUT:
                if http:
                    name = lower[_CUT:]
                    # A value too long to fit once decoded is dropped by the limits:
                    # left encoded, so a huge header costs no Python loop per "%".
                    if ("%" in value or "+" in value) and decodes_within(
                        value, min(self.limits.max_value_length, self.limits.max_bytes)
                    ):
                        value = url_decode(value)
                else:
                    name = key[_CUT:]
                if baggage is None:
                    baggage = {name: value}
                elif name not in baggage:  # the first value of a repeated item wins
                    baggage[name] = value
                chars += len(name) + len(value)
                if len(value) > longest:
                    longest = len(value)
        state = None
        single = found.get(SINGLE)
        if single is not None:
            state = _parse_single(single)
        if state is None:
            state = _parse_multi(found)
        if baggage is not None:
            baggage = self.limits.fit(baggage, chars, longest)
        if state is not None:
            trace_id, span_id, parent_id, flags, deferred = state
            # a read-only view of our own new dict: the context need not copy it
            frozen = MappingProxyType(baggage) if baggage else EMPTY_BAGGAGE
            return remote_context(trace_id, span_id, flags, frozen, parent_id, deferred)
        return SpanContext(0, 0, baggage=baggage) if baggage else None


def _parse_multi(found: dict[str, str]) -> Optional[_State]:
    flags: Optional[int] = None
    sampled = found.get(SAMPLED)
    if sampled is not None:
        decision = _SAMPLED.get(sampled)
        if decision is None:  # leniently: blanks, "True", "FALSE"
            decision = _SAMPLED.get(sampled.strip().lower())
        if decision is not None:
            flags = FLAG_SAMPLED if decision else 0
    debug = found.get(FLAGS)
    if debug is not None and (debug == "1" or debug.strip() == "1"):
        flags = FLAG_SAMPLED | FLAG_DEBUG
    trace_text, span_text = found.get(TRACE_ID), found.get(SPAN_ID)
    if trace_text is None or span_text is None:
        return _decision(flags)
    trace_id, span_id = _trace(trace_text), _span(span_text)
    if not trace_id or not span_id:
        return _decision(flags)
    parent_text = found.get(PARENT_ID)
    parent_id = _span(parent_text) if parent_text is not None else 0
    return trace_id, span_id, parent_id, flags or 0, True if flags is None else None


class B3Codec(_B3Base):
    """B3 multi-header (``X-B3-TraceId`` …); extract also reads the single ``b3`` header."""

    __slots__ = ()

    def inject(self, span_context: SpanContext, carrier: Any) -> None:
        if carrier.__class__ is not dict:
            inject_through_dict(self.inject, span_context, carrier)
            return
        if span_context._trace_id and span_context._span_id:
            trace, span = _ids(span_context._trace_id, span_context._span_id)
            carrier[TRACE_ID] = trace
            carrier[SPAN_ID] = span
            if span_context._parent_id:
                carrier[PARENT_ID] = f"{span_context._parent_id:016x}"
        deferred = span_context._sampling_deferred
        if deferred is False or (deferred is None and span_context.has_trace):
            flags = span_context._flags
            if flags & FLAG_DEBUG and flags & FLAG_SAMPLED:
                carrier[FLAGS] = "1"
            else:
                carrier[SAMPLED] = "1" if flags & FLAG_SAMPLED else "0"
        if span_context._baggage:
            self._inject_baggage(span_context, carrier)


class B3SingleCodec(_B3Base):
    """B3 single header (``b3: {trace}-{span}-{state}-{parent}``); extract also reads the
    multi-header form when ``b3`` is absent or malformed."""

    __slots__ = ()

    def inject(self, span_context: SpanContext, carrier: Any) -> None:
        if carrier.__class__ is not dict:
            inject_through_dict(self.inject, span_context, carrier)
            return
        flags = span_context._flags
        if flags & FLAG_DEBUG and flags & FLAG_SAMPLED:
            state = "d"
        else:
            state = "1" if flags & FLAG_SAMPLED else "0"
        deferred = span_context._sampling_deferred
        if span_context._trace_id and span_context._span_id:
            trace, span = _ids(span_context._trace_id, span_context._span_id)
            if deferred:
                carrier[SINGLE] = f"{trace}-{span}"
            elif span_context._parent_id:
                carrier[SINGLE] = f"{trace}-{span}-{state}-{span_context._parent_id:016x}"
            else:
                carrier[SINGLE] = f"{trace}-{span}-{state}"
        elif deferred is False:
            carrier[SINGLE] = state
        if span_context._baggage:
            self._inject_baggage(span_context, carrier)

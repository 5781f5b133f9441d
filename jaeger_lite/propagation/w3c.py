"""W3C Trace Context: ``traceparent`` and ``tracestate`` (docs/protocol.md#w3c-trace-context),
optionally with the W3C ``baggage`` header (rules in ``baggage.py``) read and written in the
same pass.

Send: ``00-{32 hex trace id}-{16 hex span id}-{flags}`` where flags is ``01`` for a sampled
context and ``00`` otherwise (Jaeger's debug and firehose bits have no W3C meaning, and W3C's
bit 1 "random trace id" is not claimed); ``tracestate`` is written exactly as received
(after the normalisation below). A context without a trace writes nothing.

Receive: surrounding spaces and tabs are ignored. The trace restarts (None, and tracestate is
dropped) on a wrong length, upper-case or non-hex characters, an all-zero trace or parent id,
version ``ff``, version ``00`` followed by anything, or more than one ``traceparent``
header. A higher version needs at least 55 characters, the version-00 fields, and then the
end or a ``-``. The sampled bit is the upstream decision (not deferred).

``tracestate`` headers are joined with commas; empty members and blanks around members are
dropped; the whole header is ignored when a member is malformed, a key repeats or there are
more than 32 members. Kept members are passed on unchanged, joined with ``,``; past 512
characters, members longer than 128 characters go first, then members from the right.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Any, Optional

from .._baggage import BaggageLimits
from ..context import FLAG_SAMPLED, SpanContext
from ._carriers import carrier_pairs, inject_through_dict, pair_list
from ._text import CONTROL_RE
from .baggage import BAGGAGE, format_baggage, parse_baggage

__all__ = ["TraceContextCodec", "parse_traceparent", "parse_tracestate"]

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"

_PARENT_RE = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
#: Level-2 keys ``[a-z0-9][a-z0-9_*/@-]{0,255}`` include both Level-1 key forms.
_MEMBER_RE = re.compile(
    r"([a-z0-9][a-z0-9_*/@\-]{0,255})=([\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e])"
)
_MAX_PARENT = 1024  # a future version may add fields; beyond this it is garbage
_MAX_MEMBERS = 32
_KEEP_CHARS = 512
_LONG_MEMBER = 128
_MAX_STATE_INPUT = 64 * 1024


def parse_traceparent(value: str) -> Optional[tuple[int, int, int]]:
    """``(trace_id, span_id, flags)`` of a ``traceparent`` value, or None when invalid."""
    if len(value) > 2 * _MAX_PARENT:  # garbage, however many blanks pad it: not stripped
        return None  # (strip(" \t") tests each character: 0.15 s for 10 MB of blanks)
    value = value.strip(" \t")
    if not 55 <= len(value) <= _MAX_PARENT:
        return None
    match = _PARENT_RE.match(value)
    if match is None:
        return None
    version, trace_hex, span_hex, flags_hex = match.groups()
    if version == "00":
        if len(value) != 55:
            return None
    elif version == "ff" or (len(value) > 55 and value[55] != "-"):
        return None
    trace_id = int(trace_hex, 16)
    span_id = int(span_hex, 16)
    if not trace_id or not span_id:
        return None
    return trace_id, span_id, int(flags_hex, 16) & FLAG_SAMPLED


def parse_tracestate(values: list[str]) -> Optional[str]:
    """The normalised ``tracestate`` of one or more header values, or None to drop it."""
    joined = ",".join(values)
    if len(joined) > _MAX_STATE_INPUT:
        return None
    members: list[str] = []
    keys: set[str] = set()
    for part in joined.split(","):
        member = part.strip(" \t")
        if not member:
            continue
        match = _MEMBER_RE.fullmatch(member)
        if match is None or match.group(1) in keys or len(members) == _MAX_MEMBERS:
            return None
        keys.add(match.group(1))
        members.append(member)
    if not members:
        return None
    return _truncate(members)


def _truncate(members: list[str]) -> str:
    """Join members, keeping at most 512 characters as the spec says to truncate."""
    state = ",".join(members)
    if len(state) <= _KEEP_CHARS:
        return state
    members = [m for m in members if len(m) <= _LONG_MEMBER]
    while members and len(",".join(members)) > _KEEP_CHARS:
        members.pop()
    return ",".join(members)


class TraceContextCodec:
    """``traceparent`` + ``tracestate`` (and, with ``baggage=True``, the W3C ``baggage``
    header in the same pass); the same in the text-map and HTTP-headers formats."""

    #: ``extract`` also takes the PairList a CompositeCodec reads once for all formats
    reads_pair_lists = True

    __slots__ = ("baggage", "limits", "dropped", "fields")

    def __init__(self, *, baggage: bool = False, limits: Optional[BaggageLimits] = None) -> None:
        self.baggage = baggage
        self.limits = limits if limits is not None else BaggageLimits()
        self.dropped = self.limits.dropped
        self.fields = (TRACEPARENT, TRACESTATE, BAGGAGE) if baggage else (TRACEPARENT, TRACESTATE)

    def inject(self, span_context: SpanContext, carrier: Any) -> None:
        if carrier.__class__ is not dict:
            inject_through_dict(self.inject, span_context, carrier)
            return
        if span_context._trace_id and span_context._span_id:
            carrier[TRACEPARENT] = (
                "00-%032x-%016x-01" if span_context._flags & FLAG_SAMPLED else "00-%032x-%016x-00"
            ) % (span_context._trace_id, span_context._span_id)
            state = span_context._trace_state
            if state and state.__class__ is str and not CONTROL_RE.search(state):
                carrier[TRACESTATE] = state
        if self.baggage and span_context._baggage:
            header = format_baggage(span_context._baggage, self.dropped)
            if header:
                carrier[BAGGAGE] = header

    def extract(self, carrier: Any) -> Optional[SpanContext]:
        parent: Optional[str] = None
        duplicate = False
        states: Optional[list[str]] = None
        baggage_values: Optional[list[str]] = None
        read_baggage = self.baggage
        for key, value in carrier_pairs(carrier, self.fields):
            if key.__class__ is not str or value.__class__ is not str:  # in a dict's items
                return self.extract(pair_list(carrier, self.fields))  # converted, once
            lower = key.lower()
            if lower == TRACEPARENT:
                duplicate = parent is not None
                parent = value
            elif lower == TRACESTATE:
                if states is None:
                    states = []
                states.append(value)
            elif lower == BAGGAGE and read_baggage:
                if baggage_values is None:
                    baggage_values = []
                baggage_values.append(value)
        baggage = None
        if baggage_values is not None:
            baggage = parse_baggage(baggage_values, self.dropped)
            kept = self.limits.limit(baggage)
            if kept is not None:
                baggage = kept
        # duplicate traceparent headers restart the trace (and drop tracestate)
        ids = parse_traceparent(parent) if parent is not None and not duplicate else None
        if ids is None:
            return SpanContext(0, 0, baggage=baggage) if baggage else None
        state = parse_tracestate(states) if states else None
        frozen = MappingProxyType(baggage) if baggage else None
        return SpanContext(ids[0], ids[1], 0, ids[2], frozen, trace_state=state, is_remote=True)

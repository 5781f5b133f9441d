"""W3C Trace Context: ``traceparent`` and ``tracestate`` (PROTOCOL.md §4).

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
from collections.abc import Iterable
from typing import Any, Optional

from ..context import FLAG_SAMPLED, SpanContext
from ._carriers import pair_list, set_item, str_pair
from ._text import CONTROL_RE

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
    """``traceparent`` + ``tracestate``; the same in the text-map and HTTP-headers formats."""

    __slots__ = ()

    fields: tuple[str, ...] = (TRACEPARENT, TRACESTATE)

    def inject(self, span_context: SpanContext, carrier: Any) -> None:
        if not (span_context._trace_id and span_context._span_id):
            return
        setitem = carrier.__setitem__ if carrier.__class__ is dict else None
        if setitem is None:
            setitem = lambda key, value: set_item(carrier, key, value)  # noqa: E731
        setitem(
            TRACEPARENT,
            ("00-%032x-%016x-01" if span_context._flags & FLAG_SAMPLED else "00-%032x-%016x-00")
            % (span_context._trace_id, span_context._span_id),
        )
        state = span_context._trace_state
        if state and state.__class__ is str and not CONTROL_RE.search(state):
            setitem(TRACESTATE, state)

    def extract(self, carrier: Any) -> Optional[SpanContext]:
        if carrier.__class__ is dict:
            return self.extract_pairs(carrier.items())
        return self.extract_pairs(pair_list(carrier, self.fields))

    def extract_pairs(self, pairs: Iterable[tuple[Any, Any]]) -> Optional[SpanContext]:
        """Extract from ``(name, value)`` pairs (non-string ones are converted or skipped)."""
        parent: Optional[str] = None
        states: Optional[list[str]] = None
        for key, value in pairs:
            if key.__class__ is not str or value.__class__ is not str:
                pair = str_pair(key, value)
                if pair is None:
                    continue
                key, value = pair
            lower = key.lower()
            if lower == TRACEPARENT:
                if parent is not None:
                    return None  # duplicate traceparent headers: restart the trace
                parent = value
            elif lower == TRACESTATE:
                if states is None:
                    states = []
                states.append(value)
        if parent is None:
            return None
        ids = parse_traceparent(parent)
        if ids is None:
            return None
        state = parse_tracestate(states) if states else None
        return SpanContext(ids[0], ids[1], 0, ids[2], trace_state=state)

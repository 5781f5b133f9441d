"""How the tracer makes spans: :class:`SpanOwner`, the one object a span reads from its
tracer, and :func:`new_span`, the only way a span is built."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from itertools import starmap
from time import time_ns
from typing import TYPE_CHECKING, Any, Callable, Optional

from ._metrics import Counter
from ._span_extras import extras
from .context import FLAG_SAMPLED, Reference
from .span import Span, TracerSpan

if TYPE_CHECKING:
    from ._baggage import BaggageLimits
    from .tracer import Tracer

__all__ = ["DISCARD", "DiscardInbox", "SpanInbox", "SpanOwner", "max_logs_limit", "new_span"]


class SpanInbox(list["Span"]):
    """A reporter's list of finished spans that the tracer appends to itself, without the
    reporter's ``report_span`` call, while ``len(inbox) < inbox.room``; from ``room`` on it
    calls ``report_span``, which bounds the queue and takes the turns. The reporter that
    owns the list keeps ``room`` (0: always call). On a RemoteReporter this saves ~120 ns
    a span (the call, its bound check and counter; bench_reporter.py)."""

    __slots__ = ("room",)

    def __init__(self, room: int = 0) -> None:
        super().__init__()
        self.room = room


class DiscardInbox:
    """What a reporter that discards every span (NullReporter) returns from ``span_inbox``:
    the tracer then hands it nothing, not even a call to an empty ``report_span`` (~100
    instructions a sampled span; callgrind)."""

    __slots__ = ()


#: The one DiscardInbox.
DISCARD = DiscardInbox()


class SpanOwner:
    """What a span needs from the tracer that started it: the limits on what it records,
    where it goes when finished, and the counters it bumps. One per tracer, shared by all
    its spans, so a span reads no private attribute of the tracer."""

    __slots__ = (
        "tracer",
        "max_tag_value_length",
        "max_traceback_length",
        "max_logs",
        "logs_dropped",
        "baggage_limits",
        "report",
        "inbox",
        "finished_sampled",
        "finished_unsampled",
        "sampled_ticks",
        "unsampled_ticks",
        "sampled_clock",
        "unsampled_clock",
        "report_errors",
    )

    def __init__(
        self,
        tracer: Tracer,
        report: Optional[Callable[[Span], None]],
        *,
        max_tag_value_length: int,
        max_traceback_length: int,
        baggage_limits: BaggageLimits,
        max_logs: int = 1000,
    ) -> None:
        self.tracer = tracer
        self.report = report
        # The reporter's inbox, if it has one (the tracer sets it); report is None for a
        # reporter that discards spans.
        self.inbox: Optional[SpanInbox] = None
        self.max_tag_value_length = max_tag_value_length
        self.max_traceback_length = max_traceback_length
        # Logs a span keeps; those past it are dropped and counted (a log per loop step
        # on a long-lived span must not grow without bound).
        self.max_logs = max_logs
        self.logs_dropped = Counter()
        self.baggage_limits = baggage_limits
        self.finished_sampled = Counter()
        self.finished_unsampled = Counter()
        # finish() counts with next() on these (see Counter), no lookup on the Counter.
        self.sampled_ticks = self.finished_sampled.ticks
        self.unsampled_ticks = self.finished_unsampled.ticks
        # ... and takes the end time with the same next(): time_ns() and the tick in one
        # C call, ~150 instructions a span fewer than the two calls (callgrind, 3.11).
        self.sampled_clock = starmap(time_ns, self.sampled_ticks)
        self.unsampled_clock = starmap(time_ns, self.unsampled_ticks)
        self.report_errors = Counter()


def max_logs_limit(value: Optional[int]) -> int:
    """``max_logs_per_span`` as the owner holds it: None is no limit; at least 1."""
    if value is None:
        return sys.maxsize
    limit = int(value)
    if limit < 1:
        raise ValueError(f"max_logs_per_span must be at least 1 (or None), got {value!r}")
    return limit


def new_span(
    owner: SpanOwner,
    operation_name: str,
    trace_id: int,
    span_id: int,
    parent_id: int,
    flags: int,
    baggage: Mapping[str, str],
    trace_state: Optional[str],
    references: tuple[Reference, ...],
    start_ns: int,
    tags: Optional[Mapping[str, Any]] = None,
) -> Span:
    """A started Span (the tracer's only way to make one); ``tags`` are the sampler's.

    Built with a class call of :class:`TracerSpan` (object's own ``__init__``: no Python
    frame) and slot writes.
    """
    span: Span = TracerSpan()
    span._owner = owner
    span._operation_name = operation_name
    span._trace_id = trace_id
    span._span_id = span_id
    span._parent_id = parent_id
    span._flags = flags
    span._start_ns = start_ns
    span._duration_ns = None
    span._log_fields = None
    span._unfinished = True
    # The rare fields go to a side object only when one is set (see _span_extras).
    span._extras = (
        extras(baggage, trace_state, references)
        if baggage or trace_state is not None or references
        else None
    )
    if flags & FLAG_SAMPLED:
        span._recording = True
        span._tags = dict(tags) if tags else {}
    else:
        span._recording = False
        span._tags = None
    return span

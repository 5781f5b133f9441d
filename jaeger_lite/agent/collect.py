"""Trace assembly: spans from any number of batches and processes, grouped by trace id.

A trace is ready to print once no span of it has arrived for ``quiet_after`` seconds. The
pending traces live in an ``OrderedDict`` kept in order of their last arrival, so the next
trace to become ready is always the first one and finding it costs O(1).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Callable, Optional

from .model import SpanRecord


@dataclass
class Trace:
    """The spans of one trace received so far, and when they arrived (monotonic seconds)."""

    trace_id: int
    spans: list[SpanRecord] = field(default_factory=list)
    first_seen: float = 0.0
    last_seen: float = 0.0
    #: True when the trace was already printed and these spans arrived after that.
    late: bool = False
    #: Spans not kept because the trace reached the collector's span limit.
    dropped: int = 0


class TraceCollector:
    """Groups spans into traces and hands out those that have been quiet long enough.

    Memory stays bounded: at most ``max_traces`` traces are pending (the least recently
    updated one is handed out early when a new one would exceed that) and at most
    ``max_spans`` spans are kept per trace (the rest are counted in ``Trace.dropped``).
    Thread-safe.
    """

    def __init__(
        self,
        quiet_after: float,
        *,
        max_traces: int = 10_000,
        max_spans: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.quiet_after = quiet_after
        self._max_traces = max_traces
        self._max_spans = max_spans
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: OrderedDict[int, Trace] = OrderedDict()
        self._overflow: list[Trace] = []
        # Ids already handed out, so that spans arriving later are labelled as late.
        self._done: OrderedDict[int, None] = OrderedDict()

    def add(self, spans: Iterable[SpanRecord]) -> None:
        """Add received spans to their traces (creating traces as needed)."""
        now = self._clock()
        with self._lock:
            for span in spans:
                trace = self._pending.get(span.trace_id)
                if trace is None:
                    trace = Trace(span.trace_id, first_seen=now, late=span.trace_id in self._done)
                    self._pending[span.trace_id] = trace
                    if len(self._pending) > self._max_traces:
                        _, oldest = self._pending.popitem(last=False)
                        self._overflow.append(oldest)
                        self._mark_done(oldest.trace_id)
                else:
                    self._pending.move_to_end(span.trace_id)
                trace.last_seen = now
                if len(trace.spans) < self._max_spans:
                    trace.spans.append(span)
                else:
                    trace.dropped += 1

    def _mark_done(self, trace_id: int) -> None:
        self._done[trace_id] = None
        self._done.move_to_end(trace_id)
        if len(self._done) > self._max_traces:
            self._done.popitem(last=False)

    def pop_due(self) -> list[Trace]:
        """Remove and return the traces quiet for at least ``quiet_after``, oldest first."""
        now = self._clock()
        with self._lock:
            due, self._overflow = self._overflow, []
            while self._pending:
                trace = next(iter(self._pending.values()))
                if now - trace.last_seen < self.quiet_after:
                    break
                self._pending.popitem(last=False)
                self._mark_done(trace.trace_id)
                due.append(trace)
            return due

    def pop_all(self) -> list[Trace]:
        """Remove and return every pending trace, ready or not (used on shutdown)."""
        with self._lock:
            due, self._overflow = self._overflow, []
            due.extend(self._pending.values())
            for trace in self._pending.values():
                self._mark_done(trace.trace_id)
            self._pending.clear()
            return due

    def seconds_until_due(self) -> Optional[float]:
        """Seconds until the next pending trace is ready (0 if one is), None if none is."""
        with self._lock:
            if self._overflow:
                return 0.0
            if not self._pending:
                return None
            trace = next(iter(self._pending.values()))
            return max(0.0, trace.last_seen + self.quiet_after - self._clock())

    def __len__(self) -> int:
        """The number of pending traces."""
        with self._lock:
            return len(self._pending) + len(self._overflow)

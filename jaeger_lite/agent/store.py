"""``TraceStore``: the traces the agent received, kept for the web UI and the query API.

Spans join their trace by trace id, whatever batch, process or transport brought them (UDP,
HTTP, OTLP: everything that yields ``SpanRecord``). Memory stays bounded: at most
``max_traces`` traces (the one that has gone longest without a new span is evicted first,
and counted) and ``max_spans`` spans per trace (the rest are counted). A ``SpanLog`` (see
``sqlstore.py``) can persist what is kept, so that a restart finds the same traces.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Optional, Protocol

from .model import SpanRecord, Tag, TagValue

log = logging.getLogger(__name__)

DEFAULT_MAX_TRACES = 10_000
DEFAULT_MAX_SPANS = 10_000


class SpanLog(Protocol):
    """Where a store persists its spans: replayed at start, appended to, pruned on eviction."""

    def load(self) -> Iterator[SpanRecord]:
        """Every stored span, in the order they were appended."""

    def append(self, spans: list[SpanRecord]) -> None:
        """Persist newly accepted spans."""

    def forget(self, trace_ids: list[int]) -> None:
        """Drop every span of these (evicted) traces."""

    def close(self) -> None:
        """Release the file."""


@dataclass(frozen=True)
class TraceQuery:
    """A search, as Jaeger's: a trace matches when one of its spans matches every field set.

    Durations and times are in µs; 0 (or an empty string) means "any". ``tags`` match a
    span's tags, its process's tags or its log fields, comparing the value as text.
    """

    service: str = ""
    operation: str = ""
    tags: tuple[tuple[str, str], ...] = ()
    min_duration: int = 0
    max_duration: int = 0
    start_min: int = 0
    start_max: int = 0
    limit: int = 20


@dataclass
class _Stored:
    trace_id: int
    spans: list[SpanRecord] = field(default_factory=list)
    start: int = 0


def tag_text(value: TagValue) -> str:
    """A tag value as the query compares it (Jaeger's ``AsString``): true, 500, 1.5, hex."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def span_kind(span: SpanRecord) -> str:
    """The ``span.kind`` tag (server, client, producer, consumer, internal) or ''."""
    kind = span.tag("span.kind")
    return kind.lower() if isinstance(kind, str) else ""


def _has_tag(span: SpanRecord, key: str, wanted: str) -> bool:
    """Whether the span's tags, its process's tags or a log field has ``key`` = ``wanted``."""
    # Plain loops instead of any() over generators: 2-3x faster per span searched (6 tags,
    # 4 process tags, 1 log: 2.4-4.0 µs against 7.6-9.1 µs, best of 7, busy machine).
    sources: list[tuple[Tag, ...]] = [span.tags, span.process.tags]
    sources.extend(entry.fields for entry in span.logs)
    for tags in sources:
        for t in tags:
            if t.key == key and tag_text(t.value) == wanted:
                return True
    return False


def span_matches(span: SpanRecord, query: TraceQuery) -> bool:
    """Whether this one span satisfies every condition of ``query``."""
    if query.service and span.process.service != query.service:
        return False
    if query.operation and span.operation != query.operation:
        return False
    if query.min_duration and span.duration < query.min_duration:
        return False
    if query.max_duration and span.duration > query.max_duration:
        return False
    if query.start_min and span.start < query.start_min:
        return False
    if query.start_max and span.start > query.start_max:
        return False
    return all(_has_tag(span, key, wanted) for key, wanted in query.tags)


class TraceStore:
    """Traces by id, bounded, searchable; thread-safe (receivers add, HTTP threads read)."""

    def __init__(
        self,
        *,
        max_traces: int = DEFAULT_MAX_TRACES,
        max_spans: int = DEFAULT_MAX_SPANS,
        span_log: Optional[SpanLog] = None,
    ) -> None:
        if max_traces < 1 or max_spans < 1:
            raise ValueError("max_traces and max_spans must be at least 1")
        self.max_traces = max_traces
        self.max_spans = max_spans
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        # In order of the last span's arrival: the first one is the next to be evicted.
        self._traces: OrderedDict[int, _Stored] = OrderedDict()
        # (service, operation, kind) -> spans kept: the services/operations lists, kept
        # exact (and bounded) by counting down on eviction.
        self._operations: Counter[tuple[str, str, str]] = Counter()
        self._log = span_log
        self._counts = {"evicted": 0, "dropped_spans": 0, "log_errors": 0}
        self.last_log_error = ""
        self.version = 0
        self._wakeups = 0
        if span_log is not None:
            self._replay(span_log)

    def _replay(self, span_log: SpanLog) -> None:
        """Rebuild from the log; traces beyond the bound (a lowered ``max_traces``) go."""
        self._log = None  # do not append the replayed spans to the log they come from
        loaded: set[int] = set()
        try:
            for span in span_log.load():
                loaded.add(span.trace_id)
                self.add((span,))
        finally:
            self._log = span_log
        self._counts["evicted"] = 0  # a restart is not an eviction
        gone = sorted(loaded.difference(self._traces))
        if gone:
            self._write_log(span_log, [], gone)

    # -- writing -------------------------------------------------------------------------

    def add(self, spans: Iterable[SpanRecord]) -> None:
        """Add spans to their traces (creating and evicting traces as needed)."""
        accepted: list[SpanRecord] = []
        evicted: list[int] = []
        with self._changed:
            for span in spans:
                trace = self._traces.get(span.trace_id)
                if trace is None:
                    trace = self._traces[span.trace_id] = _Stored(span.trace_id, start=span.start)
                    if len(self._traces) > self.max_traces:
                        evicted.append(self._evict_oldest())
                else:
                    self._traces.move_to_end(span.trace_id)
                if len(trace.spans) >= self.max_spans:
                    self._counts["dropped_spans"] += 1
                    continue
                trace.spans.append(span)
                trace.start = min(trace.start, span.start)
                self._operations[(span.process.service, span.operation, span_kind(span))] += 1
                accepted.append(span)
            if self._log is not None and (accepted or evicted):
                self._write_log(self._log, accepted, evicted)
            self.version += 1
            self._changed.notify_all()

    def _evict_oldest(self) -> int:
        trace_id, trace = self._traces.popitem(last=False)
        self._counts["evicted"] += 1
        for span in trace.spans:
            key = (span.process.service, span.operation, span_kind(span))
            self._operations[key] -= 1
            if self._operations[key] <= 0:
                del self._operations[key]
        return trace_id

    def _write_log(self, span_log: SpanLog, accepted: list[SpanRecord], evicted: list[int]) -> None:
        # Evicted traces are forgotten first: a trace evicted and restarted within this
        # batch keeps its new spans.
        try:
            if evicted:
                span_log.forget(evicted)
            if accepted:
                span_log.append(accepted)
        except Exception as exc:  # disk full, file locked: keep serving from memory, count
            self._counts["log_errors"] += 1
            self.last_log_error = str(exc)
            log.debug("cannot persist spans: %s", exc)

    def close(self) -> None:
        """Close the span log and wake every waiter (the store stays readable and servable)."""
        with self._changed:
            self._wakeups += 1
            self._changed.notify_all()
            span_log, self._log = self._log, None
        if span_log is not None:
            span_log.close()

    # -- reading -------------------------------------------------------------------------

    @property
    def evicted(self) -> int:
        """Traces evicted to keep within ``max_traces``."""
        return self._counts["evicted"]

    @property
    def dropped_spans(self) -> int:
        """Spans not kept because their trace already had ``max_spans``."""
        return self._counts["dropped_spans"]

    @property
    def log_errors(self) -> int:
        """Writes to the span log that failed (the spans stay in memory)."""
        return self._counts["log_errors"]

    def __len__(self) -> int:
        with self._lock:
            return len(self._traces)

    def get(self, trace_id: int) -> Optional[list[SpanRecord]]:
        """The spans of one trace (a copy), or None when it is not (or no longer) stored."""
        with self._lock:
            trace = self._traces.get(trace_id)
            return list(trace.spans) if trace is not None else None

    def find(self, query: TraceQuery) -> list[tuple[int, list[SpanRecord]]]:
        """The traces with a span matching ``query``, most recent start first, at most
        ``query.limit`` of them (0: no limit)."""
        # Matching runs outside the lock, so that a search of a full store does not hold up
        # the receivers: span lists only grow, so the first ``n`` spans are a stable view.
        with self._lock:
            snapshot = [(t, len(t.spans)) for t in self._traces.values()]
        found = [
            (t.start, t.trace_id, t, n)
            for t, n in snapshot
            if any(span_matches(s, query) for s in islice(t.spans, n))
        ]
        found.sort(key=lambda item: (item[0], item[1]), reverse=True)
        if query.limit > 0:
            del found[query.limit :]
        return [(trace_id, t.spans[:n]) for _, trace_id, t, n in found]

    def all_traces(self) -> list[tuple[int, list[SpanRecord]]]:
        """Every stored trace (copies), in no particular order."""
        with self._lock:
            return [(t.trace_id, list(t.spans)) for t in self._traces.values()]

    def services(self) -> list[str]:
        """The service names of the spans kept, sorted."""
        with self._lock:
            return sorted({service for service, _, _ in self._operations})

    def operations(self, service: str) -> list[tuple[str, str]]:
        """``(operation, span kind)`` pairs seen for ``service``, sorted."""
        with self._lock:
            return sorted({(op, kind) for svc, op, kind in self._operations if svc == service})

    def wait_for_change(self, since: int, timeout: float) -> int:
        """Block until ``version`` differs from ``since`` (or ``timeout`` or ``close``);
        return the version then."""
        with self._changed:
            wakeups = self._wakeups
            self._changed.wait_for(
                lambda: self.version != since or self._wakeups != wakeups, timeout
            )
            return self.version

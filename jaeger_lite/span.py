"""``Span``: one timed operation with tags, logs and baggage. No I/O happens here."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping, Sequence
from time import time_ns
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple, Optional

from ._opentracing import SpanBase
from ._safe import safe_str
from .context import FLAG_DEBUG, FLAG_SAMPLED, Reference, SpanContext

if TYPE_CHECKING:
    from .tracer import Tracer

__all__ = ["Log", "Span", "log_entries", "record_error", "seconds_to_ns"]

_log = logging.getLogger("jaeger_lite")

SAMPLING_PRIORITY = "sampling.priority"
_NS = 1_000_000_000  # nanoseconds a second; an int, so int / _NS is correctly rounded
_I64_LIMIT = 1 << 63  # times are signed 64-bit nanoseconds, as on the wire (in µs)


class Log(NamedTuple):
    """A timestamped set of fields recorded on a span (``timestamp`` in epoch seconds)."""

    timestamp: float
    fields: Mapping[str, Any]


class Span(SpanBase):
    """A timed operation. Created by :meth:`Tracer.start_span`, never directly.

    Only sampled spans record tags and logs; an unsampled span still carries its context
    (and baggage) so the trace propagates. After :meth:`finish` the span is immutable:
    further tags/logs are ignored, because the reporter thread may already be encoding it.
    The reporter and the Thrift encoder read the underscore fields directly (hot path).
    """

    __slots__ = (
        "_tracer",
        "_operation_name",
        "_trace_id",
        "_span_id",
        "_parent_id",
        "_flags",
        "_baggage",
        "_trace_state",
        "_references",
        "_start_ns",
        "_duration_ns",
        "_tags",
        "_log_ns",
        "_log_fields",
        "_logs",
        "_recording",
        "_context",
    )

    _tracer: Tracer
    _operation_name: str
    _trace_id: int
    _span_id: int
    _parent_id: int
    _flags: int
    _baggage: Mapping[str, str]
    _trace_state: Optional[str]
    _references: tuple[Reference, ...]
    _start_ns: int  # times are integer nanoseconds: cheaper to take and to encode
    _duration_ns: Optional[int]
    _tags: Optional[dict[str, Any]]
    # The first log lives in the span itself: a span with one log needs no list and no
    # tuple, two objects fewer to allocate, free and count for the garbage collector (see
    # remote.WAKE_EVERY). From the second log on, _logs lists them all as (epoch ns, fields).
    _log_ns: int
    _log_fields: Optional[dict[str, Any]]  # None: no log yet
    _logs: Optional[list[tuple[int, dict[str, Any]]]]
    _recording: bool
    _context: Optional[SpanContext]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("spans are started by Tracer.start_span or start_active_span")

    # -- identity ---------------------------------------------------------------------

    @property
    def context(self) -> SpanContext:
        """The span's immutable context (rebuilt after baggage or sampling changes)."""
        context = self._context
        if context is None:
            context = self._context = SpanContext(
                self._trace_id,
                self._span_id,
                self._parent_id,
                self._flags,
                self._baggage,
                trace_state=self._trace_state,
            )
        return context

    @property
    def tracer(self) -> Tracer:
        return self._tracer

    @property
    def operation_name(self) -> str:
        return self._operation_name

    @property
    def start_time(self) -> float:
        """Start, in seconds since the epoch."""
        return self._start_ns / _NS

    @property
    def duration(self) -> Optional[float]:
        """Seconds from start to finish, or None while the span is open."""
        return None if self._duration_ns is None else self._duration_ns / _NS

    @property
    def finish_time(self) -> Optional[float]:
        duration = self._duration_ns
        return None if duration is None else (self._start_ns + duration) / _NS

    @property
    def is_sampled(self) -> bool:
        return bool(self._flags & FLAG_SAMPLED)

    @property
    def tags(self) -> Mapping[str, Any]:
        """Read-only view of the recorded tags (empty for unsampled spans)."""
        return MappingProxyType(self._tags if self._tags is not None else {})

    @property
    def logs(self) -> tuple[Log, ...]:
        return tuple(Log(ts / _NS, MappingProxyType(fields)) for ts, fields in log_entries(self))

    @property
    def references(self) -> tuple[Reference, ...]:
        """Explicit references in the order given (an implicit active-span parent is not listed)."""
        return self._references

    # -- recording --------------------------------------------------------------------

    def set_operation_name(self, operation_name: str) -> Span:
        if self._duration_ns is None:
            self._operation_name = (
                operation_name if operation_name.__class__ is str else safe_str(operation_name)
            )
        return self

    def set_tag(self, key: str, value: Any) -> Span:
        """Record a tag; str/bool/int/float/bytes keep their type, anything else becomes str()."""
        if key == SAMPLING_PRIORITY:
            self._set_sampling_priority(value)
        if self._recording:
            cls = value.__class__
            if cls is str:
                limit = self._tracer._max_tag_value_length
                if len(value) > limit:
                    value = value[:limit]
            elif cls is not bool and cls is not int and cls is not float:
                value = normalize_value(value, self._tracer._max_tag_value_length)
            self._tags[key if key.__class__ is str else safe_str(key)] = value  # type: ignore[index]
        return self

    def log_kv(self, key_values: Mapping[str, Any], timestamp: Optional[float] = None) -> Span:
        """Record a structured log; values follow the same rules as tag values."""
        if self._recording:
            limit = self._tracer._max_tag_value_length
            fields: dict[str, Any] = {}
            try:
                # A loop, not a dict comprehension: before 3.12 that runs in a frame of its own.
                for k, v in key_values.items():
                    cls = v.__class__
                    if not (
                        (cls is str and len(v) <= limit)
                        or cls is int
                        or cls is float
                        or cls is bool
                    ):
                        v = normalize_value(v, limit)
                    fields[k if k.__class__ is str else safe_str(k)] = v
            except Exception:  # not a mapping: documented misuse outcome is a logged drop
                _log.debug("jaeger_lite: log_kv needs a mapping, got %r", type(key_values))
                return self
            ns = time_ns() if timestamp is None else seconds_to_ns(timestamp)
            if self._log_fields is None:
                self._log_ns = ns
                self._log_fields = fields
            else:
                logs = self._logs
                if logs is None:
                    self._logs = logs = [(self._log_ns, self._log_fields)]
                logs.append((ns, fields))
        return self

    def log_event(self, event: Any, payload: Any = None) -> Span:
        """OpenTracing 1.x: log ``event`` (and ``payload`` when given)."""
        fields = {"event": event}
        if payload is not None:
            fields["payload"] = payload
        return self.log_kv(fields)

    def log(self, **kwargs: Any) -> Span:
        """OpenTracing 1.x: ``log(event=..., payload=..., timestamp=...)``."""
        timestamp = kwargs.pop("timestamp", None)
        return self.log_kv(kwargs, timestamp)

    def set_baggage_item(self, key: str, value: str) -> Span:
        """Attach baggage that travels with the trace to every descendant span."""
        if self._duration_ns is not None:
            return self
        checked = self._tracer._check_baggage(self._baggage, key, value)
        if checked is None:
            return self
        key, value = checked
        baggage = dict(self._baggage)
        baggage[key] = value
        self._baggage = MappingProxyType(baggage)
        self._context = None
        if self._recording:
            self.log_kv({"event": "baggage", "key": key, "value": value})
        return self

    def get_baggage_item(self, key: str) -> Optional[str]:
        return self._baggage.get(key)

    def record_exception(self, exception: BaseException) -> Span:
        """Mark the span failed for an exception you handle yourself (say, answered with a
        500): ``error=true`` and an ``event=error`` log with ``error.kind``,
        ``error.object``, ``message`` and ``stack``, as when it escapes ``with span:``."""
        record_error(self, exception, exception.__traceback__)
        return self

    def finish(self, finish_time: Optional[float] = None) -> None:
        """End the span and hand it to the reporter if sampled; later calls do nothing."""
        if self._duration_ns is not None:
            return
        end = time_ns() if finish_time is None else seconds_to_ns(finish_time)
        duration = end - self._start_ns
        self._duration_ns = duration if duration > 0 else 0
        tracer = self._tracer
        if self._recording:
            self._recording = False
            tracer._count_sampled_finished()
            try:
                tracer._report(self)
            except Exception:  # a reporter's bug must not escape into user code
                tracer._report_errors.inc()
                _log.debug("jaeger_lite: reporter failed", exc_info=True)
        else:
            tracer._count_unsampled_finished()

    def _set_sampling_priority(self, value: Any) -> None:
        if self._duration_ns is not None:
            return
        try:
            priority = int(value)
        except Exception:  # not a number, or a user __int__ that fails
            _log.debug("jaeger_lite: ignoring non-numeric sampling.priority %r", value)
            return
        if priority > 0:
            self._flags |= FLAG_SAMPLED | FLAG_DEBUG
            if not self._recording:
                self._recording = True
                self._tags = {}
        else:  # debug is only meaningful together with sampled (PROTOCOL.md §4)
            self._flags &= ~(FLAG_SAMPLED | FLAG_DEBUG)
            self._recording = False
        self._context = None

    # -- context manager --------------------------------------------------------------

    def __enter__(self) -> Span:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc_val: Optional[BaseException],
        exc_tb: Optional[TracebackType],
    ) -> None:
        if exc_val is not None:
            record_error(self, exc_val, exc_tb)
        self.finish()

    def __repr__(self) -> str:
        state = "finished" if self._duration_ns is not None else "open"
        return f"<Span {self._operation_name!r} {self.context} {state}>"


def log_entries(span: Span) -> Sequence[tuple[int, dict[str, Any]]]:
    """The span's logs as (epoch ns, fields) pairs, in the order they were recorded."""
    fields = span._log_fields
    if fields is None:
        return ()
    return span._logs or ((span._log_ns, fields),)


_new = object.__new__


def new_span(
    tracer: Tracer,
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

    Built with ``object.__new__`` and slot writes rather than a class call, which would run
    an ``__init__`` in a nested C-level frame: ~60 ns more on every span start.
    """
    span: Span = _new(Span)
    span._tracer = tracer
    span._operation_name = operation_name
    span._trace_id = trace_id
    span._span_id = span_id
    span._parent_id = parent_id
    span._flags = flags
    span._baggage = baggage
    span._trace_state = trace_state
    span._references = references
    span._start_ns = start_ns
    span._duration_ns = None
    span._log_fields = span._logs = None
    span._context = None
    if flags & FLAG_SAMPLED:
        span._recording = True
        span._tags = dict(tags) if tags else {}
    else:
        span._recording = False
        span._tags = None
    return span


def seconds_to_ns(seconds: float) -> int:
    """Epoch seconds (what the API takes, as OpenTracing does) as integer nanoseconds.

    Exact to the nanosecond, so the span gives the very float back (``ns / _NS`` divides
    two ints, which Python rounds correctly); ``seconds * 1e9`` would be off by up to 128
    ns. Anything that is not a number of seconds Jaeger can hold (NaN, a string, a time
    outside the signed 64-bit nanoseconds of years 1677-2262) counts as now.
    """
    try:
        whole = int(seconds)
        ns = whole * _NS + round((seconds - whole) * 1e9)
        if -_I64_LIMIT <= ns < _I64_LIMIT:
            return ns
    except Exception:  # ValueError, OverflowError, TypeError: documented as "now"
        pass
    _log.debug("jaeger_lite: %r is not a time in seconds; using now", seconds)
    return time_ns()


def normalize_value(value: Any, limit: Optional[int] = None) -> Any:
    """Coerce a tag/log value: keep str/bool/int/float/bytes (subclasses become the base
    type), truncate str and bytes to ``limit`` (None: no limit), and store anything else
    as its ``str()``. The Thrift encoders use it too, for process tags."""
    try:
        # The base types' own conversions: a subclass overriding __int__ or __str__ (even
        # one that raises) cannot change or stop them.
        if isinstance(value, bool):
            return value  # bool cannot be subclassed
        if isinstance(value, int):
            return int.__int__(value)
        if isinstance(value, float):
            return float.__float__(value)
        if isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(memoryview(value))
            return data if limit is None else data[:limit]
        text = str.__str__(value) if isinstance(value, str) else safe_str(value)
    except Exception:  # an exotic buffer or subclass: fall back to its text
        text = safe_str(value)
    return text[:limit] if limit is not None and len(text) > limit else text


def record_error(span: Any, exc: BaseException, tb: Optional[TracebackType] = None) -> None:
    """Mark ``span`` failed: ``error=true`` and an ``event=error`` log (OpenTracing fields).

    Only ``Exception`` subclasses count as errors; ``GeneratorExit``, ``KeyboardInterrupt``,
    ``SystemExit`` and ``asyncio.CancelledError`` end the span without marking it.
    """
    if not isinstance(exc, Exception):
        return
    if isinstance(span, Span) and not span._recording:
        return  # unsampled: record nothing, and skip formatting the traceback
    try:
        span.set_tag("error", True)
        stack = "".join(traceback.format_exception(type(exc), exc, tb))
        fields = {
            "event": "error",
            "error.kind": type(exc).__name__,
            "error.object": repr(exc),
            "message": str(exc),
        }
        if not isinstance(span, Span):  # another tracer's span: its own rules apply
            fields["stack"] = stack
            span.log_kv(fields)
            return
        span.log_kv(fields)
        # The stack has its own limit (max_traceback_length, like jaeger-client), longer
        # than the tag-value one, and keeps its end: the innermost frames and the message.
        limit = span._tracer._max_traceback_length
        entries = log_entries(span)
        if entries:
            entries[-1][1]["stack"] = stack[-limit:] if len(stack) > limit else stack
    except Exception:  # never replace the application's exception with ours
        _log.debug("jaeger_lite: could not record an error on %r", span, exc_info=True)

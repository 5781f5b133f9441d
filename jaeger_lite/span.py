"""``Span``: one timed operation with tags, logs and baggage. No I/O happens here."""

from __future__ import annotations

import traceback
from collections.abc import Mapping, Sequence
from time import time_ns
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple, Optional

from ._client_compat import JaegerClientSpan
from ._log import LOG as _log
from ._opentracing import opentracing_class
from ._safe import safe_repr, safe_str
from ._span_extras import RareFields
from ._values import normalize_value, seconds_to_ns
from .context import FLAG_DEBUG, FLAG_SAMPLED, Reference, SpanContext

if TYPE_CHECKING:
    from ._span_factory import SpanOwner
    from .tracer import Tracer

__all__ = ["Log", "Span", "TracerSpan", "log_entries", "record_error", "report_failed"]

SAMPLING_PRIORITY = "sampling.priority"
_NS = 1_000_000_000  # nanoseconds a second; an int, so int / _NS is correctly rounded


class Log(NamedTuple):
    """A timestamped set of fields recorded on a span (``timestamp`` in epoch seconds)."""

    timestamp: float
    fields: Mapping[str, Any]


class Span(JaegerClientSpan, RareFields):
    """A timed operation. Created by :meth:`Tracer.start_span`, never directly.

    Only sampled spans record tags and logs; an unsampled span still carries its context
    (and baggage) so the trace propagates. After :meth:`finish` the span is immutable:
    further tags/logs are ignored, because the reporter thread may already be encoding it.
    The reporter and the Thrift encoder read the underscore fields directly (hot path).
    With ``opentracing`` installed, ``isinstance(span, opentracing.Span)`` is true and the
    span keeps its ``__slots__`` (see ``_opentracing``). ``is_sampled``, ``is_debug``,
    ``trace_id`` and the rest of jaeger-client's span surface come from
    :class:`~jaeger_lite._client_compat.JaegerClientSpan`; baggage, trace state,
    references, logs after the first and the cached context live in ``_extras`` (see
    :mod:`~jaeger_lite._span_extras`), None for most spans.
    """

    __slots__ = (
        "_owner",
        "_operation_name",
        "_trace_id",
        "_span_id",
        "_parent_id",
        "_flags",
        "_start_ns",
        "_duration_ns",
        "_tags",
        "_log_ns",
        "_log_fields",
        "_recording",
        "_unfinished",
        "_extras",
    )
    if not TYPE_CHECKING:
        __class__ = opentracing_class("Span")

    _owner: SpanOwner
    _operation_name: str
    _trace_id: int
    _span_id: int
    _parent_id: int
    _flags: int
    _start_ns: int  # times are integer nanoseconds: cheaper to take and to encode
    _duration_ns: Optional[int]
    _tags: Optional[dict[str, Any]]
    # The first log lives in the span itself: a span with one log needs no list and no
    # tuple, two objects fewer to allocate, free and count for the garbage collector (see
    # remote.WAKE_EVERY). From the second log on, _logs (in _extras) lists them all as
    # (epoch ns, fields).
    _log_ns: int
    _log_fields: Optional[dict[str, Any]]  # None: no log yet
    _recording: bool
    # Present until the one call of finish() that ends the span deletes it: deleting a
    # slot is a single step under the GIL, so threads racing to finish a span cannot both
    # get past it (a check-then-set could, and reported the span twice).
    _unfinished: bool

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("spans are started by Tracer.start_span or start_active_span")

    # -- identity ---------------------------------------------------------------------

    @property
    def context(self) -> SpanContext:
        """The span's immutable context (rebuilt after baggage or sampling changes)."""
        side = self._side()  # the cache lives in the side object: few spans need it
        context = side.context
        if context is None:
            context = side.context = SpanContext(
                self._trace_id,
                self._span_id,
                self._parent_id,
                self._flags,
                side.baggage,
                trace_state=side.trace_state,
                is_remote=False,
            )
        return context

    @property
    def tracer(self) -> Tracer:
        return self._owner.tracer

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
        # The whole body is in the try: one NOP per tag on 3.11+, two opcodes on 3.9/3.10
        # (a try around the comparison alone cost two more, counted with sys.settrace).
        # What can raise here is a key whose __eq__ does: it is retried as its text.
        try:
            if key == SAMPLING_PRIORITY:
                self._set_sampling_priority(value)
            if self._recording:
                # Laid out so a str value and a str key take no jump over another branch
                # (~35-40 instructions a sampled tag; callgrind).
                cls = value.__class__
                if cls is not str:
                    if cls is not bool and cls is not int and cls is not float:
                        value = normalize_value(value, self._owner.max_tag_value_length)
                elif len(value) > self._owner.max_tag_value_length:
                    value = value[: self._owner.max_tag_value_length]
                # A key that is not a str is stored as its text: it cannot fail to hash.
                if key.__class__ is not str:
                    key = safe_str(key)
                self._tags[key] = value  # type: ignore[index]
            return self
        except Exception:  # a key object whose __eq__ raises: not our error to raise
            if key.__class__ is str:
                return self
            return self.set_tag(safe_str(key), value)

    def log_kv(self, key_values: Mapping[str, Any], timestamp: Optional[float] = None) -> Span:
        """Record a structured log; values follow the same rules as tag values."""
        if self._recording:
            limit = self._owner.max_tag_value_length
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
                _log.debug("log_kv needs a mapping, got %r", type(key_values))
                return self
            ns = time_ns() if timestamp is None else seconds_to_ns(timestamp)
            if self._log_fields is None:
                self._log_ns = ns
                self._log_fields = fields
            else:
                logs = self._logs
                if logs is None:
                    self._logs = logs = [(self._log_ns, self._log_fields)]
                if len(logs) < self._owner.max_logs:
                    logs.append((ns, fields))
                else:  # past max_logs_per_span: dropped, counted
                    self._owner.logs_dropped.inc()
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

    def set_baggage_item(self, key: str, value: Optional[str]) -> Span:
        """Attach baggage that travels with the trace to every descendant span; a value of
        None removes the item, as in jaeger-client (and ``SpanContext.with_baggage_item``)."""
        if self._duration_ns is not None:
            return self
        if value is None:  # stored keys are str, as check() makes them
            key = key if key.__class__ is str else safe_str(key)
            if key not in self._baggage:
                return self
            baggage = {k: v for k, v in self._baggage.items() if k != key}
        else:
            checked = self._owner.baggage_limits.check(self._baggage, key, value)
            if checked is None:
                return self
            key, value = checked
            baggage = dict(self._baggage)
            baggage[key] = value
        previous = self._baggage.get(key)
        self._baggage = MappingProxyType(baggage)
        self._context = None
        if self._recording:  # the fields of jaeger-client's log (and Go's)
            fields = {"event": "baggage", "key": key, "value": value}
            if previous:
                fields["override"] = "true"
            self.log_kv(fields)
        return self

    def get_baggage_item(self, key: str) -> Optional[str]:
        try:
            return self._baggage.get(key)
        except Exception:  # an unhashable key, or one whose __hash__/__eq__ raises: not there
            return None

    def record_exception(self, exception: BaseException) -> Span:
        """Mark the span failed for an exception you handle yourself (say, answered with a
        500): ``error=true`` and an ``event=error`` log with ``error.kind``,
        ``error.object``, ``message`` and ``stack``, as when it escapes ``with span:``."""
        if isinstance(exception, BaseException):  # anything else: nothing to record
            record_error(self, exception, exception.__traceback__)
        return self

    def finish(self, finish_time: Optional[float] = None) -> None:
        """End the span and hand it to the reporter if sampled; later calls do nothing,
        and of calls racing on several threads exactly one ends it."""
        end = None if finish_time is None else seconds_to_ns(finish_time)
        try:
            del self._unfinished  # the claim: one step, so only one caller gets past it
        except AttributeError:
            return
        owner = self._owner
        recording = self._recording
        # Only the claimer counts the span: with the end time read from the counter's
        # clock (see SpanOwner), or with a tick when the time was given.
        if end is None:
            end = next(owner.sampled_clock if recording else owner.unsampled_clock)
        else:
            next(owner.sampled_ticks if recording else owner.unsampled_ticks)
        duration = end - self._start_ns
        self._duration_ns = duration if duration > 0 else 0
        if not recording:
            return
        self._recording = False
        inbox = owner.inbox  # the reporter's list, while it has room (see SpanInbox)
        if inbox is not None and len(inbox) < inbox.room:
            inbox.append(self)
            return
        # Read, then called: owner.report(...) would be a LOAD_METHOD on a slot, which
        # 3.11 cannot specialise (~95 instructions a sampled span; callgrind).
        report = owner.report
        if report is not None:  # None: the reporter discards spans (DiscardInbox)
            try:
                report(self)
            except Exception:  # a reporter's bug must not escape into user code
                report_failed(owner)

    def _set_sampling_priority(self, value: Any) -> None:
        if self._duration_ns is not None:
            return
        try:
            priority = int(value)
        except Exception:  # not a number, or a user __int__ that fails
            _log.debug("ignoring non-numeric sampling.priority %r", value)
            return
        if priority > 0:
            self._flags |= FLAG_SAMPLED | FLAG_DEBUG
            self._recording = True
            if self._tags is None:  # after a 0, the tags set before it stay (jaeger-client)
                self._tags = {}
        else:  # debug only means something together with sampled (docs/protocol.md#flags)
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


class TracerSpan(Span):
    """The class of every span the tracer starts: a :class:`Span` with object's own
    ``__init__``, so the tracer builds one with a plain class call while a user's
    ``Span()`` still raises. ~310 instructions a span cheaper than ``object.__new__(Span)``
    (callgrind, 3.11). Code that must know the real class tests ``type(x) is TracerSpan``."""

    __slots__ = ()
    __init__ = object.__init__


def report_failed(owner: SpanOwner) -> None:
    """Count and log a reporter that raised while handed a finished span."""
    owner.report_errors.inc()
    _log.debug("reporter failed", exc_info=True)


def log_entries(span: Span) -> Sequence[tuple[int, dict[str, Any]]]:
    """The span's logs as (epoch ns, fields) pairs, in the order they were recorded."""
    fields = span._log_fields
    if fields is None:
        return ()
    return span._logs or ((span._log_ns, fields),)


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
            "error.object": safe_repr(exc),
            "message": safe_str(exc),
        }
        if not isinstance(span, Span):  # another tracer's span: its own rules apply
            fields["stack"] = stack
            span.log_kv(fields)
            return
        before = len(log_entries(span)) if span._log_fields is not None else 0
        span.log_kv(fields)
        # Its own limit (max_traceback_length), keeping the end: the innermost frames.
        limit = span._owner.max_traceback_length
        entries = log_entries(span)
        if len(entries) > before:  # the log was kept (not past max_logs_per_span)
            entries[-1][1]["stack"] = stack[-limit:] if len(stack) > limit else stack
    except Exception:  # never replace the application's exception with ours
        _log.debug("could not record an error on %r", span, exc_info=True)

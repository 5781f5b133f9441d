"""``Span``: OpenTelemetry's span API over a jaeger_lite span, recorded the way the
OpenTelemetry Collector's Jaeger translator maps spans (docs/otel.md has the table).

The bridge holds no state of its own that matters after the call: kind, status, events
and links land on the jaeger_lite span at once, as tags, logs and references, so any
bridge of a span (one per activation) sees and changes the same span, and a span ended
through jaeger_lite's API keeps what OpenTelemetry code recorded on it.

It reads and writes the span's slots where the public methods would cost precision or
lose a rule: exact nanosecond times go through ``Nanoseconds``, a later link joins
``_references``, an OK status removes the tags an ERROR status added.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping, Sequence
from time import time_ns
from types import TracebackType
from typing import TYPE_CHECKING, Any, Optional, Union

from opentelemetry.trace import Span as OTelSpan
from opentelemetry.trace import SpanContext as OTelSpanContext
from opentelemetry.trace import SpanKind, Status, StatusCode, TraceFlags

from .._safe import safe_str
from .._values import normalize_value
from ..context import Reference, ReferenceType
from ..span import SAMPLING_PRIORITY, Span, log_entries
from ._attributes import (
    HTTP_STATUS_CODE,
    KIND_OF,
    STATUS_CODE,
    attribute_value,
    keep_status_unset,
    timestamp_ns,
)
from ._context import jaeger_context, otel_span_context

if TYPE_CHECKING:
    from ..scope import Scope

__all__ = ["BridgeSpan", "link_references", "new_bridge"]

_log = logging.getLogger("jaeger_lite")

STATUS_DESCRIPTION = "otel.status_description"


def link_references(links: Sequence[Any]) -> tuple[Reference, ...]:
    """FollowsFrom references for OpenTelemetry links (links to no valid span are
    skipped; link attributes have no place in a Jaeger reference and are not kept)."""
    refs = []
    try:
        for link in links:
            context = getattr(link, "context", None)
            target = jaeger_context(_LinkTarget(context)) if context is not None else None
            if target is not None and target.has_trace:
                refs.append(Reference(ReferenceType.FOLLOWS_FROM, target))
    except Exception:  # not links (not iterable, a link that raises): the rest is ignored
        _log.debug("links must be a sequence of Links; ignored from %r", links)
    return tuple(refs)


class _LinkTarget:
    """A span context seen as a span, for :func:`jaeger_context`."""

    __slots__ = ("_context",)

    def __init__(self, context: OTelSpanContext) -> None:
        self._context = context

    def get_span_context(self) -> OTelSpanContext:
        return self._context


class BridgeSpan(OTelSpan):
    """An OpenTelemetry ``Span`` whose calls record on a jaeger_lite span.

    ``jaeger_span`` is the span underneath. Unsampled spans do not record, as with
    jaeger_lite's own API; ``is_recording()`` says which.
    """

    __slots__ = (
        "_span",
        "_scope",
        "_borrowed",
        "_otel_context",
        "_record_exception",
        "_set_status_on_exception",
        "_kind",
    )
    _span: Span
    # The jaeger_lite scope that made this bridge current (jaeger_lite's API), if any.
    _scope: Optional[Scope]
    # The stand-in scope jaeger_lite's API gets while the bridge is current through
    # OpenTelemetry's API (made once, on first use).
    _borrowed: Optional[Scope]
    _otel_context: Optional[OTelSpanContext]
    _record_exception: bool
    _set_status_on_exception: bool
    _kind: Any  # the SpanKind given at start; None: read the span.kind tag

    def __init__(self, span: Span) -> None:
        self._span = span
        self._scope = self._borrowed = self._otel_context = self._kind = None
        self._record_exception = self._set_status_on_exception = True

    @property
    def jaeger_span(self) -> Span:
        """The jaeger_lite span this bridge records on."""
        return self._span

    # What instrumentations read of an SDK span besides the API (the Flask instrumentation
    # reads ``kind``; OpenTelemetry's Jaeger propagator reads ``parent``).

    @property
    def kind(self) -> SpanKind:
        """The span kind given at start (for a span started through jaeger_lite's API,
        what its ``span.kind`` tag says)."""
        kind = self._kind
        if kind is None:
            tags = self._span._tags
            kind = KIND_OF.get(tags.get("span.kind", "") if tags else "", SpanKind.INTERNAL)
        return kind  # type: ignore[no-any-return]

    @property
    def name(self) -> str:
        return self._span.operation_name

    @property
    def attributes(self) -> Mapping[str, Any]:
        """The tags recorded so far (read-only; empty when not sampled)."""
        return self._span.tags

    @property
    def parent(self) -> Optional[OTelSpanContext]:
        """The parent's context, or None for a root."""
        span = self._span
        if not span._parent_id:
            return None
        remote = span._extras is not None and span._extras.parent_remote is True
        return OTelSpanContext(span._trace_id, span._parent_id, remote, TraceFlags(span._flags & 1))

    @property
    def start_time(self) -> int:
        """Epoch nanoseconds."""
        return self._span._start_ns

    @property
    def end_time(self) -> Optional[int]:
        """Epoch nanoseconds, None while the span is open."""
        span = self._span
        return None if span._duration_ns is None else span._start_ns + span._duration_ns

    def get_span_context(self) -> OTelSpanContext:
        context = self._otel_context
        span = self._span
        # Rebuilt when the sampled flag changed (a sampling.priority tag can change it).
        if context is None or context.trace_flags != span._flags & 1:
            context = self._otel_context = otel_span_context(span)
        return context

    def is_recording(self) -> bool:
        return self._span._recording

    def set_attribute(self, key: str, value: Any) -> None:
        # Span.set_tag inlined (the same rules, plus lists/tuples and None as for any
        # attribute): a frame less per attribute, ~0.07 µs on CPython 3.11.
        span = self._span
        if key.__class__ is not str:  # first: a foreign key's __eq__ never runs
            key = safe_str(key)
        # An empty key is dropped, as the SDK drops it (the spec: keys MUST be non-empty).
        if span._recording and key and key != SAMPLING_PRIORITY:
            cls = value.__class__
            if cls is str:
                limit = span._owner.max_tag_value_length
                if len(value) > limit:
                    value = value[:limit]
            elif cls is int:
                if key == HTTP_STATUS_CODE:  # a status the translator would infer (see there)
                    span._tags[key] = value  # type: ignore[index]
                    keep_status_unset(span, value)
                    return
            elif cls is not bool and cls is not float:
                if value is None:
                    return
                value = attribute_value(value, span._owner.max_tag_value_length)
            span._tags[key] = value  # type: ignore[index]
        elif key == SAMPLING_PRIORITY and value is not None:
            span.set_tag(key, value)  # may start or stop recording

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        try:
            items = list(attributes.items())
        except AttributeError:  # not a mapping: ignored, never raised into the caller
            _log.debug("set_attributes needs a mapping, got %r", type(attributes))
            return
        for key, value in items:
            self.set_attribute(key, value)

    def add_event(
        self,
        name: str,
        attributes: Optional[Mapping[str, Any]] = None,
        timestamp: Optional[int] = None,
    ) -> None:
        """A log: ``event`` is the name, the attributes are its fields (an attribute
        named ``event`` wins, as in the Collector's translator)."""
        span = self._span
        if not span._recording:
            return
        # Span.log_kv inlined, without its intermediate dict: ~0.2 µs less per event.
        limit = span._owner.max_tag_value_length
        if name.__class__ is not str or len(name) > limit:
            name = normalize_value(name, limit)
        fields: dict[str, Any] = {"event": name}
        if attributes:
            try:
                for key, value in attributes.items():
                    cls = value.__class__
                    if not (
                        (cls is str and len(value) <= limit)
                        or cls is int
                        or cls is float
                        or cls is bool
                    ):
                        if value is None:
                            continue
                        value = attribute_value(value, limit)
                    if key.__class__ is not str:
                        key = safe_str(key)
                    if key:  # an empty key is dropped, as by the SDK
                        fields[key] = value
            except Exception:  # not a mapping: the event is kept without attributes
                _log.debug("event attributes need a mapping, got %r", attributes)
        stamp = timestamp_ns(timestamp)
        ns = time_ns() if stamp is None else int(stamp)
        if span._log_fields is None:  # the first log lives in the span (see Span)
            span._log_ns = ns
            span._log_fields = fields
        else:
            logs = span._logs
            if logs is None:
                span._logs = logs = [(span._log_ns, span._log_fields)]
            if len(logs) < span._owner.max_logs:
                logs.append((ns, fields))
            else:  # past max_logs_per_span: dropped, counted
                span._owner.logs_dropped.inc()

    def add_link(self, context: OTelSpanContext, attributes: Any = None) -> None:
        span = self._span
        if span._recording:
            span._references = span._references + link_references([_Link(context)])

    def update_name(self, name: str) -> None:
        self._span.set_operation_name(name)

    def set_status(
        self, status: Union[Status, StatusCode], description: Optional[str] = None
    ) -> None:
        span = self._span
        if not span._recording:
            return
        if isinstance(status, Status):
            code, description = status.status_code, status.description
        else:
            code = status
        tags: dict[str, Any] = span._tags  # type: ignore[assignment]
        previous = tags.get(STATUS_CODE)
        if code is StatusCode.UNSET or previous == "OK":  # UNSET changes nothing, OK is final
            return
        if code is StatusCode.OK:
            if previous == "ERROR":  # what the ERROR status added goes
                tags.pop("error", None)
                tags.pop(STATUS_DESCRIPTION, None)
            span.set_tag(STATUS_CODE, "OK")
        elif code is StatusCode.ERROR:
            span.set_tag("error", True)
            span.set_tag(STATUS_CODE, "ERROR")
            if description:
                span.set_tag(STATUS_DESCRIPTION, description)
            else:
                tags.pop(STATUS_DESCRIPTION, None)

    def record_exception(
        self,
        exception: BaseException,
        attributes: Optional[Mapping[str, Any]] = None,
        timestamp: Optional[int] = None,
        escaped: bool = False,
    ) -> None:
        """An ``exception`` event with OpenTelemetry's ``exception.*`` attributes; the
        stack trace is cut at ``max_traceback_length`` keeping its end, as jaeger_lite's
        error logs are. The status is left alone, as OpenTelemetry specifies."""
        span = self._span
        if not span._recording:
            return
        try:
            cls = type(exception)
            module = cls.__module__
            name = (
                f"{module}.{cls.__qualname__}"
                if module and module != "builtins"
                else (cls.__qualname__)
            )
            stack = "".join(traceback.format_exception(cls, exception, exception.__traceback__))
            fields: dict[str, Any] = {
                "event": "exception",
                "exception.type": name,
                "exception.message": safe_str(exception),
                "exception.stacktrace": "",
                "exception.escaped": str(bool(escaped)),
            }
            limit = span._owner.max_tag_value_length
            for key, value in (attributes or {}).items():
                if value is not None:
                    fields[key] = attribute_value(value, limit)
            span.log_kv(fields, timestamp_ns(timestamp))
            entries = log_entries(span)
            if entries:  # log_kv makes any other value text: the arrays go back in
                logged = entries[-1][1]
                for key, value in fields.items():
                    if value.__class__ is tuple and key in logged:
                        logged[key] = value
            limit = span._owner.max_traceback_length
            if entries and "exception.stacktrace" not in (attributes or {}):
                entries[-1][1]["exception.stacktrace"] = (
                    stack[-limit:] if len(stack) > limit else stack
                )
        except Exception:  # never replace the application's exception with ours
            _log.debug("could not record an exception on %r", span, exc_info=True)

    def end(self, end_time: Optional[int] = None) -> None:
        self._span.finish(None if end_time is None else timestamp_ns(end_time))

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc_val: Optional[BaseException],
        exc_tb: Optional[TracebackType],
    ) -> None:
        """Used as a context manager (``with tracer.start_span(...) as span``): an
        exception is recorded (``exception.escaped`` true, as the SDK's span does here) and
        sets the ERROR status (unless a status was set), as the span was started to do;
        then the span ends."""
        if isinstance(exc_val, Exception) and self._span._recording:
            on_exception(self, exc_val, self._record_exception, self._set_status_on_exception, True)
        self.end()

    def __repr__(self) -> str:
        return f"<jaeger_lite.otel span {self._span!r}>"


class _Link:
    """A link given to ``add_link``: the context only."""

    __slots__ = ("context",)

    def __init__(self, context: OTelSpanContext) -> None:
        self.context = context


def on_exception(
    bridge: BridgeSpan, exc: Exception, record: bool, set_status: bool, escaped: bool = False
) -> None:
    """What an exception escaping a span's block does to it, as ``use_span`` does (which
    records it with ``escaped`` false; the SDK span's own ``__exit__`` says true)."""
    if record:
        bridge.record_exception(exc, escaped=escaped)
    tags = bridge._span._tags
    if set_status and (tags is None or tags.get(STATUS_CODE, "UNSET") == "UNSET"):
        bridge.set_status(StatusCode.ERROR, f"{type(exc).__name__}: {safe_str(exc)}")


_new = object.__new__


def new_bridge(
    span: Span, record_exception: bool = True, set_status: bool = True, kind: Any = None
) -> BridgeSpan:
    """A bridge over ``span``, built without a class call (~0.1 µs less per span)."""
    bridge: BridgeSpan = _new(BridgeSpan)
    bridge._span = span
    bridge._scope = bridge._borrowed = bridge._otel_context = None
    bridge._record_exception = record_exception
    bridge._set_status_on_exception = set_status
    bridge._kind = kind
    return bridge

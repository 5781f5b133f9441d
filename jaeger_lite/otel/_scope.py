"""``ScopeManager``: jaeger_lite's scopes kept in OpenTelemetry's context, so the two APIs
share one active span.

``start_active_span`` puts a bridge of its span in OpenTelemetry's context, where
``opentelemetry.trace.get_current_span()`` and OpenTelemetry instrumentations find it; a
span OpenTelemetry's API made current is what ``tracer.active_span`` returns. A span that
is not ours (another SDK's, or a remote parent attached by an instrumentation) appears to
jaeger_lite's API as a stand-in: a span that records nothing, whose context is the parent
of the spans started under it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional

from opentelemetry.context.context import Context
from opentelemetry.trace import INVALID_SPAN_CONTEXT, NonRecordingSpan

from .._global import global_tracer
from ..context import SpanContext
from ..scope import Scope
from ..scope import ScopeManager as BaseScopeManager
from ..span import Span
from ._context import (
    SPAN_KEY,
    RemoteSpan,
    attach,
    baggage_of,
    detach,
    get_current,
    jaeger_context,
    with_span,
)
from ._span import BridgeSpan, new_bridge

if TYPE_CHECKING:
    from ..tracer import Tracer

__all__ = ["ScopeManager", "StandInSpan"]

_new = object.__new__


class ScopeManager(BaseScopeManager):
    """The active span lives in OpenTelemetry's context (a ``ContextVar``): per thread and
    asyncio task, inherited by new tasks and ``contextvars.copy_context()``, and the same
    span for jaeger_lite's API and OpenTelemetry's.

    :class:`~jaeger_lite.otel.TracerProvider` installs one on the tracer it carries; give
    one to ``init_tracer(scope_manager=...)`` or ``Tracer(scope_manager=...)`` to start
    that way. ``tracer`` is what ``span.tracer`` of a stand-in returns (default: the
    global tracer).
    """

    __slots__ = ("tracer", "_getter")

    def __init__(self, tracer: Optional[Tracer] = None) -> None:
        self.tracer = tracer
        self._getter = _active_getter(self)

    def activate(self, span: Any, finish_on_close: bool) -> Scope:
        holder: Any = new_bridge(span) if isinstance(span, Span) else _Held(span)
        # Built without __init__, as ContextVarsScopeManager builds its scopes.
        scope: _ContextScope = _new(_ContextScope)
        scope._manager = self
        scope.span = span
        scope._finish_on_close = finish_on_close
        scope._closed = False
        context = scope._context = with_span(get_current(), holder)
        holder._scope = scope
        scope._token = attach(context)
        return scope

    @property
    def active(self) -> Optional[Scope]:
        return self._getter()

    def active_getter(self) -> Callable[[], Optional[Scope]]:
        return self._getter


class _ContextScope(Scope):
    """Made by :meth:`ScopeManager.activate` only: closing it restores the context it
    replaced (when it is still the current one, as for jaeger_lite's own scopes)."""

    __slots__ = ("_context", "_token")
    _context: Context
    _token: Any

    def close(self) -> None:
        if self._closed or get_current() is not self._context:
            return
        self._closed = True
        detach(self._token)
        if self._finish_on_close:
            self.span.finish()


class _BorrowedScope(Scope):
    """What jaeger_lite's API sees while OpenTelemetry's API has made a span current:
    closing it does nothing, the code that made the span current will restore the
    context."""

    __slots__ = ()

    def close(self) -> None:
        return


def _borrow(manager: ScopeManager, span: Any) -> _BorrowedScope:
    scope: _BorrowedScope = _new(_BorrowedScope)
    scope._manager = manager
    scope.span = span
    scope._finish_on_close = False
    scope._closed = False
    return scope


class _Held(NonRecordingSpan):
    """A span of another OpenTracing tracer activated through our scope manager: to
    OpenTelemetry an invalid span (it cannot read it), to jaeger_lite's API that span."""

    def __init__(self, span: Any) -> None:
        super().__init__(INVALID_SPAN_CONTEXT)
        self.span = span
        self._scope: Optional[_ContextScope] = None


class StandInSpan(Span):
    """A span that is not ours as jaeger_lite's API sees it (the current span of another
    SDK, or a remote parent an OpenTelemetry instrumentation made current): it records
    nothing and is already finished; spans started under it continue its trace."""

    __slots__ = ("_stand_in_tracer",)
    _stand_in_tracer: Tracer

    @property
    def tracer(self) -> Tracer:
        return self._stand_in_tracer


def stand_in(context: SpanContext, tracer: Tracer) -> StandInSpan:
    """A finished, non-recording span whose context is ``context`` (kept as it is, with
    its baggage, debug id and sampling deferral, for the spans started under it)."""
    span: StandInSpan = _new(StandInSpan)
    span._stand_in_tracer = tracer
    span._owner = None  # type: ignore[assignment]  # never read: the span never records or reports
    span._operation_name = ""
    span._trace_id = context._trace_id
    span._span_id = context._span_id
    span._parent_id = context._parent_id
    span._flags = context._flags
    span._extras = None  # then the rare fields below (see _span_extras)
    span._baggage = context._baggage
    span._trace_state = context._trace_state
    span._references = ()
    span._start_ns = 0
    span._duration_ns = 0  # finished: set_tag, log_kv, baggage and finish() do nothing
    span._tags = span._log_fields = span._logs = None
    span._recording = False
    span._context = context
    return span


def _active_getter(manager: ScopeManager) -> Callable[[], Optional[Scope]]:
    def active() -> Optional[Scope]:
        context = get_current()
        otel_span = context.get(SPAN_KEY)
        if otel_span.__class__ is BridgeSpan:  # ours: the common case
            scope = otel_span._scope
            if scope is not None and scope._context is context:  # type: ignore[attr-defined]
                return scope
            return otel_span._borrowed or _borrow_bridge(manager, otel_span)
        if otel_span is None:
            return None
        return _foreign_scope(manager, context, otel_span)

    return active


def _borrow_bridge(manager: ScopeManager, bridge: BridgeSpan) -> Scope:
    scope = bridge._borrowed = _borrow(manager, bridge._span)
    return scope


def _foreign_scope(manager: ScopeManager, context: Context, otel_span: Any) -> Optional[Scope]:
    """The scope of a current span that is not a bridge: a held span, or a stand-in."""
    if isinstance(otel_span, _Held):
        scope = otel_span._scope
        if scope is not None and scope._context is context:
            return scope
        return _borrow(manager, otel_span.span)
    if isinstance(otel_span, BridgeSpan):  # a subclass: no cached scopes
        return _borrow(manager, otel_span._span)
    tracer = manager.tracer or global_tracer()
    if isinstance(otel_span, RemoteSpan):
        cached = otel_span.stand_in
        if cached is None:
            cached = otel_span.stand_in = stand_in(otel_span.jaeger_context, tracer)
        return _borrow(manager, cached)
    parent = jaeger_context(otel_span, baggage_of(context))
    return None if parent is None else _borrow(manager, stand_in(parent, tracer))

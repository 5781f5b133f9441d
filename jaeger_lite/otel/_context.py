"""OpenTelemetry's context as the one place both APIs keep the active span, and the
conversions between OpenTelemetry's span contexts and ours.

OpenTelemetry keeps the current span in its ``Context`` (a read-only dict held in a
``ContextVar`` by the default runtime context) under a key made at import time. jaeger_lite
keeps its spans there too once a tracer is bridged (see ``_scope``), so threads, asyncio
tasks and ``contextvars.copy_context()`` treat both APIs alike: it is one variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any, Callable, Optional

from opentelemetry import baggage as otel_baggage
from opentelemetry import context as otel_context
from opentelemetry.context.context import Context
from opentelemetry.trace import (
    INVALID_SPAN,
    NonRecordingSpan,
    TraceFlags,
    TraceState,
    set_span_in_context,
)
from opentelemetry.trace import SpanContext as OTelSpanContext

from ..context import EMPTY_BAGGAGE, FLAG_SAMPLED, SpanContext

__all__ = [
    "SPAN_KEY",
    "RemoteSpan",
    "attach",
    "baggage_of",
    "detach",
    "get_current",
    "jaeger_context",
    "otel_span_context",
    "reset",
    "with_missing_baggage",
    "with_span",
]

#: The key OpenTelemetry stores the current span under. It carries a random suffix made at
#: import; reading it off a context the public API built keeps us off the private name.
SPAN_KEY: str = next(iter(set_span_in_context(INVALID_SPAN, Context())))


def _runtime_functions() -> tuple[
    Callable[[], Context], Callable[[Context], Any], Callable[[Any], None]
]:
    """get_current, attach and detach of OpenTelemetry's runtime context.

    With the default runtime (a ContextVar) these are the variable's own C methods: 3-4
    frames fewer per span than ``opentelemetry.context.get_current()`` and ``attach()``,
    ~0.2 µs per span started and ended through either API on CPython 3.11. Any other
    runtime (``OTEL_PYTHON_CONTEXT``) is used through its methods.
    """
    runtime = getattr(otel_context, "_RUNTIME_CONTEXT", None)
    var = getattr(runtime, "_current_context", None)
    if isinstance(var, ContextVar):
        return var.get, var.set, var.reset
    if runtime is not None:
        return runtime.get_current, runtime.attach, runtime.detach
    return otel_context.get_current, otel_context.attach, otel_context.detach


get_current, attach, reset = _runtime_functions()


def detach(token: Any) -> None:
    """Restore the context ``token`` replaced. A token made in another context (a scope
    closed in another task) cannot reset the variable there: the previous context is
    restored by value instead, as jaeger_lite's own scopes do."""
    try:
        reset(token)
    except ValueError:
        previous = getattr(token, "old_value", None)
        attach(previous if isinstance(previous, Context) else Context())


def with_span(context: Context, otel_span: Any) -> Context:
    """A copy of ``context`` whose current span is ``otel_span`` (one dict copy, where
    ``set_span_in_context`` makes two)."""
    new = Context(context)
    _set_item(new, SPAN_KEY, otel_span)
    return new


_set_item = dict.__setitem__  # Context forbids item assignment: dict's own, bound once


class RemoteSpan(NonRecordingSpan):
    """A context read from a carrier by :class:`~jaeger_lite.otel.Propagator`: what
    OpenTelemetry sees of it, plus our own context (baggage, a ``jaeger-debug-id``, a
    deferred sampling decision) for the span started under it."""

    def __init__(self, context: SpanContext) -> None:
        super().__init__(otel_span_context(context, remote=True))
        self.jaeger_context = context
        self.stand_in: Any = None  # what jaeger_lite's API sees while this is current

    def __repr__(self) -> str:
        return f"RemoteSpan({self.jaeger_context!r})"


def otel_span_context(context: Any, remote: bool = False) -> OTelSpanContext:
    """OpenTelemetry's view of our context (or span): ids, the sampled flag (Jaeger's
    debug bit 0x02 is OpenTelemetry's random-trace-id bit, so only 0x01 crosses) and the
    W3C ``tracestate``."""
    state = context._trace_state
    return OTelSpanContext(
        context._trace_id,
        context._span_id,
        remote,
        TraceFlags(context._flags & FLAG_SAMPLED),
        TraceState.from_header([state]) if state else None,
    )


def jaeger_context(
    otel_span: Any, baggage: Optional[Mapping[str, object]] = None
) -> Optional[SpanContext]:
    """Our context for a span that is not ours (another SDK's, or a remote parent read by
    OpenTelemetry's propagators), with OpenTelemetry ``baggage`` as its baggage; None when
    it names no trace and there is no baggage."""
    if isinstance(otel_span, RemoteSpan):
        context = otel_span.jaeger_context
        return with_missing_baggage(context, baggage) if baggage else context
    try:
        otel = otel_span.get_span_context()
        valid = otel is not None and otel.is_valid
    except Exception:  # a foreign span's bug: treat it as no parent
        valid = False
    items = {k: str(v) for k, v in baggage.items()} if baggage else EMPTY_BAGGAGE
    if not valid:
        return SpanContext(0, 0, baggage=items) if items else None
    state = otel.trace_state
    return SpanContext(
        otel.trace_id,
        otel.span_id,
        0,
        FLAG_SAMPLED if otel.trace_flags & TraceFlags.SAMPLED else 0,
        items,
        trace_state=state.to_header() or None if state else None,
        is_remote=bool(otel.is_remote),  # OTLP's span and link flags carry it
    )


def with_missing_baggage(context: SpanContext, baggage: Mapping[str, object]) -> SpanContext:
    """``context`` with OpenTelemetry baggage added under the keys it does not have."""
    for key, value in baggage.items():
        if key not in context.baggage:
            context = context.with_baggage_item(key, str(value))
    return context


def baggage_of(context: Context) -> Mapping[str, object]:
    """OpenTelemetry baggage in ``context`` (empty when none)."""
    return otel_baggage.get_all(context)

"""``Propagator``: OpenTelemetry's propagation API writing and reading jaeger_lite's formats.

``opentelemetry.propagate.inject``/``extract`` (what OpenTelemetry's HTTP instrumentations
call) go through the global propagator. This one hands the current span's context to the
jaeger_lite tracer's own ``inject``/``extract``, so they write and read the formats of
its ``propagation=`` (``JAEGER_PROPAGATION``): Jaeger, B3 or W3C, with baggage, exactly
as jaeger_lite's API does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Optional

from opentelemetry import baggage as otel_baggage
from opentelemetry.context.context import Context
from opentelemetry.propagators.textmap import (
    CarrierT,
    Getter,
    Setter,
    TextMapPropagator,
    default_getter,
    default_setter,
)

from .._global import global_tracer
from ..context import SpanContext
from ..propagation.base import Format
from ..tracer import Tracer as JaegerTracer
from ._context import (
    SPAN_KEY,
    RemoteSpan,
    baggage_of,
    get_current,
    jaeger_context,
    with_missing_baggage,
    with_span,
)
from ._span import BridgeSpan

__all__ = ["Propagator"]

_log = logging.getLogger("jaeger_lite")

_PROBE = SpanContext(1, 1, 0, 1, {})


class Propagator(TextMapPropagator):
    """An OpenTelemetry ``TextMapPropagator`` using ``tracer``'s codecs (the global
    tracer's at each call when none is given).

    :class:`~jaeger_lite.otel.TracerProvider` installs one unless ``OTEL_PROPAGATORS`` is
    set; ``OTEL_PROPAGATORS=jaeger_lite`` (the ``opentelemetry_propagator`` entry point)
    or ``opentelemetry.propagate.set_global_textmap(Propagator(tracer))`` pick it
    explicitly. OpenTelemetry baggage in the context is injected too (the span's own
    baggage wins for the same key; with no span current, alone); extracted baggage
    becomes OpenTelemetry baggage as well as the baggage of the spans started under the
    context.
    """

    def __init__(self, tracer: Optional[JaegerTracer] = None) -> None:
        self._tracer = tracer

    @property
    def tracer(self) -> JaegerTracer:
        return self._tracer if self._tracer is not None else global_tracer()

    def inject(
        self,
        carrier: CarrierT,
        context: Optional[Context] = None,
        setter: Setter[CarrierT] = default_setter,
    ) -> None:
        if context is None:
            context = get_current()
        otel_span = context.get(SPAN_KEY)
        if otel_span.__class__ is BridgeSpan:
            span_context: Optional[SpanContext] = otel_span._span.context
            extra = baggage_of(context)
            if extra and span_context is not None:
                span_context = with_missing_baggage(span_context, extra)
        else:
            # No span, or not ours: OpenTelemetry baggage alone still travels (as with
            # OpenTelemetry's baggage propagator), the formats' baggage-only headers.
            span_context = jaeger_context(
                _NO_SPAN if otel_span is None else otel_span, baggage_of(context)
            )
        if span_context is None or not (
            span_context.has_trace or span_context.baggage or span_context.debug_id
        ):
            return
        headers: dict[str, str] = {}
        self.tracer.inject(span_context, Format.HTTP_HEADERS, headers)
        for key, value in headers.items():
            try:
                setter.set(carrier, key, value)
            except Exception:  # a carrier that cannot take a header: propagation never raises
                _log.debug("could not set %r on the carrier", key, exc_info=True)

    def extract(
        self,
        carrier: CarrierT,
        context: Optional[Context] = None,
        getter: Getter[CarrierT] = default_getter,
    ) -> Context:
        if context is None:
            context = Context()
        span_context = self.tracer.extract(Format.HTTP_HEADERS, _pairs(carrier, getter))
        if span_context is None:
            return context
        for key, value in span_context.baggage.items():
            context = otel_baggage.set_baggage(key, value, context)
        return with_span(context, RemoteSpan(span_context))

    @property
    def fields(self) -> set[str]:
        """The header names the tracer's formats write (without the per-item baggage
        headers, whose names depend on the keys)."""
        headers: dict[str, str] = {}
        self.tracer.inject(_PROBE, Format.HTTP_HEADERS, headers)
        return set(headers)

    def __repr__(self) -> str:
        return f"<jaeger_lite.otel.Propagator {self.tracer!r}>"


class _NoSpan:
    """Stands for "no current span" in :func:`jaeger_context`."""

    __slots__ = ()

    def get_span_context(self) -> None:
        return None


_NO_SPAN = _NoSpan()


def _pairs(carrier: Any, getter: Getter[Any]) -> list[tuple[str, str]]:
    """Every (header, value) the getter finds in ``carrier`` (none if it fails)."""
    pairs: list[tuple[str, str]] = []
    try:
        keys: Iterable[str] = getter.keys(carrier)
        for key in keys:
            values: Any = getter.get(carrier, key)
            if values is None:
                continue
            if isinstance(values, str):
                values = [values]
            pairs.extend((key, value) for value in values)
    except Exception:  # a foreign carrier or getter: no context, never a crash
        _log.debug("could not read the carrier", exc_info=True)
    return pairs

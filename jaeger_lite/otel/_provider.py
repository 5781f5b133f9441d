"""``TracerProvider``: what ``opentelemetry.trace.set_tracer_provider`` takes, carrying a
jaeger_lite tracer (the global one unless given)."""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Optional

from opentelemetry import propagate
from opentelemetry.trace import TracerProvider as OTelTracerProvider

from .._global import global_tracer
from ..scope import ContextVarsScopeManager
from ..tracer import Tracer as JaegerTracer
from ._scope import ScopeManager
from ._tracer import Tracer
from .propagator import Propagator

__all__ = ["TracerProvider", "share_active_span"]

_log = logging.getLogger("jaeger_lite")


class TracerProvider(OTelTracerProvider):
    """An OpenTelemetry ``TracerProvider`` whose tracers start jaeger_lite spans::

        opentelemetry.trace.set_tracer_provider(jaeger_lite.otel.TracerProvider(tracer))

    ``tracer`` is a jaeger_lite ``Tracer``; without one, the global tracer at each span
    (the no-op tracer until ``init_tracer()`` or ``set_global_tracer()`` runs). The
    tracer's scope manager becomes a :class:`~jaeger_lite.otel.ScopeManager`, so spans
    active through either API are the parents of spans started through the other.

    Unless ``OTEL_PROPAGATORS`` is set (or ``set_propagator=False``), the provider also
    makes a :class:`~jaeger_lite.otel.Propagator` OpenTelemetry's global propagator, so
    OpenTelemetry instrumentations write and read the tracer's ``propagation=`` formats.
    """

    def __init__(
        self, tracer: Optional[JaegerTracer] = None, *, set_propagator: Optional[bool] = None
    ) -> None:
        if tracer is not None and not isinstance(tracer, JaegerTracer):
            raise TypeError(
                f"TracerProvider needs a jaeger_lite.Tracer, got {type(tracer).__name__}"
            )
        self._fixed = tracer
        self._adopted: Optional[JaegerTracer] = None
        self._tracers: dict[tuple[str, Optional[str]], Tracer] = {}
        self._lock = threading.Lock()
        if tracer is not None:
            self._adopt(tracer)
        if set_propagator is None:
            set_propagator = not os.environ.get("OTEL_PROPAGATORS", "").strip()
        if set_propagator:
            propagate.set_global_textmap(Propagator(tracer))

    @property
    def tracer(self) -> JaegerTracer:
        """The jaeger_lite tracer that starts the spans (now)."""
        tracer = self._fixed
        if tracer is None:
            tracer = global_tracer()
            if tracer is not self._adopted:
                self._adopt(tracer)
        return tracer

    def _adopt(self, tracer: JaegerTracer) -> None:
        share_active_span(tracer)
        self._adopted = tracer

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: Optional[str] = None,
        schema_url: Optional[str] = None,
        attributes: Any = None,
    ) -> Tracer:
        """The tracer of one instrumentation scope (one per name and version)."""
        key = (instrumenting_module_name or "", instrumenting_library_version or None)
        tracer = self._tracers.get(key)
        if tracer is None:
            with self._lock:
                tracer = self._tracers.setdefault(key, Tracer(self, *key))
        return tracer

    @property
    def resource(self) -> _Resource:
        """``service.name`` of the tracer, where OpenTelemetry code looks for it (the
        logging instrumentation's ``otelServiceName``)."""
        return _Resource({"service.name": self.tracer.service_name})

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Wait until the spans ended so far are sent; False on timeout."""
        return self.tracer.flush(timeout_millis / 1000)

    def shutdown(self) -> None:
        """Close the tracer (idempotent): flush and stop its reporter and sampler."""
        self.tracer.close()

    def __repr__(self) -> str:
        which = repr(self._fixed) if self._fixed is not None else "the global tracer"
        return f"<jaeger_lite.otel.TracerProvider over {which}>"


class _Resource:
    """The part of an SDK ``Resource`` instrumentations read: ``attributes``."""

    __slots__ = ("attributes",)

    def __init__(self, attributes: Mapping[str, Any]) -> None:
        self.attributes = MappingProxyType(dict(attributes))


_warned: weakref.WeakSet[JaegerTracer] = weakref.WeakSet()


def share_active_span(tracer: JaegerTracer) -> None:
    """Keep ``tracer``'s active span in OpenTelemetry's context: its default scope
    manager is replaced by a :class:`ScopeManager` (scopes open in the old one stay
    there). A scope manager of your own is kept, with a warning: then each API sees only
    its own active span."""
    manager = tracer.scope_manager
    if isinstance(manager, ScopeManager):
        if manager.tracer is None:
            manager.tracer = tracer
    elif type(manager) is ContextVarsScopeManager:
        tracer.scope_manager = ScopeManager(tracer)
    elif tracer not in _warned:
        _warned.add(tracer)
        _log.warning(
            "tracer %r keeps its scope manager %s: spans active through "
            "jaeger_lite's API are not current in OpenTelemetry's, and the other way round "
            "(give it jaeger_lite.otel.ScopeManager() to share them)",
            tracer.service_name,
            type(manager).__name__,
        )

"""OpenTracing base classes when the optional ``opentracing`` package is installed.

jaeger_lite's tracer, spans, contexts, scopes and exceptions subclass opentracing's
classes when it can be imported, so existing OpenTracing instrumentation accepts them;
without it they subclass ``object``/``Exception`` and behave the same.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # mypy sees the plain bases: the behaviour never depends on them.
    TracerBase = object
    SpanBase = object
    SpanContextBase = object
    ScopeBase = object
    ScopeManagerBase = object
    UnsupportedFormatBase = Exception
    InvalidCarrierBase = Exception
    SpanContextCorruptedBase = Exception
    OPENTRACING_AVAILABLE = False
else:
    try:
        import opentracing as _ot
    except ImportError:  # the optional extra is not installed
        _ot = None

    OPENTRACING_AVAILABLE = _ot is not None
    if _ot is not None:
        TracerBase = _ot.Tracer
        SpanBase = _ot.Span
        SpanContextBase = _ot.SpanContext
        ScopeBase = _ot.Scope
        ScopeManagerBase = _ot.ScopeManager
        UnsupportedFormatBase = _ot.UnsupportedFormatException
        InvalidCarrierBase = _ot.InvalidCarrierException
        SpanContextCorruptedBase = _ot.SpanContextCorruptedException
    else:
        TracerBase = SpanBase = SpanContextBase = ScopeBase = ScopeManagerBase = object
        UnsupportedFormatBase = InvalidCarrierBase = SpanContextCorruptedBase = Exception


def set_opentracing_global_tracer(tracer: object) -> None:
    """Register ``tracer`` as ``opentracing.global_tracer()`` too, if opentracing is installed."""
    if OPENTRACING_AVAILABLE:
        import opentracing

        opentracing.set_global_tracer(tracer)

"""OpenTracing compatibility when the optional ``opentracing`` package is installed.

jaeger_lite's tracer and exceptions subclass opentracing's classes, so existing OpenTracing
instrumentation accepts them; without it they subclass ``object``/``Exception`` and behave
the same.

Spans, contexts, scopes and scope managers cannot subclass opentracing's classes without
losing ``__slots__``: those classes have none, so every instance would get a ``__dict__``
(a span 168 → 192 bytes, and a misspelt attribute write would succeed silently). Instead
each of our classes names, as its ``__class__`` attribute, a marker class that subclasses
the opentracing one: ``isinstance`` consults ``__class__`` when the real type does not
match, so ``isinstance(span, opentracing.Span)`` is true while ``type(span)`` stays our
slotted class. Code that must know the real class uses ``type(x)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "OPENTRACING_AVAILABLE",
    "get_opentracing_global_tracer",
    "opentracing_class",
    "opentracing_global_state",
    "restore_opentracing_global_state",
    "set_opentracing_global_tracer",
]

if TYPE_CHECKING:  # mypy sees the plain bases: the behaviour never depends on them.
    TracerBase = object
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
        UnsupportedFormatBase = _ot.UnsupportedFormatException
        InvalidCarrierBase = _ot.InvalidCarrierException
        SpanContextCorruptedBase = _ot.SpanContextCorruptedException
    else:
        TracerBase = object
        UnsupportedFormatBase = InvalidCarrierBase = SpanContextCorruptedBase = Exception


def opentracing_class(name: str) -> Any:
    """The ``__class__`` a jaeger_lite class named ``name`` (``Span``, ``SpanContext``,
    ``Scope``, ``ScopeManager``) shows ``isinstance``: a marker subclass of opentracing's
    class of that name. Without opentracing, the ``__class__`` descriptor of ``object``
    itself, so ``x.__class__`` behaves as usual."""
    if not OPENTRACING_AVAILABLE:
        return object.__dict__["__class__"]
    import opentracing

    base = getattr(opentracing, name)
    return type(name, (base,), {"__module__": "jaeger_lite", "__doc__": _MARKER_DOC})


_MARKER_DOC = "Marker that makes isinstance(x, opentracing.<class>) true; never instantiated."


def get_opentracing_global_tracer() -> object:
    """``opentracing.global_tracer()``, or None without opentracing."""
    if not OPENTRACING_AVAILABLE:
        return None
    import opentracing

    return opentracing.global_tracer()


def opentracing_global_state() -> tuple[object, bool]:
    """``opentracing.global_tracer()`` and whether one was registered, for
    :func:`restore_opentracing_global_state`; (None, False) without opentracing."""
    if not OPENTRACING_AVAILABLE:
        return None, False
    import opentracing

    registered = getattr(opentracing, "is_global_tracer_registered", None)
    return opentracing.global_tracer(), bool(registered()) if registered else True


def restore_opentracing_global_state(state: tuple[object, bool]) -> None:
    """Put back what :func:`opentracing_global_state` saw, including an unregistered
    state: ``opentracing.set_global_tracer`` would mark its no-op tracer registered, and
    code that registers a tracer only when none is would then never register one."""
    tracer, registered = state
    if not OPENTRACING_AVAILABLE or tracer is None:
        return
    import opentracing

    opentracing.set_global_tracer(tracer)
    if not registered and hasattr(opentracing, "is_tracer_registered"):
        opentracing.is_tracer_registered = False


def set_opentracing_global_tracer(tracer: object) -> None:
    """Register ``tracer`` as ``opentracing.global_tracer()`` too, if opentracing is installed."""
    if OPENTRACING_AVAILABLE:
        import opentracing

        opentracing.set_global_tracer(tracer)

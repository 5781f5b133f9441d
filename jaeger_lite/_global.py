"""The process-wide tracer used by ``jaeger_lite.trace`` and ``global_tracer()``."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Callable, Optional, TypeVar, overload

from ._opentracing import set_opentracing_global_tracer
from .decorators import is_function, traced
from .reporting.simple import NullReporter
from .sampling.local import ConstSampler
from .tracer import Tracer

__all__ = ["global_tracer", "reset_global_tracer", "set_global_tracer", "trace"]

F = TypeVar("F", bound=Callable[..., Any])

_lock = threading.Lock()
_global: Optional[Tracer] = None
_noop: Optional[Tracer] = None


def _noop_tracer() -> Tracer:
    global _noop
    with _lock:
        if _noop is None:
            _noop = Tracer("noop", NullReporter(), ConstSampler(False))
        return _noop


def global_tracer() -> Tracer:
    """The tracer set by :func:`set_global_tracer` (or ``init_tracer``), else a no-op
    tracer whose spans are unsampled and go nowhere (contexts still propagate)."""
    tracer = _global
    return tracer if tracer is not None else _noop_tracer()


def set_global_tracer(tracer: Tracer) -> None:
    """Make ``tracer`` global here and, when installed, as ``opentracing.global_tracer()``."""
    global _global
    if not isinstance(tracer, Tracer):
        raise TypeError(
            f"set_global_tracer needs a jaeger_lite.Tracer, got {type(tracer).__name__}"
        )
    _global = tracer
    set_opentracing_global_tracer(tracer)


def reset_global_tracer() -> None:
    """Forget the global tracer: ``global_tracer()`` is the no-op tracer again. For tests;
    it does not close the tracer, and leaves ``opentracing.global_tracer()`` alone."""
    global _global
    _global = None


def installed_tracer() -> Optional[Tracer]:
    """The tracer :func:`set_global_tracer` installed, or None (not the no-op stand-in)."""
    return _global


@overload
def trace(operation_name: F) -> F: ...


@overload
def trace(
    operation_name: Optional[str] = None, tags: Optional[Mapping[str, Any]] = None
) -> Callable[[F], F]: ...


def trace(operation_name: Any = None, tags: Optional[Mapping[str, Any]] = None) -> Any:
    """``@jaeger_lite.trace``: like :meth:`Tracer.trace` but uses the global tracer that is
    current at each call, so it can decorate code imported before tracing is configured."""
    if is_function(operation_name):
        return traced(global_tracer, None, None)(operation_name)
    return traced(global_tracer, operation_name, tags)

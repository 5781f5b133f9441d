"""What code written for jaeger-client finds on spans, and gets back from ``tracer.close()``.

jaeger-client's ``Span`` offered ``is_sampled()`` and ``is_debug()`` as methods where
jaeger_lite has properties, plus ``trace_id``, ``span_id``, ``parent_id``, ``flags``,
``end_time``, ``finished``, ``is_rpc()``, ``is_rpc_client()`` and the deprecated
``info()``/``error()``; its ``Tracer.close()`` returned a Tornado Future. The span half is
a slotted mixin of :class:`~jaeger_lite.Span`: nothing is stored per span and nothing runs
until it is read, so the hot path does not change.
"""

from __future__ import annotations

from typing import Any, Optional

from .context import FLAG_DEBUG, FLAG_SAMPLED

__all__ = ["CallableFlag", "JaegerClientSpan"]

_NS = 1_000_000_000


class CallableFlag(int):
    """A yes/no that works as jaeger_lite's property and as jaeger-client's method:
    ``if span.is_sampled:`` and ``span.is_sampled == True`` as before, and
    ``span.is_sampled()`` returns the ``bool`` (``span.is_sampled() is True`` holds). It is
    an ``int`` (0 or 1) that prints as ``True``/``False``; where a real ``bool`` object is
    needed (``is True``, ``isinstance(x, bool)``, JSON), call it."""

    __slots__ = ()

    def __call__(self) -> bool:
        return self != 0

    def __repr__(self) -> str:
        return "True" if self else "False"

    __str__ = __repr__


TRUE = CallableFlag(1)
FALSE = CallableFlag(0)


class JaegerClientSpan:
    """jaeger-client's span surface, as a mixin of :class:`~jaeger_lite.Span` (see module)."""

    __slots__ = ()
    _trace_id: int
    _span_id: int
    _parent_id: int
    _flags: int
    _start_ns: int
    _duration_ns: Optional[int]
    _tags: Optional[dict[str, Any]]

    @property
    def is_sampled(self) -> CallableFlag:
        """Whether the span is sampled (records tags and logs); callable, see CallableFlag."""
        return TRUE if self._flags & FLAG_SAMPLED else FALSE

    @property
    def is_debug(self) -> CallableFlag:
        """Whether the span is a debug span (forced by ``sampling.priority``); callable."""
        return TRUE if self._flags & FLAG_DEBUG else FALSE

    @property
    def trace_id(self) -> int:
        return self._trace_id

    @property
    def span_id(self) -> int:
        return self._span_id

    @property
    def parent_id(self) -> int:
        """The parent's span id; 0 for a root (jaeger-client said None: both are falsy)."""
        return self._parent_id

    @property
    def flags(self) -> int:
        return self._flags

    @property
    def end_time(self) -> Optional[float]:
        """jaeger-client's name for ``finish_time`` (seconds since the epoch, or None)."""
        duration = self._duration_ns
        return None if duration is None else (self._start_ns + duration) / _NS

    @property
    def finished(self) -> bool:
        return self._duration_ns is not None

    def is_rpc(self) -> bool:
        """True for a span tagged ``span.kind`` ``client`` or ``server``."""
        return (self._tags or {}).get("span.kind") in ("client", "server")

    def is_rpc_client(self) -> bool:
        """True for a span tagged ``span.kind`` ``client``."""
        return (self._tags or {}).get("span.kind") == "client"

    def info(self, message: Any, payload: Any = None) -> Any:
        """Deprecated in jaeger-client: a log with ``event=message`` (and ``payload``)."""
        span: Any = self
        return span.log_event(message, payload)

    def error(self, message: Any, payload: Any = None) -> Any:
        """Deprecated in jaeger-client: ``error=true`` and a log as :meth:`info` writes."""
        span: Any = self
        span.set_tag("error", True)
        return span.log_event(message, payload)

"""What code written for jaeger-client finds on spans, passes to ``Tracer(...)`` and gets
back from ``tracer.close()``.

jaeger-client's ``Tracer`` took keywords jaeger_lite spells otherwise or has no use for
(:func:`client_tracer_keywords` translates them). Its ``Span`` offered ``is_sampled()``
and ``is_debug()`` as methods where jaeger_lite has properties, plus ``trace_id``,
``span_id``, ``parent_id``, ``flags``, ``end_time``, ``finished``, ``is_rpc()``,
``is_rpc_client()`` and the deprecated ``info()``/``error()``; its ``Tracer.close()``
returned a Tornado Future. The span half is a slotted mixin of :class:`~jaeger_lite.Span`:
nothing is stored per span and nothing runs until it is read, so the hot path does not
change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from ._log import LOG as _log
from .context import FLAG_DEBUG, FLAG_SAMPLED

__all__ = ["CallableFlag", "JaegerClientSpan", "client_tracer_keywords"]

#: jaeger-client's Tracer keywords for the Jaeger header names -> ``jaeger_headers`` keys.
_HEADER_KEYWORDS = {
    "trace_id_header": "trace_id_header",
    "baggage_header_prefix": "baggage_prefix",
    "debug_id_header": "debug_id_header",
}
#: jaeger-client's Tracer keywords that change nothing here, and why.
_NO_EFFECT = {
    "metrics": "jaeger_lite keeps its own counters (tracer.metrics)",
    "metrics_factory": "jaeger_lite keeps its own counters (tracer.metrics)",
    "throttler": "jaeger_lite has no debug-span throttler",
    "one_span_per_rpc": "a server span always gets its own span id (as OpenTelemetry does)",
}

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


def client_tracer_keywords(
    options: Mapping[str, Any],
    trace_id_128bit: bool,
    codecs: Optional[Mapping[str, Any]],
    jaeger_headers: Optional[Mapping[str, str]],
) -> tuple[bool, Optional[Mapping[str, Any]], Optional[Mapping[str, str]]]:
    """jaeger-client's ``Tracer`` keywords as ours: ``generate_128bit_trace_id`` is
    ``trace_id_128bit``, ``extra_codecs`` replace codecs as ``codecs`` do, the header names
    join ``jaeger_headers`` (lower case, ``-`` for ``_``, as jaeger-client writes them), and
    ``metrics``, ``metrics_factory``, ``throttler`` and ``one_span_per_rpc`` are accepted
    with a warning. Any other keyword is a TypeError, as for any function."""
    known = {"generate_128bit_trace_id", "extra_codecs", *_HEADER_KEYWORDS, *_NO_EFFECT}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"Tracer() got an unexpected keyword argument {unknown[0]!r}")
    if "generate_128bit_trace_id" in options:
        trace_id_128bit = bool(options["generate_128bit_trace_id"])
    if options.get("extra_codecs"):
        codecs = {**(codecs or {}), **options["extra_codecs"]}
    headers = {
        ours: str(options[theirs]).strip().lower().replace("_", "-")
        for theirs, ours in _HEADER_KEYWORDS.items()
        if options.get(theirs)
    }
    if headers:
        jaeger_headers = {**(jaeger_headers or {}), **headers}
    for name, why in _NO_EFFECT.items():
        if options.get(name):
            _log.warning("Tracer(%s=...) has no effect: %s", name, why)
    return trace_id_128bit, codecs, jaeger_headers

"""``Tracer``: OpenTelemetry's tracer API, starting jaeger_lite spans.

A tracer belongs to one instrumentation scope (``get_tracer(name, version)``); its sampled
spans carry ``otel.scope.name`` and ``otel.scope.version``. The parent is the span current
in the context given (or the current context), as OpenTelemetry specifies: an explicit
context without a span starts a new trace even when a span is current.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar

from opentelemetry.context.context import Context
from opentelemetry.trace import SpanKind
from opentelemetry.trace import Tracer as OTelTracer

from ..span import Span
from ._attributes import kind_tag, record_attribute, timestamp_ns
from ._context import SPAN_KEY, attach, baggage_of, detach, get_current, jaeger_context, reset
from ._span import BridgeSpan, link_references, new_bridge, on_exception

if TYPE_CHECKING:
    from ._provider import TracerProvider

__all__ = ["Tracer"]

F = TypeVar("F", bound=Callable[..., Any])

_log = logging.getLogger("jaeger_lite")


class Tracer(OTelTracer):
    """Made by :meth:`TracerProvider.get_tracer`. Spans are jaeger_lite's: the sampler
    decides (remote and per-operation sampling included, by the span's name at start),
    and ended spans go to the reporter of the jaeger_lite tracer underneath."""

    def __init__(self, provider: TracerProvider, name: str, version: Optional[str]) -> None:
        self._provider = provider
        self._jaeger = provider._fixed  # None: the global tracer, looked up per span
        # Written straight into a sampled span's tags (two set_tag calls less per span),
        # so held to a length no tag limit is below. A version only with a name, as the
        # translator reads them (a lone version would be left as a stray attribute).
        self._scope_tags = {
            key: value[:256]
            for key, value in (("otel.scope.name", name), ("otel.scope.version", version))
            if value and name
        }

    def start_span(
        self,
        name: str,
        context: Optional[Context] = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Optional[Mapping[str, Any]] = None,
        links: Optional[Sequence[Any]] = None,
        start_time: Optional[int] = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> BridgeSpan:
        """Start a span (not made current). ``start_time`` is epoch nanoseconds; links
        become FollowsFrom references."""
        span = _start(
            self, name, get_current() if context is None else context, kind, attributes, links,
            start_time,
        )  # fmt: skip
        return new_bridge(span, record_exception, set_status_on_exception, kind)

    def start_as_current_span(  # type: ignore[override]
        self,
        name: str,
        context: Optional[Context] = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Optional[Mapping[str, Any]] = None,
        links: Optional[Sequence[Any]] = None,
        start_time: Optional[int] = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> CurrentSpan:
        """Start a span and make it current for a ``with`` block, or for each call of the
        function it decorates (coroutine functions until they return)."""
        activation: CurrentSpan = _new(CurrentSpan)
        activation._tracer = self
        activation._name = name
        activation._context = context
        activation._kind = kind
        activation._attributes = attributes
        activation._links = links
        activation._start_time = start_time
        activation._record_exception = record_exception
        activation._set_status_on_exception = set_status_on_exception
        activation._end_on_exit = end_on_exit
        return activation


_new = object.__new__
_INTERNAL = SpanKind.INTERNAL
# Context forbids item assignment; dict's own, bound once (the lookup costs ~40 ns a span).
_set_item = dict.__setitem__


def _start(
    tracer: Tracer,
    name: str,
    context: Context,
    kind: Any,
    attributes: Optional[Mapping[str, Any]],
    links: Optional[Sequence[Any]],
    start_time: Optional[int],
) -> Span:
    """The jaeger_lite span for an OpenTelemetry start: its parent is the span current in
    ``context``, its tags the scope, kind and attributes (when sampled)."""
    parent: Any = context.get(SPAN_KEY)
    # Ours, or not (none, a remote parent, another SDK's span, OTel baggage alone).
    parent = parent._span if parent.__class__ is BridgeSpan else _foreign_parent(parent, context)
    # The fixed tracer read directly: the provider's property costs a frame per span.
    jaeger = tracer._jaeger or tracer._provider.tracer
    span = jaeger.start_bridged_span(
        name,
        parent,
        link_references(links) if links else (),
        None if start_time is None else timestamp_ns(start_time),
    )
    if span._recording:
        span._tags.update(tracer._scope_tags)  # type: ignore[union-attr]
        _record_start(span, kind, attributes)
    return span


def _record_start(span: Span, kind: Any, attributes: Optional[Mapping[str, Any]]) -> None:
    """The kind and attribute tags of a sampled span at start."""
    if kind is _INTERNAL:  # an identity test first: hashing an Enum runs Python code
        span._tags["span.kind"] = "internal"  # type: ignore[index]
    else:
        kind_value = kind_tag(kind)
        span._tags["span.kind"] = "internal" if kind_value is None else kind_value  # type: ignore[index]
    if attributes:
        try:
            for key, value in attributes.items():
                record_attribute(span, key, value)
        except AttributeError:  # not a mapping: documented as ignored, as start_span's tags
            _log.debug("span attributes must be a mapping; ignored")


def _foreign_parent(otel_span: Any, context: Context) -> Any:
    """The parent for a current span that is not a bridge: our context, or None."""
    if otel_span is None:
        baggage = baggage_of(context)
        # OpenTelemetry baggage alone (say, a W3C baggage header) starts a trace carrying it.
        return jaeger_context(_NO_SPAN, baggage) if baggage else None
    if isinstance(otel_span, BridgeSpan):  # a subclass of ours
        return otel_span._span
    return jaeger_context(otel_span, baggage_of(context))


class _NoSpan:
    """Stands for "no current span" in :func:`jaeger_context`."""

    __slots__ = ()

    def get_span_context(self) -> None:
        return None


_NO_SPAN = _NoSpan()


class CurrentSpan:
    """What ``start_as_current_span`` returns: a context manager that starts the span on
    entry and makes it current until exit, and a decorator doing that around each call.

    A class rather than ``contextlib.contextmanager``: no generator per span (~0.3 µs).
    """

    __slots__ = (
        "_tracer",
        "_name",
        "_context",
        "_kind",
        "_attributes",
        "_links",
        "_start_time",
        "_record_exception",
        "_set_status_on_exception",
        "_end_on_exit",
        "_bridge",
        "_token",
    )
    _tracer: Tracer
    _name: str
    _context: Optional[Context]
    _kind: Any
    _attributes: Optional[Mapping[str, Any]]
    _links: Optional[Sequence[Any]]
    _start_time: Optional[int]
    _record_exception: bool
    _set_status_on_exception: bool
    _end_on_exit: bool
    _bridge: BridgeSpan
    _token: Any

    def __enter__(self) -> BridgeSpan:
        # _start() inlined for the common case (a bridge as parent, no links, a fixed
        # tracer) and new_bridge() and with_span() always: ~0.15 µs less per span.
        current = get_current()
        context = self._context
        if context is None:
            context = current
        parent: Any = context.get(SPAN_KEY)
        tracer = self._tracer
        jaeger = tracer._jaeger
        if parent.__class__ is BridgeSpan and jaeger is not None and not self._links:
            start = self._start_time
            span = jaeger.start_bridged_span(
                self._name, parent._span, (), None if start is None else timestamp_ns(start)
            )
            if span._recording:
                tags: Any = span._tags
                tags.update(tracer._scope_tags)
                if self._kind is _INTERNAL and not self._attributes:
                    tags["span.kind"] = "internal"
                else:
                    _record_start(span, self._kind, self._attributes)
        else:
            span = _start(
                tracer, self._name, context, self._kind, self._attributes, self._links,
                self._start_time,
            )  # fmt: skip
        bridge: BridgeSpan = _new(BridgeSpan)
        bridge._span = span
        bridge._scope = bridge._borrowed = bridge._otel_context = None
        bridge._record_exception = self._record_exception
        bridge._set_status_on_exception = self._set_status_on_exception
        bridge._kind = self._kind
        self._bridge = bridge
        new = Context(current)
        _set_item(new, SPAN_KEY, bridge)
        self._token = attach(new)
        return bridge

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc_val: Optional[BaseException],
        exc_tb: Optional[TracebackType],
    ) -> None:
        try:
            reset(self._token)  # detach() inlined: a frame less per span
        except ValueError:  # a token of another context (another task)
            detach(self._token)
        bridge = self._bridge
        if exc_val is not None and isinstance(exc_val, Exception) and bridge._span._recording:
            on_exception(bridge, exc_val, bridge._record_exception, bridge._set_status_on_exception)
        if self._end_on_exit:
            bridge._span.finish()

    def _fresh(self) -> CurrentSpan:
        """A new activation with the same arguments: one per decorated call (calls may
        nest, recurse or run in several threads at once)."""
        activation: CurrentSpan = _new(CurrentSpan)
        for name in CurrentSpan.__slots__[:-2]:
            setattr(activation, name, getattr(self, name))
        return activation

    def __call__(self, func: F) -> F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with self._fresh():
                    return await func(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._fresh():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

"""``SpanContext`` (the part of a span that crosses process boundaries) and references."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, Optional, Union

from ._ids import MAX_ID, format_id, format_trace_id
from ._opentracing import opentracing_class

if TYPE_CHECKING:
    from .span import Span

__all__ = [
    "FLAG_DEBUG",
    "FLAG_FIREHOSE",
    "FLAG_SAMPLED",
    "Reference",
    "ReferenceType",
    "SpanContext",
    "child_of",
    "follows_from",
]

FLAG_SAMPLED = 0x01
FLAG_DEBUG = 0x02
FLAG_FIREHOSE = 0x08

#: Shared by every context without baggage; never mutated.
EMPTY_BAGGAGE: Mapping[str, str] = MappingProxyType({})


class SpanContext:
    """Immutable identity of a span: trace/span/parent ids, flags and baggage.

    ``trace_id`` is 64- or 128-bit; ``parent_id`` is 0 for a root. A context with
    ``trace_id == 0`` carries no trace, only baggage and/or a ``debug_id`` extracted from
    ``jaeger-debug-id``/``jaeger-baggage`` headers: a span started from it begins a new trace.
    ``sampling_deferred`` says who decides whether the next span is sampled: True, our
    sampler (the sender left it to us: B3 without ``X-B3-Sampled``); None (the default),
    the flags for a context with a trace and our sampler for one without; False, the flags
    even without a trace (a bare B3 sampling state such as ``b3: 0``).
    ``trace_state`` is the W3C ``tracestate`` carried along. ``is_remote`` says where the
    context came from: True, another process (``tracer.extract`` and the codecs mark what
    they read); False, a span of this process (``span.context``); None, not known (a
    context built by hand). OTLP's span and link flags carry it; equality ignores it.
    """

    __slots__ = (
        "_trace_id",
        "_span_id",
        "_parent_id",
        "_flags",
        "_baggage",
        "_debug_id",
        "_trace_state",
        "_sampling_deferred",
        "_is_remote",
    )
    if not TYPE_CHECKING:
        __class__ = opentracing_class("SpanContext")  # isinstance(ctx, opentracing.SpanContext)

    def __init__(
        self,
        trace_id: int,
        span_id: int,
        parent_id: Optional[int] = 0,
        flags: int = 0,
        baggage: Optional[Mapping[str, str]] = None,
        debug_id: Optional[str] = None,
        *,
        trace_state: Optional[str] = None,
        sampling_deferred: Optional[bool] = None,
        is_remote: Optional[bool] = None,
    ) -> None:
        self._trace_id = trace_id
        self._span_id = span_id
        # jaeger-client's order and its None for a root's parent: SpanContext(t, s, None, 1)
        self._parent_id = 0 if parent_id is None else parent_id
        self._flags = flags
        self._baggage = _freeze(baggage)
        self._debug_id = debug_id
        self._trace_state = trace_state
        self._sampling_deferred = sampling_deferred
        self._is_remote = is_remote

    @property
    def trace_id(self) -> int:
        return self._trace_id

    @property
    def span_id(self) -> int:
        return self._span_id

    @property
    def parent_id(self) -> int:
        return self._parent_id

    @property
    def flags(self) -> int:
        return self._flags

    @property
    def baggage(self) -> Mapping[str, str]:
        """Read-only mapping of baggage items."""
        return self._baggage

    @property
    def debug_id(self) -> Optional[str]:
        return self._debug_id

    @property
    def trace_state(self) -> Optional[str]:
        return self._trace_state

    @property
    def sampling_deferred(self) -> Optional[bool]:
        return self._sampling_deferred

    @property
    def is_remote(self) -> Optional[bool]:
        """True: read from another process; False: a local span's; None: not known."""
        return self._is_remote

    @property
    def is_sampled(self) -> bool:
        return bool(self._flags & FLAG_SAMPLED)

    @property
    def is_debug(self) -> bool:
        return bool(self._flags & FLAG_DEBUG)

    @property
    def is_firehose(self) -> bool:
        return bool(self._flags & FLAG_FIREHOSE)

    @property
    def has_trace(self) -> bool:
        """True when the context names a trace (not just baggage or a debug id)."""
        return self._trace_id != 0 and self._span_id != 0

    @property
    def trace_id_hex(self) -> str:
        """16 lower-case hex digits, or 32 for a 128-bit trace id."""
        return format_trace_id(self._trace_id)

    @property
    def span_id_hex(self) -> str:
        return format_id(self._span_id)

    @property
    def parent_id_hex(self) -> str:
        return format_id(self._parent_id)

    @property
    def trace_id_high(self) -> int:
        return self._trace_id >> 64

    @property
    def trace_id_low(self) -> int:
        return self._trace_id & MAX_ID

    def with_baggage_item(self, key: str, value: Optional[str]) -> SpanContext:
        """Return a copy with ``key`` set to ``value`` (or removed when ``value`` is None)."""
        baggage = dict(self._baggage)
        if value is None:
            baggage.pop(key, None)
        else:
            baggage[key] = value
        return self._replace(baggage=baggage)

    def with_flags(self, flags: int) -> SpanContext:
        """Return a copy with different flags."""
        return self._replace(flags=flags)

    def _replace(self, **changes: Any) -> SpanContext:
        fields: dict[str, Any] = {
            "trace_id": self._trace_id,
            "span_id": self._span_id,
            "parent_id": self._parent_id,
            "flags": self._flags,
            "baggage": self._baggage,
            "debug_id": self._debug_id,
            "trace_state": self._trace_state,
            "sampling_deferred": self._sampling_deferred,
            "is_remote": self._is_remote,
        }
        fields.update(changes)
        return SpanContext(**fields)

    def _key(self) -> tuple[Any, ...]:
        return (
            self._trace_id,
            self._span_id,
            self._parent_id,
            self._flags,
            tuple(sorted(self._baggage.items())),
            self._debug_id,
            self._trace_state,
            self._sampling_deferred,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SpanContext):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        extra = f", baggage={dict(self._baggage)!r}" if self._baggage else ""
        if self._debug_id is not None:
            extra += f", debug_id={self._debug_id!r}"
        return (
            f"SpanContext({self.trace_id_hex}:{self.span_id_hex}:"
            f"{self.parent_id_hex}:{self._flags:x}{extra})"
        )

    def __str__(self) -> str:
        """The ``uber-trace-id`` form: ``trace:span:parent:flags``."""
        return f"{self.trace_id_hex}:{self.span_id_hex}:{self.parent_id_hex}:{self._flags:x}"


_new = object.__new__


def remote_context(
    trace_id: int,
    span_id: int,
    flags: int,
    baggage: Mapping[str, str],
    parent_id: int = 0,
    sampling_deferred: Optional[bool] = None,
) -> SpanContext:
    """A context as extractors build it (remote; no debug id or tracestate), without
    ``__init__``'s argument handling: ~40% cheaper on the extract hot path. ``baggage``
    must already be read-only (a MappingProxyType over a dict nobody else holds)."""
    context: SpanContext = _new(SpanContext)
    context._trace_id = trace_id
    context._span_id = span_id
    context._parent_id = parent_id
    context._flags = flags
    context._baggage = baggage
    context._sampling_deferred = sampling_deferred
    context._is_remote = True
    context._debug_id = context._trace_state = None
    return context


def _freeze(baggage: Optional[Mapping[str, str]]) -> Mapping[str, str]:
    if not baggage:
        return EMPTY_BAGGAGE
    if isinstance(baggage, MappingProxyType):
        return baggage
    return MappingProxyType(dict(baggage))


class ReferenceType:
    """Reference kinds, equal to OpenTracing's strings."""

    CHILD_OF = "child_of"
    FOLLOWS_FROM = "follows_from"


class Reference(NamedTuple):
    """A causal link to another span: ``type`` is a :class:`ReferenceType` value."""

    type: str
    referenced_context: SpanContext


SpanOrContext = Union["Span", SpanContext]


def _as_context(span_or_context: SpanOrContext) -> SpanContext:
    context = getattr(span_or_context, "context", span_or_context)
    if not isinstance(context, SpanContext):
        raise TypeError(f"expected a Span or SpanContext, got {type(span_or_context).__name__}")
    return context


def child_of(span_or_context: SpanOrContext) -> Reference:
    """A ChildOf reference: the parent depends on (waits for) the new span."""
    return Reference(ReferenceType.CHILD_OF, _as_context(span_or_context))


def follows_from(span_or_context: SpanOrContext) -> Reference:
    """A FollowsFrom reference: the referenced span does not wait for the new one."""
    return Reference(ReferenceType.FOLLOWS_FROM, _as_context(span_or_context))

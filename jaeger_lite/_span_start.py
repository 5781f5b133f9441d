"""How the tracer starts a span that is not the child of a local span: a new trace (the
sampler decides), a remote or baggage-only parent, and spans for another tracing API."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from time import time_ns
from typing import Any, Optional, Union

from ._ids import MAX_ID, getrandbits, new_id
from ._log import LOG as _log
from ._metrics import Counter
from ._safe import safe_str
from ._span_factory import SpanOwner, new_span
from .context import FLAG_DEBUG, FLAG_SAMPLED, Reference, SpanContext
from .sampling.base import Sampler
from .span import Span, TracerSpan

__all__ = ["DEBUG_ID_TAG", "SpanStarts"]


DEBUG_ID_TAG = "jaeger-debug-id"


class SpanStarts:
    """Mixin of :class:`~jaeger_lite.Tracer`: the ways to start a span besides the local
    child (which the tracer inlines on its hot path)."""

    _owner: SpanOwner
    _sampler: Sampler
    _sampler_errors: Counter
    _trace_id_bits: int
    _started_ticks: Iterator[tuple[()]]

    def start_bridged_span(
        self,
        operation_name: str,
        parent: Union[Span, SpanContext, None],
        links: tuple[Reference, ...] = (),
        start_ns: Optional[int] = None,
    ) -> Span:
        """Start a span for another tracing API (``jaeger_lite.otel``), which finds the
        parent in its own context: ``parent`` counts as the active span would (no ChildOf
        reference is recorded; None starts a new trace, sampled by our sampler), ``links``
        are references that never make a parent, ``start_ns`` is epoch nanoseconds."""
        if operation_name.__class__ is not str:
            operation_name = safe_str(operation_name)
        if start_ns is None:
            start_ns = time_ns()
        if type(parent) is TracerSpan:  # as in start_span: a local child inherits the decision
            local: Any = parent  # a Span (mypy does not narrow on a subclass's type() check)
            span = new_span(
                self._owner,
                operation_name,
                local._trace_id,
                getrandbits(64) or 1,
                local._span_id,
                local._flags,
                local._baggage,
                local._trace_state,
                links,
                start_ns,
            )
        elif parent is None:
            span = self._new_trace(operation_name, links, start_ns)
        else:
            span = self._start_from_context(operation_name, parent, links, True, start_ns)
        next(self._started_ticks)
        return span

    def _new_trace(self, operation_name: str, refs: tuple[Reference, ...], start_ns: int) -> Span:
        """A root span of a new trace, sampled or not as the sampler says."""
        trace_id = getrandbits(self._trace_id_bits) or 1
        sampler_tags: Optional[Mapping[str, Any]]
        try:
            sampled, sampler_tags = self._sampler.is_sampled(trace_id, operation_name)
            if sampled and sampler_tags.__class__ is not dict:
                sampler_tags = _as_tags(sampler_tags)
        except Exception:  # a user sampler's bug must not break the application
            sampled, sampler_tags = self._sampler_failed()
        return new_span(
            self._owner,
            operation_name,
            trace_id,
            # As in Go, a root's span id is the trace id (for 64-bit ids the same object).
            trace_id if trace_id <= MAX_ID else trace_id & MAX_ID or new_id(),
            0,
            FLAG_SAMPLED if sampled else 0,
            _NO_BAGGAGE,
            None,
            refs,
            start_ns,
            sampler_tags if sampled else None,
        )

    def _start_from_context(
        self,
        operation_name: str,
        parent: Any,
        refs: tuple[Reference, ...],
        is_child: bool,
        start_ns: int,
    ) -> Span:
        """Start a span from a SpanContext: remote, baggage-only (with or without a
        ``jaeger-debug-id``) or sampling-deferred; anything else counts as no parent."""
        if isinstance(parent, Span):  # a Span subclass: use its context
            parent = parent.context
        elif not isinstance(parent, SpanContext):
            _log.debug("ignoring foreign parent %r", type(parent).__name__)
            parent = _NO_CONTEXT
        flags = parent.flags
        sampler_tags: Optional[Mapping[str, Any]] = None
        if parent.has_trace:
            trace_id = parent._trace_id
            span_id = getrandbits(64) or 1
            parent_id = parent._span_id if is_child else 0
        else:  # baggage (and maybe a debug id) without a trace: a new local root
            trace_id = getrandbits(self._trace_id_bits) or 1
            span_id = trace_id & MAX_ID or new_id()
            parent_id = 0
        # jaeger-debug-id only starts a trace: with a real parent it is ignored (as in Go).
        debug_id = None if parent.has_trace else parent.debug_id
        if debug_id:
            flags = FLAG_SAMPLED | FLAG_DEBUG
        elif parent._sampling_deferred or (
            parent._sampling_deferred is None and not parent.has_trace
        ):
            try:
                sampled, sampler_tags = self._sampler.is_sampled(trace_id, operation_name)
                if sampled and sampler_tags.__class__ is not dict:
                    sampler_tags = _as_tags(sampler_tags)
            except Exception:  # a user sampler's bug must not break the application
                sampled, sampler_tags = self._sampler_failed()
            flags = flags | FLAG_SAMPLED if sampled else flags & ~FLAG_SAMPLED
            if not sampled:
                sampler_tags = None
        span = new_span(
            self._owner,
            operation_name,
            trace_id,
            span_id,
            parent_id,
            flags,
            parent._baggage,
            parent._trace_state,
            refs,
            start_ns,
            sampler_tags,
        )
        if debug_id:
            span.set_tag(DEBUG_ID_TAG, debug_id)
        remote = parent._is_remote
        if parent_id and remote is not False:  # extracted (True) or built by hand (None)
            span._side().parent_remote = remote
        return span

    def _sampler_failed(self) -> tuple[bool, Optional[Mapping[str, Any]]]:
        self._sampler_errors.inc()
        _log.debug("sampler %r failed; not sampling", self._sampler, exc_info=True)
        return False, None

    def _copy_sampler_tags(self, span: Span, tags: Any) -> Optional[dict[str, Any]]:
        """A sampled root's copy of its sampler's tags that are not a plain dict; tags
        that are not a mapping (a sampler's bug) unsample the span, counted as a failure."""
        try:
            return _as_tags(tags)
        except Exception:
            self._sampler_failed()
            span._flags = 0
            span._recording = False
            return None


def _as_tags(tags: Any) -> dict[str, Any]:
    """A sampler's tags (a mapping, or None for none) as a new dict; raises for others."""
    if tags is None:
        return {}
    if not isinstance(tags, Mapping):
        raise TypeError(f"sampler tags must be a mapping, got {type(tags).__name__}")
    return dict(tags)


_NO_CONTEXT = SpanContext(0, 0)

_NO_BAGGAGE: Mapping[str, str] = _NO_CONTEXT.baggage

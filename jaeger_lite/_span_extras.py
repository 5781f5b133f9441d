"""The fields few spans use (baggage, W3C trace state, explicit references, logs after the
first, the cached context, whether the parent is remote), kept in one side object a span
creates when it first needs one: every held span is then five slots (40 bytes) smaller
(benchmarks/bench_memory.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from .context import EMPTY_BAGGAGE, Reference, SpanContext

__all__ = ["RareFields", "SpanExtras", "inherit"]

_new = object.__new__


class SpanExtras:
    """A span's rarely used fields; ``Span._extras`` is None while all are at defaults."""

    __slots__ = ("baggage", "trace_state", "references", "logs", "context", "parent_remote")

    baggage: Mapping[str, str]
    trace_state: Optional[str]
    references: tuple[Reference, ...]
    logs: Optional[list[tuple[int, dict[str, Any]]]]
    context: Optional[SpanContext]
    # The parent context's is_remote (OTLP's flags): False (local, or no parent) unless
    # the span was started from a context (Tracer._start_from_context) that says otherwise.
    parent_remote: Optional[bool]


def extras(
    baggage: Mapping[str, str] = EMPTY_BAGGAGE,
    trace_state: Optional[str] = None,
    references: tuple[Reference, ...] = (),
) -> SpanExtras:
    """A new side object (no ``__init__``: built the way spans are, see new_span)."""
    made: SpanExtras = _new(SpanExtras)
    made.baggage = baggage
    made.trace_state = trace_state
    made.references = references
    made.logs = made.context = None
    made.parent_remote = False
    return made


def inherit(parent: Optional[SpanExtras]) -> Optional[SpanExtras]:
    """The side object of a child of a span whose side object is ``parent``: the trace's
    baggage and trace state carry over; references, logs, context and a remote parent do
    not."""
    if parent is None:
        return None
    baggage, trace_state = parent.baggage, parent.trace_state
    if not baggage and trace_state is None:
        return None
    return extras(baggage, trace_state)


class RareFields:
    """Mixin of :class:`~jaeger_lite.Span`: the rare fields under their former slot names,
    read and written through the side object (encoders and the OpenTelemetry bridge use
    them; the hot path reads ``_extras`` directly)."""

    __slots__ = ()
    _extras: Optional[SpanExtras]

    def _side(self) -> SpanExtras:
        side = self._extras
        if side is None:
            side = self._extras = extras()  # type: ignore[misc]  # a slot of Span
        return side

    @property
    def _baggage(self) -> Mapping[str, str]:
        side = self._extras
        return EMPTY_BAGGAGE if side is None else side.baggage

    @_baggage.setter
    def _baggage(self, baggage: Mapping[str, str]) -> None:
        self._side().baggage = baggage

    @property
    def _trace_state(self) -> Optional[str]:
        side = self._extras
        return None if side is None else side.trace_state

    @_trace_state.setter
    def _trace_state(self, trace_state: Optional[str]) -> None:
        if trace_state is not None or self._extras is not None:
            self._side().trace_state = trace_state

    @property
    def _references(self) -> tuple[Reference, ...]:
        side = self._extras
        return () if side is None else side.references

    @_references.setter
    def _references(self, references: tuple[Reference, ...]) -> None:
        if references or self._extras is not None:
            self._side().references = references

    @property
    def _logs(self) -> Optional[list[tuple[int, dict[str, Any]]]]:
        side = self._extras
        return None if side is None else side.logs

    @_logs.setter
    def _logs(self, logs: Optional[list[tuple[int, dict[str, Any]]]]) -> None:
        if logs is not None or self._extras is not None:
            self._side().logs = logs

    @property
    def _context(self) -> Optional[SpanContext]:
        side = self._extras
        return None if side is None else side.context

    @_context.setter
    def _context(self, context: Optional[SpanContext]) -> None:
        if context is not None or self._extras is not None:
            self._side().context = context

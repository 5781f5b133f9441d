"""Choosing propagation formats by name and combining several codecs into one.

``Tracer(propagation=...)`` and the ``JAEGER_PROPAGATION`` environment variable take the
same values: one name, a comma-separated string or a list of names among ``jaeger``,
``b3`` (multi-header), ``b3-single`` and ``w3c`` (``traceparent``/``tracestate`` and the
W3C ``baggage`` header). :func:`codecs_for_propagation` turns that value into the codec of
each :class:`Format`. How several formats combine: docs/protocol.md#several-formats-at-once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Optional, Union

from .._baggage import BaggageLimits
from ..context import SpanContext
from ._carriers import PairList, pair_list
from .b3 import B3Codec, B3SingleCodec
from .base import Codec, Format
from .binary import BinaryCodec
from .jaeger import JaegerCodec
from .w3c import TraceContextCodec

__all__ = [
    "PROPAGATION_NAMES",
    "CompositeCodec",
    "LimitedCodec",
    "codecs_for_propagation",
    "merge_contexts",
    "parse_propagation",
]

PROPAGATION_NAMES = ("jaeger", "b3", "b3-single", "w3c")


def parse_propagation(value: Union[str, Iterable[str]]) -> tuple[str, ...]:
    """Normalise a propagation option to a tuple of distinct names, in order.

    Names are trimmed and lower-cased; empty entries are skipped. An unknown name, a value
    that is neither a string nor strings, or no name at all raises ValueError.
    """
    if isinstance(value, str):
        raw: Iterable[Any] = value.split(",")
    elif isinstance(value, Iterable):
        raw = value
    else:
        raise ValueError(f"propagation must be a string or a list of strings, not {value!r}")
    names: list[str] = []
    for item in raw:
        if not isinstance(item, str):
            raise ValueError(f"propagation names must be strings, not {item!r}")
        name = item.strip().lower()
        if not name:
            continue
        if name not in PROPAGATION_NAMES:
            raise ValueError(
                f"unknown propagation format {item.strip()!r}; "
                f"choose from {', '.join(PROPAGATION_NAMES)}"
            )
        if name not in names:
            names.append(name)
    if not names:
        raise ValueError(f"no propagation format given; choose from {', '.join(PROPAGATION_NAMES)}")
    return tuple(names)


def codecs_for_propagation(
    propagation: Union[str, Iterable[str]] = "jaeger",
    *,
    strict: bool = False,
    limits: Optional[BaggageLimits] = None,
    jaeger_headers: Optional[Mapping[str, str]] = None,
) -> dict[str, Codec]:
    """The codec of each Format for a propagation option (see :func:`parse_propagation`).

    TEXT_MAP and HTTP_HEADERS both get every named format (HTTP_HEADERS with the URL
    encoding the Jaeger and B3 baggage headers call for); BINARY is always the binary codec.
    ``strict`` makes a present but malformed ``uber-trace-id`` raise
    SpanContextCorruptedException. ``limits`` bound extracted baggage and count the items
    dropped on either side (default: :class:`BaggageLimits` ``()``). ``jaeger_headers``
    renames the Jaeger headers, with :class:`JaegerCodec`'s keyword names
    (``trace_id_header``, ``baggage_prefix``, ``debug_id_header``, ``baggage_header``).
    """
    names = parse_propagation(propagation)
    shared = limits if limits is not None else BaggageLimits()
    return {
        Format.TEXT_MAP: _combine(names, False, strict, shared, jaeger_headers or {}),
        Format.HTTP_HEADERS: _combine(names, True, strict, shared, jaeger_headers or {}),
        Format.BINARY: BinaryCodec(limits=shared),
    }


def _combine(
    names: Sequence[str],
    url_encoding: bool,
    strict: bool,
    limits: BaggageLimits,
    jaeger_headers: Mapping[str, str],
) -> Codec:
    codecs: list[Codec] = []
    for name in names:
        if name == "jaeger":
            codecs.append(JaegerCodec(url_encoding, strict=strict, limits=limits, **jaeger_headers))
        elif name == "b3":
            codecs.append(B3Codec(url_encoding, limits=limits))
        elif name == "b3-single":
            codecs.append(B3SingleCodec(url_encoding, limits=limits))
        else:  # "w3c"
            codecs.append(TraceContextCodec(baggage=True, limits=limits))
    return codecs[0] if len(codecs) == 1 else CompositeCodec(codecs, limits)


class LimitedCodec:
    """A user's codec whose extracted baggage is held to the tracer's limits."""

    __slots__ = ("codec", "limits")

    def __init__(self, codec: Codec, limits: BaggageLimits) -> None:
        self.codec = codec
        self.limits = limits

    def inject(self, span_context: SpanContext, carrier: Any) -> None:
        self.codec.inject(span_context, carrier)

    def extract(self, carrier: Any) -> Optional[SpanContext]:
        context = self.codec.extract(carrier)
        if context is not None and context.baggage:
            kept = self.limits.limit(context.baggage)
            if kept is not None:
                context = context._replace(baggage=kept)
        return context


class CompositeCodec:
    """Several codecs as one: inject writes every format; extract takes the first context
    with a trace (in codec order) and merges the baggage of all of them.

    Without a trace anywhere, a context carrying a ``jaeger-debug-id`` wins, then one with
    a bare sampling decision (B3), then the first. ``tracestate`` is taken from the W3C
    context when it names the same trace as the winner. For the first value of a baggage
    key, earlier codecs win. The carrier is read once for all built-in codecs.
    """

    __slots__ = ("codecs", "limits", "fields", "_readers")

    def __init__(self, codecs: Sequence[Codec], limits: Optional[BaggageLimits] = None) -> None:
        self.codecs = tuple(codecs)
        self.limits = limits if limits is not None else BaggageLimits()
        fields: list[str] = []
        for codec in self.codecs:
            fields.extend(getattr(codec, "fields", ()))
        self.fields = tuple(dict.fromkeys(fields))
        self._readers = [(c, getattr(c, "reads_pair_lists", False)) for c in self.codecs]

    def inject(self, span_context: SpanContext, carrier: Any) -> None:
        for codec in self.codecs:
            codec.inject(span_context, carrier)

    def extract(self, carrier: Any) -> Optional[SpanContext]:
        # A dict is read as it is by every built-in codec; anything else is read once.
        shared = (
            carrier
            if carrier.__class__ is dict or carrier.__class__ is PairList
            else pair_list(carrier, self.fields)
        )
        contexts = []
        for codec, reads_pairs in self._readers:
            context = codec.extract(shared if reads_pairs else carrier)
            if context is not None:
                contexts.append(context)
        return merge_contexts(contexts, self.limits)


def merge_contexts(
    contexts: Sequence[SpanContext], limits: Optional[BaggageLimits] = None
) -> Optional[SpanContext]:
    """One context from those several formats extracted (see :class:`CompositeCodec`);
    the merged baggage is held to ``limits``."""
    if len(contexts) < 2:
        return contexts[0] if contexts else None
    winner = next((c for c in contexts if c.has_trace), None)
    if winner is None:
        winner = next(
            (c for c in contexts if c.debug_id),
            next((c for c in contexts if c.sampling_deferred is False), contexts[0]),
        )
    changes: dict[str, Any] = {}
    baggage: dict[str, str] = {}
    for context in contexts:
        for key, value in context.baggage.items():
            baggage.setdefault(key, value)
    if limits is not None:
        kept = limits.limit(baggage)
        if kept is not None:
            baggage = kept
    if baggage != winner.baggage:
        changes["baggage"] = baggage
    if winner.has_trace and winner.trace_state is None:
        for context in contexts:
            if context.trace_state and context.trace_id == winner.trace_id:
                changes["trace_state"] = context.trace_state
                break
    return winner._replace(**changes) if changes else winner

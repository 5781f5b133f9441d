"""OpenTelemetry attribute values and span kinds as a jaeger_lite span records them
(docs/otel.md has the table)."""

from __future__ import annotations

from typing import Any, Optional

from opentelemetry.trace import SpanKind

from .._safe import safe_str
from .._values import Nanoseconds, normalize_value
from ..span import SAMPLING_PRIORITY, Span

__all__ = [
    "HTTP_STATUS_CODE",
    "KIND_OF",
    "STATUS_CODE",
    "attribute_value",
    "kind_tag",
    "keep_status_unset",
    "record_attribute",
    "timestamp_ns",
]

_I64_LIMIT = 1 << 63
STATUS_CODE = "otel.status_code"
HTTP_STATUS_CODE = "http.status_code"

#: SpanKind -> the ``span.kind`` tag, INTERNAL included: the translators of Jaeger and the
#: Collector write ``internal`` for an OpenTelemetry SDK's INTERNAL span and read it back as
#: INTERNAL, so Jaeger shows our spans as it shows the SDK's (OTLP: SPAN_KIND_INTERNAL).
_KINDS = {
    SpanKind.INTERNAL: "internal",
    SpanKind.CLIENT: "client",
    SpanKind.SERVER: "server",
    SpanKind.PRODUCER: "producer",
    SpanKind.CONSUMER: "consumer",
}


KIND_OF = {tag: kind for kind, tag in _KINDS.items()}


def kind_tag(kind: Any) -> Optional[str]:
    """The ``span.kind`` value of an OpenTelemetry SpanKind (None for anything that is not
    a SpanKind)."""
    try:
        return _KINDS.get(kind)
    except TypeError:  # unhashable: not a SpanKind
        return None


def timestamp_ns(value: Any) -> Optional[Nanoseconds]:
    """An OpenTelemetry timestamp (epoch nanoseconds, an int) for the span; None, which
    means now, for None and for anything that is not a number of nanoseconds Jaeger can
    hold (a string, NaN, beyond the signed 64 bits): as a bad time in seconds is now."""
    if value.__class__ is not int:
        if value is None or not isinstance(value, (int, float)):
            return None
        try:
            value = int(value)  # a float, a bool, an int subclass: its value as an int
        except (ValueError, OverflowError):  # NaN, infinity
            return None
    return Nanoseconds(value) if -_I64_LIMIT <= value < _I64_LIMIT else None


def attribute_value(value: Any, limit: int) -> Any:
    """An attribute value (not None) as the span keeps it: str, bool, int, float and bytes
    as tags keep them (text cut at ``limit``); a list or tuple as a tuple of such values,
    None elements kept, at most ``limit`` of them (OTLP sends an ``ArrayValue``, Jaeger
    Thrift the tuple's ``str()``, as OpenTelemetry's Jaeger exporter wrote it); anything
    else its ``str()``."""
    if isinstance(value, list):
        # The base class's own slicing: a subclass's __getitem__ or __iter__ (which could
        # raise) never runs, as normalize_value never runs a subclass's __str__.
        items: Any = list.__getitem__(value, slice(limit))
    elif isinstance(value, tuple):
        items = tuple.__getitem__(value, slice(limit))
    else:
        return normalize_value(value, limit)
    return tuple(None if item is None else normalize_value(item, limit) for item in items)


def record_attribute(span: Span, key: Any, value: Any) -> None:
    """Record one attribute on a span (BridgeSpan.set_attribute's rules, as a function)."""
    if key.__class__ is not str:  # first: a foreign key's __eq__ never runs
        key = safe_str(key)
    if key == SAMPLING_PRIORITY:
        if value is not None:
            span.set_tag(key, value)  # may start or stop recording
    elif span._recording and value is not None and key:  # an empty key: dropped, as by the SDK
        value = attribute_value(value, span._owner.max_tag_value_length)
        span._tags[key] = value  # type: ignore[index]
        if value.__class__ is int and key == HTTP_STATUS_CODE:
            keep_status_unset(span, value)


def keep_status_unset(span: Span, value: int) -> None:
    """After an ``http.status_code`` attribute (an int, as OpenTelemetry's instrumentations
    set it): Jaeger's translator (and our OTLP encoder, which follows it) infer ERROR from
    a code outside 100-399 (a 4xx: not on SERVER spans) when no status was set, but an
    OpenTelemetry span's status is what its code set (the ASGI instrumentation leaves a
    404 "http send" span UNSET). Unless a status was set, the tag
    ``otel.status_code=UNSET`` says so: both read it as UNSET, and ``set_status``
    replaces it."""
    tags: dict[str, Any] = span._tags  # type: ignore[assignment]
    if STATUS_CODE in tags:
        return
    if 100 <= value < 400:
        return
    if 400 <= value < 500 and tags.get("span.kind") == "server":
        return
    tags[STATUS_CODE] = "UNSET"

"""OTLP/JSON: finished spans as the JSON objects of ``application/json`` exports.

The OTLP JSON rules: ids in lower-case hex (not base64), lowerCamelCase keys, enums as
numbers, 64-bit integers (times, ``intValue``) as decimal strings, bytes in base64,
non-finite doubles as "NaN"/"Infinity"/"-Infinity". The mapping is the protobuf writer's
(:mod:`.otlp_model`); each span becomes its JSON text, so a request is a join.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any, Optional

from .._safe import int_text, safe_str
from .._values import normalize_value
from ..span import Span
from .otlp_model import (
    EVENT_NAME,
    HAS_IS_REMOTE,
    REF_TYPE,
    SCOPE_NAME,
    Link,
    map_span,
    parent_flags,
)

__all__ = [
    "JSONEncoder",
    "json_export_request",
    "json_resource",
    "read_json_export_response",
    "read_json_status_message",
]

_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1


def _text(value: Any) -> str:
    """A JSON string literal (quotes included) for any text."""
    return encode_basestring(value if value.__class__ is str else safe_str(value))


def any_value(value: Any) -> str:
    """An ``AnyValue`` object; a tuple (an OpenTelemetry array attribute) is an
    ``arrayValue`` of them."""
    cls = value.__class__
    if cls is str:
        return '{"stringValue":' + encode_basestring(value) + "}"
    if cls is bool:
        return '{"boolValue":true}' if value else '{"boolValue":false}'
    if cls is int:
        if _I64_MIN <= value <= _I64_MAX:
            return '{"intValue":"' + str(value) + '"}'
        return '{"stringValue":"' + int_text(value) + '"}'
    if cls is float:
        if math.isfinite(value):
            return '{"doubleValue":' + repr(value) + "}"
        if math.isnan(value):
            return '{"doubleValue":"NaN"}'
        return '{"doubleValue":"Infinity"}' if value > 0 else '{"doubleValue":"-Infinity"}'
    if cls is bytes:
        return '{"bytesValue":"' + base64.b64encode(value).decode("ascii") + '"}'
    if cls is tuple:  # an OpenTelemetry array attribute (None: an empty AnyValue)
        items = ",".join("{}" if item is None else any_value(item) for item in value)
        return '{"arrayValue":{"values":[' + items + "]}}"
    return any_value(normalize_value(value))


def key_value(name: Any, value: Any) -> str:
    return '{"key":' + _text(name) + ',"value":' + any_value(value) + "}"


def attributes(items: Mapping[str, Any], skip: Optional[str] = None) -> str:
    return ",".join(key_value(k, v) for k, v in items.items() if k != skip)


class JSONEncoder:
    """Encodes finished spans as OTLP/JSON ``Span`` objects (UTF-8). One per sender, used
    by one thread at a time; the attribute cache is bounded by ``cache_size`` keys."""

    __slots__ = ("_attrs", "_cache_size")

    def __init__(self, cache_size: int = 4096) -> None:
        self._attrs: dict[str, tuple[Any, str]] = {}
        self._cache_size = cache_size

    def spans(self, spans: Iterable[Span]) -> list[bytes]:
        """Each span as its JSON object; a span naming its own scope carries a
        :func:`json_scope_marker` in front."""
        return [self.span(span) for span in spans]

    def span(self, span: Span) -> bytes:
        mapped = map_span(span)
        tags: Mapping[str, Any] = (span._tags or {}) if mapped is None else mapped.attributes
        parent_id = span._parent_id if mapped is None else mapped.parent_id
        start = span._start_ns
        parts = [f'{{"traceId":"{span._trace_id:032x}","spanId":"{span._span_id:016x}"']
        append = parts.append
        if mapped is not None and mapped.trace_state:
            append(',"traceState":' + _text(mapped.trace_state))
        if parent_id:
            append(f',"parentSpanId":"{parent_id:016x}"')
        # the W3C sampled bit, and whether the parent is remote (bits 8-9)
        flags = span._flags & 1
        flags |= HAS_IS_REMOTE if span._extras is None else parent_flags(span, parent_id)
        append(f',"flags":{flags},"name":' + _text(span._operation_name))
        if mapped is not None and mapped.kind:
            append(f',"kind":{mapped.kind}')
        end = start + (span._duration_ns or 0)
        append(f',"startTimeUnixNano":"{start}","endTimeUnixNano":"{end}"')
        if tags:
            append(',"attributes":[' + ",".join(self._attr(k, v) for k, v in tags.items()) + "]")
        if span._log_fields is not None:
            append(',"events":[' + ",".join(_events(span)) + "]")
        if mapped is not None:
            if mapped.links:
                append(',"links":[' + ",".join(map(_link, mapped.links)) + "]")
            if mapped.status is not None:
                code, message = mapped.status
                text = ('"message":' + _text(message) + ",") if message else ""
                append(',"status":{' + text + f'"code":{code}}}')
        append("}")
        encoded = "".join(parts).encode("utf-8", "replace")
        if mapped is not None and mapped.scope is not None:
            return json_scope_marker(*mapped.scope) + encoded
        return encoded

    def _attr(self, key: str, value: Any) -> str:
        entry = self._attrs.get(key)
        if entry is not None and entry[0] is value:
            return entry[1]
        encoded = key_value(key, value)
        if len(self._attrs) >= self._cache_size:
            self._attrs.clear()
        self._attrs[key] = (value, encoded)
        return encoded


def _events(span: Span) -> list[str]:
    events = []
    for ns, fields in span._logs or ((span._log_ns, span._log_fields or {}),):
        name = fields.get(EVENT_NAME)
        text = ',"name":' + _text(name) if name is not None else ""
        rest = attributes(fields, EVENT_NAME)
        rest = ',"attributes":[' + rest + "]" if rest else ""
        events.append(f'{{"timeUnixNano":"{ns}"' + text + rest + "}")
    return events


def _link(link: Link) -> str:
    state = ',"traceState":' + _text(link.trace_state) if link.trace_state else ""
    return (
        f'{{"traceId":"{link.trace_id:032x}","spanId":"{link.span_id:016x}"'
        + state
        + ',"attributes":['
        + key_value(REF_TYPE, link.ref_type)
        + f'],"flags":{link.flags}}}'
    )


def json_scope_marker(name: str, version: str) -> bytes:
    """What goes in front of a span of another scope: a zero byte, the scope object, and
    another zero byte (no JSON text contains one)."""
    scope = '{"name":' + _text(name) + (',"version":' + _text(version) if version else "") + "}"
    return b"\x00" + scope.encode("utf-8", "replace") + b"\x00"


def json_resource(attributes_: Mapping[str, Any]) -> bytes:
    """A ``Resource`` object."""
    return ('{"attributes":[' + attributes(attributes_) + "]}").encode("utf-8", "replace")


def json_export_request(resource: bytes, spans: Sequence[bytes], version: str) -> bytes:
    """An ``ExportTraceServiceRequest`` in JSON around encoded spans (``resource``: see
    :func:`json_resource`), a ``scopeSpans`` entry per scope in order of first appearance."""
    default = ('{"name":' + _text(SCOPE_NAME) + ',"version":' + _text(version) + "}").encode()
    groups: dict[bytes, list[bytes]] = {default: []}
    for span in spans:
        if span[0]:
            groups[default].append(span)
            continue
        end = span.index(b"\x00", 1)
        groups.setdefault(span[1:end], []).append(span[end + 1 :])
    scopes = b",".join(
        b'{"scope":' + scope + b',"spans":[' + b",".join(members) + b"]}"
        for scope, members in groups.items()
        if members
    )
    return b'{"resourceSpans":[{"resource":' + resource + b',"scopeSpans":[' + scopes + b"]}]}"


def read_json_export_response(body: bytes) -> tuple[int, str]:
    """(rejected spans, error message) of a JSON ``ExportTraceServiceResponse``; raises
    ValueError for text that is not one. An empty body counts as a full success."""
    if not body.strip():
        return 0, ""
    try:
        answer = json.loads(body)
    except RecursionError:  # "[[[[..." nested past the stack
        raise ValueError("the answer nests too deep") from None
    if not isinstance(answer, dict):
        raise ValueError("the answer is not a JSON object")
    partial = answer.get("partialSuccess") or answer.get("partial_success") or {}
    if not isinstance(partial, dict):
        raise ValueError("partialSuccess is not an object")
    rejected = _int64(partial.get("rejectedSpans", partial.get("rejected_spans", 0)))
    message = partial.get("errorMessage", partial.get("error_message", "")) or ""
    if rejected < 0:
        raise ValueError(f"negative rejectedSpans {rejected}")
    return rejected, str(message)


def _int64(value: Any) -> int:
    """An int64 as protobuf's JSON mapping writes it (a number or a decimal string; null
    is 0); ValueError for anything else (a bool, a list, Infinity, 1.5)."""
    if value is None:
        return 0
    if isinstance(value, str):
        value = value.strip()
        if not value.lstrip("-").isdigit() or not value.isascii():
            raise ValueError(f"rejectedSpans {value!r} is not an integer")
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(f"rejectedSpans {value!r} is not an integer")


def read_json_status_message(body: bytes) -> str:
    """The ``message`` of a JSON ``google.rpc.Status`` error body, or ""."""
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested past the stack
        return ""
    message = answer.get("message") if isinstance(answer, dict) else None
    return message if isinstance(message, str) else ""

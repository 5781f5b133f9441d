"""OTLP/JSON export requests read into the neutral form ``otlp_decode`` turns into the
agent's model: ids in hex (or base64), lowerCamelCase or proto field names."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from typing import Any

from .decode import DecodeError
from .model import Tag

__all__ = ["Resources", "SpanDict", "from_json", "plain"]

SpanDict = dict[str, Any]
Resources = list[tuple[list[Tag], list[tuple[str, str, list[SpanDict]]]]]

#: Enum names, which protobuf's JSON mapping writes (``json_format``, Java's ``JsonFormat``,
#: Go's ``protojson``) and the Collector reads as well as the numbers OTLP/JSON asks for.
_KIND_NAMES = {
    f"SPAN_KIND_{name}": number
    for number, name in enumerate(
        ("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER")
    )
}
_STATUS_NAMES = {f"STATUS_CODE_{name}": n for n, name in enumerate(("UNSET", "OK", "ERROR"))}
#: A ``\uD800``-``\uDFFF`` escape: the body may hold a lone surrogate.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def plain(typed: tuple[str, Any]) -> Any:
    """A decoded value as plain JSON: arrays and maps inside a value are shown as JSON text,
    as the Collector's translator does."""
    kind, value = typed
    if kind == "string" and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if kind == "binary":
        return base64.b64encode(value).decode()
    if kind == "float64" and not math.isfinite(value):
        return str(value)
    return value


# ---------------------------------------------------------------------------------


def _get(obj: dict[str, Any], camel: str, default: Any = None) -> Any:
    """A field by its lowerCamelCase name or its proto name (receivers accept both)."""
    if camel in obj:
        return obj[camel]
    snake = "".join("_" + c.lower() if c.isupper() else c for c in camel)
    return obj.get(snake, default)


def _json_id(text: Any, size: int) -> bytes:
    if not text:
        return b""
    if not isinstance(text, str):
        raise DecodeError(f"an id must be a hex string, got {text!r:.40}")
    try:
        hex_id = len(text) == 2 * size
        raw = bytes.fromhex(text) if hex_id else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raise DecodeError(f"bad id {text!r:.40}") from None
    return raw


def _enum(value: Any, names: dict[str, int]) -> int:
    """An enum field: its number, or its name as protobuf's JSON mapping writes it."""
    if isinstance(value, str) and value in names:
        return names[value]
    return int(value)


def _json_any(value: Any) -> tuple[str, Any]:
    if not isinstance(value, dict):
        return "string", ""
    found = _get(value, "stringValue")
    if found is not None:
        return "string", str(found)
    found = _get(value, "boolValue")
    if found is not None:
        return "bool", bool(found)
    found = _get(value, "intValue")
    if found is not None:
        return "int64", int(found)
    found = _get(value, "doubleValue")
    if found is not None:
        return "float64", float(found)
    found = _get(value, "bytesValue")
    if found is not None:
        return "binary", base64.b64decode(found)
    for camel in ("arrayValue", "kvlistValue"):
        found = _get(value, camel)
        if found is not None:
            return "string", json.dumps(_jsonplain(found, camel == "arrayValue"))
    return "string", ""


def _jsonplain(found: dict[str, Any], array: bool) -> Any:
    if array:
        return [plain(_json_any(v)) for v in found.get("values", [])]
    return {kv.get("key", ""): plain(_json_any(kv.get("value"))) for kv in found.get("values", [])}


def _json_tags(items: Any) -> list[Tag]:
    return [Tag(str(kv.get("key", "")), *_json_any(kv.get("value"))) for kv in items or ()]


def _well_formed(value: Any) -> Any:
    """``value`` with every lone UTF-16 surrogate (a ``"\\ud83d"`` left by a JavaScript SDK
    that cut an emoji in half) replaced by U+FFFD, as Go's JSON decoder (the Collector's)
    does: such a string cannot be encoded as UTF-8, so it would break every answer that
    holds it (the query API, ``--json``, ``--store``)."""
    if isinstance(value, str):
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if isinstance(value, list):
        return [_well_formed(item) for item in value]
    if isinstance(value, dict):
        return {_well_formed(key): _well_formed(item) for key, item in value.items()}
    return value


def from_json(data: bytes) -> Resources:
    document = json.loads(data)
    if _SURROGATE_ESCAPE.search(data):
        document = _well_formed(document)
    if not isinstance(document, dict):
        raise DecodeError("the body is not a JSON object")
    resources = []
    for resource_spans in _get(document, "resourceSpans", []):
        resource = _json_tags((_get(resource_spans, "resource") or {}).get("attributes"))
        scopes = []
        for scope_spans in _get(resource_spans, "scopeSpans", []):
            scope = _get(scope_spans, "scope") or {}
            spans = [_json_span(span) for span in _get(scope_spans, "spans", [])]
            scopes.append((str(scope.get("name", "")), str(scope.get("version", "")), spans))
        resources.append((resource, scopes))
    return resources


def _json_span(span: dict[str, Any]) -> dict[str, Any]:
    status = _get(span, "status") or {}
    return {
        "trace_id": _json_id(_get(span, "traceId"), 16),
        "span_id": _json_id(_get(span, "spanId"), 8),
        "parent": _json_id(_get(span, "parentSpanId"), 8),
        "trace_state": str(_get(span, "traceState", "")),
        "name": str(_get(span, "name", "")),
        "kind": _enum(_get(span, "kind", 0), _KIND_NAMES),
        "start": int(_get(span, "startTimeUnixNano", 0)),
        "end": int(_get(span, "endTimeUnixNano", 0)),
        "attributes": _json_tags(_get(span, "attributes")),
        "events": [
            (
                int(_get(e, "timeUnixNano", 0)),
                str(e.get("name", "")),
                _json_tags(e.get("attributes")),
            )
            for e in _get(span, "events", [])
        ],  # fmt: skip
        "links": [
            (
                _json_id(_get(x, "traceId"), 16),
                _json_id(_get(x, "spanId"), 8),
                _json_tags(x.get("attributes")),
            )
            for x in _get(span, "links", [])
        ],  # fmt: skip
        "status": (_enum(status.get("code", 0), _STATUS_NAMES), str(status.get("message", ""))),
        "flags": _get(span, "flags"),
    }

"""Decoding OTLP/HTTP export requests (protobuf or JSON) into the agent's model, so traces
from any OpenTelemetry SDK show up, joined with the Thrift ones.

Protobuf is read with jaeger_lite's own wire reader (no ``protobuf`` at run time). Spans
become :class:`SpanRecord` values the way the OpenTelemetry Collector's OTLP→Jaeger
translator makes Jaeger spans: kind, status, scope and tracestate as the ``span.kind``,
``otel.status_code``/``error``/``otel.status_description``, ``otel.scope.*`` and
``w3c.tracestate`` tags; links as references typed by ``opentracing.ref_type``; events as
logs with an ``event`` field; the resource as the process.
"""

from __future__ import annotations

import json
import struct
from typing import Any

from .._encoding.protobuf import DecodeError as WireError
from .._encoding.protobuf import fields, signed64
from .decode import DecodeError
from .model import CHILD_OF, FOLLOWS_FROM, LogRecord, Process, ReceivedBatch, Ref, SpanRecord, Tag
from .otlp_decode_json import Resources, SpanDict, from_json, plain

__all__ = ["decode_otlp"]

_KINDS = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
_unpack_double = struct.Struct("<d").unpack
NO_SERVICE = "OTLPResourceNoServiceName"  # what the Collector's translator calls it

# The neutral form both readers produce: a span is a dict with trace_id, span_id, parent
# (bytes), trace_state, name, kind, start, end (ns), attributes (tags), events
# [(ns, name, tags)], links [(trace_id, span_id, tags)], status (code, message), flags.


def decode_otlp(data: bytes, content_type: str) -> list[ReceivedBatch]:
    """The batches (one per resource) of an ``ExportTraceServiceRequest``; raises
    :class:`DecodeError` with a one-line reason for anything else."""
    try:
        json_body = content_type == "application/json"
        resources = from_json(data) if json_body else _from_proto(data)
        return [_batch(resource, scopes) for resource, scopes in resources]
    except DecodeError:
        raise
    except (WireError, ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
        raise DecodeError(f"not an OTLP ExportTraceServiceRequest: {exc}") from None


# -- protobuf -----------------------------------------------------------------------------


def _text(data: bytes, start: int, end: int) -> str:
    return data[start:end].decode("utf-8", "replace")


def _proto_any(data: bytes, start: int, end: int) -> tuple[str, Any]:
    for number, wire, value, value_end in fields(data, start, end):
        if number == 1 and wire == 2:
            return "string", _text(data, value, value_end)
        if number == 2 and wire == 0:
            return "bool", bool(value)
        if number == 3 and wire == 0:
            return "int64", signed64(value)
        if number == 4 and wire == 1:
            return "float64", _unpack_double(struct.pack("<Q", value))[0]
        if number == 7 and wire == 2:
            return "binary", data[value:value_end]
        if number in (5, 6) and wire == 2:
            return "string", json.dumps(_proto_composite(data, number, value, value_end))
    return "string", ""


def _proto_composite(data: bytes, number: int, start: int, end: int) -> Any:
    """An array (5) or key-value list (6) as plain JSON values (the translator's text)."""
    items: list[Any] = []
    mapping: dict[str, Any] = {}
    for inner, wire, value, value_end in fields(data, start, end):
        if inner != 1 or wire != 2:
            continue
        if number == 5:
            items.append(plain(_proto_any(data, value, value_end)))
        else:
            tag = _proto_kv(data, value, value_end)
            mapping[tag.key] = plain((tag.type, tag.value))
    return items if number == 5 else mapping


def _proto_kv(data: bytes, start: int, end: int) -> Tag:
    key, typed = "", ("string", "")
    for number, wire, value, value_end in fields(data, start, end):
        if number == 1 and wire == 2:
            key = _text(data, value, value_end)
        elif number == 2 and wire == 2:
            typed = _proto_any(data, value, value_end)
    return Tag(key, *typed)


def _proto_list(data: bytes, start: int, end: int, wanted: int) -> list[Tag]:
    return [
        _proto_kv(data, value, value_end)
        for number, wire, value, value_end in fields(data, start, end)
        if number == wanted and wire == 2
    ]


def _from_proto(data: bytes) -> Resources:
    resources = []
    for number, wire, start, end in fields(data):
        if number != 1 or wire != 2:
            continue
        resource: list[Tag] = []
        scopes = []
        for inner, inner_wire, value, value_end in fields(data, start, end):
            if inner == 1 and inner_wire == 2:
                resource = _proto_list(data, value, value_end, 1)
            elif inner == 2 and inner_wire == 2:
                scopes.append(_proto_scope_spans(data, value, value_end))
        resources.append((resource, scopes))
    return resources


def _proto_scope_spans(data: bytes, start: int, end: int) -> tuple[str, str, list[SpanDict]]:
    name = version = ""
    spans = []
    for number, wire, value, value_end in fields(data, start, end):
        if number == 1 and wire == 2:
            for inner, inner_wire, v, v_end in fields(data, value, value_end):
                if inner == 1 and inner_wire == 2:
                    name = _text(data, v, v_end)
                elif inner == 2 and inner_wire == 2:
                    version = _text(data, v, v_end)
        elif number == 2 and wire == 2:
            spans.append(_proto_span(data, value, value_end))
    return name, version, spans


def _proto_span(data: bytes, start: int, end: int) -> dict[str, Any]:
    span: dict[str, Any] = {"attributes": [], "events": [], "links": [], "flags": None}
    for number, wire, value, value_end in fields(data, start, end):
        if wire == 2:
            if number in (1, 2, 4):
                span[("trace_id", "span_id", "", "parent")[number - 1]] = data[value:value_end]
            elif number in (3, 5):
                span["trace_state" if number == 3 else "name"] = _text(data, value, value_end)
            elif number == 9:
                span["attributes"].append(_proto_kv(data, value, value_end))
            elif number == 11:
                span["events"].append(_proto_event(data, value, value_end))
            elif number == 13:
                span["links"].append(_proto_link(data, value, value_end))
            elif number == 15:
                span["status"] = _proto_status(data, value, value_end)
        elif number == 6 and wire == 0:
            span["kind"] = value
        elif number in (7, 8) and wire == 1:
            span["start" if number == 7 else "end"] = value
        elif number == 16 and wire == 5:
            span["flags"] = value
    return span


def _proto_event(data: bytes, start: int, end: int) -> tuple[int, str, list[Tag]]:
    time, name, tags = 0, "", []
    for number, wire, value, value_end in fields(data, start, end):
        if number == 1 and wire == 1:
            time = value
        elif number == 2 and wire == 2:
            name = _text(data, value, value_end)
        elif number == 3 and wire == 2:
            tags.append(_proto_kv(data, value, value_end))
    return time, name, tags


def _proto_link(data: bytes, start: int, end: int) -> tuple[bytes, bytes, list[Tag]]:
    trace_id, span_id, tags = b"", b"", []
    for number, wire, value, value_end in fields(data, start, end):
        if number == 1 and wire == 2:
            trace_id = data[value:value_end]
        elif number == 2 and wire == 2:
            span_id = data[value:value_end]
        elif number == 4 and wire == 2:
            tags.append(_proto_kv(data, value, value_end))
    return trace_id, span_id, tags


def _proto_status(data: bytes, start: int, end: int) -> tuple[int, str]:
    code, message = 0, ""
    for number, wire, value, value_end in fields(data, start, end):
        if number == 2 and wire == 2:
            message = _text(data, value, value_end)
        elif number == 3 and wire == 0:
            code = value
    return code, message


# -- into the agent's model -----------------------------------------------------------------


def _batch(resource: list[Tag], scopes: list[tuple[str, str, list[SpanDict]]]) -> ReceivedBatch:
    service = next((t.value for t in resource if t.key == "service.name"), None)
    process = Process(
        str(service) if service else NO_SERVICE,
        tuple(t for t in resource if t.key != "service.name"),
    )
    records = [
        _record(span, name, version, process, f"spans[{i}]")
        for name, version, spans in scopes
        for i, span in enumerate(spans)
    ]
    return ReceivedBatch(process, tuple(records))


def _unsigned(raw: bytes, size: int, what: str) -> int:
    if len(raw) != size:
        raise DecodeError(f"{what} of {len(raw)} bytes, expected {size}")
    return int.from_bytes(raw, "big")


def _us(ns: int) -> int:
    return (ns + 500) // 1000


def _record(
    span: dict[str, Any], scope: str, version: str, process: Process, where: str
) -> SpanRecord:
    trace_id = _unsigned(span.get("trace_id", b""), 16, f"{where}: trace id")
    span_id = _unsigned(span.get("span_id", b""), 8, f"{where}: span id")
    parent = span.get("parent") or b""
    parent_id = _unsigned(parent, 8, f"{where}: parent span id") if parent else 0
    tags: list[Tag] = []
    if scope:
        tags.append(Tag("otel.scope.name", "string", scope))
        if version:
            tags.append(Tag("otel.scope.version", "string", version))
    tags.extend(span["attributes"])
    kind = _KINDS.get(span.get("kind", 0))
    if kind:
        tags.append(Tag("span.kind", "string", kind))
    code, message = span.get("status", (0, ""))
    if code in (1, 2):
        tags.append(Tag("otel.status_code", "string", "OK" if code == 1 else "ERROR"))
    if code == 2:
        tags.append(Tag("error", "bool", True))
    if message:
        tags.append(Tag("otel.status_description", "string", message))
    if span.get("trace_state"):
        tags.append(Tag("w3c.tracestate", "string", span["trace_state"]))
    refs = []
    for link_trace, link_span, link_tags in span["links"]:
        ref_type = next((t.value for t in link_tags if t.key == "opentracing.ref_type"), "")
        ref = Ref(
            CHILD_OF if ref_type == "child_of" else FOLLOWS_FROM,
            _unsigned(link_trace, 16, f"{where}: link trace id"),
            _unsigned(link_span, 8, f"{where}: link span id"),
        )
        if ref.trace_id == trace_id and ref.span_id == parent_id and parent_id:
            if ref.kind == FOLLOWS_FROM:  # the parent, marked follows_from: as Jaeger has it
                parent_id = 0
                refs.append(ref)
            continue
        refs.append(ref)
    logs = []
    for time, name, event_tags in span["events"]:
        fields_ = list(event_tags)
        if name and not any(t.key == "event" for t in event_tags):
            fields_.insert(0, Tag("event", "string", name))
        logs.append(LogRecord(_us(time), tuple(fields_)))
    flags = span.get("flags")
    start, end = span.get("start", 0), span.get("end", 0)
    return SpanRecord(
        trace_id=trace_id,
        span_id=span_id,
        parent_id=parent_id,
        operation=span.get("name", ""),
        refs=tuple(refs),
        flags=1 if flags is None or int(flags) & 1 else 0,
        start=_us(start),
        duration=max(0, _us(end) - _us(start)),
        tags=tuple(tags),
        logs=tuple(logs),
        process=process,
    )

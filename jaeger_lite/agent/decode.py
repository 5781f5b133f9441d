"""Decoding of what Jaeger clients send: ``emitBatch`` datagrams and HTTP ``Batch`` bodies.

The agent judges clients independently of our own encoder: it reads with the classes
generated from the IDL (``jaeger_lite._gen``) and the ``thrift`` library's own protocols,
the C-accelerated ones when available. Like Jaeger's Go decoder it rejects a batch that
lacks a required field, so a client that passes here is not silently repaired. Strings
that are not valid UTF-8 (Go clients may send any bytes) are decoded with replacement
characters instead of being rejected, again as Jaeger does.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Optional

from thrift.protocol.TBinaryProtocol import TBinaryProtocol, TBinaryProtocolAccelerated
from thrift.protocol.TCompactProtocol import TCompactProtocol, TCompactProtocolAccelerated
from thrift.transport.TTransport import TMemoryBuffer

from .._gen.agent.Agent import emitBatch_args
from .._gen.jaeger import ttypes
from .._ids import to_unsigned
from .model import CHILD_OF, FOLLOWS_FROM, LogRecord, Process, ReceivedBatch, Ref, SpanRecord, Tag

COMPACT = "compact"
BINARY = "binary"

_TAG_TYPES = {
    ttypes.TagType.STRING: ("string", "vStr"),
    ttypes.TagType.DOUBLE: ("float64", "vDouble"),
    ttypes.TagType.BOOL: ("bool", "vBool"),
    ttypes.TagType.LONG: ("int64", "vLong"),
    ttypes.TagType.BINARY: ("binary", "vBinary"),
}
_TAG_DEFAULTS: dict[str, Any] = {
    "string": "",
    "float64": 0.0,
    "bool": False,
    "int64": 0,
    "binary": b"",
}
_REF_TYPES = {ttypes.SpanRefType.CHILD_OF: CHILD_OF, ttypes.SpanRefType.FOLLOWS_FROM: FOLLOWS_FROM}


class DecodeError(ValueError):
    """A payload that is not a valid Jaeger batch; the message says why in one line."""


class _LenientCompact(TCompactProtocol):  # type: ignore[misc]
    """Pure compact reader that replaces invalid UTF-8 instead of failing."""

    def readString(self) -> str:
        return bytes(self.readBinary()).decode("utf-8", "replace")


class _LenientBinary(TBinaryProtocol):  # type: ignore[misc]
    """Pure binary reader that replaces invalid UTF-8 instead of failing."""

    def readString(self) -> str:
        return bytes(self.readBinary()).decode("utf-8", "replace")


_FAST = {COMPACT: TCompactProtocolAccelerated, BINARY: TBinaryProtocolAccelerated}
_LENIENT = {COMPACT: _LenientCompact, BINARY: _LenientBinary}


def _protocol(cls: Callable[..., Any], data: bytes) -> Any:
    # No string or container in the payload can be longer than the payload itself: the
    # limits stop a forged length from allocating more than that.
    return cls(TMemoryBuffer(data), string_length_limit=len(data), container_length_limit=len(data))


def _read(data: bytes, encoding: str, reader: Callable[[Any], Any]) -> Any:
    """Run ``reader`` over ``data`` with the accelerated protocol.

    thrift's C decoder already replaces invalid UTF-8; without it (no compiler when thrift
    was installed) the pure protocol raises, and the lenient pure one reads it instead.
    """
    try:
        return reader(_protocol(_FAST[encoding], data))
    except UnicodeDecodeError:
        return reader(_protocol(_LENIENT[encoding], data))


def _read_message(prot: Any) -> Any:
    name, _type, _seqid = prot.readMessageBegin()
    # Dispatch on the name only: Go sends CALL with seqids 1, 2, ...; Python ONEWAY with 0.
    if name != "emitBatch":
        if name == "emitZipkinBatch":
            raise DecodeError("emitZipkinBatch (Zipkin spans) is not supported, only emitBatch")
        raise DecodeError(f"unknown method {name[:40]!r}, expected 'emitBatch'")
    args = emitBatch_args()
    args.read(prot)
    prot.readMessageEnd()
    if args.batch is None:
        raise DecodeError("emitBatch message without a batch (field 1)")
    return args.batch


def _read_batch(prot: Any) -> Any:
    batch = ttypes.Batch()
    batch.read(prot)
    return batch


def _hint(data: bytes, encoding: str) -> str:
    """Name the likely mistake when a payload is in the other encoding."""
    if encoding == BINARY and data[:1] == b"\x82":
        return " (this looks like compact Thrift: was it sent to the binary port?)"
    if encoding == COMPACT and data[:2] == b"\x80\x01":
        return " (this looks like binary Thrift: was it sent to the compact port?)"
    return ""


def decode_datagram(data: bytes, encoding: str) -> ReceivedBatch:
    """Decode one UDP datagram: a whole ``Agent.emitBatch`` message in ``encoding``.

    ``encoding`` is ``"compact"`` (port 6831) or ``"binary"`` (port 6832). Raises
    ``DecodeError`` with a one-line reason for anything that is not a valid batch.
    """
    return _decode(data, encoding, _read_message)


def decode_batch_body(data: bytes) -> ReceivedBatch:
    """Decode an HTTP collector body: a bare binary-protocol ``Batch`` (no message envelope)."""
    return _decode(data, BINARY, _read_batch)


def _decode(data: bytes, encoding: str, reader: Callable[[Any], Any]) -> ReceivedBatch:
    if not data:
        raise DecodeError("empty payload")
    try:
        batch = _read(data, encoding, reader)
        return convert_batch(batch)
    except DecodeError as exc:
        raise DecodeError(f"{exc}{_hint(data, encoding)}") from None
    except Exception as exc:  # thrift raises several types (and RecursionError, ValueError, ...)
        reason = str(exc) or type(exc).__name__
        raise DecodeError(f"{type(exc).__name__}: {reason}{_hint(data, encoding)}") from None


def _validate(struct: Any, where: str) -> None:
    try:
        struct.validate()
    except Exception as exc:  # the generated validate() raises TProtocolException
        raise DecodeError(f"{where}: {getattr(exc, 'message', None) or exc}") from None


def _tag(tag: Any, where: str, warnings: list[str]) -> Tag:
    _validate(tag, where)
    known = _TAG_TYPES.get(tag.vType)
    if known is None:
        warnings.append(f"{where} {tag.key!r}: unknown tag type {tag.vType}")
        return Tag(tag.key, "string", "")
    type_name, attr = known
    value = getattr(tag, attr)
    if value is None:
        warnings.append(f"{where} {tag.key!r}: type {type_name} but no {attr} value")
        value = _TAG_DEFAULTS[type_name]
    return Tag(tag.key, type_name, value)


def _tags(tags: Optional[list[Any]], where: str, warnings: list[str]) -> tuple[Tag, ...]:
    return tuple(_tag(t, f"{where}[{i}]", warnings) for i, t in enumerate(tags or ()))


def _trace_id(high: int, low: int) -> int:
    return (to_unsigned(high) << 64) | to_unsigned(low)


def convert_process(process: Any) -> tuple[Process, list[str]]:
    """Convert a Thrift ``Process`` (validated) into a ``Process`` plus warnings."""
    _validate(process, "process")
    warnings: list[str] = []
    tags = _tags(process.tags, "process.tags", warnings)
    return Process(process.serviceName, tags), warnings


def convert_span(span: Any, process: Process, where: str) -> SpanRecord:
    """Convert a Thrift ``Span`` into a ``SpanRecord``; ``DecodeError`` if it is invalid."""
    _validate(span, where)
    warnings: list[str] = []
    refs = []
    for i, ref in enumerate(span.references or ()):
        _validate(ref, f"{where}.references[{i}]")
        kind = _REF_TYPES.get(ref.refType)
        if kind is None:
            warnings.append(f"references[{i}]: unknown reference type {ref.refType}")
            kind = CHILD_OF
        refs.append(Ref(kind, _trace_id(ref.traceIdHigh, ref.traceIdLow), to_unsigned(ref.spanId)))
    logs = []
    for i, log in enumerate(span.logs or ()):
        _validate(log, f"{where}.logs[{i}]")
        fields = _tags(log.fields, f"logs[{i}].fields", warnings)
        logs.append(LogRecord(log.timestamp, fields))
    tags = _tags(span.tags, "tags", warnings)
    duration = span.duration
    if duration < 0:
        warnings.append(f"negative duration {duration} µs, shown as 0")
        duration = 0
    if span.spanId == 0:
        warnings.append("span id is 0")
    if span.traceIdLow == 0 and span.traceIdHigh == 0:
        warnings.append("trace id is 0")
    return SpanRecord(
        trace_id=_trace_id(span.traceIdHigh, span.traceIdLow),
        span_id=to_unsigned(span.spanId),
        parent_id=to_unsigned(span.parentSpanId),
        operation=span.operationName,
        refs=tuple(refs),
        flags=span.flags,
        start=span.startTime,
        duration=duration,
        tags=tags,
        logs=tuple(logs),
        process=process,
        warnings=tuple(warnings),
    )


def convert_batch(batch: Any) -> ReceivedBatch:
    """Convert a decoded Thrift ``Batch`` into a ``ReceivedBatch``, validating every struct."""
    _validate(batch, "batch")
    process, process_warnings = convert_process(batch.process)
    spans = []
    for i, span in enumerate(batch.spans):
        record = convert_span(span, process, f"spans[{i}]")
        if process_warnings:
            record = _with_warnings(record, process_warnings)
        spans.append(record)
    stats = None
    if batch.stats is not None:
        _validate(batch.stats, "stats")
        stats = {
            "fullQueueDroppedSpans": batch.stats.fullQueueDroppedSpans,
            "tooLargeDroppedSpans": batch.stats.tooLargeDroppedSpans,
            "failedToEmitSpans": batch.stats.failedToEmitSpans,
        }
    return ReceivedBatch(process, tuple(spans), batch.seqNo, stats)


def _with_warnings(record: SpanRecord, extra: list[str]) -> SpanRecord:
    return replace(record, warnings=record.warnings + tuple(extra))

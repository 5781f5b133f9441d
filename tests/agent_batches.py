"""Test helpers: Jaeger batches built from the generated classes and written by thrift itself.

Nothing here uses jaeger_lite's own encoder: the datagrams are what thrift's stock
protocol writers produce, so the agent's decoder is checked against an independent writer.
"""

from __future__ import annotations

import time
from typing import Any, Optional

from thrift.protocol.TBinaryProtocol import TBinaryProtocol
from thrift.protocol.TCompactProtocol import TCompactProtocol
from thrift.Thrift import TMessageType
from thrift.transport.TTransport import TMemoryBuffer

from jaeger_lite._gen.agent.Agent import emitBatch_args
from jaeger_lite._gen.jaeger import ttypes as t
from jaeger_lite.agent.model import Process, Ref, SpanRecord, Tag

NOW_US = int(time.time() * 1_000_000)


def signed(value: int) -> int:
    """An unsigned 64-bit value as the signed i64 Thrift carries."""
    return value - (1 << 64) if value >= 1 << 63 else value


def tag(key: str, value: Any) -> t.Tag:
    """A Thrift Tag with the type that follows from the Python value."""
    if isinstance(value, bool):
        return t.Tag(key=key, vType=t.TagType.BOOL, vBool=value)
    if isinstance(value, int):
        return t.Tag(key=key, vType=t.TagType.LONG, vLong=value)
    if isinstance(value, float):
        return t.Tag(key=key, vType=t.TagType.DOUBLE, vDouble=value)
    if isinstance(value, bytes):
        return t.Tag(key=key, vType=t.TagType.BINARY, vBinary=value)
    return t.Tag(key=key, vType=t.TagType.STRING, vStr=value)


def span(
    trace_id: int,
    span_id: int,
    parent_id: int = 0,
    operation: str = "op",
    start: int = 0,
    duration: int = 1000,
    *,
    tags: Optional[dict[str, Any]] = None,
    refs: Optional[list[tuple[int, int]]] = None,
    logs: Optional[list[tuple[int, dict[str, Any]]]] = None,
) -> t.Span:
    """A Thrift Span; ``start`` is µs after NOW_US, ``refs`` are (SpanRefType, span id)."""
    high, low = trace_id >> 64, trace_id & ((1 << 64) - 1)
    return t.Span(
        traceIdLow=signed(low),
        traceIdHigh=signed(high),
        spanId=signed(span_id),
        parentSpanId=signed(parent_id),
        operationName=operation,
        references=[
            t.SpanRef(
                refType=kind, traceIdLow=signed(low), traceIdHigh=signed(high), spanId=signed(sid)
            )
            for kind, sid in refs
        ]
        if refs is not None
        else None,
        flags=1,
        startTime=NOW_US + start,
        duration=duration,
        tags=[tag(k, v) for k, v in (tags or {}).items()] or None,
        logs=[
            t.Log(timestamp=NOW_US + ts, fields=[tag(k, v) for k, v in f.items()]) for ts, f in logs
        ]
        if logs
        else None,
    )


def batch(service: str, spans: list[t.Span], **process_tags: Any) -> t.Batch:
    """A Thrift Batch from one process."""
    process = t.Process(
        serviceName=service, tags=[tag(k, v) for k, v in process_tags.items()] or None
    )
    return t.Batch(process=process, spans=spans)


def message(
    b: t.Batch, protocol: str = "compact", *, kind: int = TMessageType.ONEWAY, seqid: int = 0
) -> bytes:
    """A whole ``emitBatch`` message, as one UDP datagram carries it."""
    buf = TMemoryBuffer()
    prot = (TCompactProtocol if protocol == "compact" else TBinaryProtocol)(buf)
    prot.writeMessageBegin("emitBatch", kind, seqid)
    emitBatch_args(batch=b).write(prot)
    prot.writeMessageEnd()
    return bytes(buf.getvalue())


def body(b: t.Batch) -> bytes:
    """A bare binary-protocol Batch, as the HTTP collector endpoint takes it."""
    buf = TMemoryBuffer()
    b.write(TBinaryProtocol(buf))
    return bytes(buf.getvalue())


def record(
    trace_id: int,
    span_id: int,
    parent_id: int = 0,
    operation: str = "op",
    start: int = 0,
    duration: int = 1000,
    *,
    service: str = "svc",
    refs: tuple[tuple[str, int], ...] = (),
    error: bool = False,
    warnings: tuple[str, ...] = (),
) -> SpanRecord:
    """A decoded span value (for tests of what comes after decoding)."""
    return SpanRecord(
        trace_id=trace_id,
        span_id=span_id,
        parent_id=parent_id,
        operation=operation,
        refs=tuple(Ref(kind, trace_id, sid) for kind, sid in refs),
        flags=1,
        start=NOW_US + start,
        duration=duration,
        tags=(Tag("error", "bool", True),) if error else (),
        logs=(),
        process=Process(service),
        warnings=warnings,
    )

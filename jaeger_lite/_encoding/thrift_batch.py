"""Jaeger Thrift on the wire: finished spans as the agent and the collector read them
(docs/protocol.md#agent-over-udp, docs/protocol.md#collector-over-http).

* UDP agent (port 6831): one datagram = one compact-protocol ``Agent.emitBatch`` message,
  sent as ``ONEWAY`` with seqid 0 (the service declares ``emitBatch`` oneway, and agents
  dispatch on the method name only), carrying ``Batch{process, spans, seqNo, stats}``.
* HTTP collector (``/api/traces``): a bare binary-protocol ``Batch{process, spans}``.

Ids are unsigned in the model and written as signed i64 (``2**63`` and above become
negative on the wire and read back as the same bits). Times are microseconds. Tag values
keep their type (str STRING, bool BOOL, int LONG, float DOUBLE, bytes BINARY); an int
outside the signed 64-bit range is sent as its decimal STRING, since LONG cannot hold it.

The span encoders live in ``thrift_compact`` and ``thrift_binary``; this module assembles
messages and the ``Process``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from typing import Any

from .._version import __version__
from .common import utf8
from .thrift_binary import BinaryEncoder
from .thrift_compact import ACCELERATOR_AVAILABLE, CompactEncoder
from .thrift_varints import binary, list_header, varint

__all__ = [
    "ACCELERATOR_AVAILABLE",
    "EMIT_BATCH_OVERHEAD",
    "JAEGER_VERSION",
    "BinaryEncoder",
    "CompactEncoder",
    "compact_process",
    "emit_batch",
    "local_ip",
    "new_client_uuid",
    "process_tags",
]

#: Value of the ``jaeger.version`` process tag.
JAEGER_VERSION = f"Python-jaeger_lite-{__version__}"

# Compact message header: protocol id 0x82, version 1 | ONEWAY (4) << 5, seqid 0, name.
_EMIT_BATCH_HEADER = b"\x82\x81\x00" + binary(b"emitBatch")
_I64_VARINT_MAX = 10  # a zigzag i64 takes at most 10 varint bytes
_LIST_HEADER_MAX = 6  # type byte + a 5-byte varint size

#: Most bytes an emitBatch message adds around its process and span structs: the message
#: header, field headers, the span list header, seqNo, stats and stop bytes (Go's client
#: measures 70).
EMIT_BATCH_OVERHEAD = (
    len(_EMIT_BATCH_HEADER)
    + 1  # args field 1 (the Batch struct)
    + 1  # Batch field 1 (process)
    + 1 + _LIST_HEADER_MAX  # Batch field 2 (spans)
    + 1 + _I64_VARINT_MAX  # Batch field 3 (seqNo)
    + 1 + 3 * (1 + _I64_VARINT_MAX) + 1  # Batch field 4 (ClientStats)
    + 1  # Batch stop
    + 1  # args stop
)  # fmt: skip


def emit_batch(
    process: bytes, spans: Sequence[bytes], seq_no: int, stats: tuple[int, int, int]
) -> bytes:
    """A compact ``emitBatch`` message around an encoded Process and encoded Spans.

    ``stats`` is (fullQueueDroppedSpans, tooLargeDroppedSpans, failedToEmitSpans).
    """
    full_queue, too_large, failed = stats
    return b"".join(
        [
            _EMIT_BATCH_HEADER,
            b"\x1c\x1c",  # args field 1: Batch; Batch field 1: Process
            process,
            b"\x19",  # Batch field 2: list<Span>
            list_header(len(spans)),
            *spans,
            b"\x16",  # Batch field 3: seqNo
            varint(seq_no << 1),
            b"\x1c\x16",  # Batch field 4: ClientStats, its field 1
            varint(full_queue << 1),
            b"\x16",
            varint(too_large << 1),
            b"\x16",
            varint(failed << 1),
            b"\x00\x00\x00",  # ClientStats, Batch and args stop
        ]
    )


def compact_process(encoder: CompactEncoder, service_name: str, tags: Mapping[str, Any]) -> bytes:
    """The compact ``Process`` struct (stop byte included)."""
    return b"".join([b"\x18", binary(utf8(service_name)), b"\x19", encoder.tags(tags), b"\x00"])


def process_tags(tracer_tags: Mapping[str, Any]) -> dict[str, Any]:
    """Process tags: ``jaeger.version``, ``hostname``, ``ip``, ``client-uuid``, then the
    tracer's own tags, which win on a clash (a user-set ``ip`` or ``hostname`` is kept)."""
    tags: dict[str, Any] = {"jaeger.version": JAEGER_VERSION}
    if "hostname" not in tracer_tags:
        tags["hostname"] = socket.gethostname()
    if "ip" not in tracer_tags:
        tags["ip"] = local_ip()
    tags["client-uuid"] = new_client_uuid()
    tags.update(tracer_tags)
    return tags


def new_client_uuid() -> str:
    """A random 64-bit hex id naming this process's reporter (new in each forked child)."""
    return os.urandom(8).hex()


def local_ip() -> str:
    """IPv4 address of the interface that holds the default route, or 127.0.0.1.

    ``connect()`` on a UDP socket only consults the routing table: no packet is sent and no
    name is resolved, so this cannot block on DNS. The address is TEST-NET-1 (RFC 5737).
    """
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            address: str = probe.getsockname()[0]
            return address
    except OSError:  # no IPv4 route at all (an isolated container): say loopback
        return "127.0.0.1"

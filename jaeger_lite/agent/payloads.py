"""Which decoder reads a payload, by the listener it came in on."""

from __future__ import annotations

from .decode import BINARY, COMPACT, decode_batch_body, decode_datagram
from .model import ReceivedBatch
from .otlp_decode import decode_otlp

__all__ = ["decode_payload", "is_http", "payload_name"]


def decode_payload(listener: str, data: bytes) -> list[ReceivedBatch]:
    """The batches in one datagram or HTTP body; raises ``DecodeError``.

    Listeners: ``compact`` and ``binary`` (UDP Thrift), ``http`` (a Thrift ``Batch``),
    ``otlp/protobuf`` and ``otlp/json`` (an OTLP export request, one batch per resource;
    ``/forwarded`` appended when another agent relayed it).
    """
    if listener.startswith("otlp/"):
        json_body = listener.startswith("otlp/json")
        return decode_otlp(data, "application/json" if json_body else "application/x-protobuf")
    if listener == "http":
        return [decode_batch_body(data)]
    return [decode_datagram(data, COMPACT if listener == COMPACT else BINARY)]


def is_http(listener: str) -> bool:
    return listener == "http" or listener.startswith("otlp/")


def payload_name(listener: str) -> str:
    """What came in on ``listener``, for messages: ``HTTP body``, ``compact datagram``..."""
    if listener.startswith("otlp/"):
        return "OTLP " + ("JSON" if listener.startswith("otlp/json") else "protobuf") + " body"
    return "HTTP body" if listener == "http" else f"{listener} datagram"

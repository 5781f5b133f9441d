"""UDPSender looks the agent's name up again: it follows an agent that moved."""

from __future__ import annotations

import socket
import time

import pytest

from jaeger_lite import InMemoryReporter, Tracer, UDPSender
from jaeger_lite.senders import jaeger_udp
from tests._wire_helpers import UDPAgent, decode_emit_batch

WAIT = 5.0


def _encoded(sender: UDPSender, name: str) -> list[bytes]:
    tracer = Tracer("svc", InMemoryReporter())
    span = tracer.start_span(name)
    span.finish()
    return [sender.encode(span)]


def test_a_name_that_resolves_elsewhere_is_followed(udp_agent: UDPAgent) -> None:
    """When the agent's name resolves to a new address (a rescheduled pod), the next
    lookup reconnects there. The name here is "127.1", which the resolver reads as
    127.0.0.1; the move is the sender's host becoming "127.2" (127.0.0.2)."""
    moved = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    moved.bind(("127.0.0.2", udp_agent.port))  # the same port, another loopback address
    moved.settimeout(WAIT)
    try:
        sender = UDPSender("127.1", udp_agent.port, resolve_interval=0.0)
        sender.set_process("svc", {})
        sender.send(_encoded(sender, "before"))
        (datagram,) = udp_agent.wait_for_datagrams(1)
        assert [s.operationName for s in decode_emit_batch(datagram).spans] == ["before"]
        sender.host = "127.2"
        sender.send(_encoded(sender, "after"))
        data = moved.recv(65536)
        assert [s.operationName for s in decode_emit_batch(data).spans] == ["after"]
        assert len(udp_agent.datagrams) == 1
        assert sender.metrics()["spans_sent"] == 2
        sender.close()
    finally:
        moved.close()


def test_a_failed_lookup_keeps_the_current_connection(udp_agent: UDPAgent) -> None:
    """A name that stops resolving (DNS down) does not cut the sender off its agent."""
    sender = UDPSender("127.1", udp_agent.port, resolve_interval=0.0)
    sender.set_process("svc", {})
    sender.send(_encoded(sender, "first"))
    sender.host = "a" * 64 + ".invalid"  # no resolver can answer this name (label > 63)
    sender.send(_encoded(sender, "second"))
    datagrams = udp_agent.wait_for_datagrams(2)
    assert [decode_emit_batch(d).spans[0].operationName for d in datagrams] == ["first", "second"]
    sender.close()


def test_a_hung_name_lookup_costs_the_lookup_timeout(
    hung_resolver: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """getaddrinfo has no timeout: a resolver that never answers holds the worker only for
    the lookup timeout, and the batch counts as failed (not sent, not stuck)."""
    monkeypatch.setattr(jaeger_udp, "_LOOKUP_TIMEOUT", 0.3)
    sender = UDPSender("localhost", 9)  # "localhost" (guarded by the port guard), port unused
    sender.set_process("svc", {})
    start = time.monotonic()
    sender.send(_encoded(sender, "lost"))
    assert time.monotonic() - start < 0.3 + 0.75
    assert sender.metrics()["spans_sent"] == 0
    assert sender.metrics()["spans_dropped_send_failed"] == 1
    assert hung_resolver == ["localhost"]
    sender.close()

"""UDPSender looks the agent's name up again: it follows an agent that moved."""

from __future__ import annotations

import socket

from jaeger_lite import InMemoryReporter, Tracer, UDPSender
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

"""Forwarding from the development agent: relays that fail are counted and said once."""

from __future__ import annotations

import io
import socket

from jaeger_lite.agent import DevAgent
from jaeger_lite.agent.forward import Forwarder
from tests.agent_batches import batch, message, span

WAIT = 5.0


def test_failed_relays_are_counted_and_said_once() -> None:
    """A target the kernel refuses (port 0: EINVAL) fails every relay: each is counted,
    the first is said once, and the agent still records what it received."""
    out = io.StringIO()
    with DevAgent(
        compact_port=0, binary_port=None, http_port=None, out=out, forward=("127.0.0.1", 0)
    ) as agent:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            for trace_id in (1, 2):
                datagram = message(batch("s", [span(trace_id, trace_id)]))
                client.sendto(datagram, ("127.0.0.1", agent.compact_port))
        assert agent.wait_for_traces(2, WAIT)
    assert agent.stats.forward_errors == 2 and agent.stats.forwarded == 0
    assert out.getvalue().count("cannot forward to") == 1
    assert "0 forwarded" in agent.summary() and "2 not forwarded" in agent.summary()


def test_a_listener_without_a_target_forwards_nowhere() -> None:
    """Only listeners given a target relay; the others answer None (nothing to count)."""
    said: list[str] = []
    forwarder = Forwarder({"compact": None, "binary": None}, said.append)
    forwarder.open()
    assert not forwarder.active
    assert forwarder.relay("compact", b"datagram") is None
    assert said == []

"""Traces for the web UI and query API tests, sent to a real ``DevAgent`` by real tracers.

``checkout`` mirrors the demo (frontend → inventory → payments, a FollowsFrom receipt job)
with explicit start and finish times, so every duration is known exactly. The frontend
reports over UDP compact, payments over HTTP, and ``inventory_binary`` sends the inventory
spans as a binary-protocol datagram written by thrift's own writer: three transports, one
trace.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any, Optional

import jaeger_lite
from jaeger_lite import Tracer, follows_from
from jaeger_lite._gen.jaeger import ttypes as t
from jaeger_lite.agent import DevAgent
from tests.agent_batches import NOW_US, batch, message, span

XSS = '<script>window.__xss = 1</script><img src="x" onerror="window.__xss = 2">'


def tracer(agent: DevAgent, service: str, transport: str = "compact") -> Tracer:
    """A tracer that sends every span to ``agent`` over UDP compact or HTTP."""
    if transport == "http":
        where: dict[str, Any] = {"endpoint": agent.http_url}
    else:
        where = {"agent_host": "127.0.0.1", "agent_port": agent.compact_port}
    return jaeger_lite.init_tracer(
        service, sampler_type="const", sampler_param=1, set_global=False, **where
    )


@dataclass
class Sent:
    """What a helper sent: the trace id and the expected durations by operation (µs)."""

    trace_id: int
    spans: int
    durations: dict[str, int] = field(default_factory=dict)
    span_ids: dict[str, int] = field(default_factory=dict)


def checkout(
    agent: DevAgent,
    start: float,
    *,
    declined: bool = False,
    hostile: bool = False,
    scale: float = 1.0,
) -> Sent:
    """One checkout, 8 spans (7 when ``declined``: no receipt), starting at ``start`` (s).

    Times in ms after ``start``: /checkout 0-21, reserve call 1-9 → /reserve 2-8 →
    SELECT 3-7 (a log at 5), price-order 9.5-11.5, charge call 12-20 → /charge 13-19, and
    the receipt job 21.5-25 (FollowsFrom the checkout; after it ends). ``scale`` stretches
    every time by that factor.
    """
    frontend, inventory = tracer(agent, "frontend"), tracer(agent, "inventory")
    payments = tracer(agent, "payments", "http")
    ms = 0.001 * scale
    sent: dict[str, Any] = {}

    def begin(tr: Tracer, op: str, at: float, **kw: Any) -> Any:
        s = tr.start_span(op, start_time=start + at * ms, **kw)
        sent[op] = s
        return s

    root = begin(frontend, "/checkout", 0, tags={"span.kind": "server", "http.method": "GET"})
    call = begin(frontend, "GET inventory/reserve", 1, child_of=root, tags={"span.kind": "client"})
    serve = begin(inventory, "/reserve", 2, child_of=call, tags={"span.kind": "server"})
    db_tags = {"db.statement": "SELECT stock FROM items", "db.type": "sql"}
    if hostile:
        db_tags["note"] = XSS
    db = begin(inventory, "SELECT stock", 3, child_of=serve, tags=db_tags)
    db.log_kv({"event": "rows", "count": 3}, timestamp=start + 5 * ms)
    db.finish(start + 7 * ms)
    serve.finish(start + 8 * ms)
    call.finish(start + 9 * ms)
    price = begin(frontend, "price-order", 9.5, child_of=root)
    price.finish(start + 11.5 * ms)
    pay = begin(frontend, "GET payments/charge", 12, child_of=root, tags={"span.kind": "client"})
    charge = begin(payments, "/charge", 13, child_of=pay, tags={"span.kind": "server"})
    if declined:
        charge.set_tag("http.status_code", 500)
        charge.set_tag("error", True)
        charge.log_kv(
            {"event": "error", "message": "gift cards cannot be paid by card"},
            timestamp=start + 18 * ms,
        )
    else:
        charge.set_tag("http.status_code", 200)
    charge.finish(start + 19 * ms)
    pay.finish(start + 20 * ms)
    root.set_tag("http.status_code", 502 if declined else 200)
    if declined:
        root.set_tag("error", True)
    root.finish(start + 21 * ms)
    if not declined:
        receipt = begin(frontend, "send-receipt", 21.5, references=[follows_from(root.context)])
        receipt.finish(start + 25 * ms)
    for tr in (frontend, inventory, payments):
        tr.close()
    return Sent(
        trace_id=root.context.trace_id,
        spans=len(sent),
        durations={op: round((s.finish_time - s.start_time) * 1e6) for op, s in sent.items()},
        span_ids={op: s.context.span_id for op, s in sent.items()},
    )


def lone_span(
    agent: DevAgent, service: str, operation: str, start: float, duration: float, **tags: Any
) -> Sent:
    """A one-span trace (``duration`` in seconds)."""
    tr = tracer(agent, service)
    s = tr.start_span(operation, start_time=start, tags=tags or None)
    s.finish(start + duration)
    tr.close()
    return Sent(s.context.trace_id, 1, {operation: round(duration * 1e6)})


def since_now_us(start: float) -> int:
    """``start`` (seconds since the epoch) as the offset from NOW_US that ``span`` takes."""
    return int(start * 1_000_000) - NOW_US


def orphan(agent: DevAgent, start: float, trace_id: int = 0xABC0FF) -> Sent:
    """A trace whose root never arrives: a child of span 0x77 and its own child, sent as a
    binary-protocol datagram by thrift's writer."""
    start_us = since_now_us(start)
    spans = [
        span(trace_id, 0x100, 0x77, "consume", start_us, 4000, tags={"span.kind": "consumer"}),
        span(trace_id, 0x101, 0x100, "store", start_us + 1000, 2000),
    ]
    send_datagram(agent, batch("batch-job", spans), "binary")
    return Sent(trace_id, 2, {"consume": 4000, "store": 2000})


def send_datagram(agent: DevAgent, b: t.Batch, protocol: str) -> None:
    """One ``emitBatch`` datagram written by thrift itself, to the agent's UDP port."""
    port: Optional[int] = agent.binary_port if protocol == "binary" else agent.compact_port
    assert port is not None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(message(b, protocol), ("127.0.0.1", port))

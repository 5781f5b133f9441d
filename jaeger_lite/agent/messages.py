"""What the agent says about itself: its counters, the start-up banner, the closing summary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .render import format_bytes, plural


@dataclass(frozen=True)
class AgentStats:
    """Counters since the agent started."""

    traces: int = 0
    spans: int = 0
    batches: int = 0
    bytes: int = 0
    bad_datagrams: int = 0
    bad_http_bodies: int = 0
    forwarded: int = 0
    forward_errors: int = 0
    forward_loops: int = 0  # datagrams that came back to the agent that forwarded them
    json_errors: int = 0
    #: Traces the web UI's store evicted to stay within ``max_traces``.
    evicted: int = 0
    #: Failed writes to the ``--store`` file (those spans stay in memory).
    store_errors: int = 0


@dataclass(frozen=True)
class Endpoints:
    """Where the agent listens (None: that listener is off)."""

    host: str
    compact_port: Optional[int]
    binary_port: Optional[int]
    http_url: Optional[str]
    sampling_url: Optional[str]
    sampling_rate: float
    ui_url: Optional[str]
    otlp_url: Optional[str] = None


def banner(e: Endpoints) -> str:
    """What the agent listens on, one endpoint per line (for the start of a session)."""
    host = f"[{e.host}]" if ":" in e.host else e.host
    lines = ["jaeger-lite agent listening on:"]
    if e.compact_port is not None:
        lines.append(f"  compact  udp://{host}:{e.compact_port}  (Thrift compact: most clients)")
    if e.binary_port is not None:
        lines.append(f"  binary   udp://{host}:{e.binary_port}  (Thrift binary)")
    if e.http_url is not None:
        lines.append(f"  http     {e.http_url}  (Thrift binary over HTTP)")
    if e.otlp_url is not None:
        lines.append(f"  otlp     {e.otlp_url}  (OTLP/HTTP, protobuf or JSON)")
    if e.sampling_url is not None:
        lines.append(
            f"  sampling {e.sampling_url}  (probabilistic {e.sampling_rate:g} for every service)"
        )
    if e.ui_url is not None:
        lines.append(f"  web UI   {e.ui_url}  (search, trace view; Jaeger's query API under /api)")
    if len(lines) == 1:
        lines.append("  nothing: every listener is off")
    return "\n".join(lines)


def summary(s: AgentStats, *, forwarding: bool, max_traces: int) -> str:
    """The one-line summary printed on shutdown."""
    parts = [
        plural(s.traces, "trace"),
        f"{plural(s.spans, 'span')} in {plural(s.batches, 'batch', 'batches')}",
        f"{format_bytes(s.bytes)} received",
        plural(s.bad_datagrams, "bad datagram"),
    ]
    if s.bad_http_bodies:
        parts.append(plural(s.bad_http_bodies, "bad HTTP body", "bad HTTP bodies"))
    if forwarding or s.forwarded or s.forward_errors:
        parts.append(f"{s.forwarded} forwarded")
        if s.forward_errors:
            parts.append(f"{s.forward_errors} not forwarded")
        if s.forward_loops:
            parts.append(f"{s.forward_loops} came back (forwarding loop)")
    if s.json_errors:
        parts.append(plural(s.json_errors, "JSON write error"))
    if s.evicted:
        parts.append(f"{plural(s.evicted, 'trace')} evicted (--max-traces {max_traces})")
    if s.store_errors:
        parts.append(plural(s.store_errors, "store write error"))
    return "jaeger-lite agent stopped: " + ", ".join(parts)

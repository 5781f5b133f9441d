"""``DevAgent``: a development stand-in for the Jaeger agent that prints the traces it gets.

It receives what clients send (UDP compact on 6831, UDP binary on 6832, HTTP on 14268, OTLP
on 4318), decodes it independently of our encoder, assembles traces across batches and
processes, and when a trace has been quiet for ``quiet_after`` seconds prints its span tree
and time axis. Every span also goes to a bounded ``TraceStore`` that the web UI
(``ui_port``) and Jaeger's query API serve. Usable in-process (``with
DevAgent(compact_port=0) as agent:``) or through the ``jaeger-lite agent`` command.
"""

from __future__ import annotations

import shutil
import sys
import threading
from typing import Any, Optional, TextIO

from .collect import Trace, TraceCollector
from .decode import BINARY, COMPACT, DecodeError
from .forward import FORWARD_LOOP, Forwarder
from .jsonout import JsonFile
from .messages import AgentStats, Endpoints, banner, summary
from .model import ReceivedBatch
from .otlp_receiver import OTLP_PATH, OTLPHandler
from .payloads import decode_payload, is_http, payload_name
from .query import QueryAPI
from .render import clamp_width, render_trace, stream_can_draw, use_color
from .server import HTTP_PATH, Listeners
from .sqlstore import SqliteSpanLog
from .store import DEFAULT_MAX_TRACES, TraceStore
from .web import make_server, ui_url

DEFAULT_COMPACT_PORT = 6831
DEFAULT_BINARY_PORT = 6832
DEFAULT_HTTP_PORT = 14268
DEFAULT_SAMPLING_PORT = 5778
DEFAULT_OTLP_PORT = 4318
#: Reporters flush about once a second; two seconds of quiet means the trace is complete.
DEFAULT_QUIET_AFTER = 2.0
#: After this many "bad payload" lines, further ones are only counted.
MAX_BAD_LINES = 100

__all__ = ["AgentStats", "DevAgent"]


class DevAgent:
    """A local Jaeger agent + collector endpoint that prints traces instead of storing them.

    Ports: an int binds that port (``0`` binds an ephemeral one, see ``compact_port`` etc.
    for the port actually bound) and ``None`` turns the listener off. ``sampling_port``
    (the command uses 5778) serves remote samplers a probabilistic strategy at
    ``sampling_rate`` (1.0: every trace); ``otlp_port`` (the command uses 4318) takes
    OTLP/HTTP from any OpenTelemetry SDK; both are off unless given. ``out`` is where
    traces and messages go (default: ``sys.stdout`` at the time of writing); ``color`` and
    ``width`` default to what ``out`` is (a terminal or not) and its width. ``forward`` /
    ``forward_binary`` relay every compact / binary datagram, unchanged, to a real agent at
    (host, port); ``forward_otlp`` every OTLP export to an OTLP/HTTP URL. ``ui_port`` (off
    unless given; the command uses 16686) serves the web UI and query API on ``ui_host``
    from ``store``: the last ``max_traces`` traces, in memory, or also in the SQLite file
    ``store_path`` to survive restarts.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        compact_port: Optional[int] = DEFAULT_COMPACT_PORT,
        binary_port: Optional[int] = DEFAULT_BINARY_PORT,
        http_port: Optional[int] = DEFAULT_HTTP_PORT,
        sampling_port: Optional[int] = None,
        otlp_port: Optional[int] = None,
        sampling_rate: float = 1.0,
        quiet_after: float = DEFAULT_QUIET_AFTER,
        out: Optional[TextIO] = None,
        color: Optional[bool] = None,
        width: Optional[int] = None,
        json_path: Optional[str] = None,
        forward: Optional[tuple[str, int]] = None,
        forward_binary: Optional[tuple[str, int]] = None,
        forward_otlp: Optional[str] = None,
        ui_port: Optional[int] = None,
        ui_host: str = "127.0.0.1",
        max_traces: int = DEFAULT_MAX_TRACES,
        store_path: Optional[str] = None,
    ) -> None:
        self.host = host
        self.ui_host = ui_host
        if not 0.0 <= sampling_rate <= 1.0:
            raise ValueError(f"sampling_rate must be between 0 and 1, got {sampling_rate}")
        self.sampling_rate = sampling_rate
        self._ports_wanted = {
            COMPACT: compact_port,
            BINARY: binary_port,
            "http": http_port,
            "sampling": sampling_port,
            "otlp": otlp_port,
            "ui": ui_port,
        }
        self._ports: dict[str, Optional[int]] = dict.fromkeys(self._ports_wanted)
        self._out = out
        self._color = color
        self._width = width
        self._json = JsonFile(json_path) if json_path else None
        targets = {COMPACT: forward, BINARY: forward_binary, "otlp": forward_otlp}
        self._forwarder = Forwarder(targets, self.write)
        self._collector = TraceCollector(quiet_after)
        span_log = SqliteSpanLog(store_path) if store_path else None  # ValueError if not ours
        #: Every trace received (bounded): what the web UI and the query API serve.
        self.store = TraceStore(max_traces=max_traces, span_log=span_log)
        self._listeners = Listeners(self._on_payload)
        self._lock = threading.Lock()  # counters and the list of printed traces
        self._write_lock = threading.Lock()
        self._emit_lock = threading.Lock()  # flush() may run while the printer thread prints
        self._changed = threading.Condition(self._lock)
        self._counts: dict[str, int] = dict.fromkeys(AgentStats.__dataclass_fields__, 0)
        self._printed: list[Trace] = []
        self._printer: Optional[threading.Thread] = None
        self._running = False
        self._stopped = False
        self._bad_lines = 0

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> DevAgent:
        """Bind the listeners and start; raises BindError (OSError) or ValueError (forward)."""
        try:
            for name in (COMPACT, BINARY):
                port = self._ports_wanted[name]
                if port is not None:
                    self._ports[name] = self._listeners.bind_udp(name, self.host, port)
            for name in ("http", "sampling", "otlp"):
                port = self._ports_wanted[name]
                if port is not None:
                    self._ports[name] = self._listeners.bind_http(
                        self.host,
                        port,
                        sampling_rate=self.sampling_rate,
                        sampling_only=name == "sampling",
                        request_handler=OTLPHandler if name == "otlp" else None,
                    )
            if self._ports_wanted["ui"] is not None:
                server = make_server(QueryAPI(self.store), self.ui_host, self._ports_wanted["ui"])
                self._listeners.add_server(server)
                self._ports["ui"] = int(server.server_address[1])
            self._forwarder.open(self.host, self._ports)
        except (OSError, ValueError):
            self._listeners.stop()
            self._forwarder.close()
            self.store.close()
            raise
        self._running = True
        self._printer = threading.Thread(
            target=self._print_loop, name="jaeger-lite-agent-print", daemon=True
        )
        self._printer.start()
        self._listeners.start()
        return self

    def stop(self) -> AgentStats:
        """Stop listening, print every trace still pending, and return the final counters."""
        with self._lock:
            already = self._stopped or not self._running
            self._stopped = True
        if already:  # idempotent, and harmless on an agent that never started
            return self.stats
        self._listeners.stop()
        with self._changed:
            self._running = False
            self._changed.notify_all()
        if self._printer is not None:
            self._printer.join(10)
        self._emit(self._collector.pop_all())
        self._forwarder.close()
        self.store.close()
        return self.stats

    def __enter__(self) -> DevAgent:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def compact_port(self) -> Optional[int]:
        """The UDP port bound for compact Thrift, or None when that listener is off."""
        return self._ports[COMPACT]

    @property
    def binary_port(self) -> Optional[int]:
        """The UDP port bound for binary Thrift, or None when that listener is off."""
        return self._ports[BINARY]

    @property
    def http_port(self) -> Optional[int]:
        """The TCP port of the HTTP collector endpoint, or None when it is off."""
        return self._ports["http"]

    @property
    def http_url(self) -> Optional[str]:
        """The collector URL clients POST to (``http://host:port/api/traces``), or None."""
        return self._url("http", HTTP_PATH)

    @property
    def otlp_url(self) -> Optional[str]:
        """Where OTLP/HTTP exporters POST (``http://host:port/v1/traces``), or None."""
        return self._url("otlp", OTLP_PATH)

    @property
    def sampling_url(self) -> Optional[str]:
        """Where remote samplers get their strategy (``http://host:port/sampling``), or None."""
        return self._url("sampling", "/sampling")

    def _url(self, listener: str, path: str) -> Optional[str]:
        port = self._ports[listener]
        host = f"[{self.host}]" if ":" in self.host else self.host
        return None if port is None else f"http://{host}:{port}{path}"

    @property
    def ui_url(self) -> Optional[str]:
        """The web UI's address (``http://127.0.0.1:16686/``), or None when it is off."""
        port = self._ports["ui"]
        return None if port is None else ui_url(self.ui_host, port)

    def banner(self) -> str:
        """What the agent listens on, one endpoint per line (for the start of a session)."""
        return banner(
            Endpoints(
                self.host,
                self.compact_port,
                self.binary_port,
                self.http_url,
                self.sampling_url,
                self.sampling_rate,
                self.ui_url,
                self.otlp_url,
            )
        )

    @property
    def stats(self) -> AgentStats:
        """A snapshot of the counters."""
        with self._lock:
            counts = dict(self._counts)
        counts.update(evicted=self.store.evicted, store_errors=self.store.log_errors)
        return AgentStats(**counts)

    @property
    def traces(self) -> list[Trace]:
        """The traces printed so far (late spans of a trace come as a separate ``Trace``)."""
        with self._lock:
            return list(self._printed)

    def wait_for_spans(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` spans in total were received; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self._counts["spans"] >= count, timeout)

    def wait_for_traces(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` traces in total were printed; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self._counts["traces"] >= count, timeout)

    def wait_for_payloads(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` payloads (good or bad) were received; False on timeout."""

        def seen() -> bool:
            c = self._counts
            return c["batches"] + c["bad_datagrams"] + c["bad_http_bodies"] >= count

        with self._changed:
            return self._changed.wait_for(seen, timeout)

    def flush(self) -> None:
        """Print every pending trace now, quiet or not."""
        self._emit(self._collector.pop_all())

    def summary(self) -> str:
        """The one-line summary printed on shutdown."""
        active = self._forwarder.active
        return summary(self.stats, forwarding=active, max_traces=self.store.max_traces)

    # -- receiving ---------------------------------------------------------------------------

    def _count(self, **deltas: int) -> None:
        with self._changed:
            for key, delta in deltas.items():
                self._counts[key] += delta
            self._changed.notify_all()

    def _on_payload(self, listener: str, data: bytes, sender: Any) -> bool:
        """Handle one datagram or HTTP body; True when it held a valid batch. Never raises."""
        try:
            return self._handle(listener, data, sender)
        except Exception as exc:  # a bug here must not kill the listener thread
            self.write(f"! internal error handling a {listener} payload: {exc!r}")
            return False

    def _handle(self, listener: str, data: bytes, sender: Any) -> bool:
        self._count(bytes=len(data))
        relayed = self._forwarder.relay(listener, data)
        if relayed is not None:
            self._count(**{relayed: 1})
            if relayed == FORWARD_LOOP:  # shown already, when it first came through
                return False
        try:
            batches = decode_payload(listener, data)
        except DecodeError as exc:
            self._count(**{"bad_http_bodies" if is_http(listener) else "bad_datagrams": 1})
            self._report_bad(listener, data, sender, str(exc))
            return False
        for batch in batches:
            self._accept(batch)
        return True

    def _report_bad(self, listener: str, data: bytes, sender: Any, reason: str) -> None:
        with self._lock:
            self._bad_lines += 1
            shown = self._bad_lines
        if shown > MAX_BAD_LINES:
            return
        where = f"{sender[0]}:{sender[1]}" if isinstance(sender, tuple) else str(sender)
        what = payload_name(listener)
        line = f"! bad {what} from {where} ({len(data)} bytes): {reason}"
        if shown == MAX_BAD_LINES:
            line += " (further bad payloads are counted, not shown)"
        self.write(line)

    def _accept(self, batch: ReceivedBatch) -> None:
        self.store.add(batch.spans)
        self._collector.add(batch.spans)
        self._count(batches=1, spans=len(batch.spans))  # also wakes the printer

    # -- printing ----------------------------------------------------------------------------

    def _is_running(self) -> bool:
        return self._running

    def _print_loop(self) -> None:
        while True:
            with self._changed:
                if not self._running:
                    return
                self._changed.wait(self._collector.seconds_until_due())
                if not self._is_running():  # stop() may have cleared it during the wait
                    return
            self._emit(self._collector.pop_due())

    def _emit(self, traces: list[Trace]) -> None:
        with self._emit_lock:
            for trace in traces:
                self._emit_one(trace)

    def _emit_one(self, trace: Trace) -> None:
        if self._json is not None:
            try:
                self._json.append(trace)
            except Exception as exc:  # disk full, file moved: report once per trace
                self._count(json_errors=1)
                self.write(f"! cannot write {self._json.path}: {exc}")
        try:
            text = render_trace(
                trace,
                width=self._render_width(),
                color=self._render_color(),
                unicode=stream_can_draw(self._stream()),
            )
        except Exception as exc:  # never lose the agent over one odd trace
            text = f"! cannot draw trace {trace.trace_id:x}: {exc!r}\n"
        self.write(text.rstrip("\n") + "\n")
        with self._changed:
            self._printed.append(trace)
            if len(self._printed) > 1000:
                del self._printed[:-1000]
            self._counts["traces"] += 1
            self._changed.notify_all()

    def _stream(self) -> TextIO:
        return self._out if self._out is not None else sys.stdout

    def _render_color(self) -> bool:
        return self._color if self._color is not None else use_color(self._stream())

    def _render_width(self) -> int:
        width = self._width
        return clamp_width(shutil.get_terminal_size((100, 24)).columns if width is None else width)

    def write(self, text: str) -> None:
        """Write a line (or lines) to the output stream and flush it."""
        text = text if text.endswith("\n") else text + "\n"
        with self._write_lock:
            stream = self._stream()
            try:
                stream.write(text)
                stream.flush()
            except (OSError, ValueError):  # closed pipe or stream: keep receiving anyway
                pass

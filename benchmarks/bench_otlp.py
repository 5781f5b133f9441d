"""OTLP export: jaeger_lite's OTLPSender against the OpenTelemetry SDK with its own OTLP/HTTP
exporter (the newest, from the test venv), and jaeger_lite's Thrift/UDP path, in one run.

Workload, the same for every client (as bench_wire.py): N sampled spans, each made active
in turn as a child of one active root span, with 3 tags (str, int, bool) and 1 log / event,
created back to back in the main thread of a fresh subprocess and delivered to a receiver
in this process on 127.0.0.1 (OTLP/HTTP protobuf, or UDP for the Thrift path). Measured:

* all-in µs per span: from the first span until the receiver has the last one, with a
  queue larger than N for every client (nothing dropped); median of ``--rounds`` fresh
  processes per client (unpinned), then the best round, and with ``--cpu N`` the median
  pinned to one CPU; each round starts one client later than the last
* burst: the fraction of a 50,000-span burst delivered with default settings
* close(): seconds ``tracer.close()`` / ``provider.shutdown()`` takes against a dead
  collector (nothing listens) and a trickling one (a byte every 0.5 s), export timeout 2 s

Run: ``python benchmarks/bench_otlp.py [--spans N] [--rounds R] [--cpu N]``.
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from typing import Any, Optional

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (  # noqa: E402
    ExportTraceServiceRequest,
)

from jaeger_lite.agent.decode import COMPACT, decode_datagram  # noqa: E402

WORKLOAD = {
    "jaeger_lite": """
with tracer.start_active_span("root"):
    t0 = time.monotonic()
    for _ in range(n):
        with tracer.start_active_span("GET /users/{id}") as scope:
            span = scope.span
            span.set_tag("component", "bench")
            span.set_tag("http.status_code", 200)
            span.set_tag("retry", False)
            span.log_kv({"event": "cache-miss", "key": "user:42"})
    t1 = time.monotonic()
""",
    "otel": """
with tracer.start_as_current_span("root"):
    t0 = time.monotonic()
    for _ in range(n):
        with tracer.start_as_current_span("GET /users/{id}") as span:
            span.set_attribute("component", "bench")
            span.set_attribute("http.status_code", 200)
            span.set_attribute("retry", False)
            span.add_event("cache-miss", {"key": "user:42"})
    t1 = time.monotonic()
""",
}
SETUP = {
    "jaeger_lite OTLP": """
import jaeger_lite
options = {} if mode == "defaults" else {"queue_size": n + 1000}
sender = jaeger_lite.OTLPSender(url, timeout=timeout)
tracer = jaeger_lite.Tracer("bench", jaeger_lite.RemoteReporter(sender, **options))
""",
    "jaeger_lite Thrift/UDP": """
import jaeger_lite
options = {} if mode == "defaults" else {"queue_size": n + 1000}
host, port = url.split(":")
sender = jaeger_lite.UDPSender(host, int(port))
tracer = jaeger_lite.Tracer("bench", jaeger_lite.RemoteReporter(sender, **options))
""",
    "OTel SDK + OTLP exporter": """
import warnings
warnings.simplefilter("ignore")
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
exporter = OTLPSpanExporter(endpoint=url, timeout=timeout)
options = {} if mode == "defaults" else {"max_queue_size": n + 1000}
provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
provider.add_span_processor(BatchSpanProcessor(exporter, **options))
tracer = provider.get_tracer("bench")
""",
}
# Each program reads N, URL, MODE and TIMEOUT from argv, prints "t0 t1 close_seconds" once
# its spans are handed over and it has closed, then exits.
PROGRAM = """
import sys, time
n, url, mode, timeout = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
{setup}
{workload}
start = time.monotonic()
{close}
print(t0, t1, time.monotonic() - start, flush=True)
"""
CLOSE = {"jaeger_lite": "tracer.close(60)", "otel": "provider.shutdown()"}


def program(client: str) -> str:
    family = "otel" if client.startswith("OTel") else "jaeger_lite"
    return PROGRAM.format(setup=SETUP[client], workload=WORKLOAD[family], close=CLOSE[family])


class Receiver:
    """Records when OTLP requests (HTTP) and Thrift datagrams (UDP) arrive; counts their
    spans while waiting."""

    def __init__(self, behaviour: str = "ok") -> None:
        self.count = 0
        self.last = 0.0
        self._lock = threading.Lock()
        self.behaviour = behaviour
        self._datagrams: list[tuple[float, bytes]] = []
        self._bodies: list[tuple[float, bytes, bool]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.behaviour == "trickle":
                    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
                    for i in range(len(answer)):
                        if receiver._stop.wait(0.5):  # a byte every 0.5 s, until stopped
                            return
                        self.wfile.write(answer[i : i + 1])
                        self.wfile.flush()
                    return
                # Stored, decoded while waiting: decoding as they come would put the
                # receiver's work inside the measured window (the UDP receiver's too).
                gzipped = self.headers.get("Content-Encoding") == "gzip"
                with receiver._lock:
                    receiver._bodies.append((time.monotonic(), body, gzipped))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.settimeout(0.2)
        self._stop = threading.Event()
        for target in (self.http.serve_forever, self._udp_loop):
            threading.Thread(target=target, daemon=True).start()

    def _udp_loop(self) -> None:
        # Datagrams are only stored here, and decoded while waiting (decoding them as they
        # come, in Python, would make this thread, not the client, the bottleneck).
        while not self._stop.is_set():
            try:
                data = self.udp.recv(65536)
            except socket.timeout:
                continue
            except OSError:  # closed by stop()
                return
            with self._lock:
                self._datagrams.append((time.monotonic(), data))

    def url(self, client: str) -> str:
        if "UDP" in client:
            return f"127.0.0.1:{self.udp.getsockname()[1]}"
        return f"http://127.0.0.1:{self.http.server_address[1]}/v1/traces"

    def reset(self) -> None:
        with self._lock:
            self.count, self.last = 0, 0.0
            self._datagrams, self._bodies = [], []

    def wait_for(self, count: int, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                datagrams, self._datagrams = self._datagrams, []
                bodies, self._bodies = self._bodies, []
            for arrived, data in datagrams:
                self.count += len(decode_datagram(data, COMPACT).spans)
                self.last = max(self.last, arrived)
            for arrived, body, gzipped in bodies:
                request = ExportTraceServiceRequest.FromString(
                    gzip.decompress(body) if gzipped else body
                )
                scopes = [s for r in request.resource_spans for s in r.scope_spans]
                self.count += sum(len(s.spans) for s in scopes)
                self.last = max(self.last, arrived)
            with self._lock:
                if self.count >= count:
                    return True
            self._stop.wait(0.01)
        return False

    def stop(self) -> None:
        self._stop.set()
        self.http.shutdown()
        self.http.server_close()
        self.udp.close()


def run_client(
    client: str, n: int, url: str, mode: str, timeout: float, cpu: Optional[int]
) -> tuple[float, float, float]:
    preexec = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    result = subprocess.run(
        [sys.executable, "-c", program(client), str(n), url, mode, str(timeout)],
        capture_output=True, text=True, timeout=600, preexec_fn=preexec, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"{client} failed:\n{result.stderr}")
    t0, t1, closing = map(float, result.stdout.split())
    return t0, t1, closing


def all_in(receiver: Receiver, client: str, n: int, cpu: Optional[int]) -> float:
    """µs per span from the first span until the receiver has all N + 1 (the root)."""
    receiver.reset()
    t0, _, _ = run_client(client, n, receiver.url(client), "tuned", 10.0, cpu)
    if not receiver.wait_for(n + 1, 60):
        raise RuntimeError(f"{client}: {receiver.count} of {n + 1} spans arrived")
    return (receiver.last - t0) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cpu", type=int, default=None, help="also run pinned to this CPU")
    parser.add_argument("--burst", type=int, default=50_000)
    args = parser.parse_args()
    clients = list(SETUP)
    import opentelemetry.sdk.version as otel_version

    print(
        f"CPython {platform.python_version()}, {os.cpu_count()} CPUs, {args.spans} spans, "
        f"{args.rounds} rounds (fresh process each), opentelemetry-sdk "
        f"{otel_version.__version__}, unpinned"
        + (f" + pinned to CPU {args.cpu}" if args.cpu is not None else "")
    )
    receiver = Receiver()
    results: dict[tuple[str, str], list[float]] = {}
    try:
        for round_ in range(args.rounds):
            order = clients[round_ % len(clients) :] + clients[: round_ % len(clients)]
            for client in order:
                results.setdefault((client, "unpinned"), []).append(
                    all_in(receiver, client, args.spans, None)
                )
                if args.cpu is not None:
                    results.setdefault((client, "pinned"), []).append(
                        all_in(receiver, client, args.spans, args.cpu)
                    )
        udp = statistics.median(results[("jaeger_lite Thrift/UDP", "unpinned")])
        print("\nall-in µs per span (nothing dropped)")
        print(f"{'client':<26} {'median':>8} {'best':>8} {'spread':>16} {'vs Thrift/UDP':>14}")
        for client in clients:
            values = results[(client, "unpinned")]
            median = statistics.median(values)
            print(
                f"{client:<26} {median:8.2f} {min(values):8.2f} "
                f"{min(values):7.2f}–{max(values):<7.2f} {median / udp:13.2f}×"
            )
            if args.cpu is not None:
                pinned = results[(client, "pinned")]
                print(f"{'  pinned':<26} {statistics.median(pinned):8.2f} {min(pinned):8.2f}")
        otel = statistics.median(results[("OTel SDK + OTLP exporter", "unpinned")])
        ours = statistics.median(results[("jaeger_lite OTLP", "unpinned")])
        print(f"OTel SDK + OTLP exporter / jaeger_lite OTLP: {otel / ours:.1f}×")

        print(f"\nburst of {args.burst} spans, default settings: delivered")
        for client in ("jaeger_lite OTLP", "OTel SDK + OTLP exporter"):
            receiver.reset()
            run_client(client, args.burst, receiver.url(client), "defaults", 10.0, None)
            receiver.wait_for(args.burst + 1, 30)
            print(f"{client:<26} {receiver.count / (args.burst + 1):8.1%}")

        print("\nclose() with 1000 spans pending, export timeout 2 s: seconds")
        trickling = Receiver("trickle")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            dead = f"http://127.0.0.1:{probe.getsockname()[1]}/v1/traces"
        for client in ("jaeger_lite OTLP", "OTel SDK + OTLP exporter"):
            closing_dead = run_client(client, 1000, dead, "defaults", 2.0, None)[2]
            closing_slow = run_client(client, 1000, trickling.url(client), "defaults", 2.0, None)[2]
            print(f"{client:<26} dead {closing_dead:6.1f}   trickling {closing_slow:6.1f}")
        trickling.stop()
    finally:
        receiver.stop()


if __name__ == "__main__":
    main()

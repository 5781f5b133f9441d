"""OpenTelemetry's API on jaeger_lite against jaeger_lite's own API and the OpenTelemetry SDK.

Three clients run the same workload, each in a fresh process per run: N sampled spans, each
made current in turn as a child of one current root, with 3 attributes/tags (str, int,
bool) and 1 event/log, created back to back in the main thread and delivered to a receiver
on 127.0.0.1 in this process:

* ``otel-api``: OpenTelemetry's API (``start_as_current_span``, ``set_attribute``,
  ``add_event``) over ``jaeger_lite.otel.TracerProvider``: jaeger_lite's reporter, Thrift
  compact over UDP (jaeger_lite's OTLP exporter is not there yet, so our side is measured
  on the Thrift/UDP path);
* ``jaeger_lite``: jaeger_lite's own API (``start_active_span``, ``set_tag``, ``log_kv``),
  the same reporter and sender;
* ``otel-sdk``: the OpenTelemetry SDK with a BatchSpanProcessor (queue larger than N) and
  its OTLP/HTTP protobuf exporter, to an HTTP receiver (in ``.bench/``, newest release).

Per span: *main* is the main thread's time, *all-in* runs from the first span until the
receiver has the last datagram or request. A fourth measurement runs no receiver: spans the
sampler drops, through OpenTelemetry's API (non-recording) and jaeger_lite's (unsampled),
main thread only, for a bare span and for the workload above (each the best of 7 loops of
N/5 spans in a process). ``--instructions`` instead counts CPU instructions per span (all
threads) under valgrind's callgrind: a measure a loaded machine does not move.

Each round runs every client once (a round starts one client later than the last);
``--rounds`` rounds unpinned give the headline (the median), ``--pinned-rounds`` more with
every client on CPU 0 give the extra rows. Targets (issue 15): the OTel API adds at most
1 µs per span all-in over jaeger_lite's API; >= 5x less all-in than the OTel SDK; a
non-recording OTel span at most 1.5x an unsampled jaeger_lite span.

Run: ``python benchmarks/bench_otel_api.py [--spans N] [--rounds R] [--pinned-rounds P]``.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import select
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional

from bench_wire import receiver_socket  # the benchmarks' directory is sys.path[0]

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BENCH = os.path.join(ROOT, ".bench")
sys.path.insert(0, ROOT)

SDK_PACKAGES = ["opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-http"]

WORKLOAD_OTEL = """
    for _ in range(n):
        with otel.start_as_current_span("GET /users/{id}") as span:
            span.set_attribute("component", "bench")
            span.set_attribute("http.status_code", 200)
            span.set_attribute("retry", False)
            span.add_event("cache-miss", {"key": "user:42"})
"""
WORKLOAD_OWN = """
    for _ in range(n):
        with tracer.start_active_span("GET /users/{id}") as scope:
            span = scope.span
            span.set_tag("component", "bench")
            span.set_tag("http.status_code", 200)
            span.set_tag("retry", False)
            span.log_kv({"event": "cache-miss", "key": "user:42"})
"""
JAEGER_SETUP = """
import sys, time
import jaeger_lite
n, port = int(sys.argv[1]), int(sys.argv[2])
reporter = jaeger_lite.RemoteReporter(jaeger_lite.UDPSender("127.0.0.1", port), queue_size=n + 1000)
tracer = jaeger_lite.Tracer("bench", reporter)
"""
# Each delivery program prints "t0 t1" (monotonic seconds around the span loop) once the
# spans are handed over, then waits for stdin to close.
PROGRAMS = {
    "otel-api": JAEGER_SETUP
    + """
import jaeger_lite.otel
from opentelemetry import trace
trace.set_tracer_provider(jaeger_lite.otel.TracerProvider(tracer))
otel = trace.get_tracer("bench")
with otel.start_as_current_span("root"):
    t0 = time.monotonic()
"""
    + WORKLOAD_OTEL
    + """
    t1 = time.monotonic()
tracer.close()
print(t0, t1, flush=True)
sys.stdin.read()
""",
    "jaeger_lite": JAEGER_SETUP
    + """
with tracer.start_active_span("root"):
    t0 = time.monotonic()
"""
    + WORKLOAD_OWN
    + """
    t1 = time.monotonic()
tracer.close()
print(t0, t1, flush=True)
sys.stdin.read()
""",
    "otel-sdk": """
import sys, time
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
n, port = int(sys.argv[1]), int(sys.argv[2])
provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
exporter = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{port}/v1/traces")
provider.add_span_processor(BatchSpanProcessor(exporter, max_queue_size=n + 1000))
trace.set_tracer_provider(provider)
otel = trace.get_tracer("bench")
with otel.start_as_current_span("root"):
    t0 = time.monotonic()
"""
    + WORKLOAD_OTEL
    + """
    t1 = time.monotonic()
provider.shutdown()
print(t0, t1, flush=True)
sys.stdin.read()
""",
}
# Spans the sampler drops, main thread only: prints ns per span, bare and with the workload,
# each the best of 7 loops of n spans.
UNSAMPLED = """
import sys, time
import jaeger_lite
n, api = int(sys.argv[1]), sys.argv[2]
tracer = jaeger_lite.Tracer("bench", jaeger_lite.NullReporter(), jaeger_lite.ConstSampler(False))
if api == "otel":
    import jaeger_lite.otel
    otel = jaeger_lite.otel.TracerProvider(tracer, set_propagator=False).get_tracer("bench")
    root = otel.start_as_current_span("root")
    def bare():
        for _ in range(n):
            with otel.start_as_current_span("GET /users/{id}"):
                pass
    def work():
WORK_OTEL
else:
    root = tracer.start_active_span("root")
    def bare():
        for _ in range(n):
            with tracer.start_active_span("GET /users/{id}"):
                pass
    def work():
WORK_OWN
root.__enter__()
results = {bare: [], work: []}
for _ in range(7):  # the best of 7 (per process; the report takes the median of processes)
    for run in (bare, work):
        t0 = time.perf_counter()
        run()
        results[run].append((time.perf_counter() - t0) / n * 1e9)
print(min(results[bare]), min(results[work]), flush=True)
""".replace("WORK_OTEL", WORKLOAD_OTEL.replace("\n    ", "\n        ")).replace(
    "WORK_OWN", WORKLOAD_OWN.replace("\n    ", "\n        ")
)


class OTLPReceiver(ThreadingHTTPServer):
    """Records the body and arrival time of each OTLP/HTTP export request."""

    daemon_threads = True

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.last_arrival = 0.0
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _OTLPHandler)
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()


class _OTLPHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: OTLPReceiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            self.server.bodies.append(body)
            self.server.last_arrival = time.monotonic()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def sdk_python() -> str:
    """Python of ``.bench/otel-otlp-pyX.Y`` with the SDK and its OTLP exporter installed."""
    candidates = [sys.executable] + sorted(
        glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3")), reverse=True
    )
    for base in candidates:
        version = subprocess.run(
            [base, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        env_dir = os.path.join(BENCH, f"otel-otlp-py{version}")
        python = os.path.join(env_dir, "bin", "python")
        if not os.path.exists(python):
            subprocess.run([base, "-m", "venv", env_dir], check=True)
            install = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
            if subprocess.run(install + SDK_PACKAGES).returncode != 0:
                continue
        module = "opentelemetry.exporter.otlp.proto.http.trace_exporter"
        if subprocess.run([python, "-c", f"import {module}"], capture_output=True).returncode == 0:
            return python
    raise SystemExit("could not install the OpenTelemetry SDK and its OTLP exporter")


def count_thrift(datagrams: list[bytes]) -> int:
    from thrift.protocol.TCompactProtocol import TCompactProtocolAccelerated
    from thrift.transport.TTransport import TMemoryBuffer

    from jaeger_lite._gen.agent import Agent

    total = 0
    for data in datagrams:
        protocol = TCompactProtocolAccelerated(TMemoryBuffer(data))
        protocol.readMessageBegin()
        args = Agent.emitBatch_args()
        args.read(protocol)
        total += len(args.batch.spans)
    return total


def count_otlp(bodies: list[bytes]) -> Optional[int]:
    """Spans in the OTLP requests (None without opentelemetry-proto to decode them)."""
    try:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )
    except ImportError:
        return None
    total = 0
    for body in bodies:
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for resource in request.resource_spans:
            for scope in resource.scope_spans:
                total += len(scope.spans)
    return total


def preexec(cpu: Optional[int]) -> Any:
    return None if cpu is None else lambda: os.sched_setaffinity(0, {cpu})


def run_delivery(
    client: str, python: str, n: int, env: dict[str, str], cpu: Optional[int]
) -> dict[str, float]:
    """One fresh process of ``client``: main and all-in µs per span, delivered fraction."""
    receiver: Any
    if client == "otel-sdk":
        receiver = OTLPReceiver()
        port = receiver.server_address[1]
    else:
        receiver = receiver_socket()
        port = receiver.getsockname()[1]
    child = subprocess.Popen(
        [python, "-c", PROGRAMS[client], str(n), str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=preexec(cpu),
    )
    assert child.stdout is not None and child.stdin is not None
    datagrams: list[bytes] = []
    last_arrival = 0.0
    times: Optional[list[str]] = None
    quiet = 2.0  # seconds without a datagram/request, after the client finished, end a run
    deadline = time.monotonic() + 600
    udp = client != "otel-sdk"
    watch = [receiver, child.stdout] if udp else [child.stdout]
    while time.monotonic() < deadline:
        readable, _, _ = select.select(watch, [], [], quiet)
        if udp and receiver in readable:
            while True:  # drain what the kernel holds before looking at the clock again
                try:
                    datagrams.append(receiver.recv(65536, socket.MSG_DONTWAIT))
                except BlockingIOError:
                    break
                last_arrival = time.monotonic()
        if child.stdout in readable and times is None:
            times = child.stdout.readline().split()
            if not udp:  # provider.shutdown() returned: every export request was answered
                break
        if times is not None and not readable:
            break
    child.stdin.close()
    child.wait(60)
    if times is None:
        raise SystemExit(f"{client} failed")
    t0, t1 = float(times[0]), float(times[1])
    if client == "otel-sdk":
        receiver.shutdown()
        receiver.server_close()
        last_arrival = receiver.last_arrival
        delivered = count_otlp(receiver.bodies)
    else:
        receiver.close()
        delivered = count_thrift(datagrams)
    return {
        "main": (t1 - t0) / n * 1e6,
        "all_in": (max(last_arrival, t1) - t0) / n * 1e6,
        "delivered": float("nan") if delivered is None else (delivered - 1) / n,  # - root
    }


def run_unsampled(api: str, n: int, env: dict[str, str], cpu: Optional[int]) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", UNSAMPLED, str(n), api],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=preexec(cpu),
        check=True,
    )
    bare, work = map(float, result.stdout.split())
    return {"bare": bare / 1000, "work": work / 1000}


def instructions(python: str, program: list[str], env: dict[str, str]) -> Optional[float]:
    """CPU instructions per span, all threads (callgrind), from runs of 2,000 and 12,000
    spans: a measure the machine's load does not move. None without valgrind."""
    counts = []
    for n in (2000, 12000):
        result = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", python, "-c"]
            + [program[0], str(n), *program[1:]],
            input="",
            capture_output=True,
            text=True,
            env=env,
        )
        found = [line for line in result.stderr.splitlines() if "Collected" in line]
        if result.returncode != 0 or not found:
            return None
        counts.append(int(found[-1].split(":")[-1].replace(",", "").strip()))
    return (counts[1] - counts[0]) / 10_000


def count_instructions(sdk: str, env: dict[str, str], peer_env: dict[str, str]) -> None:
    """Print instructions per span for every client (``--instructions``)."""
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind")
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))  # never read: what the kernel cannot hold it drops
    otlp = OTLPReceiver()
    port = {"otel-api": udp.getsockname()[1], "jaeger_lite": udp.getsockname()[1]}
    port["otel-sdk"] = otlp.server_address[1]
    rows = []
    for name in ("otel-api", "jaeger_lite", "otel-sdk"):
        python, client_env = (sdk, peer_env) if name == "otel-sdk" else (sys.executable, env)
        rows.append((name, instructions(python, [PROGRAMS[name], str(port[name])], client_env)))
    for api in ("otel-api", "jaeger_lite"):
        # That program runs 14 spans per n (7 bare, 7 with the workload): the mean of both.
        count = instructions(sys.executable, [UNSAMPLED, api.replace("-api", "")], env)
        rows.append((f"{api} unsampled", None if count is None else count / 14))
    print(f"\ninstructions per span (callgrind, all threads), CPython {platform.python_version()}:")
    for name, count in rows:
        print(f"  {name:<16} {'n/a' if count is None else f'{count:,.0f}'}")
    otlp.shutdown()
    udp.close()


def summary(values: list[float]) -> tuple[float, float, float]:
    """Median, best (lowest) and worst."""
    return statistics.median(values), min(values), max(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5, help="unpinned rounds (the headline)")
    parser.add_argument("--pinned-rounds", type=int, default=3, help="rounds on CPU 0 (Linux)")
    parser.add_argument("--json", help="also write every run to this file")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="only count CPU instructions per span under valgrind (load-independent)",
    )
    args = parser.parse_args()
    os.makedirs(BENCH, exist_ok=True)
    n = args.spans
    pythons = {"otel-api": sys.executable, "jaeger_lite": sys.executable}
    pythons["otel-sdk"] = sdk_python()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAEGER_", "OTEL_"))}
    env["PYTHONPATH"] = ROOT
    peer_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
    if args.instructions:
        count_instructions(pythons["otel-sdk"], env, peer_env)
        return
    jobs: list[tuple[str, Any]] = [
        ("otel-api", lambda cpu: run_delivery("otel-api", sys.executable, n, env, cpu)),
        ("jaeger_lite", lambda cpu: run_delivery("jaeger_lite", sys.executable, n, env, cpu)),
        ("otel-sdk", lambda cpu: run_delivery("otel-sdk", pythons["otel-sdk"], n, peer_env, cpu)),
        ("otel-api unsampled", lambda cpu: run_unsampled("otel", n // 5, env, cpu)),
        ("jaeger_lite unsampled", lambda cpu: run_unsampled("jaeger_lite", n // 5, env, cpu)),
    ]
    pinned_ok = hasattr(os, "sched_setaffinity")
    runs: dict[tuple[str, bool], list[dict[str, float]]] = {}
    plan = [(False, args.rounds), (True, args.pinned_rounds if pinned_ok else 0)]
    for pinned, rounds in plan:
        for round_no in range(rounds):
            shift = round_no % len(jobs)
            for name, job in jobs[shift:] + jobs[:shift]:
                label = "pinned" if pinned else "unpinned"
                print(f"{label} round {round_no + 1}: {name} ...", file=sys.stderr, flush=True)
                runs.setdefault((name, pinned), []).append(job(0 if pinned else None))

    def version(python: str, module: str) -> str:
        code = f"import importlib.metadata as m; print(m.version({module!r}))"
        return subprocess.run([python, "-c", code], capture_output=True, text=True).stdout.strip()

    print(
        f"\n{n:,} spans per process (3 attributes + 1 event), CPython {platform.python_version()} "
        f"on {platform.machine()}; headline: median of {args.rounds} unpinned processes per "
        f"client; extra rows: best of those, and median of {args.pinned_rounds} pinned to CPU 0."
    )
    print(
        f"opentelemetry-api {version(sys.executable, 'opentelemetry-api')} (otel-api), "
        f"opentelemetry-sdk {version(pythons['otel-sdk'], 'opentelemetry-sdk')} + "
        f"opentelemetry-exporter-otlp-proto-http "
        f"{version(pythons['otel-sdk'], 'opentelemetry-exporter-otlp-proto-http')} (otel-sdk); "
        "our side over Thrift compact/UDP.\n"
    )
    print(
        "| client | rows | main µs/span | all-in µs/span | spread (all-in) | otel-sdk ÷ this "
        "| delivered |"
    )
    print("|---|---|---|---|---|---|---|")
    medians: dict[str, float] = {}
    for pinned in (False, True):
        for name in ("otel-api", "jaeger_lite", "otel-sdk"):
            results = runs.get((name, pinned))
            if not results:
                continue
            main_m, _, _ = summary([r["main"] for r in results])
            all_m, all_best, all_worst = summary([r["all_in"] for r in results])
            medians[f"{name}{'/pinned' if pinned else ''}"] = all_m
            sdk = statistics.median(r["all_in"] for r in runs[("otel-sdk", pinned)])
            delivered = min(r["delivered"] for r in results)
            rows = f"{'pinned' if pinned else 'unpinned'} median"
            print(
                f"| {name} | {rows} | {main_m:.2f} | {all_m:.2f} | {all_best:.2f}–{all_worst:.2f} "
                f"| {sdk / all_m:.1f}x | {delivered:.1%} |"
            )
            if not pinned:
                best = min(results, key=lambda r: r["all_in"])
                sdk_best = min(r["all_in"] for r in runs[("otel-sdk", pinned)])
                print(
                    f"| {name} | unpinned best | {best['main']:.2f} | {best['all_in']:.2f} | "
                    f"| {sdk_best / best['all_in']:.1f}x | {best['delivered']:.1%} |"
                )
    print("\nspans the sampler drops (main thread, µs per span; median, spread):")
    unsampled: dict[str, dict[str, float]] = {}
    for pinned in (False, True):
        for name in ("otel-api unsampled", "jaeger_lite unsampled"):
            results = runs.get((name, pinned))
            if not results:
                continue
            bare = summary([r["bare"] for r in results])
            work = summary([r["work"] for r in results])
            unsampled[f"{name}{'/pinned' if pinned else ''}"] = {"bare": bare[0], "work": work[0]}
            print(
                f"  {name:<22} {'pinned' if pinned else 'unpinned'}: bare span {bare[0]:.3f} "
                f"({bare[1]:.3f}–{bare[2]:.3f}), with the workload {work[0]:.3f} "
                f"({work[1]:.3f}–{work[2]:.3f})"
            )
    added = medians["otel-api"] - medians["jaeger_lite"]
    checks = [
        ("the OTel API adds <= 1 µs per span all-in over jaeger_lite's API", added, 1.0, "<="),
        (
            "the OTel API on jaeger_lite >= 5x less all-in than the OTel SDK",
            medians["otel-sdk"] / medians["otel-api"],
            5.0,
            ">=",
        ),
    ]
    ours, theirs = unsampled["otel-api unsampled"], unsampled["jaeger_lite unsampled"]
    checks.append(
        (
            "a non-recording OTel span <= 1.5x an unsampled jaeger_lite span (bare span)",
            ours["bare"] / theirs["bare"],
            1.5,
            "<=",
        )
    )
    checks.append(
        (
            "... with the workload's 3 attributes and 1 event as no-ops",
            ours["work"] / theirs["work"],
            1.5,
            "<=",
        )
    )
    print()
    for label, value, target, way in checks:
        met = value <= target if way == "<=" else value >= target
        print(f"{'MET   ' if met else 'MISSED'} {label}: {value:.2f}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({f"{k[0]}{'/pinned' if k[1] else ''}": v for k, v in runs.items()}, out)


if __name__ == "__main__":
    main()

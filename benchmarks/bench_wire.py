"""Spans on the wire: jaeger_lite against jaeger-client 4.8.0 and the OTel Jaeger exporter.

Workload, the same for every client: N sampled spans, each made active in turn (the
client's idiomatic ``start_active_span`` / ``start_as_current_span``) as a child of one
active root span, with 3 tags (str, int, bool) and 1 log (two fields; for OTel an event
with one attribute, its name being the ``event``), created back to back in the main thread and
delivered over UDP to a receiver on 127.0.0.1 (this process; each client runs in its own
subprocess and venv). Measured per span:

* main:   main-thread time to create and finish the N spans
* all-in: from the first span until the receiver has the last datagram
* delivered fraction and the largest datagram (decoded with thrift after the run)

"tuned" gives every client a queue larger than N (and OTel ``udp_split_oversized_batches``,
without which its 512-span batches exceed a datagram); "defaults" changes nothing.

The headline is the **median of ``--repeat`` fresh processes, unpinned** (as users run
on multi-core machines), each round running every configuration once and starting one
configuration later than the last; the ratios to the peers are medians of the per-round
ratios (peers and jaeger_lite of the same round), with their spread. Extra rows: the best
(lowest all-in) of the rounds, and with ``--cpu N`` the same rounds also run with every
client on CPU N only (Linux), median and best, numbers the scheduler's thread placement
does not move. Peers are installed into ``.bench/`` on first use.

Run: ``make bench`` or ``python benchmarks/bench_wire.py [--spans N] [--repeat R] [--cpu N]``.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import select
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Optional

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BENCH = os.path.join(ROOT, ".bench")
sys.path.insert(0, ROOT)

PEERS = {
    "jaeger-client": ["jaeger-client==4.8.0", "six"],
    "otel": ["opentelemetry-sdk==1.21.0", "opentelemetry-exporter-jaeger-thrift==1.21.0"],
}

# Each client program reads N, PORT and MODE from argv, prints "t0 t1" (monotonic seconds
# around the span loop) once spans are handed over, then waits for stdin to close.
PROGRAMS = {
    "jaeger_lite": """
import sys, time
import jaeger_lite
n, port, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
options = {} if mode == "defaults" else {"queue_size": n + 1000}
reporter = jaeger_lite.RemoteReporter(jaeger_lite.UDPSender("127.0.0.1", port), **options)
tracer = jaeger_lite.Tracer("bench", reporter)
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
tracer.close()
print(t0, t1, reporter._sender.accelerated, flush=True)
sys.stdin.read()
""",
    "jaeger-client": """
import logging, sys, time
from jaeger_client import Config
n, port, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
config = {"sampler": {"type": "const", "param": 1}, "logging": False,
          "local_agent": {"reporting_host": "127.0.0.1", "reporting_port": port}}
if mode != "defaults":
    config["reporter_queue_size"] = n + 1000
tracer = Config(config=config, service_name="bench", validate=True).initialize_tracer()
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
tracer.close()  # returns a tornado Future; the IOLoop thread keeps sending
print(t0, t1, None, flush=True)
sys.stdin.read()
""",
    "otel": """
import sys, time, warnings
warnings.simplefilter("ignore")
from opentelemetry import trace
from opentelemetry.exporter.jaeger.thrift import JaegerExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
n, port, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
if mode == "defaults":
    exporter = JaegerExporter(agent_host_name="127.0.0.1", agent_port=port)
    processor = BatchSpanProcessor(exporter)
else:
    exporter = JaegerExporter(agent_host_name="127.0.0.1", agent_port=port,
                              udp_split_oversized_batches=True)
    processor = BatchSpanProcessor(exporter, max_queue_size=n + 1000)
provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
provider.add_span_processor(processor)
tracer = provider.get_tracer("bench")
with tracer.start_as_current_span("root"):
    t0 = time.monotonic()
    for _ in range(n):
        with tracer.start_as_current_span("GET /users/{id}") as span:
            span.set_attribute("component", "bench")
            span.set_attribute("http.status_code", 200)
            span.set_attribute("retry", False)
            span.add_event("cache-miss", {"key": "user:42"})
    t1 = time.monotonic()
provider.shutdown()
print(t0, t1, None, flush=True)
sys.stdin.read()
""",
}


@dataclass
class Result:
    client: str
    mode: str
    main_us: float
    all_in_us: float
    delivered: float
    largest: int
    note: str = ""


def venv_python(name: str, packages: list[str]) -> str:
    """Python of ``.bench/<name>`` with ``packages`` installed and importable.

    Tries this interpreter first, then older pyenv Pythons, so a peer that no longer runs on
    a new CPython still gets measured (the table says which Python ran it).
    """
    candidates = [sys.executable] + sorted(
        glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3")), reverse=True
    )
    module = {"jaeger-client": "jaeger_client", "otel": "opentelemetry.exporter.jaeger.thrift"}
    for base in candidates:
        version = subprocess.run(
            [base, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        env_dir = os.path.join(BENCH, f"{name}-py{version}")
        python = os.path.join(env_dir, "bin", "python")
        if not os.path.exists(python):
            subprocess.run([base, "-m", "venv", env_dir], check=True)
            install = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
            if subprocess.run(install + packages).returncode != 0:
                continue
        check = subprocess.run([python, "-c", f"import {module[name]}"], capture_output=True)
        if check.returncode == 0:
            return python
        print(f"  {name} does not import on Python {version}; trying an older one")
    raise SystemExit(f"could not install {name} on any Python")


def count_spans(datagrams: list[bytes]) -> int:
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


def receiver_socket() -> socket.socket:
    """A UDP socket on 127.0.0.1 with a receive buffer large enough for a whole burst."""
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # SO_RCVBUFFORCE (Linux, 33; needs root) lifts the rmem_max cap; else SO_RCVBUF.
    for option in ((33,) if sys.platform.startswith("linux") else ()) + (socket.SO_RCVBUF,):
        try:
            receiver.setsockopt(socket.SOL_SOCKET, option, 64 << 20)
            break
        except OSError:
            pass
    receiver.bind(("127.0.0.1", 0))
    return receiver


def run_once(
    client: str, python: str, n: int, mode: str, env: dict[str, str], cpu: Optional[int] = None
) -> Result:
    receiver = receiver_socket()
    port = receiver.getsockname()[1]
    child = subprocess.Popen(
        [python, "-c", PROGRAMS[client], str(n), str(port), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=None if cpu is None else lambda: os.sched_setaffinity(0, {cpu}),
    )
    assert child.stdout is not None and child.stdin is not None
    datagrams: list[bytes] = []
    last_arrival = 0.0
    times: Optional[list[str]] = None
    quiet = 2.0  # seconds without a datagram, after the client finished, that end a run
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        readable, _, _ = select.select([receiver, child.stdout], [], [], quiet)
        if receiver in readable:
            while True:  # drain what the kernel holds before looking at the clock again
                try:
                    datagrams.append(receiver.recv(65536, socket.MSG_DONTWAIT))
                except BlockingIOError:
                    break
                last_arrival = time.monotonic()
        if child.stdout in readable and times is None:
            times = child.stdout.readline().split()
        if not readable and times is not None:
            break
    child.stdin.close()
    child.wait(30)
    receiver.close()
    if times is None:
        raise SystemExit(f"{client} ({mode}) failed")
    t0, t1 = float(times[0]), float(times[1])
    delivered = count_spans(datagrams) / n
    note = "pure Python" if times[2] == "False" else ""
    return Result(
        client,
        mode,
        (t1 - t0) / n * 1e6,
        (max(last_arrival, t1) - t0) / n * 1e6,
        delivered,
        max((len(d) for d in datagrams), default=0),
        note,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument(
        "--cpu",
        type=int,
        help="also run every round with every client on this CPU only (Linux): extra rows, "
        "the scheduler then cannot put a client's threads on different CPUs",
    )
    args = parser.parse_args()
    os.makedirs(BENCH, exist_ok=True)
    n = args.spans

    pythons = {"jaeger_lite": sys.executable}
    for name, packages in PEERS.items():
        pythons[name] = venv_python(name, packages)
    env = {k: v for k, v in os.environ.items() if k != "JAEGER_LITE_NO_ACCELERATOR"}
    env["PYTHONPATH"] = ROOT
    peer_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
    pure_env = dict(env, JAEGER_LITE_NO_ACCELERATOR="1")

    configs = [
        ("jaeger_lite", "tuned", env),
        ("jaeger_lite", "tuned", pure_env),
        ("jaeger-client", "tuned", peer_env),
        ("otel", "tuned", peer_env),
        ("jaeger_lite", "defaults", env),
        ("jaeger-client", "defaults", peer_env),
        ("otel", "defaults", peer_env),
    ]
    placements: list[Optional[int]] = [None] if args.cpu is None else [None, args.cpu]
    # Rounds go through every configuration once (unpinned, then pinned when asked), so a
    # burst of load from elsewhere on the machine hits all clients alike rather than all
    # the runs of one of them. Each round starts one configuration later: a run can leave
    # the machine slower for the next one (on a 2-CPU VM, runs right after jaeger-client's
    # "defaults" run were often ~35% slower), and no configuration should always be the
    # one that follows it.
    steps = [(i, cpu) for cpu in placements for i in range(len(configs))]
    runs: dict[tuple[int, Optional[int]], list[Result]] = {step: [] for step in steps}
    for round_no in range(1, args.repeat + 1):
        shift = (round_no - 1) % len(steps)
        for i, cpu in steps[shift:] + steps[:shift]:
            client, mode, client_env = configs[i]
            label = " pure Python" if client_env is pure_env else ""
            where = "" if cpu is None else f", CPU {cpu}"
            print(
                f"round {round_no}: {client} ({mode}{label}{where}) ...",
                file=sys.stderr,
                flush=True,
            )
            runs[(i, cpu)].append(run_once(client, pythons[client], n, mode, client_env, cpu))

    def version(python: str) -> str:
        return subprocess.run(
            [python, "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
        ).stdout.strip()

    def find(client: str, mode: str, cpu: Optional[int], note: str = "") -> list[Result]:
        for (i, where), results in runs.items():
            name, config_mode, client_env = configs[i]
            label = "pure Python" if client_env is pure_env else ""
            if (name, config_mode, where, label) == (client, mode, cpu, note):
                return results
        raise KeyError((client, mode, cpu, note))

    def spread(values: list[float], digits: int = 2, suffix: str = "") -> str:
        middle = statistics.median(values)
        return f"{middle:.{digits}f}{suffix} ({min(values):.{digits}f}-{max(values):.{digits}f})"

    print(f"\n{n:,} spans (3 tags + 1 log), {args.repeat} rounds; ", end="")
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, ", end="")
    print(", ".join(f"{k} on Python {version(p)}" for k, p in pythons.items()))
    header = (
        f"| {'client':<26} | {'settings':<8} | {'statistic':<16} | {'main µs/span':>12} "
        f"| {'all-in µs/span':>22} | {'jaeger-client ÷ this':>22} | {'OTel ÷ this':>22} "
        f"| {'delivered':>9} | {'largest datagram':>16} |"
    )
    print(header)
    print("|" + "|".join("-" * len(c) for c in header.split("|")[1:-1]) + "|")
    headline: dict[tuple[str, str, str], float] = {}
    for cpu in placements:
        where = "unpinned" if cpu is None else f"CPU {cpu}"
        for statistic in ("median", "best"):
            for i, (client, mode, client_env) in enumerate(configs):
                note = "pure Python" if client_env is pure_env else ""
                mine = runs[(i, cpu)]
                jc = find("jaeger-client", mode, cpu)
                otel = find("otel", mode, cpu)
                name = client + (f" ({note})" if note else "")
                if statistic == "median":
                    main_us = f"{statistics.median(r.main_us for r in mine):.2f}"
                    all_in = spread([r.all_in_us for r in mine])
                    # Ratios within a round (the same load), then their median and spread.
                    jc_ratio = [p.all_in_us / r.all_in_us for p, r in zip(jc, mine)]
                    otel_ratio = [p.all_in_us / r.all_in_us for p, r in zip(otel, mine)]
                    ratios = (spread(jc_ratio, 1, "x"), spread(otel_ratio, 1, "x"))
                    if cpu is None:
                        headline[(client, mode, note)] = statistics.median(jc_ratio)
                        headline[(client, mode, note + "otel")] = statistics.median(otel_ratio)
                    delivered = min(r.delivered for r in mine)
                else:
                    best = min(mine, key=lambda result: result.all_in_us)
                    main_us = f"{best.main_us:.2f}"
                    all_in = f"{best.all_in_us:.2f}"
                    best_jc = min(r.all_in_us for r in jc)
                    best_otel = min(r.all_in_us for r in otel)
                    ratios = (
                        f"{best_jc / best.all_in_us:.1f}x",
                        f"{best_otel / best.all_in_us:.1f}x",
                    )
                    delivered = best.delivered
                largest = max(r.largest for r in mine)
                print(
                    f"| {name:<26} | {mode:<8} | {statistic + ', ' + where:<16} | {main_us:>12} "
                    f"| {all_in:>22} | {ratios[0]:>22} | {ratios[1]:>22} "
                    f"| {delivered:>9.1%} | {largest:>16,} |"
                )

    defaults = find("jaeger_lite", "defaults", None)
    checks = [
        (
            "all-in >= 15x less than jaeger-client (median, unpinned)",
            headline[("jaeger_lite", "tuned", "")],
            15,
        ),
        (
            "all-in >= 40x less than the OTel exporter (median, unpinned)",
            headline[("jaeger_lite", "tuned", "otel")],
            40,
        ),
        (
            "pure Python all-in >= 4x less than jaeger-client (median, unpinned)",
            headline[("jaeger_lite", "tuned", "pure Python")],
            4,
        ),
        (
            "jaeger_lite delivers 100% with default settings (every round)",
            min(r.delivered for r in defaults) * 100,
            100,
        ),
    ]
    print()
    for label, value, target in checks:
        print(f"{'MET ' if value >= target else 'MISSED'} {label}: {value:.1f}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(
                [
                    dict(r.__dict__, cpu=cpu, round=k + 1)
                    for (i, cpu), results in runs.items()
                    for k, r in enumerate(results)
                ],
                out,
                indent=1,
            )


if __name__ == "__main__":
    main()

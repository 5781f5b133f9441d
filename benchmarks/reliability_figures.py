"""The figures of README "Reliability": what a dead, restarting or stuck backend, a hostile
header and a forwarding loop cost, measured on this machine with real sockets.

Not a comparison with other clients (bench_core.py and bench_wire.py are): each line is a
guarantee and the number that shows it. Run: ``python benchmarks/reliability_figures.py``.
"""

from __future__ import annotations

import io
import logging
import os
import platform
import socket
import statistics
import sys
import threading
import time
from collections.abc import Sequence

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from jaeger_lite import (
    RemoteReporter,
    RemoteSampler,
    Tracer,
    UDPSender,
)
from jaeger_lite.agent import DevAgent
from jaeger_lite.senders.base import Sender

logging.disable(logging.WARNING)  # the dead agent would log once a minute


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def accounted(m: dict[str, int]) -> int:
    return sum(m[k] for k in m if k.startswith("spans_dropped_")) + m["spans_sent"]


def finish(tracer: Tracer, count: int) -> None:
    for _ in range(count):
        tracer.start_span("op").finish()


def dead_agent(flushes: int = 1000, per_flush: int = 10, burst: int = 200_000) -> None:
    tracer = Tracer("svc", RemoteReporter(UDPSender("127.0.0.1", free_port())))
    for _ in range(flushes):
        finish(tracer, per_flush)
        tracer.flush(5)
    finish(tracer, burst)
    tracer.close(10)
    m = tracer.metrics
    print(
        f"dead agent: {m['spans_sampled']:,} spans ({flushes} flushes of {per_flush}, then a "
        f"burst of {burst:,}): sent {m['spans_sent']:,}, send failures "
        f"{m['spans_dropped_send_failed']:,}, queue full {m['spans_dropped_queue_full']:,}; "
        f"accounted {accounted(m):,} = sampled: {accounted(m) == m['spans_sampled']}"
    )


def restarting_agent(rounds: int = 10, per_round: int = 500) -> None:
    port = free_port()
    received = 0
    tracer = Tracer("svc", RemoteReporter(UDPSender("127.0.0.1", port)))
    agent: DevAgent
    for round_ in range(rounds):
        if round_ % 2 == 0:
            agent = DevAgent(compact_port=port, binary_port=None, http_port=None,
                             out=io.StringIO(), quiet_after=3600).start()  # fmt: skip
        for _ in range(per_round // 50):
            finish(tracer, 50)
            tracer.flush(5)
        if round_ % 2 == 0:
            agent.wait_for_spans(per_round, 5)
            received += agent.stop().spans
    tracer.close(5)
    m = tracer.metrics
    print(
        f"restarting agent: {m['spans_sampled']:,} spans, agent up half the time: received "
        f"{received:,}, spans_sent {m['spans_sent']:,}, failed "
        f"{m['spans_dropped_send_failed']:,}; exact: "
        f"{received == m['spans_sent'] and accounted(m) == m['spans_sampled']}"
    )


class _Stuck(Sender):
    batch_bytes = 65000

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def encode(self, span: object) -> bytes:
        return b"x"

    def send(self, spans: Sequence[bytes]) -> None:
        self.release.wait(60)


def stuck_sender(timeout: float = 0.2) -> None:
    sender = _Stuck()
    tracer = Tracer("svc", RemoteReporter(sender))
    finish(tracer, 1000)
    started = time.perf_counter()
    tracer.close(timeout)
    took = time.perf_counter() - started
    flush_started = time.perf_counter()
    tracer.flush(None)
    flush_took = time.perf_counter() - flush_started
    m = tracer.metrics
    sender.release.set()
    print(
        f"stuck sender: close({timeout}) returned in {took:.3f} s, flush(None) after it in "
        f"{flush_took * 1e3:.2f} ms; {m['spans_dropped_close_timeout']:,} spans counted as "
        f"spans_dropped_close_timeout; accounted = sampled: {accounted(m) == m['spans_sampled']}"
    )


def flush_racing_close(rounds: int = 300) -> None:
    class Quick(Sender):
        def encode(self, span: object) -> bytes:
            return b"x"

        def send(self, spans: Sequence[bytes]) -> None:
            self._spans_sent += len(spans)

    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # as many interleavings as the interpreter allows
    hung, slowest = 0, 0.0
    try:
        for _ in range(rounds):
            reporter = RemoteReporter(Quick())
            finish(Tracer("svc", reporter), 3)
            go = threading.Barrier(2)
            took: list[float] = []

            def flush(reporter: RemoteReporter = reporter, go: threading.Barrier = go,
                      took: list[float] = took) -> None:  # fmt: skip
                go.wait()
                started = time.perf_counter()
                reporter.flush(None)
                took.append(time.perf_counter() - started)

            thread = threading.Thread(target=flush, daemon=True)
            thread.start()
            go.wait()
            reporter.close()
            thread.join(5)
            hung += thread.is_alive()
            slowest = max([slowest, *took])
    finally:
        sys.setswitchinterval(previous)
    print(
        f"flush(None) racing close(): {rounds} rounds, {hung} hung, slowest {slowest * 1e3:.1f} ms"
    )


def huge_headers() -> None:
    worst, case = 0.0, ""
    for propagation, headers in (
        ("jaeger", ("uber-trace-id", "uberctx-k", "jaeger-baggage", "jaeger-debug-id")),
        ("b3", ("b3", "x-b3-traceid", "baggage-k")),
        ("w3c", ("traceparent", "tracestate", "baggage")),
    ):
        tracer = Tracer("svc", propagation=propagation)
        for header in headers:
            for unit in ("%", "%F0%9F%98%80", "a=%,", ",", " ", "="):
                value = unit * (10_000_000 // len(unit))
                for fmt in ("http_headers", "text_map"):
                    started = time.perf_counter()
                    tracer.extract(fmt, {header: value})
                    took = time.perf_counter() - started
                    if took > worst:
                        worst, case = took, f"{header}: {unit!r} ({fmt})"
    print(f"10 MB headers (6 fillers, 10 headers, 2 formats): slowest {worst * 1e3:.1f} ms, {case}")


def first_decision(tries: int = 20) -> None:
    dead, live = [], []
    for _ in range(tries):
        sampler = RemoteSampler(
            "svc", sampling_endpoint=f"http://127.0.0.1:{free_port(socket.SOCK_STREAM)}/"
        )
        started = time.perf_counter()
        sampler.is_sampled(1 << 62, "op")
        dead.append(time.perf_counter() - started)
        sampler.close()
    with DevAgent(compact_port=0, binary_port=None, http_port=None, sampling_port=0,
                  out=io.StringIO()) as agent:  # fmt: skip
        for _ in range(tries):
            sampler = RemoteSampler("svc", sampling_endpoint=agent.sampling_url or "")
            started = time.perf_counter()
            sampled = sampler.is_sampled(1 << 62, "op")[0]
            live.append(time.perf_counter() - started)
            sampler.close()
            assert sampled, "the first decision must follow the agent's 100%"
    print(
        f"first sampling decision: against jaeger-lite agent {statistics.median(live) * 1e3:.1f} "
        f"ms median ({max(live) * 1e3:.1f} max), sampled at its 100%; agent down "
        f"{statistics.median(dead) * 1e3:.1f} ms median ({max(dead) * 1e3:.1f} max); {tries} each"
    )


def forwarding_loop() -> None:
    a_port, b_port = free_port(), free_port()
    quiet = {"binary_port": None, "http_port": None, "out": io.StringIO()}
    a = DevAgent(compact_port=a_port, forward=("127.0.0.1", b_port), **quiet).start()  # type: ignore[arg-type]
    b = DevAgent(compact_port=b_port, forward=("127.0.0.1", a_port), **quiet).start()  # type: ignore[arg-type]
    tracer = Tracer("svc", RemoteReporter(UDPSender("127.0.0.1", a_port)))
    finish(tracer, 1)
    tracer.close(5)
    with a._changed:
        a._changed.wait_for(lambda: a._counts["forward_loops"] >= 1, 5)
    sa, sb = a.stop(), b.stop()
    print(
        f"two agents forwarding to each other: one span shown {sa.spans} + {sb.spans} times, "
        f"{sa.forward_loops} copy dropped as a loop"
    )


def main() -> None:
    print(
        f"jaeger_lite reliability figures, CPython {platform.python_version()} on "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, unpinned"
    )
    dead_agent()
    restarting_agent()
    stuck_sender()
    flush_racing_close()
    huge_headers()
    first_decision()
    forwarding_loop()


if __name__ == "__main__":
    main()

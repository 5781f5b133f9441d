"""All-in cost against the sum of its parts (issue 18, target 1), in fresh processes.

Three measurements of the same workload, ``start_active_span`` + one tag under an active
root span, N sampled spans (default 20,000), each in a fresh process:

* (a) loop:    the span loop with a ``NullReporter`` (µs/span of the loop)
* (b) encoder: the same finished spans encoded by ``UDPSender.encode_spans`` in batches of
  ``--batch`` spans (128: what the reporter encodes at a time), timed alone
* (c) all-in:  ``RemoteReporter`` + ``UDPSender`` (defaults) to a UDP receiver in this
  process on 127.0.0.1, from the first span until the last datagram arrives

Targets: (b) <= (a) and (c) <= 1.1 x ((a) + (b)). The ratios are computed inside each round
(a, b and c of one round ran back to back), then the median and spread over the rounds.
Nothing is pinned; rounds interleave the modes (and the checkouts, with ``--versus DIR``,
e.g. an export of main: ``git archive main | tar -x -C /tmp/main-ref``), each round
starting one step later, so load from elsewhere hits all of them alike.

``--study`` adds, for (c), where the time goes: the worker's wake-ups (``Event.wait``
returns) and the application's ``set()`` calls, the worker's CPU time (it holds the GIL
whenever it runs Python), the main thread's CPU time against its wall time (the rest it
waited, mostly for the GIL), and the garbage collections run during the loop; and (d):
(a) and (b) in turns on one thread (every ``--batch`` spans the loop encodes the held ones),
with no reporter and nothing sent: what encoding on the application thread costs by
itself, from caches shared between the two (c) is then compared with; and (e): (d) less
the same loop with the spans held and let go every ``--batch`` spans unencoded, which is
what the encoder costs inside (d), against (b) alone.
``--switch-interval S`` sets ``sys.setswitchinterval`` in the children; ``--patch
MODULE.NAME=EXPR`` sets a module attribute in this checkout's children first (e.g.
``jaeger_lite.reporting._turns.WAKE_BYTES=10**9``: the worker never woken before the flush,
the floor of the design).
``--flush`` measures instead how long ``tracer.flush()`` takes after a few spans (a
request handler or serverless invocation that flushes before it returns): 10 spans, then
``flush()``, 300 times in each fresh process; the median and 90th percentile of the flush.
``--callgrind`` counts instructions per span instead of timing (valgrind; repeatable on a
loaded machine): each mode at ``--spans`` and at a quarter of it, the difference divided
by the difference in spans, so interpreter start and imports cancel out.

Run: ``python benchmarks/bench_reporter.py [--rounds 7] [--spans 20000] [--versus DIR]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import select
import socket
import statistics
import subprocess
import sys
import time
from typing import Optional

from bench_wire import receiver_socket  # the benchmarks' directory is sys.path[0]

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))

# argv: root, mode, spans, port, batch, study, switch interval, encode repeats, patches.
# Prints one line of
# "key=value" pairs once the spans are handed over (flush), then closes the reporter.
PROGRAM = r"""
import gc, sys, time, threading
root, mode, n, port, batch, study, switch, repeats = sys.argv[1:9]
n, port, batch, study, repeats = int(n), int(port), int(batch), study == "1", int(repeats)
if switch != "-":
    sys.setswitchinterval(float(switch))
sys.path.insert(0, root)
import importlib
import jaeger_lite
for patch in sys.argv[9:]:  # module.NAME=expression, for studies
    target, expression = patch.split("=", 1)
    module, name = target.rsplit(".", 1)
    setattr(importlib.import_module(module), name, eval(expression))
from jaeger_lite import NullReporter, RemoteReporter, Tracer, UDPSender

class Collect(NullReporter):
    def __init__(self):
        self.spans = []
        self.report_span = self.spans.append

out = {}
collections = [0, 0, 0]
def on_gc(phase, info):
    if phase == "start":
        collections[info["generation"]] += 1
if mode in ("allin", "flush"):
    reporter = RemoteReporter(UDPSender("127.0.0.1", port))
    if study:
        class CountingEvent(threading.Event):
            waits = sets = 0
            def wait(self, timeout=None):
                CountingEvent.waits += 1
                return super().wait(timeout)
            def set(self):
                CountingEvent.sets += 1
                super().set()
        reporter._wake = CountingEvent()
elif mode in ("encode", "interleaved", "held"):
    reporter = Collect()
else:
    reporter = NullReporter()
tracer = Tracer("bench", reporter)
perf = time.perf_counter
with tracer.start_active_span("root"):
    gc.callbacks.append(on_gc)
    cpu0 = time.thread_time()
    pcpu0 = time.process_time()
    t0 = perf()
    if mode == "flush":  # 10 spans, then flush(): its latency, 300 times
        latencies = []
        for _ in range(300):
            for _ in range(10):
                with tracer.start_active_span("GET /users/{id}") as scope:
                    scope.span.set_tag("component", "bench")
            f0 = perf()
            reporter.flush()
            latencies.append(perf() - f0)
        latencies.sort()
        out["flush_p50"] = latencies[len(latencies) // 2] * 1e6
        out["flush_p90"] = latencies[len(latencies) * 9 // 10] * 1e6
    elif mode == "held":  # (d) without the encoding: spans held, let go every `batch`
        held = reporter.spans
        for _ in range(n):
            with tracer.start_active_span("GET /users/{id}") as scope:
                scope.span.set_tag("component", "bench")
            if len(held) >= batch:
                held.clear()
    elif mode == "interleaved":  # (a) and (b) in turns on one thread: no reporter, no sends
        held = reporter.spans
        encode = UDPSender("127.0.0.1", port).encode_spans
        for _ in range(n):
            with tracer.start_active_span("GET /users/{id}") as scope:
                scope.span.set_tag("component", "bench")
            if len(held) >= batch:
                encode(held)
                held.clear()
        encode(held)
    else:
        for _ in range(n):
            with tracer.start_active_span("GET /users/{id}") as scope:
                scope.span.set_tag("component", "bench")
    t1 = perf()
    cpu1 = time.thread_time()
    gc.callbacks.remove(on_gc)
out["loop"] = (t1 - t0) / n * 1e6
out["loop_cpu"] = (cpu1 - cpu0) / n * 1e6
out["gc"] = "/".join(map(str, collections))
if mode == "encode":
    spans = reporter.spans
    sender = UDPSender("127.0.0.1", port)
    encode = sender.encode_spans
    groups = [spans[i : i + batch] for i in range(0, len(spans), batch)]
    c0 = time.process_time()
    t0 = perf()
    for _ in range(repeats):
        for group in groups:
            encode(group)
    out["encode"] = (perf() - t0) / n * 1e6
    out["encode_cpu"] = (time.process_time() - c0) / n * 1e6
elif mode == "flush":
    out["datagrams"] = reporter.metrics()["batches_sent"]
    reporter.close()
elif mode == "allin":
    reporter.flush()
    out["allin_cpu"] = (time.process_time() - pcpu0) / n * 1e6
    out["t0"] = t0
    out["flushed"] = (perf() - t0) / n * 1e6
    out["main_cpu"] = (cpu1 - cpu0) / n * 1e6
    out["main_wait"] = ((t1 - t0) - (cpu1 - cpu0)) / n * 1e6
    worker = reporter._worker
    if study and worker is not None:
        clock = time.pthread_getcpuclockid(worker.ident)
        out["worker_cpu"] = time.clock_gettime(clock) / n * 1e6
        out["wakes"] = type(reporter._wake).waits
        out["sets"] = type(reporter._wake).sets
    out["datagrams"] = reporter.metrics()["batches_sent"]
    out["sent"] = reporter.metrics()["spans_sent"]
    reporter.close()
print(" ".join(f"{k}={v}" for k, v in out.items()), flush=True)
"""


def run(
    root: str,
    mode: str,
    n: int,
    batch: int,
    study: bool,
    switch: Optional[float],
    patches: list[str],
    prefix: Optional[list[str]] = None,
    repeats: int = 1,
) -> dict[str, str]:
    """One fresh process; for all-in, the time until the last datagram arrived is added."""
    receiver = receiver_socket()
    port = receiver.getsockname()[1]
    argv = [sys.executable, "-c", PROGRAM, root, mode, str(n), str(port), str(batch)]
    argv += ["1" if study else "0", "-" if switch is None else str(switch), str(repeats)]
    argv += patches
    child = subprocess.Popen(
        (prefix or []) + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    datagrams = 0
    last = 0.0
    line = ""
    expected: Optional[int] = None
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if expected is not None and datagrams >= expected:
            break
        readable, _, _ = select.select([receiver, child.stdout], [], [], 2.0)
        if receiver in readable:
            while True:
                try:
                    receiver.recv(65536, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    break
                datagrams += 1
                last = time.perf_counter()  # CLOCK_MONOTONIC: the child's perf_counter too
        if child.stdout in readable and not line:
            line = child.stdout.readline()
            if not line:
                break
            fields = dict(item.split("=", 1) for item in line.split())
            expected = int(fields["datagrams"]) if "datagrams" in fields else 0
        if not readable and line:
            break  # quiet for 2 s after the child reported: a datagram was lost
    _, err = child.communicate(timeout=120)
    receiver.close()
    if child.returncode != 0 or not line:
        raise SystemExit(f"{mode} in {root} failed:\n{err}")
    result = dict(item.split("=", 1) for item in line.split())
    if mode == "allin":
        result["allin"] = str((max(last, float(result["t0"])) - float(result["t0"])) / n * 1e6)
        result["received"] = str(datagrams)
    result["stderr"] = err
    return result


def instructions(root: str, mode: str, n: int, batch: int, patches: list[str]) -> float:
    """Instructions per span of ``mode`` under callgrind: (Ir(n) - Ir(n/4)) / (3n/4); for
    the encoder, (Ir(encode twice) - Ir(encode once)) / n, the encoding alone."""
    counts = []
    runs = [(n, 2), (n, 1)] if mode == "encode" else [(n, 1), (n // 4, 1)]
    for spans, repeats in runs:
        prefix = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
        result = run(root, mode, spans, batch, False, None, patches, prefix, repeats)
        match = re.search(r"Collected : (\d+)", result["stderr"])
        if match is None:
            raise SystemExit(f"no instruction count from valgrind:\n{result['stderr']}")
        counts.append(int(match.group(1)))
    return (counts[0] - counts[1]) / (n if mode == "encode" else n - n // 4)


def flush_latency(roots: dict[str, str], rounds: int) -> None:
    """``--flush``: flush() latency after 10 spans, per checkout, rounds interleaved."""
    rows: dict[str, list[dict[str, str]]] = {name: [] for name in roots}
    for round_no in range(rounds):
        for name in list(roots)[round_no % len(roots) :] + list(roots)[: round_no % len(roots)]:
            rows[name].append(run(roots[name], "flush", 3000, 128, False, None, []))
    print(f"\nflush() after 10 spans, µs: median (min-max) over {rounds} fresh processes")
    for name, results in rows.items():
        p50 = [float(r["flush_p50"]) for r in results]
        p90 = [float(r["flush_p90"]) for r in results]
        print(f"  {name:<7} p50 {spread(p50)}  p90 {spread(p90)}")


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batch", type=int, default=128, help="spans per encode_spans call")
    parser.add_argument("--versus", help="another checkout to measure in the same run")
    parser.add_argument("--study", action="store_true", help="wake-ups, CPU and wait times")
    parser.add_argument("--switch-interval", type=float, help="sys.setswitchinterval (s)")
    parser.add_argument("--callgrind", action="store_true", help="instructions per span")
    parser.add_argument("--flush", action="store_true", help="flush() latency after 10 spans")
    parser.add_argument(
        "--patch",
        action="append",
        default=[],
        metavar="MODULE.NAME=EXPR",
        help="set a module attribute in the children first (studies; this checkout only)",
    )
    args = parser.parse_args()
    roots = {"this": ROOT}
    if args.versus:
        roots["versus"] = os.path.abspath(args.versus)
    modes = ["loop", "encode", "allin"] + (["interleaved", "held"] if args.study else [])
    print(
        f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f}; {args.spans:,} spans, start_active_span + 1 tag, "
        f"unpinned",
        flush=True,
    )
    for name, root in roots.items():
        print(f"  {name}: {root}")

    if args.flush:
        flush_latency(roots, args.rounds)
        return

    if args.callgrind:
        print("\ninstructions per span (callgrind, whole process, all threads)")
        irs: dict[str, dict[str, float]] = {}
        for name, root in roots.items():
            patches = args.patch if name == "this" else []
            irs[name] = {m: instructions(root, m, args.spans, args.batch, patches) for m in modes}
            ir = irs[name]
            print(
                f"  {name:<7} (a) {ir['loop']:>8.0f}  (b) {ir['encode']:>8.0f}  "
                f"(c) {ir['allin']:>8.0f}  (b)/(a) {ir['encode'] / ir['loop']:.3f}  "
                f"(c)/((a)+(b)) {ir['allin'] / (ir['loop'] + ir['encode']):.3f}",
                flush=True,
            )
        return

    steps = [(name, mode) for name in roots for mode in modes]
    results: dict[tuple[str, str], list[dict[str, str]]] = {step: [] for step in steps}
    for round_no in range(args.rounds):
        shift = round_no % len(steps)
        for name, mode in steps[shift:] + steps[:shift]:
            patches = args.patch if name == "this" else []
            results[(name, mode)].append(
                run(
                    roots[name],
                    mode,
                    args.spans,
                    args.batch,
                    args.study,
                    args.switch_interval,
                    patches,
                )
            )
        print(f"round {round_no + 1}/{args.rounds} done", file=sys.stderr, flush=True)

    print(f"\nmedian (min-max) of {args.rounds} rounds, µs/span; ratios taken within a round")
    for name in roots:
        a = [float(r["loop"]) for r in results[(name, "loop")]]
        b = [float(r["encode"]) for r in results[(name, "encode")]]
        c = [float(r["allin"]) for r in results[(name, "allin")]]
        c_loop = [float(r["loop"]) for r in results[(name, "allin")]]
        a_cpu = [float(r["loop_cpu"]) for r in results[(name, "loop")]]
        b_cpu = [float(r["encode_cpu"]) for r in results[(name, "encode")]]
        c_cpu = [float(r["allin_cpu"]) for r in results[(name, "allin")]]
        sent = [int(r["sent"]) for r in results[(name, "allin")]]
        lost = sum(int(r["datagrams"]) - int(r["received"]) for r in results[(name, "allin")])
        print(f"{name}:")
        print(f"  (a) loop, NullReporter        {spread(a)}")
        print(f"  (b) encode_spans alone         {spread(b)}")
        print(f"  (c) all-in, until last packet  {spread(c)}")
        print(f"      its main-thread loop       {spread(c_loop)}")
        print(f"  (b)/(a)                        {spread([y / x for x, y in zip(a, b)])}")
        ratio = [z / (x + y) for x, y, z in zip(a, b, c)]
        print(f"  (c)/((a)+(b))                  {spread(ratio)}")
        print("  CPU time (all threads) instead of wall time, µs/span:")
        print(f"  (a) {spread(a_cpu)}  (b) {spread(b_cpu)}  (c) until flushed {spread(c_cpu)}")
        print(f"  (b)/(a)                        {spread([y / x for x, y in zip(a_cpu, b_cpu)])}")
        ratio = [z / (x + y) for x, y, z in zip(a_cpu, b_cpu, c_cpu)]
        print(f"  (c)/((a)+(b))                  {spread(ratio)}")
        print(f"  spans sent {min(sent)}-{max(sent)} of {args.spans}; datagrams lost {lost}")
        gcs = sorted({r["gc"] for r in results[(name, "allin")]})
        print(f"  gc collections gen0/1/2 in (c)'s loop: {', '.join(gcs)}", end="")
        print(f"; in (a)'s: {', '.join(sorted({r['gc'] for r in results[(name, 'loop')]}))}")
        if args.study:
            d = [float(r["loop"]) for r in results[(name, "interleaved")]]
            print("  (d) (a) and (b) in turns of --batch spans on one thread, no reporter:")
            d_ratio = [w / (x + y) for x, y, w in zip(a, b, d)]
            print(f"      {spread(d)}; (d)/((a)+(b)) {spread(d_ratio)}")
            print(f"      (c)/(d) {spread([z / w for z, w in zip(c, d)])}")
            held = [float(r["loop"]) for r in results[(name, "held")]]
            in_turns = [w - h for w, h in zip(d, held)]
            print("  (e) the encoder in (d): (d) less the same loop holding the spans unencoded:")
            print(f"      {spread(held)} held; encoding {spread(in_turns)}", end="")
            print(f", (e)/(b) {spread([e / y for e, y in zip(in_turns, b)])}")
            rows = results[(name, "allin")]
            for key, label in [
                ("wakes", "worker wake-ups (Event.wait returns)"),
                ("sets", "wake-up calls (Event.set)"),
                ("worker_cpu", "worker CPU µs/span"),
                ("main_cpu", "main-thread CPU µs/span (loop)"),
                ("main_wait", "main-thread wait µs/span (loop)"),
            ]:
                values = [float(r[key]) for r in rows if key in r]
                if values:
                    print(f"  {label:<37} {spread(values)}")
    if "versus" in roots:
        print("\nthis / versus, medians of the per-round ratios:")
        for mode in modes:
            key = {"encode": "encode", "allin": "allin"}.get(mode, "loop")
            mine = [float(r[key]) for r in results[("this", mode)]]
            theirs = [float(r[key]) for r in results[("versus", mode)]]
            print(f"  {mode:<7} {spread([x / y for x, y in zip(mine, theirs)])}")


if __name__ == "__main__":
    main()

"""All-in (issue 18, target 1(c)) built up from the loop in steps, to price each step.

Each step is the all-in path of ``bench_reporter.py`` (``start_active_span`` + one tag under
an active root span, ``RemoteReporter`` + ``UDPSender`` to a socket on 127.0.0.1, until
``flush()`` returns) with the reporter's later stages replaced by stubs, in a fresh
process; rounds interleave the steps, and each step's time is divided by the previous
step's within a round, so a step's price is the median of its own ratios:

1. ``loop``:     a ``NullReporter`` (the tracer hands it nothing) — (a)
2. ``kept``:     the reporter's inbox, a turn every 128 spans that lets the spans go
3. ``encoded``:  ... that encodes them first (``encode_spans``) and lets the bytes go
4. ``turns``:    the reporter's own turns (locks, counts, chunks), chunks counted as sent
5. ``batches``:  its own batches too, ``try_send`` counting a batch as sent
6. ``joined``:   ``try_send`` also builds the datagram (``emit_batch``), sends nothing
7. ``sent``:     the real thing — (c)

Stubs replace private methods of this checkout; a study, not an API.
Run: ``python benchmarks/bench_reporter_ladder.py [--rounds 21] [--spans 20000]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
STEPS = ["loop", "kept", "encoded", "turns", "batches", "joined", "sent"]

PROGRAM = r"""
import socket, sys, time
root, step, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, root)
from jaeger_lite import NullReporter, RemoteReporter, Tracer, UDPSender
from jaeger_lite.reporting import _turns
from jaeger_lite.senders import jaeger_udp

receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
receiver.bind(("127.0.0.1", 0))

def let_go(self, encode):
    queue = self._queue
    if encode:
        self._sender.encode_spans(queue)
    self._taken += len(queue)
    self._handed += len(queue)
    queue.clear()
    self._limit = self._handed + self._queue_size

def count_chunks(self):
    while self._encoded:
        self._handed += len(self._encoded.popleft()[0])
    self._limit = self._handed + self._queue_size
    self._update_room()
    return True

class Sender(UDPSender):
    def try_send(self, spans):
        if step == "joined":
            jaeger_udp.emit_batch(self.process_bytes(), spans, self._seq_no + 1, self._stats())
        self._spans_sent += len(spans)
        self._batches += 1
        return True

if step == "kept":
    _turns.Encoding._turn = lambda self: let_go(self, False)
elif step == "encoded":
    _turns.Encoding._turn = lambda self: let_go(self, True)
elif step == "turns":
    _turns.Encoding._send_turn = count_chunks
sender = (UDPSender if step == "sent" else Sender)("127.0.0.1", receiver.getsockname()[1])
reporter = NullReporter() if step == "loop" else RemoteReporter(sender)
tracer = Tracer("bench", reporter)
with tracer.start_active_span("root"):
    t0 = time.perf_counter()
    for _ in range(n):
        with tracer.start_active_span("GET /users/{id}") as scope:
            scope.span.set_tag("component", "bench")
reporter.flush()
print((time.perf_counter() - t0) / n * 1e6)
"""


def run(step: str, spans: int) -> float:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, ROOT, step, str(spans)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{step} failed:\n{done.stderr}")
    return float(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--spans", type=int, default=20_000)
    args = parser.parse_args()
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load "
        f"{os.getloadavg()[0]:.2f}; {args.spans:,} spans, unpinned, {args.rounds} rounds"
    )
    times: dict[str, list[float]] = {step: [] for step in STEPS}
    for round_no in range(args.rounds):
        shift = round_no % len(STEPS)
        for step in STEPS[shift:] + STEPS[:shift]:
            times[step].append(run(step, args.spans))
    loop = times["loop"]
    print(f"\n{'step':<9} {'µs/span':>8} {'÷ previous':>11} {'µs added':>9} {'÷ loop':>7}")
    for before, step in zip([None, *STEPS], STEPS):
        mine = times[step]
        added = ratio = ""
        if before is not None:
            previous = times[before]
            added = f"{statistics.median(mine) - statistics.median(previous):+.3f}"
            ratio = f"{statistics.median([m / b for m, b in zip(mine, previous)]):.3f}"
        over_loop = statistics.median([m / x for m, x in zip(mine, loop)])
        print(f"{step:<9} {statistics.median(mine):>8.3f} {ratio:>11} {added:>9} {over_loop:>7.3f}")


if __name__ == "__main__":
    main()

"""Peak memory per held unfinished span: jaeger_lite against a bare ``__slots__`` span and
the peers (jaeger-client 4.8.0, the OpenTelemetry SDK).

Workload, in a fresh process per client: hold ``--spans`` unfinished sampled root spans,
each from ``start_span("op")`` with one tag (``"k": "v"``), in a list allocated beforehand.
Per span: the peak ``tracemalloc`` bytes while they are made (Python allocations only,
exact and repeatable), and the growth of the resident set in a second process without
tracemalloc (what the OS sees, in pages: noisier). The bare row is
``_skeletons.SkeletonSpan`` holding what the wire needs (name, ids, flags, start, one-tag
dict): no tracer could hold less in pure Python.

Target (issue 18): jaeger_lite <= 400 B a span.

Run: ``python benchmarks/bench_memory.py [--spans N] [--no-peers] [--python PATH]``;
``--python`` measures jaeger_lite and the bare row on another interpreter (it needs
``thrift`` importable, e.g. a small venv; the repository is put on its path). Peers are
installed into ``.bench/`` on first use, as by ``bench_wire.py``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Each program defines make() -> one held span; the harness around it measures.
SETUP = {
    "bare __slots__ span": """
from time import time_ns
from random import getrandbits
from _skeletons import SkeletonSpan
def make():
    span = object.__new__(SkeletonSpan)
    span.name = "op"
    span.trace_id = span.span_id = getrandbits(64) or 1
    span.parent_id = 0
    span.flags = 1
    span.start = time_ns()
    span.duration = None
    span.tags = {}
    span.set_tag("k", "v")
    return span
""",
    "jaeger_lite": """
import jaeger_lite
tracer = jaeger_lite.Tracer("bench", jaeger_lite.NullReporter(), jaeger_lite.ConstSampler(True))
start_span = tracer.start_span
def make():
    span = start_span("op")
    span.set_tag("k", "v")
    return span
""",
    "jaeger-client 4.8": """
from jaeger_client import ConstSampler, Tracer
from jaeger_client.reporter import NullReporter
tracer = Tracer("bench", reporter=NullReporter(), sampler=ConstSampler(True))
def make():
    span = tracer.start_span("op")
    span.set_tag("k", "v")
    return span
""",
    "OTel SDK": """
from opentelemetry.sdk.trace import TracerProvider
tracer = TracerProvider().get_tracer("bench")
def make():
    span = tracer.start_span("op")
    span.set_attribute("k", "v")
    return span
""",
}

HARNESS = """
import gc, os, sys
sys.path[:0] = [{here!r}, {root!r}]
n, mode = int(sys.argv[1]), sys.argv[2]
{setup}
make(); make()  # first calls may fill caches: not per-span memory
held = [None] * n
gc.collect()
if mode == "tracemalloc":
    import tracemalloc
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for i in range(n):
        held[i] = make()
    print((tracemalloc.get_traced_memory()[1] - base) / n)
else:
    def resident():
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    base = resident()
    for i in range(n):
        held[i] = make()
    print((resident() - base) / n)
"""

PEERS = {
    "jaeger-client 4.8": ("jaeger-client", ["jaeger-client==4.8.0", "six"]),
    "OTel SDK": (
        "otel",
        ["opentelemetry-sdk==1.21.0", "opentelemetry-exporter-jaeger-thrift==1.21.0"],
    ),
}


def measure(python: str, name: str, spans: int, mode: str) -> float:
    program = HARNESS.format(here=HERE, root=ROOT, setup=SETUP[name])
    done = subprocess.run(
        [python, "-c", program, str(spans), mode], capture_output=True, text=True, check=True
    )
    return float(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--python", default=sys.executable, help="for jaeger_lite and bare")
    args = parser.parse_args()
    pythons = {"bare __slots__ span": args.python, "jaeger_lite": args.python}
    if not args.no_peers:
        sys.path.insert(0, HERE)
        from bench_wire import venv_python

        for name, (venv, packages) in PEERS.items():
            pythons[name] = venv_python(venv, packages)
    version = "import sys; print('%d.%d.%d' % sys.version_info[:3])"
    print(f"{args.spans} held unfinished sampled spans (start_span + one tag), bytes a span")
    print(f"{'client':<22}{'Python':>8}{'tracemalloc':>13}{'RSS':>8}  target")
    for name, python in pythons.items():
        python_version = subprocess.run(
            [python, "-c", version], capture_output=True, text=True, check=True
        ).stdout.strip()
        traced = measure(python, name, args.spans, "tracemalloc")
        rss = measure(python, name, args.spans, "rss")
        note = ""
        if name == "jaeger_lite":
            note = f"<= 400 {'ok' if traced <= 400 else 'MISSED'}"
        print(f"{name:<22}{python_version:>8}{traced:>13.0f}{rss:>8.0f}  {note}")


if __name__ == "__main__":
    main()

"""Cost of a sampling decision, ours against jaeger-client-python's, in the same run.

Measures ``is_sampled(trace_id, operation)`` for each sampler (the tracer calls it once per
new local root), the extra cost of going through ``RemoteSampler`` (a delegate read), and a
whole unsampled root span (``start_span(...).finish()``) per sampler. The peer,
jaeger-client 4.8.0, is installed into ``.bench/jaeger-client`` (``--no-peer`` skips it)
and timed in a subprocess with the same loop; results are reported as ratios.

Run: ``python benchmarks/bench_sampling.py [--number N] [--no-peer]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import timeit
import venv
from typing import Callable

ROUNDS = 7
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
PEER_VENV = os.path.join(ROOT, ".bench", "jaeger-client")
# six: its generated Thrift code imports it, and thrift >= 0.14 no longer pulls it in.
PEER_REQUIREMENTS = ["jaeger-client==4.8.0", "six"]

# Trace ids cycle through a fixed list so every sampler sees the same mix of decisions.
IDS_SNIPPET = "ids = [(i * 0x9E3779B97F4A7C15) & ((1 << 64) - 1) or 1 for i in range(1, 1025)]"

PEER_SCRIPT = (
    """
import itertools, json, sys, timeit
from jaeger_client.sampler import (
    AdaptiveSampler, ConstSampler, GuaranteedThroughputProbabilisticSampler,
    ProbabilisticSampler, RateLimitingSampler,
)
"""
    + IDS_SNIPPET
    + """
number, rounds = int(sys.argv[1]), int(sys.argv[2])
strategies = {"defaultSamplingProbability": 0.001, "defaultLowerBoundTracesPerSecond": 1.0,
              "perOperationStrategies": [
                  {"operation": "op", "probabilisticSampling": {"samplingRate": 0.01}}]}
samplers = {
    "const": ConstSampler(False),
    "probabilistic": ProbabilisticSampler(0.001),
    "ratelimiting": RateLimitingSampler(10),
    "guaranteed throughput": GuaranteedThroughputProbabilisticSampler("op", 1.0, 0.001),
    "per operation": AdaptiveSampler(strategies, 2000),
}
out = {}
for name, sampler in samplers.items():
    next_id = itertools.cycle(ids).__next__
    decide = sampler.is_sampled
    run = lambda: decide(next_id(), "op")
    out[name] = min(timeit.repeat(run, number=number, repeat=rounds)) / number * 1e9
print(json.dumps(out))
"""
)


def best_ns(func: Callable[[], object], number: int) -> float:
    """Best-of-ROUNDS nanoseconds per call (the minimum is the least noisy estimate)."""
    return min(timeit.repeat(func, number=number, repeat=ROUNDS)) / number * 1e9


def peer_python() -> str:
    python = os.path.join(PEER_VENV, "bin", "python")
    if not os.path.exists(python):
        venv.create(PEER_VENV, with_pip=True)
        subprocess.run([python, "-m", "pip", "install", "-q", *PEER_REQUIREMENTS], check=True)
    return python


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=200_000, help="calls per round")
    parser.add_argument("--no-peer", action="store_true", help="skip jaeger-client")
    args = parser.parse_args()

    sys.path.insert(0, ROOT)
    import itertools

    import jaeger_lite
    from jaeger_lite import (
        ConstSampler,
        GuaranteedThroughputSampler,
        PerOperationSampler,
        ProbabilisticSampler,
        RateLimitingSampler,
        RemoteSampler,
    )

    namespace: dict[str, object] = {}
    exec(IDS_SNIPPET, namespace)
    ids: list[int] = namespace["ids"]  # type: ignore[assignment]

    logging.getLogger("jaeger_lite").setLevel(logging.ERROR)  # nothing answers, by design
    remote = RemoteSampler(
        "bench",
        sampling_endpoint="http://127.0.0.1:9/sampling",  # discard port: nothing answers
        initial=ProbabilisticSampler(0.001),
        refresh_interval=3600,
    )
    samplers = {
        "const": ConstSampler(False),
        "probabilistic": ProbabilisticSampler(0.001),
        "ratelimiting": RateLimitingSampler(10),
        "guaranteed throughput": GuaranteedThroughputSampler(1.0, 0.001),
        "per operation": PerOperationSampler(0.001, 1.0, {"op": 0.01}),
        "remote (probabilistic)": remote,
    }
    n = args.number
    ours = {}
    for name, sampler in samplers.items():
        next_id = itertools.cycle(ids).__next__
        decide = sampler.is_sampled
        ours[name] = best_ns(lambda: decide(next_id(), "op"), n)  # noqa: B023

    spans = {}
    for name, sampler in samplers.items():
        tracer = jaeger_lite.Tracer("bench", jaeger_lite.NullReporter(), sampler)
        start = tracer.start_span

        def root(start: Callable[..., jaeger_lite.Span] = start) -> None:
            start("op", ignore_active_span=True).finish()

        spans[name] = best_ns(root, n // 2)
    remote.close()

    peer: dict[str, float] = {}
    if not args.no_peer:
        result = subprocess.run(
            [peer_python(), "-c", PEER_SCRIPT, str(n), str(ROUNDS)],
            check=True,
            capture_output=True,
            text=True,
        )
        peer = json.loads(result.stdout)

    print(f"jaeger_lite {jaeger_lite.__version__}, Python {sys.version.split()[0]}, "
          f"best of {ROUNDS} x {n}")  # fmt: skip
    header = f"{'sampler':<24}{'is_sampled ns':>14}{'peer ns':>10}{'peer/ours':>11}"
    print(header + f"{'root span ns':>14}")
    for name, ns in ours.items():
        peer_ns = peer.get(name)
        peer_cols = f"{peer_ns:>10.0f}{peer_ns / ns:>11.2f}" if peer_ns else f"{'-':>10}{'-':>11}"
        print(f"{name:<24}{ns:>14.0f}{peer_cols}{spans[name]:>14.0f}")


if __name__ == "__main__":
    main()

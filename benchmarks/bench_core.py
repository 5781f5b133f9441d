"""Cost per span of the core API against a floor measured in the same run.

The floor is the least any tracer could do: build a ``__slots__`` object holding a name,
two random 64-bit ids and two ``time.time()`` reads. We measure

* sampled:   ``with tracer.start_active_span("op") as scope: scope.span.set_tag("k", "v")``
  (reporter: NullReporter, and InMemoryReporter cleared between rounds)
* unsampled: the same with ``ConstSampler(False)``
* id generation: our fork-safe private PRNG against ``random.getrandbits`` and ``os.urandom``

Targets (issue 2): sampled <= 2x floor, unsampled <= 1.5x floor. A reference row measures
the same workload on ``benchmarks/_skeletons.py``: the API's shape (scope, span, context
variable, reporter call) with none of the rules, i.e. the least any pure-Python tracer
with this API can cost here.
Run: ``make bench`` or ``python benchmarks/bench_core.py [--no-opentracing]``.
``--no-opentracing`` hides the optional package, so the classes lose their OpenTracing
base classes (and the per-instance ``__dict__`` those bring).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
import timeit
from typing import Callable

ROUNDS = 7


def best_ns(func: Callable[[], object], number: int) -> float:
    """Best-of-ROUNDS nanoseconds per call (the minimum is the least noisy estimate)."""
    return min(timeit.repeat(func, number=number, repeat=ROUNDS)) / number * 1e9


class _Floor:
    __slots__ = ("name", "trace_id", "span_id", "start", "end")

    def __init__(self, name: str, trace_id: int, span_id: int, start: float, end: float) -> None:
        self.name = name
        self.trace_id = trace_id
        self.span_id = span_id
        self.start = start
        self.end = end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=200_000, help="calls per round")
    parser.add_argument("--no-opentracing", action="store_true")
    args = parser.parse_args()
    if args.no_opentracing:
        sys.modules["opentracing"] = None  # type: ignore[assignment]

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    from _skeletons import SkeletonTracer

    import jaeger_lite
    from jaeger_lite import _ids
    from jaeger_lite._opentracing import OPENTRACING_AVAILABLE

    getrandbits, now = random.getrandbits, time.time

    def floor() -> object:
        return _Floor("op", getrandbits(64), getrandbits(64), now(), now())

    sampled_tracer = jaeger_lite.Tracer("bench", jaeger_lite.NullReporter())
    memory = jaeger_lite.InMemoryReporter()
    memory_tracer = jaeger_lite.Tracer("bench", memory)
    unsampled_tracer = jaeger_lite.Tracer(
        "bench", jaeger_lite.NullReporter(), jaeger_lite.ConstSampler(False)
    )

    def workload(tracer: jaeger_lite.Tracer) -> Callable[[], None]:
        def run() -> None:
            with tracer.start_active_span("op") as scope:
                scope.span.set_tag("k", "v")

        return run

    n = args.number
    floor_ns = best_ns(floor, n)
    results = {
        "sampled (NullReporter)": best_ns(workload(sampled_tracer), n),
        "sampled (InMemoryReporter)": 0.0,
        "unsampled": best_ns(workload(unsampled_tracer), n),
    }
    memory_run = workload(memory_tracer)

    def memory_round() -> None:
        memory_run()

    timings = []
    for _ in range(ROUNDS):
        memory.clear()
        timings.append(timeit.timeit(memory_round, number=n))
    results["sampled (InMemoryReporter)"] = min(timings) / n * 1e9
    memory.clear()
    skeleton_ns = best_ns(workload(SkeletonTracer(jaeger_lite.NullReporter())), n)  # type: ignore[arg-type]

    print(
        f"jaeger_lite {jaeger_lite.__version__} on {platform.python_implementation()} "
        f"{platform.python_version()} ({'with' if OPENTRACING_AVAILABLE else 'without'} "
        f"opentracing base classes), best of {ROUNDS} x {n}"
    )
    print(f"{'case':<30}{'ns/span':>10}{'x floor':>10}  target")
    print(f"{'floor':<30}{floor_ns:>10.0f}{1.0:>10.2f}")
    targets = {"unsampled": 1.5}
    for name, ns in results.items():
        target = targets.get(name, 2.0)
        verdict = "ok" if ns / floor_ns <= target else "MISSED"
        print(f"{name:<30}{ns:>10.0f}{ns / floor_ns:>10.2f}  <= {target} {verdict}")
    print(
        f"{'API-shape skeleton (no rules)':<30}{skeleton_ns:>10.0f}{skeleton_ns / floor_ns:>10.2f}"
    )

    print("\nid generation (ns/id)")
    private = _ids.getrandbits
    for name, func in (
        ("jaeger_lite private PRNG (fork-safe)", lambda: private(64) or 1),
        ("random.getrandbits (shared, seedable)", lambda: getrandbits(64)),
        ("os.urandom(8)", lambda: int.from_bytes(os.urandom(8), "big")),
    ):
        print(f"  {name:<40}{best_ns(func, n):>8.0f}")


if __name__ == "__main__":
    main()

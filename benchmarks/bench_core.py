"""Cost per span of the core API as a multiple of the API-shape skeleton, in the same run.

Workload: ``with tracer.start_active_span("op") as scope: scope.span.set_tag("k", "v")``
with a ``NullReporter``, in four cases: unsampled root, unsampled child (of an active
parent), sampled root, sampled child. The yardstick is the same workload on
``benchmarks/_skeletons.py``: the API's shape (span, scope, context variable, clock, ids,
reporter call) with none of the rules, i.e. the least any pure-Python tracer with this API
costs on this interpreter; roots are divided by the skeleton's root, children by its child.

Each round runs every case in a fresh process (the order rotates each round), each process
taking the best of ``--repeat`` timeit repeats of ``--number`` spans. Headline: the median
over rounds of the per-round ratio case / skeleton (unpinned), with its spread (min-max);
an extra row gives best-of (the least time of any round over the skeleton's least).

Targets (issue 18): unsampled <= 1.25x the skeleton, sampled <= 1.5x.

``--instructions`` counts instructions per span instead, under ``valgrind --tool=callgrind``
(repeatable on a loaded machine, so it is the development metric): each case runs twice with
different span counts after the same warm-up, and the difference is divided by the
difference in spans, so interpreter start and imports cancel out.

Run: ``make bench`` or ``python benchmarks/bench_core.py [--rounds R] [--instructions]``.
``--no-opentracing`` hides the optional package (classes lose their OpenTracing markers).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import timeit

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]  # _span_cases; this checkout's jaeger_lite

from _span_cases import CASES, WORKLOAD, make_tracer  # noqa: E402

TARGETS = {"unsampled": 1.25, "sampled": 1.5}
WARMUP = 3_000  # spans before counting: lets 3.11+'s specialising interpreter settle


def child(case: str, number: int, repeat: int, no_opentracing: bool) -> None:
    """In a fresh process: print the best of ``repeat`` rounds, in ns a span."""
    tracer = make_tracer(case, no_opentracing)
    timer = timeit.Timer(WORKLOAD, globals={"tracer": tracer})
    timer.timeit(WARMUP)
    print(min(timer.repeat(repeat, number)) / number * 1e9)


def counted(case: str, spans: int, no_opentracing: bool) -> None:
    """Under callgrind: warm up, then run ``spans`` spans (the caller diffs two counts)."""
    tracer = make_tracer(case, no_opentracing)
    timer = timeit.Timer(WORKLOAD, globals={"tracer": tracer})
    timer.timeit(WARMUP)
    timer.timeit(spans)


def run(args: list[str]) -> str:
    return subprocess.run(
        [sys.executable, os.path.abspath(__file__), *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def instructions(case: str, low: int, high: int, no_opentracing: bool) -> float:
    """Instructions per span of ``case`` (callgrind, high minus low spans)."""
    counts = []
    for spans in (low, high):
        command = [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            os.path.abspath(__file__),
            "--count",
            case,
            "--number",
            str(spans),
        ] + (["--no-opentracing"] if no_opentracing else [])
        env = dict(os.environ, PYTHONHASHSEED="0")
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
        match = re.search(r"Collected : (\d+)", done.stderr)
        if match is None:
            raise SystemExit(f"no callgrind total for {case}:\n{done.stderr}")
        counts.append(int(match.group(1)))
    return (counts[1] - counts[0]) / (high - low)


def header(extra: str) -> None:
    import jaeger_lite
    from jaeger_lite._opentracing import OPENTRACING_AVAILABLE

    print(
        f"jaeger_lite {jaeger_lite.__version__} on {platform.python_implementation()} "
        f"{platform.python_version()} ({'with' if OPENTRACING_AVAILABLE else 'without'} "
        f"opentracing markers), {extra}"
    )


def verdict(case: str, ratio: float) -> str:
    target = TARGETS[case.split(maxsplit=1)[0]]
    return f"<= {target} {'ok' if ratio <= target else 'MISSED'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="fresh processes per case")
    parser.add_argument("--number", type=int, default=50_000, help="spans per repeat")
    parser.add_argument("--repeat", type=int, default=5, help="repeats per process (best)")
    parser.add_argument("--instructions", action="store_true", help="callgrind counts")
    parser.add_argument("--no-opentracing", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--count", help=argparse.SUPPRESS)
    args = parser.parse_args()
    flags = ["--no-opentracing"] if args.no_opentracing else []
    if args.child:
        child(args.child, args.number, args.repeat, args.no_opentracing)
        return
    if args.count:
        counted(args.count, args.number, args.no_opentracing)
        return
    if args.no_opentracing:
        sys.modules["opentracing"] = None  # type: ignore[assignment]

    if args.instructions:
        low, high = 2_000, 12_000
        header(f"instructions a span (callgrind, {high} - {low} spans after {WARMUP} warm-up)")
        per = {case: instructions(case, low, high, args.no_opentracing) for case in CASES}
        print(f"{'case':<18}{'instr/span':>12}{'x skeleton':>12}")
        for case in CASES:
            skeleton = per["skeleton " + case.split()[1]]
            print(f"{case:<18}{per[case]:>12.0f}{per[case] / skeleton:>12.2f}")
        return

    times: dict[str, list[float]] = {case: [] for case in CASES}
    for round_ in range(args.rounds):
        shift = round_ % len(CASES)
        for case in CASES[shift:] + CASES[:shift]:
            options = ["--child", case, "--number", str(args.number)]
            times[case].append(float(run(options + ["--repeat", str(args.repeat)] + flags)))
    header(
        f"unpinned, {args.rounds} rounds of fresh processes (interleaved), each the best of "
        f"{args.repeat} x {args.number} spans; ratios: median over rounds (min-max)"
    )
    print(f"{'case':<18}{'ns/span':>9}{'x skeleton':>12}{'spread':>14}{'best-of':>9}  target")
    for case in CASES:
        position = case.split()[1]
        skeleton = times["skeleton " + position]
        ns = statistics.median(times[case])
        if case.startswith("skeleton"):
            print(f"{case:<18}{ns:>9.0f}")
            continue
        ratios = [mine / base for mine, base in zip(times[case], skeleton)]
        ratio = statistics.median(ratios)
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
        best = min(times[case]) / min(skeleton)
        print(f"{case:<18}{ns:>9.0f}{ratio:>12.2f}{spread:>14}{best:>9.2f}  {verdict(case, ratio)}")


if __name__ == "__main__":
    main()

"""Inject + extract of HTTP headers with one baggage item, per format, against the peers.

One operation is ``carrier = {}; inject(context, HTTP_HEADERS, carrier);
extract(HTTP_HEADERS, carrier)`` for a sampled context carrying one baggage item
(``tenant=acme-corp``). Peers, each in its own venv under ``.bench/`` (created and filled by
this script, with the same Python as ours), run in the same invocation:

* jaeger-client 4.8 (the archived Jaeger Python client; needs ``six``, and a tornado it
  accepts): its Jaeger codec and its B3 codec, through its Tracer like ours;
* OpenTelemetry's propagators (opentelemetry-api + opentelemetry-propagator-jaeger/-b3):
  Jaeger, B3 multi, B3 single, and TraceContext + W3C Baggage composed.

Targets (issue 4): the jaeger format >= 2x faster than jaeger-client and >= 5x faster than
OpenTelemetry's Jaeger propagator. A reference row ("skeleton") runs the same operation
through ``benchmarks/_skeletons.py``: the Jaeger headers' shape with none of the rules, the
least a pure-Python codec behind ``tracer.inject``/``extract`` can cost here.
Run: ``python benchmarks/bench_propagation.py``
(``--number N`` operations per round; ``--offline`` to use already-created peer venvs).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import timeit
import venv
from typing import Callable

ROUNDS = 7
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
BENCH = os.path.join(ROOT, ".bench")
PY = f"{sys.version_info[0]}.{sys.version_info[1]}"

PEERS = {
    "jaeger-client": ["jaeger-client==4.8.0", "six"],
    "opentelemetry": [
        "opentelemetry-api",
        "opentelemetry-propagator-jaeger",
        "opentelemetry-propagator-b3",
    ],
}

#: Runs inside a peer's venv; prints {case: ns/op} as JSON. ``best_ns`` is prepended.
TIMER = """
import json, sys, timeit
ROUNDS, NUMBER = int(sys.argv[1]), int(sys.argv[2])
def best_ns(func):
    return min(timeit.repeat(func, number=NUMBER, repeat=ROUNDS)) / NUMBER * 1e9
"""

JAEGER_CLIENT = """
from jaeger_client import Tracer
from jaeger_client.codecs import B3Codec
from jaeger_client.reporter import NullReporter
from jaeger_client.sampler import ConstSampler
from opentracing import Format

results = {}
for name, codec in (("jaeger", None), ("b3", B3Codec())):
    extra = {} if codec is None else {"extra_codecs": {Format.HTTP_HEADERS: codec}}
    tracer = Tracer("bench", NullReporter(), ConstSampler(True), **extra)
    span = tracer.start_span("op")
    span.set_baggage_item("tenant", "acme-corp")
    context = tracer.start_span("child", child_of=span).context

    def op(tracer=tracer, context=context):
        carrier = {}
        tracer.inject(context, Format.HTTP_HEADERS, carrier)
        tracer.extract(Format.HTTP_HEADERS, carrier)

    op()
    results[name] = best_ns(op)
print(json.dumps(results))
"""

OPENTELEMETRY = """
from opentelemetry import baggage, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagators.b3 import B3MultiFormat, B3SingleFormat
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.jaeger import JaegerPropagator
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

span_context = trace.SpanContext(
    0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331, True, trace.TraceFlags(1)
)
context = trace.set_span_in_context(trace.NonRecordingSpan(span_context))
context = baggage.set_baggage("tenant", "acme-corp", context)
results = {}
for name, propagator in (
    ("jaeger", JaegerPropagator()),
    ("b3", B3MultiFormat()),
    ("b3-single", B3SingleFormat()),
    ("w3c", CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()])),
):
    def op(propagator=propagator):
        carrier = {}
        propagator.inject(carrier, context=context)
        propagator.extract(carrier)

    op()
    results[name] = best_ns(op)
print(json.dumps(results))
"""


def best_ns(func: Callable[[], object], number: int) -> float:
    """Best-of-ROUNDS nanoseconds per call (the minimum is the least noisy estimate)."""
    return min(timeit.repeat(func, number=number, repeat=ROUNDS)) / number * 1e9


def peer_python(name: str, offline: bool) -> str:
    """The peer venv's interpreter, creating and filling the venv on first use."""
    home = os.path.join(BENCH, f"{name}-py{PY}")
    python = os.path.join(home, "bin", "python")
    if not os.path.exists(os.path.join(home, ".installed")):
        if offline:
            raise SystemExit(f"{home} is missing; run once without --offline")
        print(f"installing {name} into {home} ...", file=sys.stderr)
        venv.create(home, with_pip=True, clear=True)
        subprocess.run(
            [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *PEERS[name]],
            check=True,
        )
        open(os.path.join(home, ".installed"), "w").close()
    return python


def run_peer(name: str, code: str, number: int, offline: bool) -> dict[str, float]:
    try:
        python = peer_python(name, offline)
        out = subprocess.run(
            [python, "-c", TIMER + code, str(ROUNDS), str(number)],
            check=True,
            capture_output=True,
            text=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or exc
        print(f"{name}: not measured ({str(detail).strip().splitlines()[-1:]})", file=sys.stderr)
        return {}
    result: dict[str, float] = json.loads(out.stdout)
    return result


def ours(number: int) -> dict[str, float]:
    sys.path.insert(0, ROOT)
    import jaeger_lite
    from jaeger_lite import Format

    results = {}
    for name in ("jaeger", "b3", "b3-single", "w3c"):
        tracer = jaeger_lite.Tracer("bench", propagation=name)
        span = tracer.start_span("op")
        span.set_baggage_item("tenant", "acme-corp")
        context = tracer.start_span("child", child_of=span).context

        def op(tracer: jaeger_lite.Tracer = tracer, context: object = context) -> None:
            carrier: dict[str, str] = {}
            tracer.inject(context, Format.HTTP_HEADERS, carrier)  # type: ignore[arg-type]
            tracer.extract(Format.HTTP_HEADERS, carrier)

        op()
        results[name] = best_ns(op, number)

    from _skeletons import SkeletonPropagator

    from jaeger_lite.context import remote_context

    skeleton = SkeletonPropagator(remote_context)
    tracer = jaeger_lite.Tracer("bench")
    span = tracer.start_span("op")
    span.set_baggage_item("tenant", "acme-corp")
    context = tracer.start_span("child", child_of=span).context

    def skeleton_op(context: object = context) -> None:
        carrier: dict[str, str] = {}
        skeleton.inject(context, Format.HTTP_HEADERS, carrier)
        skeleton.extract(Format.HTTP_HEADERS, carrier)

    skeleton_op()
    results["skeleton"] = best_ns(skeleton_op, number)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=50_000, help="operations per round")
    parser.add_argument("--offline", action="store_true", help="do not create peer venvs")
    args = parser.parse_args()

    mine = ours(args.number)
    client = run_peer("jaeger-client", JAEGER_CLIENT, args.number, args.offline)
    otel = run_peer("opentelemetry", OPENTELEMETRY, args.number, args.offline)

    print(
        f"inject + extract, HTTP headers, one baggage item; "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"best of {ROUNDS} x {args.number}"
    )
    print(
        f"{'format':<11}{'jaeger_lite':>12}{'jaeger-client':>15}{'ratio':>7}"
        f"{'OpenTelemetry':>15}{'ratio':>7}"
    )
    for name, ns in mine.items():
        row = f"{name:<11}{ns:>9.0f} ns"
        for peer in (client, otel):
            key = "jaeger" if name == "skeleton" else name  # compared with the Jaeger codecs
            if key in peer:
                row += f"{peer[key]:>12.0f} ns{peer[key] / ns:>6.1f}x"
            else:
                row += f"{'-':>15}{'':>7}"
        print(row)
    verdicts = []
    if "jaeger" in client:
        ratio = client["jaeger"] / mine["jaeger"]
        verdicts.append(f"vs jaeger-client {ratio:.1f}x (target 2x): {_ok(ratio >= 2)}")
    if "jaeger" in otel:
        ratio = otel["jaeger"] / mine["jaeger"]
        verdicts.append(f"vs OpenTelemetry {ratio:.1f}x (target 5x): {_ok(ratio >= 5)}")
    print("jaeger format: " + "; ".join(verdicts))


def _ok(met: bool) -> str:
    return "met" if met else "MISSED"


if __name__ == "__main__":
    main()

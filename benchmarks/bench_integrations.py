"""Per-request overhead of the WSGI and ASGI middleware, against OpenTelemetry's.

A trivial application (200, ``b"ok"``) is driven in-process, with no server and no
socket: WSGI by calling it with a fresh copy of a realistic environ (5 headers, a query
string, no incoming trace context) and reading and closing its body; ASGI by awaiting it
with a copy of the matching scope, a ``receive`` giving the empty body and a ``send`` that
drops the messages. Three variants of the same app:

* bare: no tracing (the floor the overhead is measured from);
* jaeger_lite: ``jaeger_lite.integrations.WSGIMiddleware`` / ``ASGIMiddleware``;
* otel: ``opentelemetry-instrumentation-wsgi`` / ``-asgi`` (``OpenTelemetryMiddleware``)
  with the OpenTelemetry SDK's ``TracerProvider``. For ASGI, also "otel-lean":
  ``exclude_spans=["receive", "send"]``, without the two internal spans per request the
  default adds.

and two ways of exporting, each the same kind of work for both tracers:

* memory: every finished span appended to a list on the request's thread (jaeger_lite's
  ``InMemoryReporter``; OTel's ``SimpleSpanProcessor`` + ``InMemorySpanExporter``);
* udp: batched on a worker thread, encoded and sent as UDP datagrams to a local socket
  (jaeger_lite: ``init_tracer``'s ``RemoteReporter`` + compact Thrift ``UDPSender``; OTel:
  ``BatchSpanProcessor`` + an exporter written here that encodes each batch as JSON with
  the C-accelerated ``json`` module and sends it in datagrams, cheaper than our
  pure-Python Thrift encoder). The timed part ends with a flush of the pipeline.

Each (protocol, variant, export) runs in a fresh process per round; rounds interleave the
configurations. The headline is the median over rounds (unpinned); the best round and the
median pinned to one CPU are extra rows. Overhead = µs per request minus bare's.
Target (issue 16): jaeger_lite's overhead < 1/3 of OpenTelemetry's.

Run: ``python benchmarks/bench_integrations.py [--seconds S] [--rounds R] [--cpu C]``
(needs ``opentelemetry-sdk`` and ``opentelemetry-instrumentation-wsgi``/``-asgi``, which
``requirements/test.txt`` installs into ``.venv``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from importlib.metadata import version
from typing import Any, Callable

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
VARIANTS = {
    "wsgi": ["bare", "jaeger_lite", "otel"],
    "asgi": ["bare", "jaeger_lite", "otel", "otel-lean"],
}
EXPORTS = ["memory", "udp"]

HEADERS = [
    ("host", "127.0.0.1:8000"),
    ("user-agent", "bench/1.0"),
    ("accept", "*/*"),
    ("accept-encoding", "gzip, deflate"),
    ("connection", "keep-alive"),
]
ENVIRON: dict[str, Any] = {
    "REQUEST_METHOD": "GET",
    "SCRIPT_NAME": "",
    "PATH_INFO": "/users/42",
    "QUERY_STRING": "page=2",
    "SERVER_NAME": "127.0.0.1",
    "SERVER_PORT": "8000",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "REMOTE_ADDR": "127.0.0.1",
    "REMOTE_PORT": "50000",
    "wsgi.version": (1, 0),
    "wsgi.url_scheme": "http",
    "wsgi.input": io.BytesIO(b""),
    "wsgi.errors": sys.stderr,
    "wsgi.multithread": True,
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
    **{"HTTP_" + name.upper().replace("-", "_"): value for name, value in HEADERS},
}
SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/users/42",
    "raw_path": b"/users/42",
    "query_string": b"page=2",
    "root_path": "",
    "headers": [(name.encode(), value.encode()) for name, value in HEADERS],
    "client": ("127.0.0.1", 50000),
    "server": ("127.0.0.1", 8000),
}


# -- the child: one configuration, timed ---------------------------------------------------


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await receive()
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})


def jaeger_lite_tracer(export: str, sink: int) -> tuple[Any, Callable[[], None]]:
    import jaeger_lite

    if export == "memory":
        tracer = jaeger_lite.Tracer("bench", jaeger_lite.InMemoryReporter())
    else:
        tracer = jaeger_lite.init_tracer(
            "bench", agent_host="127.0.0.1", agent_port=sink, sampler_type="const",
            sampler_param=1, set_global=False, reporter_max_queue_size=100_000,
        )  # fmt: skip
    return tracer, lambda: tracer.flush(60)


def otel_provider(export: str, sink: int) -> tuple[Any, Callable[[], None]]:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SimpleSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
    if export == "memory":
        provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    else:

        class UDPJSONExporter(SpanExporter):
            """Encode a batch (ids, name, times, attributes, events) and send it over UDP."""

            def __init__(self) -> None:
                self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

            def export(self, spans: Any) -> SpanExportResult:
                docs = [
                    {
                        "trace_id": s.context.trace_id, "span_id": s.context.span_id,
                        "parent": s.parent.span_id if s.parent else 0, "name": s.name,
                        "start": s.start_time, "end": s.end_time, "kind": s.kind.value,
                        "attributes": dict(s.attributes or {}),
                        "events": [(e.name, dict(e.attributes or {})) for e in s.events],
                    }
                    for s in spans
                ]  # fmt: skip
                for start in range(0, len(docs), 40):  # datagrams well under 64 KiB
                    data = json.dumps(docs[start : start + 40]).encode()
                    with contextlib.suppress(OSError):  # a full socket buffer: dropped
                        self.sock.sendto(data, ("127.0.0.1", sink))
                return SpanExportResult.SUCCESS

        provider.add_span_processor(BatchSpanProcessor(UDPJSONExporter(), max_queue_size=100_000))
    return provider, lambda: provider.force_flush(60_000)


def build(protocol: str, variant: str, export: str, sink: int) -> tuple[Any, Callable[[], None]]:
    app = wsgi_app if protocol == "wsgi" else asgi_app
    if variant == "bare":
        return app, lambda: None
    if variant == "jaeger_lite":
        from jaeger_lite.integrations import ASGIMiddleware, WSGIMiddleware

        tracer, flush = jaeger_lite_tracer(export, sink)
        middleware = WSGIMiddleware if protocol == "wsgi" else ASGIMiddleware
        return middleware(app, tracer), flush  # type: ignore[operator]
    provider, flush = otel_provider(export, sink)
    if protocol == "wsgi":
        from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware

        return OpenTelemetryMiddleware(app, tracer_provider=provider), flush
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware as ASGIOtel

    lean = {"exclude_spans": ["receive", "send"]} if variant == "otel-lean" else {}
    return ASGIOtel(app, tracer_provider=provider, **lean), flush


def child(protocol: str, variant: str, export: str, n: int, seconds: float) -> None:
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # never read: the kernel drops
    sink.bind(("127.0.0.1", 0))
    app, flush = build(protocol, variant, export, sink.getsockname()[1])

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        return None

    def wsgi_requests(count: int) -> None:
        for _ in range(count):
            body = app(dict(ENVIRON), start_response)
            for _chunk in body:
                pass
            close = getattr(body, "close", None)
            if close is not None:
                close()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        return None

    async def asgi_requests(count: int) -> None:
        for _ in range(count):
            await app(dict(SCOPE), receive, send)

    def run(count: int) -> None:
        if protocol == "wsgi":
            wsgi_requests(count)
        else:
            asyncio.run(asgi_requests(count))

    run(500)  # warm-up: imports, caches, the worker thread started
    flush()
    # Batches of 500 until `seconds` have passed (at least `n` requests), so that every
    # configuration is timed for about as long, whatever a request costs.
    done, start = 0, time.perf_counter()
    while done < n or time.perf_counter() - start < seconds:
        run(500)
        done += 500
    flush()
    elapsed = time.perf_counter() - start
    print(json.dumps({"us": elapsed / done * 1e6, "requests": done}))


# -- the parent: rounds of fresh processes, then the table ---------------------------------


def run_child(config: tuple[str, str, str], n: int, seconds: float, cpu: Any) -> float:
    protocol, variant, export = config
    result = subprocess.run(
        [sys.executable, __file__, "--child", protocol, variant, export, str(n), str(seconds)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": ROOT},
        preexec_fn=None if cpu is None else lambda: os.sched_setaffinity(0, {cpu}),
        timeout=600,
    )
    if result.returncode != 0:
        raise SystemExit(f"{config} failed:\n{result.stderr}")
    return float(json.loads(result.stdout.strip().splitlines()[-1])["us"])


def measure(
    configs: list[tuple[str, str, str]], n: int, seconds: float, rounds: int, cpu: Any
) -> dict[tuple[str, str, str], list[float]]:
    times: dict[tuple[str, str, str], list[float]] = {c: [] for c in configs}
    for round_no in range(rounds):
        shift = round_no % len(configs)  # no configuration always runs after the same one
        for config in configs[shift:] + configs[:shift]:
            where = "" if cpu is None else f" on CPU {cpu}"
            print(f"round {round_no + 1}{where}: {' '.join(config)}", file=sys.stderr, flush=True)
            times[config].append(run_child(config, n, seconds, cpu))
    return times


def table(title: str, times: dict[tuple[str, str, str], float]) -> None:
    print(f"\n{title}\n")
    print("| protocol | export | variant | µs/request | requests/s | overhead µs | ours ÷ OTel |")
    print("|---|---|---|---:|---:|---:|---:|")
    for (protocol, variant, export), us in times.items():
        bare = times[(protocol, "bare", export)]
        over = us - bare
        ours = times[(protocol, "jaeger_lite", export)] - bare
        ratio = f"{ours / over:.2f}" if variant.startswith("otel") and over > 0 else ""
        overhead = f"{over:.2f}" if variant != "bare" else ""
        print(
            f"| {protocol} | {export} | {variant} | {us:.2f} | {1e6 / us:,.0f} | {overhead} "
            f"| {ratio} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2_000, help="least requests timed")
    parser.add_argument("--seconds", type=float, default=1.0, help="least time timed")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cpu", type=int, default=0, help="the CPU of the pinned rounds")
    parser.add_argument("--no-pinned", action="store_true", help="skip the pinned rounds")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        protocol, variant, export, n, seconds = args.child
        child(protocol, variant, export, int(n), float(seconds))
        return

    configs = [
        (protocol, variant, export)
        for protocol, variants in VARIANTS.items()
        for export in EXPORTS
        for variant in variants
        if not (variant == "bare" and export == "udp")
    ]
    unpinned = measure(configs, args.requests, args.seconds, args.rounds, None)
    pinned = {}
    if not args.no_pinned:
        pinned = measure(configs, args.requests, args.seconds, args.rounds, args.cpu)

    def with_bare(summary: dict[tuple[str, str, str], float]) -> dict[tuple[str, str, str], float]:
        for protocol in VARIANTS:  # one bare run serves both export rows
            summary[(protocol, "bare", "udp")] = summary[(protocol, "bare", "memory")]
        return dict(sorted(summary.items(), key=lambda kv: (kv[0][0], kv[0][2])))

    versions = ", ".join(
        f"{name} {version(name)}"
        for name in (
            "opentelemetry-sdk", "opentelemetry-instrumentation-wsgi",
            "opentelemetry-instrumentation-asgi",
        )
    )  # fmt: skip
    print(
        f"\nPython {platform.python_version()} ({platform.machine()}), each configuration "
        f"timed for >= {args.seconds} s and >= {args.requests:,} requests in a fresh process "
        f"per round, {args.rounds} rounds; "
        f"{versions}; {os.cpu_count()} CPUs"
    )
    median = with_bare({c: statistics.median(t) for c, t in unpinned.items()})
    table("Median of the unpinned rounds (headline)", median)
    table("Best unpinned round", with_bare({c: min(t) for c, t in unpinned.items()}))
    if pinned:
        table(
            f"Median of the rounds pinned to CPU {args.cpu}",
            with_bare({c: statistics.median(t) for c, t in pinned.items()}),
        )
    spread = {c: (min(t), max(t)) for c, t in unpinned.items()}
    print("\nSpread of the unpinned rounds (min–max µs/request):")
    for (protocol, variant, export), (low, high) in sorted(spread.items()):
        print(f"  {protocol} {export:<6} {variant:<11} {low:.2f}–{high:.2f}")


if __name__ == "__main__":
    main()

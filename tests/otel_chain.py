"""Two services instrumented with OpenTelemetry's instrumentations over jaeger_lite, run as
subprocesses by tests/test_otel_instrumentations.py (OpenTelemetry's global provider can be
set once per process). Configured by JAEGER_* variables; spans go to the test's UDP agent.

* ``backend``: a Starlette app under uvicorn on 127.0.0.1, wrapped in OpenTelemetry's ASGI
  middleware; its handler opens a jaeger_lite span and, inside, an OpenTelemetry span.
  Prints ``PORT <n>`` and serves until stdin closes.
* ``frontend <backend url>``: a Flask app (OpenTelemetry's Flask instrumentation, werkzeug
  on 127.0.0.1) called with requests (OpenTelemetry's requests instrumentation) from a
  jaeger_lite span; its handler is a ``@tracer.trace`` function that logs (the logging
  instrumentation's correlation fields), runs a thread (the threading instrumentation) and
  calls the backend with httpx (OpenTelemetry's httpx instrumentation). Prints JSON.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import sys
import threading
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind

import jaeger_lite
import jaeger_lite.otel


def setup() -> jaeger_lite.Tracer:
    tracer = jaeger_lite.init_tracer()
    trace.set_tracer_provider(jaeger_lite.otel.TracerProvider(tracer))
    return tracer


def backend() -> None:
    import uvicorn
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    tracer = setup()
    otel = trace.get_tracer("backend.db", "0.1")

    async def price(request: Request) -> PlainTextResponse:
        with tracer.start_active_span("price.lookup") as scope:
            scope.span.set_tag("sku", request.query_params.get("sku", ""))
            tenant = scope.span.get_baggage_item("tenant")
            with otel.start_as_current_span(
                "db.query", kind=SpanKind.CLIENT, attributes={"db.system": "sqlite"}
            ):
                await asyncio.sleep(0)
        return PlainTextResponse(f"42 EUR for {tenant}")

    app = OpenTelemetryMiddleware(Starlette(routes=[Route("/price", price)]))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)  # connections wait in the backlog until uvicorn accepts them
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    sys.stdin.read()
    server.should_exit = True
    thread.join(30)
    tracer.close()


def frontend(backend_url: str) -> None:
    import httpx
    import requests
    from flask import Flask
    from opentelemetry.instrumentation.flask import FlaskInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.logging import LoggingInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    from opentelemetry.instrumentation.threading import ThreadingInstrumentor
    from werkzeug.serving import make_server

    tracer = setup()
    RequestsInstrumentor().instrument()
    HTTPXClientInstrumentor().instrument()
    ThreadingInstrumentor().instrument()
    LoggingInstrumentor().instrument(set_logging_format=True)
    records: list[dict[str, Any]] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            names = ("otelTraceID", "otelSpanID", "otelTraceSampled", "otelServiceName")
            records.append({name: getattr(record, name, None) for name in names})

    log = logging.getLogger("shop")
    log.addHandler(Keep())
    seen: dict[str, Any] = {}

    def in_thread() -> None:
        with tracer.start_active_span("in-thread") as scope:
            seen["thread_parent"] = scope.span.context.parent_id_hex

    @tracer.trace("checkout.handle")
    def handle() -> str:
        span = tracer.active_span
        assert span is not None
        span.set_baggage_item("tenant", "acme")
        seen["handle_span"] = span.context.span_id_hex
        log.warning("checking out")
        worker = threading.Thread(target=in_thread)
        worker.start()
        worker.join(30)
        return httpx.get(f"{backend_url}/price?sku=sku-1", timeout=30).text

    app = Flask("frontend")
    app.add_url_rule("/checkout", "checkout", handle)
    FlaskInstrumentor().instrument_app(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tracer.start_active_span("client-job") as scope:
        body = requests.get(f"http://127.0.0.1:{server.server_port}/checkout", timeout=30).text
        job = scope.span.context
    server.shutdown()
    tracer.close()
    print(
        json.dumps(
            {
                "body": body,
                "records": records,
                "trace_id": job.trace_id,
                "job_span": job.span_id_hex,
                **seen,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    if sys.argv[1] == "backend":
        backend()
    else:
        frontend(sys.argv[2])

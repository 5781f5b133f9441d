"""Propagation by hand: carry a trace and its baggage across a real HTTP call.

Run it:  python examples/inject_extract.py

The "frontend" injects its span's context into the request headers; the "backend" (a
stdlib http.server on 127.0.0.1) extracts it and continues the same trace. The two
services pick their header formats: the frontend writes Jaeger and W3C headers, the
backend reads only W3C (as an OpenTelemetry-era service would), and still joins the trace.
"""

import os
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jaeger_lite
from jaeger_lite import Format, Tracer


def start_backend(tracer: Tracer) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            # The caller's context, or None when the request carries none (a new trace).
            parent = tracer.extract(Format.HTTP_HEADERS, self.headers)
            with tracer.start_active_span(
                "GET /price", child_of=parent, tags={"span.kind": "server"}
            ) as scope:
                tenant = scope.span.get_baggage_item("tenant")  # set by the frontend
                print(f"backend extracted: {parent!r}")
                body = f"price for {tenant}: 42 EUR".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep the example's output short

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    # Two services, normally two processes with one init_tracer each; here they share one.
    # propagation= takes the values of JAEGER_PROPAGATION: jaeger (the default), b3,
    # b3-single, w3c, or several: inject writes them all, extract takes the first found.
    frontend = jaeger_lite.init_tracer("frontend", sampler_type="const", propagation="jaeger,w3c")
    backend = jaeger_lite.init_tracer(
        "backend", sampler_type="const", propagation="w3c", set_global=False
    )
    server = start_backend(backend)
    url = f"http://127.0.0.1:{server.server_address[1]}/price"

    with frontend.start_active_span("fetch-price", tags={"span.kind": "client"}) as scope:
        scope.span.set_baggage_item("tenant", "acme")
        headers: dict[str, str] = {}  # Format.TEXT_MAP suits message headers (no URL-encoding)
        frontend.inject(scope.span, Format.HTTP_HEADERS, headers)
        print("frontend sends:")
        for name, value in headers.items():
            print(f"  {name}: {value}")
        request = urllib.request.Request(url, headers=headers)
        with urllib.request.urlopen(request, timeout=5) as response:
            print("frontend got:", response.read().decode())

    server.shutdown()
    server.server_close()
    frontend.close()
    backend.close()


if __name__ == "__main__":
    # --- only for this example: stands in for a real Jaeger agent -------------------
    from jaeger_lite.agent import DevAgent

    # UDP compact Thrift on a free port (0), other listeners off (None); it prints the
    # trace it received when it stops, at the end of the with-block.
    with DevAgent(compact_port=0, binary_port=None, http_port=None) as agent:
        # Point the tracer at it the way a deployment would: with JAEGER_* variables.
        os.environ.update(JAEGER_AGENT_HOST="127.0.0.1", JAEGER_AGENT_PORT=str(agent.compact_port))
        main()
        agent.wait_for_spans(2, timeout=5)
    print(agent.summary())

"""OpenTelemetry instrumentation, jaeger_lite's pipeline: a Flask app and a requests client
instrumented by OpenTelemetry's own instrumentations report through jaeger_lite.

Run it:  python examples/otel_flask.py
(needs: pip install 'jaeger-lite[otel]' flask requests opentelemetry-instrumentation-flask
opentelemetry-instrumentation-requests)

One line connects them: opentelemetry.trace.set_tracer_provider(TracerProvider(tracer)).
Inside the OpenTelemetry-instrumented handler, jaeger_lite's API (start_active_span,
@tracer.trace) and OpenTelemetry's API (start_as_current_span) nest freely: both see
the same active span.
"""

import logging
import os
import threading

try:
    import requests
    from flask import Flask
    from opentelemetry import trace
    from opentelemetry.instrumentation.flask import FlaskInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    from werkzeug.serving import make_server

    import jaeger_lite.otel
except ImportError:
    print(
        "This example needs the OpenTelemetry API and two instrumentations: pip install "
        "'jaeger-lite[otel]' flask requests opentelemetry-instrumentation-flask "
        "opentelemetry-instrumentation-requests"
    )
    raise SystemExit(0) from None

import jaeger_lite


def main() -> None:
    # jaeger_lite as usual (JAEGER_* variables apply), then the one line for OpenTelemetry.
    tracer = jaeger_lite.init_tracer("shop", sampler_type="const")  # sample every trace
    trace.set_tracer_provider(jaeger_lite.otel.TracerProvider(tracer))
    otel_tracer = trace.get_tracer("shop.pricing", "1.0")

    # OpenTelemetry's instrumentations, unchanged.
    RequestsInstrumentor().instrument()
    app = Flask("shop")
    FlaskInstrumentor().instrument_app(app)

    @tracer.trace("price-items")  # jaeger_lite's decorator
    def price_items(cart: int) -> int:
        # OpenTelemetry's API under a jaeger_lite span.
        with otel_tracer.start_as_current_span("tax.lookup") as span:
            span.set_attribute("tax.region", "EU")
            span.add_event("rate cached", {"rate": 0.2})
        return 42 * cart

    @app.route("/checkout/<int:cart>")
    def checkout(cart: int) -> str:
        # jaeger_lite's API inside the span OpenTelemetry's Flask instrumentation started.
        with tracer.start_active_span("load-cart") as scope:
            scope.span.set_tag("cart.id", cart)
            total = price_items(cart)
        return f"total {total} EUR"

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no request log lines
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # A request's span ends once its reply is sent, on the server's thread: server_close()
    # below waits for those threads (not daemons), so no span finishes after tracer.close().
    server.daemon_threads = False
    threading.Thread(target=server.serve_forever, daemon=True).start()

    with otel_tracer.start_as_current_span("place-order") as order:
        response = requests.get(f"http://127.0.0.1:{server.server_port}/checkout/3", timeout=10)
        print("client got:", response.text)
        print("trace:", format(order.get_span_context().trace_id, "016x"))

    server.shutdown()
    server.server_close()
    tracer.close()


if __name__ == "__main__":
    # --- only for this example: stands in for a real Jaeger agent -------------------
    from jaeger_lite.agent import DevAgent

    # UDP compact Thrift on a free port (0), other listeners off (None); it prints the
    # trace it received when it stops, at the end of the with-block.
    with DevAgent(compact_port=0, binary_port=None, http_port=None) as agent:
        # Point the tracer at it the way a deployment would: with JAEGER_* variables.
        os.environ.update(JAEGER_AGENT_HOST="127.0.0.1", JAEGER_AGENT_PORT=str(agent.compact_port))
        main()
        agent.wait_for_spans(6, timeout=5)
    print(agent.summary())

"""OpenTracing: existing instrumentation keeps working, on jaeger_lite's tracer.

Run it:  python examples/opentracing_global.py   (needs: pip install 'jaeger-lite[opentracing]')

init_tracer() also registers the tracer as opentracing.global_tracer(), so code written
against the OpenTracing API (your own, or opentracing-contrib integrations) needs no change.
"""

import os

try:
    import opentracing
    from opentracing import Format, logs, tags
except ImportError:
    print("This example needs the OpenTracing API: pip install 'jaeger-lite[opentracing]'")
    raise SystemExit(0)

import jaeger_lite

# --- existing instrumentation: it only knows the OpenTracing API ----------------------


def call_accounts(user_id: int) -> dict[str, str]:
    tracer = opentracing.global_tracer()
    with tracer.start_active_span("GET /accounts") as scope:
        scope.span.set_tag(tags.SPAN_KIND, tags.SPAN_KIND_RPC_CLIENT)
        scope.span.set_tag(tags.HTTP_URL, f"http://accounts/users/{user_id}")
        headers: dict[str, str] = {}
        tracer.inject(scope.span.context, Format.HTTP_HEADERS, headers)
    return headers  # what would travel with the request


def handle_accounts_request(headers: dict[str, str]) -> None:
    tracer = opentracing.global_tracer()
    parent = tracer.extract(Format.HTTP_HEADERS, headers)
    with tracer.start_active_span("GET /users/{id}", child_of=parent) as scope:
        scope.span.set_tag(tags.SPAN_KIND, tags.SPAN_KIND_RPC_SERVER)
        span = opentracing.start_child_span(scope.span, "SELECT users")
        with span:
            span.set_tag(tags.DATABASE_TYPE, "sql")
            span.log_kv({logs.EVENT: "cache miss", logs.MESSAGE: "user 42 not cached"})


# --- the application: configure jaeger_lite once at start-up --------------------------


def main() -> None:
    # Also opentracing's global tracer (jaeger_lite.set_global_tracer(t) does the same for
    # a tracer you build yourself).
    tracer = jaeger_lite.init_tracer("shop", sampler_type="const")  # sample every trace
    print(
        "opentracing.global_tracer() is the jaeger_lite tracer:",
        opentracing.global_tracer() is tracer,
    )
    print("isinstance(tracer, opentracing.Tracer):", isinstance(tracer, opentracing.Tracer))

    headers = call_accounts(42)
    print("headers:", headers)
    handle_accounts_request(headers)
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
        agent.wait_for_spans(3, timeout=5)
    print(agent.summary())

"""Quick start: a tracer, a span with tags, logs and baggage, a child span, and close().

Run it:  python examples/quickstart.py

The development agent started at the bottom stands in for a Jaeger agent and prints the
trace; in your application, leave it out and run `jaeger-lite agent` or a real Jaeger.
"""

import os
import time

import jaeger_lite


def main() -> None:
    # One tracer per process, created at start-up. Options also come from JAEGER_*
    # variables (JAEGER_AGENT_HOST, JAEGER_AGENT_PORT, ...); by default spans go over UDP
    # to the agent on localhost:6831. "const" samples every trace (fine in development;
    # in production the default, "remote", asks the agent for the strategy).
    tracer = jaeger_lite.init_tracer("quickstart", sampler_type="const")

    with tracer.start_active_span("checkout") as scope:
        span = scope.span
        span.set_tag("customer.id", 1234)
        span.log_kv({"event": "cart loaded", "items": 3})
        # Baggage travels with the trace: to child spans and, when injected, to other services.
        span.set_baggage_item("tenant", "acme")

        # The active span is the parent: no need to pass it around.
        with tracer.start_active_span("load-prices") as child:
            time.sleep(0.01)  # stands in for real work
            tenant = child.span.get_baggage_item("tenant")
            child.span.set_tag("tenant", tenant)

        print(f"trace {span.context.trace_id_hex}: checkout for tenant {tenant}")

    # Send what is still buffered and stop the reporter (an exit hook does it too, but
    # closing explicitly makes shutdown predictable).
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
        agent.wait_for_spans(2, timeout=5)
    print(agent.summary())

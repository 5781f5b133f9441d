"""Migrating from jaeger-client-python: change one import, keep your config dict.

Run it:  python examples/jaeger_client_migration.py

This is jaeger-client's own README example with one line changed. The dict is read as
jaeger-client reads it (JAEGER_* variables still apply where it says nothing), keys that
have no meaning here are logged as warnings, and close() needs no time.sleep() before it.
"""

import logging
import os

from jaeger_lite import Config  # was: from jaeger_client import Config


def main() -> None:
    logging.basicConfig(format="%(asctime)s %(message)s", level=logging.INFO)

    config = Config(
        config={  # usually read from some yaml config
            "sampler": {"type": "const", "param": 1},
            "logging": True,  # also log each reported span
            "local_agent": {"reporting_host": "127.0.0.1"},
            "tags": {"deployment": "staging"},
        },
        service_name="your-app-name",
        validate=True,
    )
    # This call also sets opentracing.global_tracer() (when opentracing is installed).
    tracer = config.initialize_tracer()
    assert tracer is not None  # None only when called twice, as in jaeger-client

    with tracer.start_span("TestSpan") as span:
        span.log_kv({"event": "test message", "life": 42})

        with tracer.start_span("ChildSpan", child_of=span) as child_span:
            child_span.log_kv({"event": "down below"})

    tracer.close()  # flushes; jaeger-client needed time.sleep(2) and returned a Future


if __name__ == "__main__":
    # --- only for this example: stands in for a real Jaeger agent -------------------
    from jaeger_lite.agent import DevAgent

    # UDP compact Thrift on a free port (0), other listeners off (None); it prints the
    # trace it received when it stops, at the end of the with-block.
    with DevAgent(compact_port=0, binary_port=None, http_port=None) as agent:
        os.environ["JAEGER_AGENT_PORT"] = str(agent.compact_port)  # as a deployment would
        main()
        agent.wait_for_spans(2, timeout=5)
    print(agent.summary())

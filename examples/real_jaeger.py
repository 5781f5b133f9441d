"""Sending spans to a real Jaeger: UDP to an agent, or HTTP straight to a collector.

Run it:  python examples/real_jaeger.py   (it sends to an in-process stand-in: see the bottom)

Both transports are accepted by the Jaeger v1 agent/collector and all-in-one, by Jaeger v2
(its all-in-one config enables the `jaeger` receiver with thrift_compact on UDP 6831 and
thrift_http on 14268; it listens on localhost unless JAEGER_LISTEN_HOST says otherwise,
and its container image sets 0.0.0.0), and by an OpenTelemetry Collector configured with:

    receivers:
      jaeger:
        protocols:
          thrift_compact: {endpoint: "0.0.0.0:6831"}
          thrift_http: {endpoint: "0.0.0.0:14268"}

To try it for real:  docker run --rm -p 16686:16686 -p 6831:6831/udp -p 14268:14268 \\
    jaegertracing/jaeger:latest   (or jaegertracing/all-in-one:1.60), then open
http://localhost:16686 and call the two functions below with 127.0.0.1, 6831 and
"http://127.0.0.1:14268/api/traces".
"""

from typing import Optional

import jaeger_lite
from jaeger_lite import Tracer

# sampler_type="const" sends every trace, which suits trying things out. In production
# leave it out: the default "remote" sampler asks the agent (HTTP 5778; with Jaeger v2 its
# remote_sampling extension) for the strategy, or sampling_endpoint= / JAEGER_SAMPLING_ENDPOINT
# if that lives elsewhere, and samples 0.1% until the answer arrives.


def tracer_via_agent(host: str, port: int = 6831) -> Tracer:
    # UDP, compact Thrift: the default. Same as JAEGER_AGENT_HOST=host JAEGER_AGENT_PORT=port.
    # A datagram holds at most 65000 bytes (agent_max_packet_size / JAEGER_AGENT_MAX_PACKET_SIZE).
    return jaeger_lite.init_tracer("orders", agent_host=host, agent_port=port, sampler_type="const")


def tracer_via_collector(url: str, auth_token: Optional[str] = None) -> Tracer:
    # HTTP POST of binary Thrift, no agent needed (another host, no UDP, big spans).
    # Same as JAEGER_ENDPOINT=url. auth_token is sent as "Authorization: Bearer ..."
    # (JAEGER_AUTH_TOKEN); for HTTP Basic pass user=..., password=... instead
    # (JAEGER_USER, JAEGER_PASSWORD). None means "not set here".
    return jaeger_lite.init_tracer(
        "billing", endpoint=url, auth_token=auth_token, sampler_type="const", set_global=False
    )


def send_one_trace(tracer: Tracer, operation: str) -> None:
    with tracer.start_active_span(operation):
        with tracer.start_active_span("db.query"):
            pass
    tracer.close()  # flushes: the spans are on their way when it returns


if __name__ == "__main__":
    # --- only for this example: stands in for a real Jaeger agent and collector -----
    from jaeger_lite.agent import DevAgent

    with DevAgent(compact_port=0, binary_port=None, http_port=0) as agent:
        assert agent.compact_port is not None and agent.http_url is not None
        print(f"--- UDP to the agent at 127.0.0.1:{agent.compact_port}")
        send_one_trace(tracer_via_agent("127.0.0.1", agent.compact_port), "place-order")
        agent.wait_for_spans(2, timeout=5)
        agent.flush()  # print the trace now instead of after a quiet moment

        print(f"--- HTTP to the collector at {agent.http_url}")
        send_one_trace(tracer_via_collector(agent.http_url, "s3cr3t"), "charge")
        agent.wait_for_spans(4, timeout=5)
    print(agent.summary())

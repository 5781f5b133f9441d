"""The agent decodes what other Jaeger clients send, not only jaeger_lite.

jaeger-client 4.8 (the retired official Python client, compact UDP through its own
generated Thrift code) and opentelemetry-exporter-jaeger-thrift 1.21 (compact UDP to the
agent, binary Thrift over HTTP to the collector) are installed by the ``test`` extra.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from jaeger_lite.agent import DevAgent
from jaeger_lite.agent.tree import CHILD, FOLLOWS, parent_of

WAIT = 10.0


@pytest.fixture
def agent() -> Iterator[DevAgent]:
    with DevAgent(
        compact_port=0, binary_port=0, http_port=0, quiet_after=0.05, out=io.StringIO(), width=100
    ) as a:
        yield a


# jaeger-client runs its reporter on a tornado IOLoop thread that outlives tracer.close();
# it runs in a child process so no thread of it is left in the test process.
JAEGER_CLIENT_SCRIPT = """
import json, sys
import opentracing
from jaeger_client import Config

port, use_128bit = int(sys.argv[1]), sys.argv[2] == "1"
config = Config(
    config={
        "sampler": {"type": "const", "param": 1},
        "local_agent": {"reporting_host": "127.0.0.1", "reporting_port": port},
        "generate_128bit_trace_id": use_128bit,
        "logging": False,
    },
    service_name="jc-service",
    validate=True,
)
tracer = config.new_tracer()
root = tracer.start_span("root")
child = tracer.start_span("child", child_of=root)
child.set_tag("error", True)
child.log_kv({"event": "error", "message": "it broke"})
child.finish()
later = tracer.start_span("later", references=opentracing.follows_from(root.context))
later.finish()
root.finish()
tracer.close()  # only schedules the flush on the IOLoop thread: stay alive until told
print(json.dumps({"trace": root.context.trace_id, "root": root.context.span_id,
                  "child": child.context.span_id, "later": later.context.span_id}))
sys.stdout.flush()
sys.stdin.read()
"""


@pytest.mark.parametrize("use_128bit", [False, True])
def test_jaeger_client_python_datagrams(agent: DevAgent, use_128bit: bool) -> None:
    """jaeger-client's compact datagrams decode with its ids, parent links and tags."""
    pytest.importorskip("jaeger_client")
    child = subprocess.Popen(
        [sys.executable, "-c", JAEGER_CLIENT_SCRIPT, str(agent.compact_port), str(int(use_128bit))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    received = agent.wait_for_spans(3, WAIT)
    stdout, stderr = child.communicate("", timeout=WAIT)
    assert received and child.returncode == 0, stderr
    ids = json.loads(stdout)
    agent.flush()
    spans = {s.operation: s for tr in agent.traces for s in tr.spans}
    assert spans["root"].trace_id == ids["trace"]
    assert (spans["root"].trace_id > 1 << 64) == use_128bit
    assert spans["child"].span_id == ids["child"]
    assert parent_of(spans["child"]) == (ids["root"], CHILD)
    assert parent_of(spans["later"]) == (ids["root"], FOLLOWS)
    assert spans["child"].is_error and spans["child"].error_message == "it broke"
    assert spans["root"].process.service == "jc-service"
    assert {t.key for t in spans["root"].process.tags} >= {"jaeger.version", "hostname"}
    assert agent.stats.bad_datagrams == 0


def _otel_tracer(exporter: object) -> tuple[object, object]:
    sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")
    export = pytest.importorskip("opentelemetry.sdk.trace.export")
    resources = pytest.importorskip("opentelemetry.sdk.resources")
    provider = sdk_trace.TracerProvider(
        resource=resources.Resource.create({"service.name": "otel-service"})
    )
    provider.add_span_processor(export.SimpleSpanProcessor(exporter))
    return provider, provider.get_tracer("interop")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("transport", ["agent-udp-compact", "collector-http-binary"])
def test_opentelemetry_jaeger_exporter(agent: DevAgent, transport: str) -> None:
    """OTel's Jaeger exporter: 128-bit ids, parent, links as FOLLOWS_FROM, error status."""
    jaeger_thrift = pytest.importorskip("opentelemetry.exporter.jaeger.thrift")
    trace_api = pytest.importorskip("opentelemetry.trace")
    if transport == "agent-udp-compact":
        exporter = jaeger_thrift.JaegerExporter(
            agent_host_name="127.0.0.1", agent_port=agent.compact_port
        )
    else:
        exporter = jaeger_thrift.JaegerExporter(collector_endpoint=agent.http_url)
    provider, tracer = _otel_tracer(exporter)
    with tracer.start_as_current_span("parent") as parent:  # type: ignore[attr-defined]
        with tracer.start_as_current_span("failing") as failing:  # type: ignore[attr-defined]
            failing.set_status(trace_api.Status(trace_api.StatusCode.ERROR, "bad input"))
    linked = tracer.start_span("linked", links=[trace_api.Link(parent.get_span_context())])  # type: ignore[attr-defined]
    linked.end()
    provider.shutdown()  # type: ignore[attr-defined]
    assert agent.wait_for_spans(3, WAIT)
    agent.flush()
    spans = {s.operation: s for tr in agent.traces for s in tr.spans}
    parent_ctx = parent.get_span_context()
    assert (
        spans["parent"].trace_id == parent_ctx.trace_id
        and spans["parent"].span_id == parent_ctx.span_id
    )
    assert parent_of(spans["failing"]) == (parent_ctx.span_id, CHILD)
    assert spans["failing"].is_error and spans["failing"].error_message == "bad input"
    assert [(r.kind, r.span_id) for r in spans["linked"].refs] == [
        ("FOLLOWS_FROM", parent_ctx.span_id)
    ]
    assert spans["parent"].process.service == "otel-service"
    assert agent.stats.bad_datagrams == 0 and agent.stats.bad_http_bodies == 0

"""The agent decodes what other Jaeger clients send, not only jaeger_lite.

jaeger-client 4.8 (the retired official Python client, compact UDP through its own
generated Thrift code, from requirements/test.txt) and opentelemetry-exporter-jaeger-thrift
1.21 (compact UDP to the agent, binary Thrift over HTTP to the collector; in a venv of its
own made by scripts/setup-interop, as it needs an old SDK).
"""

from __future__ import annotations

import io
import json
import pathlib
import subprocess
import sys
from collections.abc import Iterator

import pytest

from jaeger_lite.agent import DevAgent
from jaeger_lite.agent.tree import CHILD, FOLLOWS, parent_of

WAIT = 10.0
ROOT = pathlib.Path(__file__).resolve().parent.parent


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


#: A venv of its own (scripts/setup-interop): the exporter pins opentelemetry-sdk 1.21, the
#: last release that had it, while the rest of the suite uses the newest SDK.
OTEL_JAEGER_PYTHON = ROOT / ".interop" / "otel-jaeger" / "bin" / "python"

OTEL_JAEGER_SCRIPT = """
import json, sys
from opentelemetry import trace as trace_api
from opentelemetry.exporter.jaeger.thrift import JaegerExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

transport, target = sys.argv[1], sys.argv[2]
if transport == "agent-udp-compact":
    exporter = JaegerExporter(agent_host_name="127.0.0.1", agent_port=int(target))
else:
    exporter = JaegerExporter(collector_endpoint=target)
provider = TracerProvider(resource=Resource.create({"service.name": "otel-service"}))
provider.add_span_processor(SimpleSpanProcessor(exporter))
tracer = provider.get_tracer("interop")
with tracer.start_as_current_span("parent") as parent:
    with tracer.start_as_current_span("failing") as failing:
        failing.set_status(trace_api.Status(trace_api.StatusCode.ERROR, "bad input"))
linked = tracer.start_span("linked", links=[trace_api.Link(parent.get_span_context())])
linked.end()
provider.shutdown()
context = parent.get_span_context()
print(json.dumps({"trace": context.trace_id, "parent": context.span_id}))
"""


@pytest.mark.parametrize("transport", ["agent-udp-compact", "collector-http-binary"])
def test_opentelemetry_jaeger_exporter(agent: DevAgent, transport: str) -> None:
    """OTel's Jaeger exporter: 128-bit ids, parent, links as FOLLOWS_FROM, error status."""
    if not OTEL_JAEGER_PYTHON.exists():
        pytest.skip("no .interop/otel-jaeger venv: run scripts/setup-interop")
    target = str(agent.compact_port) if transport == "agent-udp-compact" else agent.http_url
    result = subprocess.run(
        [str(OTEL_JAEGER_PYTHON), "-W", "ignore", "-c", OTEL_JAEGER_SCRIPT, transport, str(target)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    ids = json.loads(result.stdout)
    assert agent.wait_for_spans(3, WAIT)
    agent.flush()
    spans = {s.operation: s for tr in agent.traces for s in tr.spans}
    assert spans["parent"].trace_id == ids["trace"] and spans["parent"].span_id == ids["parent"]
    assert parent_of(spans["failing"]) == (ids["parent"], CHILD)
    assert spans["failing"].is_error and spans["failing"].error_message == "bad input"
    assert [(r.kind, r.span_id) for r in spans["linked"].refs] == [("FOLLOWS_FROM", ids["parent"])]
    assert spans["parent"].process.service == "otel-service"
    assert agent.stats.bad_datagrams == 0 and agent.stats.bad_http_bodies == 0

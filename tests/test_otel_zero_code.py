"""The zero-code paths, each in a fresh process (OpenTelemetry reads its variables and sets
its global provider once): OTEL_PYTHON_TRACER_PROVIDER=jaeger_lite, OTEL_PROPAGATORS,
opentelemetry-instrument, and what importing costs those who use none of it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("opentelemetry.trace")

from ._wire_helpers import UDPAgent, tag_dict, unsigned

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60

# Uses nothing but OpenTelemetry's API; never closes anything (the exit hook must send).
OTEL_ONLY = """
import json
from opentelemetry import propagate, trace
tracer = trace.get_tracer("app.module", "2.0")
with tracer.start_as_current_span("handle", kind=trace.SpanKind.SERVER) as span:
    recording = span.is_recording()
    with tracer.start_as_current_span("step"):
        headers = {}
        propagate.inject(headers)
    import jaeger_lite
    own = {}
    jaeger_lite.global_tracer().inject(span.jaeger_span, jaeger_lite.Format.HTTP_HEADERS, own)
print(json.dumps({"provider": type(trace.get_tracer_provider()).__name__,
                  "recording": recording, "headers": headers, "own": own}))
"""


@pytest.fixture
def agent() -> Iterator[UDPAgent]:
    receiver = UDPAgent()
    yield receiver
    receiver.close()


def environment(agent: UDPAgent, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAEGER_", "OTEL_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        JAEGER_AGENT_HOST="127.0.0.1",
        JAEGER_AGENT_PORT=str(agent.port),
        JAEGER_SAMPLER_TYPE="const",
        JAEGER_SAMPLER_PARAM="1",
    )
    env.update(extra)
    return env


def run(code: str, env: dict[str, str]) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, object] = json.loads(result.stdout.splitlines()[-1])
    report["stderr"] = result.stderr
    return report


def test_otel_python_tracer_provider_picks_jaeger_lite(agent: UDPAgent) -> None:
    """OpenTelemetry's own entry point gives our provider, configured from the environment
    (OTEL_SERVICE_NAME standing in for JAEGER_SERVICE_NAME); the spans arrive though the
    program never closes anything."""
    report = run(
        OTEL_ONLY,
        environment(agent, OTEL_PYTHON_TRACER_PROVIDER="jaeger_lite", OTEL_SERVICE_NAME="zc"),
    )
    assert report["provider"] == "TracerProvider" and report["recording"] is True
    agent.wait_for_spans(2)
    (batch,) = agent.batches()
    assert batch.process.serviceName == "zc"
    step, handle = batch.spans
    assert (step.operationName, handle.operationName) == ("step", "handle")
    assert step.parentSpanId == handle.spanId
    tags = tag_dict(handle.tags)
    assert (tags["span.kind"], tags["otel.scope.name"], tags["otel.scope.version"]) == (
        "server",
        "app.module",
        "2.0",
    )
    # OpenTelemetry's inject wrote the tracer's format (Jaeger, by default) for "step".
    headers = report["headers"]
    assert isinstance(headers, dict)
    assert headers["uber-trace-id"].split(":")[1] == format(unsigned(step.spanId), "016x")


def test_otel_propagators_set_the_formats_of_both_apis(agent: UDPAgent) -> None:
    """OTEL_PROPAGATORS=tracecontext: OpenTelemetry's propagator writes traceparent, and
    jaeger_lite's own inject (no JAEGER_PROPAGATION) writes the same header."""
    report = run(
        OTEL_ONLY,
        environment(
            agent, OTEL_PYTHON_TRACER_PROVIDER="jaeger_lite", OTEL_PROPAGATORS="tracecontext"
        ),
    )
    headers, own = report["headers"], report["own"]
    assert isinstance(headers, dict) and isinstance(own, dict)
    assert set(headers) == {"traceparent"} and set(own) == {"traceparent"}
    assert headers["traceparent"].split("-")[1] == own["traceparent"].split("-")[1]


def test_otel_propagators_can_name_our_propagator(agent: UDPAgent) -> None:
    """OTEL_PROPAGATORS=jaeger_lite loads the Propagator entry point (over the global
    tracer, here JAEGER_PROPAGATION=b3-single)."""
    report = run(
        OTEL_ONLY,
        environment(
            agent,
            OTEL_PYTHON_TRACER_PROVIDER="jaeger_lite",
            OTEL_PROPAGATORS="jaeger_lite",
            JAEGER_PROPAGATION="b3-single",
        ),
    )
    headers = report["headers"]
    assert isinstance(headers, dict) and set(headers) == {"b3"}


# An OpenTelemetry propagator jaeger_lite does not write, installed as OpenTelemetry finds
# one (an ``opentelemetry_propagator`` entry point), as opentelemetry-propagator-aws-xray is.
XRAY_MODULE = """
from opentelemetry import trace
from opentelemetry.propagators.textmap import TextMapPropagator

class XRay(TextMapPropagator):
    def inject(self, carrier, context=None, setter=None):
        span_context = trace.get_current_span(context).get_span_context()
        carrier["x-amzn-trace-id"] = "Root=1-%032x" % span_context.trace_id

    def extract(self, carrier, context=None, getter=None):
        return context

    @property
    def fields(self):
        return {"x-amzn-trace-id"}
"""


def test_otel_propagators_may_name_propagators_only_opentelemetry_writes(
    agent: UDPAgent, tmp_path: Path
) -> None:
    """OTEL_PROPAGATORS=tracecontext,baggage,xray (AWS's default) with the xray propagator
    installed: a working OpenTelemetry setup, so the tracer is made (it was a ConfigError,
    and no spans at all). OpenTelemetry writes both formats; jaeger_lite's API the one it
    knows."""
    (tmp_path / "fake_xray.py").write_text(XRAY_MODULE)
    info = tmp_path / "fake_xray-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-xray\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[opentelemetry_propagator]\nxray = fake_xray:XRay\n")
    env = environment(
        agent,
        OTEL_PYTHON_TRACER_PROVIDER="jaeger_lite",
        OTEL_PROPAGATORS="tracecontext,baggage,xray",
    )
    env["PYTHONPATH"] += os.pathsep + str(tmp_path)
    report = run(OTEL_ONLY, env)
    assert report["recording"] is True
    assert "could not make a tracer" not in str(report["stderr"])
    headers, own = report["headers"], report["own"]
    assert isinstance(headers, dict) and isinstance(own, dict)
    assert set(headers) == {"traceparent", "x-amzn-trace-id"} and set(own) == {"traceparent"}
    trace_id = headers["traceparent"].split("-")[1]
    assert headers["x-amzn-trace-id"] == "Root=1-" + trace_id
    agent.wait_for_spans(2)
    (batch,) = agent.batches()
    assert [span.operationName for span in batch.spans] == ["step", "handle"]


def test_a_bad_configuration_never_stops_the_application(agent: UDPAgent) -> None:
    """A bad JAEGER_* value: logged, and OpenTelemetry's spans go to the no-op tracer."""
    report = run(
        OTEL_ONLY,
        environment(agent, OTEL_PYTHON_TRACER_PROVIDER="jaeger_lite", JAEGER_SAMPLER_TYPE="x"),
    )
    assert report["recording"] is False
    assert "could not make a tracer from the environment" in str(report["stderr"])
    assert agent.wait_for_datagrams(1, timeout=0.5) == []


APP = """
import json, sys, threading
import requests
from flask import Flask
from werkzeug.serving import make_server
from opentelemetry import trace

app = Flask("shop")

@app.route("/items/<int:item>")
def item(item):
    return f"item {item}"

server = make_server("127.0.0.1", 0, app, threaded=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
body = requests.get(f"http://127.0.0.1:{server.server_port}/items/7", timeout=30).text
server.shutdown()
print(json.dumps({"body": body, "provider": type(trace.get_tracer_provider()).__module__,
                  "sdk": "opentelemetry.sdk.trace" in sys.modules}))
"""


def test_opentelemetry_instrument_reports_through_jaeger_lite(
    agent: UDPAgent, tmp_path: Path
) -> None:
    """An application without tracing code, run by opentelemetry-instrument with
    OTEL_PYTHON_DISTRO=jaeger_lite (another distro is installed too): Flask and requests
    are instrumented and their spans arrive in our datagrams."""
    command = Path(sys.executable).parent / "opentelemetry-instrument"
    if not command.exists():
        pytest.skip("opentelemetry-instrument is not installed")
    script = tmp_path / "app.py"
    script.write_text(APP)
    result = subprocess.run(
        [str(command), sys.executable, str(script)],
        env=environment(agent, OTEL_PYTHON_DISTRO="jaeger_lite", OTEL_SERVICE_NAME="auto"),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report == {"body": "item 7", "provider": "jaeger_lite.otel._provider", "sdk": False}
    agent.wait_for_spans(2)
    spans = {span.operationName: span for batch in agent.batches() for span in batch.spans}
    assert {b.process.serviceName for b in agent.batches()} == {"auto"}
    server, client = spans["GET /items/<int:item>"], spans["GET"]
    assert server.parentSpanId == client.spanId
    assert tag_dict(server.tags)["otel.scope.name"] == "opentelemetry.instrumentation.flask"
    assert tag_dict(client.tags)["span.kind"] == "client"


def test_importing_jaeger_lite_imports_no_opentelemetry() -> None:
    """`import jaeger_lite` (and starting spans) loads no OpenTelemetry module, and
    jaeger_lite.otel needs no SDK."""
    code = """
        import sys
        import jaeger_lite
        with jaeger_lite.Tracer("svc").start_active_span("op"):
            pass
        before = sorted(m for m in sys.modules if m.startswith("opentelemetry"))
        import jaeger_lite.otel
        from opentelemetry import propagate, trace
        trace.set_tracer_provider(jaeger_lite.otel.TracerProvider(jaeger_lite.Tracer("svc")))
        with trace.get_tracer("t").start_as_current_span("op"):
            propagate.inject({})
        sdk = sorted(m for m in sys.modules if m.startswith("opentelemetry.sdk"))
        print(before, sdk)
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] []"


def test_without_opentelemetry_the_package_says_how_to_install_it(tmp_path: Path) -> None:
    """The API not installed: a clear ImportError naming the extra; jaeger_lite still works."""
    shadow = tmp_path / "opentelemetry"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("raise ImportError('hidden for this test')\n")
    code = """
        import jaeger_lite
        try:
            import jaeger_lite.otel
        except ImportError as exc:
            print(exc)
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"},
    )
    assert result.returncode == 0, result.stderr
    assert "pip install 'jaeger-lite[otel]'" in result.stdout


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, {"service_name": "unknown_service"}),
        ({"JAEGER_SERVICE_NAME": "jaeger"}, {"service_name": "jaeger"}),
        ({"OTEL_SERVICE_NAME": "otel"}, {"service_name": "otel"}),
        (
            {"OTEL_RESOURCE_ATTRIBUTES": "team=a,service.name=my%20svc"},
            {"service_name": "my svc"},
        ),
        (
            {"OTEL_SERVICE_NAME": "wins", "OTEL_RESOURCE_ATTRIBUTES": "service.name=loses"},
            {"service_name": "wins"},
        ),
        (
            {"JAEGER_SERVICE_NAME": "s", "OTEL_PROPAGATORS": "tracecontext,baggage,b3multi"},
            {"propagation": ("w3c", "b3")},
        ),
        (
            {"JAEGER_SERVICE_NAME": "s", "OTEL_PROPAGATORS": "b3,jaeger"},
            {"propagation": ("b3-single", "jaeger")},
        ),
        (
            {"JAEGER_SERVICE_NAME": "s", "OTEL_PROPAGATORS": "jaeger_lite"},
            {"propagation": ("jaeger",)},
        ),
        (
            {"JAEGER_SERVICE_NAME": "s", "OTEL_PROPAGATORS": "b3", "JAEGER_PROPAGATION": "w3c"},
            {"propagation": ("w3c",)},
        ),
        ({"JAEGER_SERVICE_NAME": "s", "OTEL_SDK_DISABLED": "true"}, {"disabled": True}),
        (
            {"JAEGER_SERVICE_NAME": "s", "OTEL_SDK_DISABLED": "true", "JAEGER_DISABLED": "false"},
            {"disabled": False},
        ),
    ],
)
def test_otel_variables_stand_in_for_unset_jaeger_ones(
    environ: dict[str, str], expected: dict[str, object]
) -> None:
    """OTEL_SERVICE_NAME (or service.name of OTEL_RESOURCE_ATTRIBUTES), OTEL_PROPAGATORS
    and OTEL_SDK_DISABLED fill in for JAEGER_SERVICE_NAME, JAEGER_PROPAGATION and
    JAEGER_DISABLED, never over them; a service named nowhere is unknown_service."""
    from jaeger_lite.config import resolve_options
    from jaeger_lite.otel._entry import options_from_environment

    options = resolve_options(**options_from_environment(environ), environ=environ)
    assert {name: getattr(options, name) for name in expected} == expected

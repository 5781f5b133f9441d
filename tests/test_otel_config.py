"""init_tracer reads the OpenTelemetry environment (OTEL_*) with the spec's rules, below
keywords and JAEGER_* variables, with the same precise errors."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import jaeger_lite
from jaeger_lite import ConfigError, Format
from jaeger_lite.config import resolve_options
from jaeger_lite.reporting import NullReporter

from ._otlp_collector import OTLPCollector

BASE = {"OTEL_SERVICE_NAME": "svc"}


def resolve(**env: str) -> Any:
    return resolve_options(environ={**BASE, **env})


def test_only_the_otel_exporter_variables_deliver_to_an_otlp_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """OTEL_TRACES_EXPORTER=otlp and OTEL_EXPORTER_OTLP_ENDPOINT (the base URL): spans
    arrive at /v1/traces, with the OTEL_SERVICE_NAME and resource attributes."""
    for name in [n for n in __import__("os").environ if n.startswith(("JAEGER_", "OTEL_"))]:
        monkeypatch.delenv(name)
    with OTLPCollector() as collector:
        monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.base_url)
        monkeypatch.setenv("OTEL_SERVICE_NAME", "otel-configured")
        monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_on")  # not the agent's 5778
        monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test")
        tracer = jaeger_lite.init_tracer(set_global=False)
        with tracer.start_active_span("checkout"):
            tracer.start_span("charge").finish()
        tracer.close(10)
        assert [r.path for r in collector.received] == ["/v1/traces"]
        (request,) = [r.decode() for r in collector.received]
    resource_spans = request.resource_spans[0]
    resource = {kv.key: kv.value.string_value for kv in resource_spans.resource.attributes}
    assert resource["service.name"] == "otel-configured"
    assert resource["deployment.environment"] == "test"
    assert sorted(s.name for s in resource_spans.scope_spans[0].spans) == [
        "charge",
        "checkout",
    ]


def test_the_two_otlp_variables_alone_deliver_every_trace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With nothing but OTEL_TRACES_EXPORTER=otlp and OTEL_EXPORTER_OTLP_ENDPOINT, what is
    unset follows OpenTelemetry's defaults: every trace is sampled (parentbased_always_on,
    not a Jaeger agent's strategy) under the service unknown_service:<executable>."""
    for name in [n for n in __import__("os").environ if n.startswith(("JAEGER_", "OTEL_"))]:
        monkeypatch.delenv(name)
    with OTLPCollector() as collector:
        monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.base_url)
        tracer = jaeger_lite.init_tracer(set_global=False)
        for number in range(20):
            tracer.start_span(f"job-{number}").finish()
        tracer.close(10)
        requests = [r.decode() for r in collector.received]
    spans = [
        s for r in requests for rs in r.resource_spans for ss in rs.scope_spans for s in ss.spans
    ]
    assert len(spans) == 20
    resource = requests[0].resource_spans[0].resource
    service = {kv.key: kv.value.string_value for kv in resource.attributes}["service.name"]
    assert service.startswith("unknown_service:")
    assert tracer.metrics["sampler_errors"] == 0


def test_a_jaeger_sampler_setting_still_wins_when_exporting_otlp() -> None:
    """The OpenTelemetry defaults only fill what nobody set: JAEGER_SAMPLER_* still counts."""
    options = resolve(
        OTEL_TRACES_EXPORTER="otlp", JAEGER_SAMPLER_TYPE="probabilistic", JAEGER_SAMPLER_PARAM="0.5"
    )
    assert (options.sampler_type, options.sampler_param) == ("probabilistic", 0.5)


@pytest.mark.parametrize(
    ("env", "endpoint"),
    [
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, "http://c:4318/v1/traces"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/"}, "http://c:4318/v1/traces"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "https://c/otlp"}, "https://c/otlp/v1/traces"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/x"}, "http://c:4318/x"),
        (
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://base:4318",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://signal:4318/v1/traces",
            },
            "http://signal:4318/v1/traces",
        ),
    ],
)
def test_endpoint_rules(env: dict[str, str], endpoint: str) -> None:
    """The base endpoint gets /v1/traces; the signal-specific one is used as is."""
    assert resolve(**env).otlp_endpoint == endpoint


def test_otlp_variables_and_their_keywords() -> None:
    options = resolve(
        OTEL_TRACES_EXPORTER="otlp",
        OTEL_EXPORTER_OTLP_PROTOCOL="http/json",
        OTEL_EXPORTER_OTLP_HEADERS="api-key=a%20b,tenant=acme",
        OTEL_EXPORTER_OTLP_TRACES_HEADERS="api-key=signal",
        OTEL_EXPORTER_OTLP_COMPRESSION="gzip",
        OTEL_EXPORTER_OTLP_TIMEOUT="2500",
        OTEL_EXPORTER_OTLP_CERTIFICATE="/etc/ca.pem",
    )
    assert options.exporter == ("otlp",)
    assert (options.otlp_protocol, options.otlp_compression) == ("http/json", "gzip")
    assert options.otlp_headers == {"api-key": "signal"}  # TRACES_ wins, as a whole
    assert (options.otlp_timeout, options.otlp_certificate) == (2.5, "/etc/ca.pem")
    assert options.sources["otlp_timeout"] == "otel"
    keyword = resolve_options(
        "svc", exporter="otlp", otlp_endpoint="http://k:4318/v1/traces",
        otlp_protocol="http/json", otlp_headers={"a": "b"}, otlp_compression="gzip",
        otlp_timeout="3s", environ={"OTEL_EXPORTER_OTLP_TIMEOUT": "1000"},
    )  # fmt: skip
    assert (keyword.otlp_endpoint, keyword.otlp_timeout) == ("http://k:4318/v1/traces", 3.0)
    assert keyword.otlp_headers == {"a": "b"}
    assert resolve(OTEL_EXPORTER_OTLP_HEADERS="x=1").otlp_headers == {"x": "1"}


def test_precedence_keyword_then_jaeger_then_otel() -> None:
    env = {
        "OTEL_SERVICE_NAME": "otel", "JAEGER_SERVICE_NAME": "jaeger",
        "OTEL_TRACES_SAMPLER": "always_off", "JAEGER_SAMPLER_TYPE": "probabilistic",
        "JAEGER_SAMPLER_PARAM": "0.5", "OTEL_PROPAGATORS": "b3", "JAEGER_PROPAGATION": "w3c",
        "OTEL_BSP_SCHEDULE_DELAY": "250",
    }  # fmt: skip
    options = resolve_options(environ=env)
    assert (options.service_name, options.sampler_type, options.sampler_param) == (
        "jaeger", "probabilistic", 0.5,
    )  # fmt: skip
    assert options.propagation == ("w3c",)
    assert options.reporter_flush_interval == 0.25
    keyword = resolve_options(
        "kw", sampler_type="const", sampler_param=1, propagation="jaeger", environ=env
    )
    assert (keyword.service_name, keyword.sampler_type) == ("kw", "const")
    assert keyword.propagation == ("jaeger",)


def test_resource_attributes_become_tags_under_the_jaeger_ones() -> None:
    options = resolve_options(
        environ={"OTEL_RESOURCE_ATTRIBUTES": "service.name=from-res,team=a,zone=eu%2D1",
                 "JAEGER_TAGS": "team=b"}
    )  # fmt: skip
    assert options.service_name == "from-res"
    assert dict(options.tags) == {"team": "b", "zone": "eu-1"}
    named = resolve(OTEL_RESOURCE_ATTRIBUTES="service.name=from-res")
    assert named.service_name == "svc"  # OTEL_SERVICE_NAME wins


def test_sdk_disabled(caplog: pytest.LogCaptureFixture) -> None:
    assert resolve(OTEL_SDK_DISABLED="TRUE").disabled is True
    assert resolve(OTEL_SDK_DISABLED="false").disabled is False
    with caplog.at_level(logging.WARNING, "jaeger_lite"):
        assert resolve(OTEL_SDK_DISABLED="yes").disabled is False
    assert "OTEL_SDK_DISABLED='yes'" in caplog.text
    assert resolve(OTEL_SDK_DISABLED="true", JAEGER_DISABLED="false").disabled is False


@pytest.mark.parametrize(
    ("value", "propagation"),
    [
        ("tracecontext,baggage", ("w3c",)),
        ("b3", ("b3-single",)),
        ("b3multi,jaeger", ("b3", "jaeger")),
        ("none", ()),
    ],
)
def test_propagators(value: str, propagation: tuple[str, ...]) -> None:
    assert resolve(OTEL_PROPAGATORS=value).propagation == propagation


@pytest.mark.parametrize(
    ("value", "propagation"),
    [("tracecontext,baggage,xray", ("w3c",)), ("b3,ottrace", ("b3-single",))],
)
def test_propagators_opentelemetry_knows_are_left_to_it(
    value: str, propagation: tuple[str, ...], caplog: pytest.LogCaptureFixture
) -> None:
    """The spec's third-party values (xray, ottrace) are OpenTelemetry's propagators' to
    write: jaeger_lite's API takes the formats it knows, and a list of only those leaves
    its default (it was a ConfigError, which left an OTel setup without a tracer)."""
    with caplog.at_level(logging.INFO, logger="jaeger_lite"):
        assert resolve(OTEL_PROPAGATORS=value).propagation == propagation
    assert "written by OpenTelemetry's propagators only" in caplog.text
    assert resolve(OTEL_PROPAGATORS="xray").propagation == resolve().propagation


def test_propagators_none_injects_and_extracts_nothing() -> None:
    tracer = jaeger_lite.init_tracer(
        "svc", set_global=False, exporter="none", sampler_type="const", propagation="none"
    )
    carrier: dict[str, str] = {}
    span = tracer.start_span("op")
    tracer.inject(span.context, Format.HTTP_HEADERS, carrier)
    assert carrier == {}
    assert tracer.extract(Format.HTTP_HEADERS, {"uber-trace-id": "1:2:0:1"}) is None
    assert isinstance(tracer._reporter, NullReporter)
    tracer.close()


@pytest.mark.parametrize(
    ("env", "kind", "param"),
    [
        ({"OTEL_TRACES_SAMPLER": "always_on"}, "const", 1.0),
        ({"OTEL_TRACES_SAMPLER": "parentbased_always_off"}, "const", 0.0),
        (
            {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"},
            "probabilistic",
            0.25,
        ),
        ({"OTEL_TRACES_SAMPLER": "parentbased_traceidratio"}, "probabilistic", 1.0),
        ({"OTEL_TRACES_SAMPLER": "jaeger_remote"}, "remote", 0.001),
    ],
)
def test_samplers(env: dict[str, str], kind: str, param: float) -> None:
    options = resolve(**env)
    assert (options.sampler_type, options.sampler_param) == (kind, param)


@pytest.mark.parametrize(
    ("env", "kind", "param"),
    [
        ({"OTEL_TRACES_SAMPLER": "always_off", "JAEGER_SAMPLER_PARAM": "1"}, "const", 0.0),
        ({"OTEL_TRACES_SAMPLER": "always_on", "JAEGER_SAMPLER_PARAM": "0.001"}, "const", 1.0),
        (
            {
                "OTEL_TRACES_SAMPLER": "traceidratio",
                "OTEL_TRACES_SAMPLER_ARG": "0.1",
                "JAEGER_SAMPLER_PARAM": "1",
            },
            "probabilistic",
            0.1,
        ),
    ],
)
def test_otel_sampler_brings_its_parameter_over_jaeger_sampler_param(
    env: dict[str, str], kind: str, param: float, caplog: pytest.LogCaptureFixture
) -> None:
    """With the sampler type from OTEL_TRACES_SAMPLER (no JAEGER_SAMPLER_TYPE), a
    JAEGER_SAMPLER_PARAM left for the remote sampler's initial rate does not turn
    always_off into always_on, make always_on a ConfigError or override the ratio; it is
    ignored with a warning."""
    with caplog.at_level(logging.WARNING, logger="jaeger_lite"):
        options = resolve(**env)
    assert (options.sampler_type, options.sampler_param) == (kind, param)
    assert "JAEGER_SAMPLER_PARAM ignored" in caplog.text


def test_jaeger_sampler_param_fills_in_for_otel_remote_without_a_rate() -> None:
    """jaeger_remote without initialSamplingRate leaves the rate to JAEGER_SAMPLER_PARAM."""
    options = resolve(OTEL_TRACES_SAMPLER="jaeger_remote", JAEGER_SAMPLER_PARAM="0.5")
    assert (options.sampler_type, options.sampler_param) == ("remote", 0.5)


def test_jaeger_remote_sampler_argument() -> None:
    options = resolve(
        OTEL_TRACES_SAMPLER="parentbased_jaeger_remote",
        OTEL_TRACES_SAMPLER_ARG="endpoint=http://agent:5778/sampling,pollingIntervalMs=5000,"
        "initialSamplingRate=0.25",
    )
    assert options.sampler_type == "remote"
    assert options.effective_sampling_endpoint == "http://agent:5778/sampling"
    assert (options.sampler_refresh_interval, options.sampler_param) == (5.0, 0.25)
    bare = resolve(
        OTEL_TRACES_SAMPLER="jaeger_remote", OTEL_TRACES_SAMPLER_ARG="endpoint=agent:5778"
    )
    assert bare.effective_sampling_endpoint == "http://agent:5778/sampling"


def test_jaeger_remote_at_the_grpc_port_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    """The spec's example endpoint, Jaeger's gRPC port 14250, cannot answer jaeger_lite's
    HTTP poll: a warning names the HTTP port instead (the endpoint is kept as given)."""
    with caplog.at_level(logging.WARNING, logger="jaeger_lite"):
        options = resolve(
            OTEL_TRACES_SAMPLER="jaeger_remote",
            OTEL_TRACES_SAMPLER_ARG="endpoint=http://localhost:14250",
        )
    assert options.effective_sampling_endpoint == "http://localhost:14250"
    assert "14250 is Jaeger's gRPC sampling port" in caplog.text and "5778" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="jaeger_lite"):
        resolve(OTEL_TRACES_SAMPLER="jaeger_remote", OTEL_TRACES_SAMPLER_ARG="endpoint=agent:5778")
    assert "gRPC" not in caplog.text


def test_exporters() -> None:
    assert resolve().exporter is None
    assert resolve(OTEL_TRACES_EXPORTER="otlp,console").exporter == ("otlp", "console")
    tracer = jaeger_lite.init_tracer("svc", set_global=False, exporter="none", sampler_type="const")
    assert isinstance(tracer._reporter, NullReporter)
    tracer.close()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER='zipkin' is not valid"),
        ({"OTEL_TRACES_EXPORTER": "otlp,none"}, "OTEL_TRACES_EXPORTER='otlp,none' is not valid"),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "gRPC is not supported"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317"}, "OTEL_EXPORTER_OTLP_ENDPOINT="),
        ({"OTEL_EXPORTER_OTLP_COMPRESSION": "zstd"}, "expected gzip or none"),
        ({"OTEL_EXPORTER_OTLP_TIMEOUT": "10s"}, "OTEL_EXPORTER_OTLP_TIMEOUT='10s' is not valid"),
        # Not the value: headers carry API keys.
        ({"OTEL_EXPORTER_OTLP_HEADERS": "novalue"}, "OTEL_EXPORTER_OTLP_HEADERS is not valid"),
        ({"OTEL_PROPAGATORS": "tracecontex"}, "OTEL_PROPAGATORS='tracecontex' is not valid"),
        ({"OTEL_PROPAGATORS": "w3c"}, "OTEL_PROPAGATORS='w3c' is not valid"),
        ({"OTEL_TRACES_SAMPLER": "sometimes"}, "OTEL_TRACES_SAMPLER='sometimes' is not valid"),
        (
            {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"},
            "OTEL_TRACES_SAMPLER_ARG='2' is not valid",
        ),
        (
            {"OTEL_TRACES_SAMPLER": "jaeger_remote", "OTEL_TRACES_SAMPLER_ARG": "interval=5"},
            "not interval",
        ),
        ({"OTEL_BSP_MAX_QUEUE_SIZE": "0"}, "OTEL_BSP_MAX_QUEUE_SIZE='0' is not valid"),
        ({"OTEL_BSP_SCHEDULE_DELAY": "soon"}, "OTEL_BSP_SCHEDULE_DELAY='soon' is not valid"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("?", r"\?")):
        resolve(**env)


def test_bad_keywords_name_the_option() -> None:
    with pytest.raises(ConfigError, match="exporter='kafka' is not valid"):
        resolve_options("svc", exporter="kafka", environ={})
    with pytest.raises(ConfigError, match="otlp_protocol='grpc' is not valid"):
        resolve_options("svc", otlp_protocol="grpc", environ={})

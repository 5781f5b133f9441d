"""init_tracer reads the OpenTelemetry environment (OTEL_*) with the spec's rules, below
keywords and JAEGER_* variables, with the same precise errors."""

from __future__ import annotations

import logging
import pathlib
import ssl
from typing import Any

import pytest

import jaeger_lite
from jaeger_lite import ConfigError, Format
from jaeger_lite.config import build_tracer, resolve_options
from jaeger_lite.reporting import NullReporter

from ._otlp_collector import OTLPCollector
from ._wire_helpers import UDPAgent

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
    assert resolve(OTEL_TRACES_EXPORTER="otlp", **env).otlp_endpoint == endpoint


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
    options = resolve(OTEL_TRACES_EXPORTER="otlp", OTEL_EXPORTER_OTLP_HEADERS="x=1")
    assert options.otlp_headers == {"x": "1"}


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
    if any(name.startswith("OTEL_EXPORTER_OTLP_") for name in env):  # read for OTLP only
        env = {"OTEL_TRACES_EXPORTER": "otlp", **env}
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("?", r"\?")):
        resolve(**env)


def test_otlp_variables_count_only_when_spans_go_over_otlp(
    monkeypatch: pytest.MonkeyPatch, udp_agent: UDPAgent
) -> None:
    """A deployment-wide OTLP setting meant for gRPC SDKs (this exporter supports neither)
    does not stop a tracer that sends to a Jaeger agent; exporting OTLP, it is an error."""
    grpc = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "otel-collector:4317",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_HEADERS": "api-key=k",
        "OTEL_EXPORTER_OTLP_TIMEOUT": "10s",
    }
    for name, value in {**grpc, "JAEGER_AGENT_HOST": "127.0.0.1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("JAEGER_AGENT_PORT", str(udp_agent.port))
    tracer = jaeger_lite.init_tracer("svc", set_global=False, sampler_type="const")
    try:
        tracer.start_span("work").finish()
        assert tracer.flush(5.0)
        assert [s.operationName for s in udp_agent.wait_for_spans(1)] == ["work"]
    finally:
        tracer.close()
    options = resolve(**grpc)
    assert (options.otlp_endpoint, options.otlp_protocol) == (None, "http/protobuf")
    assert "otlp_endpoint" not in options.variables
    with pytest.raises(ConfigError, match="OTEL_EXPORTER_OTLP_ENDPOINT='otel-collector:4317'"):
        resolve(OTEL_TRACES_EXPORTER="otlp", **grpc)
    with pytest.raises(ConfigError, match="OTEL_EXPORTER_OTLP_PROTOCOL='grpc'"):
        resolve_options("svc", exporter="otlp", environ={"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OTEL_EXPORTER_OTLP_HEADERS": "api-key=SECRET,SECRET2"}, "entry 2 has no key"),
        ({"OTEL_EXPORTER_OTLP_TRACES_HEADERS": "=SECRET"}, "entry 1 has no key"),
        ({"OTEL_EXPORTER_OTLP_HEADERS": "api key=SECRET"}, "'api key' is not an HTTP token"),
        ({"OTEL_EXPORTER_OTLP_HEADERS": "k=SECRET%0D%0AX-Injected:%201"}, "value of header 'k'"),
        ({"OTEL_EXPORTER_OTLP_HEADERS": "k=SECRET%00"}, "line break or NUL"),
        (
            {"JAEGER_ENDPOINT": "tcp://u:SECRET@h:14268/api/traces"},
            "JAEGER_ENDPOINT='tcp://h:14268",
        ),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "grpc://u:SECRET@h:4317"}, "ENDPOINT='grpc://h:4317'"),
    ],
)
def test_a_bad_header_or_url_is_refused_without_its_secret(
    env: dict[str, str], message: str
) -> None:
    """Header values are API keys and URLs may carry a password: a ConfigError (often
    logged by whatever stops the application) names the variable and the header, never
    them. A header HTTP cannot carry is refused at start, not retried at every export."""
    with pytest.raises(ConfigError) as caught:
        resolve(OTEL_TRACES_EXPORTER="otlp", **env)
    assert message in str(caught.value)
    assert "SECRET" not in str(caught.value)
    with pytest.raises(ConfigError, match="value of header 'k'") as caught:
        resolve_options("svc", otlp_headers={"k": "SECRET\nX: 1"}, environ={})
    assert "SECRET" not in str(caught.value)


def test_bad_keywords_name_the_option() -> None:
    with pytest.raises(ConfigError, match="exporter='kafka' is not valid"):
        resolve_options("svc", exporter="kafka", environ={})
    with pytest.raises(ConfigError, match="otlp_protocol='grpc' is not valid"):
        resolve_options("svc", otlp_protocol="grpc", environ={})


def test_a_client_certificate_for_a_collector_that_asks_for_one(
    certificate: tuple[str, str], tmp_path: pathlib.Path, tracers: list[jaeger_lite.Tracer]
) -> None:
    """OTEL_EXPORTER_OTLP_[TRACES_]CLIENT_CERTIFICATE and _CLIENT_KEY (mutual TLS): the
    collector, which refuses a client without a certificate it trusts, gets the span."""
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cert)  # the self-signed certificate is the client's too
    combined = tmp_path / "client.pem"  # certificate and key in one file: no key variable
    combined.write_text(pathlib.Path(cert).read_text() + pathlib.Path(key).read_text())
    with OTLPCollector(tls=context) as collector:
        base = {
            **BASE,
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": collector.url,
            "OTEL_EXPORTER_OTLP_CERTIFICATE": cert,
            "OTEL_EXPORTER_OTLP_TIMEOUT": "1000",
        }
        runs = {
            "pair": {
                "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": cert,
                "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY": key,
            },
            "combined": {"OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE": str(combined)},
            "none": {},
        }
        sent = {}
        for run, env in runs.items():
            options = resolve_options(environ={**base, **env})
            tracer = build_tracer(options)
            tracers.append(tracer)
            tracer.start_span(run).finish()
            tracer.close(10)
            sent[run] = tracer.metrics["spans_sent"]
        assert sent == {"pair": 1, "combined": 1, "none": 0}
        assert sorted(span.name for span in collector.spans()) == ["combined", "pair"]
    with pytest.raises(ConfigError, match="OTEL_EXPORTER_OTLP_CLIENT_KEY needs"):
        resolve(OTEL_TRACES_EXPORTER="otlp", OTEL_EXPORTER_OTLP_CLIENT_KEY=key)


def test_opentelemetry_pythons_name_of_the_otlp_http_exporter() -> None:
    """OpenTelemetry Python names its OTLP/HTTP exporter otlp_proto_http (its otlp is the
    gRPC one), so a service configured for it keeps working; gRPC is refused with a hint."""
    assert resolve(OTEL_TRACES_EXPORTER="otlp_proto_http").exporter == ("otlp",)
    assert resolve(OTEL_TRACES_EXPORTER="console, OTLP_PROTO_HTTP").exporter == ("console", "otlp")
    keyword = resolve_options("svc", exporter="otlp_proto_http,otlp", environ={})
    assert keyword.exporter == ("otlp",)
    with pytest.raises(ConfigError, match="OTEL_TRACES_EXPORTER='otlp_proto_grpc'.*gRPC"):
        resolve(OTEL_TRACES_EXPORTER="otlp_proto_grpc")


def test_a_timeout_in_seconds_by_mistake_is_warned_about(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The spec's OTLP timeouts are milliseconds; OpenTelemetry Python reads seconds, so a
    10 carried over from it would be a 10 ms deadline: it is kept, with a warning."""
    with caplog.at_level(logging.WARNING, logger="jaeger_lite"):
        assert (
            resolve(OTEL_TRACES_EXPORTER="otlp", OTEL_EXPORTER_OTLP_TIMEOUT="10").otlp_timeout
            == 0.01
        )
    assert "OTEL_EXPORTER_OTLP_TIMEOUT=10 is 10 milliseconds" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="jaeger_lite"):
        assert (
            resolve(OTEL_TRACES_EXPORTER="otlp", OTEL_EXPORTER_OTLP_TIMEOUT="500").otlp_timeout
            == 0.5
        )
    assert "milliseconds" not in caplog.text


def test_a_full_url_in_the_base_endpoint_is_warned_about(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """OTEL_EXPORTER_OTLP_ENDPOINT gets /v1/traces whatever it ends in (the spec, and
    OpenTelemetry Python, do so); a value that already ends in it is a common mistake."""
    with caplog.at_level(logging.WARNING, logger="jaeger_lite"):
        options = resolve(
            OTEL_TRACES_EXPORTER="otlp",
            OTEL_EXPORTER_OTLP_ENDPOINT="http://u:pw@c:4318/v1/traces",
        )
    assert options.otlp_endpoint == "http://u:pw@c:4318/v1/traces/v1/traces"
    assert "spans go to http://c:4318/v1/traces/v1/traces" in caplog.text
    assert "pw" not in caplog.text


@pytest.mark.parametrize(
    ("env", "option", "value"),
    [
        (
            {"JAEGER_SAMPLER_TYPE": "const", "OTEL_TRACES_SAMPLER": "xray"},
            "sampler_type",
            "const",
        ),
        (
            {
                "JAEGER_SAMPLER_TYPE": "probabilistic",
                "JAEGER_SAMPLER_PARAM": "0.5",
                "OTEL_TRACES_SAMPLER": "traceidratio",
                "OTEL_TRACES_SAMPLER_ARG": "2",
            },
            "sampler_param",
            0.5,
        ),
        ({"JAEGER_PROPAGATION": "b3", "OTEL_PROPAGATORS": "w3c"}, "propagation", ("b3",)),
        (
            {"JAEGER_REPORTER_FLUSH_INTERVAL": "2s", "OTEL_BSP_SCHEDULE_DELAY": "soon"},
            "reporter_flush_interval",
            2.0,
        ),
        (
            {"JAEGER_REPORTER_MAX_QUEUE_SIZE": "100", "OTEL_BSP_MAX_QUEUE_SIZE": "0"},
            "reporter_max_queue_size",
            100,
        ),
    ],
)
def test_an_overridden_otel_variable_is_not_checked(
    env: dict[str, str], option: str, value: Any
) -> None:
    """JAEGER_* wins over OTEL_*: an OTEL_* value it overrides (one jaeger_lite cannot
    use, like the spec's xray sampler, set deployment-wide) does not stop the tracer;
    not overridden, it is the ConfigError it always was."""
    assert getattr(resolve(**env), option) == value
    jaeger = {name for name in env if name.startswith("JAEGER_")}
    with pytest.raises(ConfigError, match="OTEL_"):
        resolve(**{k: v for k, v in env.items() if k not in jaeger})

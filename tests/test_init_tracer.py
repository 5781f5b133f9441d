"""init_tracer: options and JAEGER_* variables wired into a working tracer."""

from __future__ import annotations

import base64
import logging
import threading

import pytest

import jaeger_lite
from jaeger_lite import (
    CompositeReporter,
    ConfigError,
    ConstSampler,
    Format,
    HTTPSender,
    NullReporter,
    ProbabilisticSampler,
    RateLimitingSampler,
    RemoteReporter,
    RemoteSampler,
    SpanContext,
    Tracer,
    UDPSender,
    init_tracer,
)
from jaeger_lite.config import resolve_options
from tests._strategy_server import StrategyServer, prob
from tests._wire_helpers import Collector, UDPAgent, decode_binary_batch, tag_dict


@pytest.fixture(autouse=True)
def agent(jaeger_env: UDPAgent) -> UDPAgent:
    """This test's own UDP agent; what options leave to the defaults (agent host and port,
    sampling endpoint) goes to it and to the test's strategy server (jaeger_env)."""
    return jaeger_env


def test_environment_alone_gives_a_working_tracer(
    monkeypatch: pytest.MonkeyPatch, agent: UDPAgent, tracers: list[Tracer]
) -> None:
    """init_tracer() with no arguments and JAEGER_SERVICE_NAME set reports to the agent."""
    monkeypatch.setenv("JAEGER_SERVICE_NAME", "env-service")
    monkeypatch.setenv("JAEGER_AGENT_HOST", "127.0.0.1")
    monkeypatch.setenv("JAEGER_AGENT_PORT", str(agent.port))
    monkeypatch.setenv("JAEGER_SAMPLER_TYPE", "const")
    monkeypatch.setenv("JAEGER_SAMPLER_PARAM", "1")
    monkeypatch.setenv("JAEGER_TAGS", "region=eu-1,build=${BUILD_ID:dev}")
    tracer = init_tracer()
    tracers.append(tracer)
    with tracer.start_active_span("work") as scope:
        scope.span.set_tag("n", 7)
    assert tracer.flush(5.0)
    assert len(agent.wait_for_spans(1)) == 1
    (batch,) = agent.batches()
    assert batch.process.serviceName == "env-service"
    process_tags = tag_dict(batch.process.tags)
    assert process_tags["region"] == "eu-1" and process_tags["build"] == "dev"
    (span,) = batch.spans
    assert span.operationName == "work" and tag_dict(span.tags)["n"] == 7
    assert jaeger_lite.global_tracer() is tracer


def test_defaults_follow_jaeger(
    monkeypatch: pytest.MonkeyPatch, server: StrategyServer, tracers: list[Tracer]
) -> None:
    """UDP to localhost:6831 (nothing is sent here), remote sampling at 0.1% from
    127.0.0.1:5778, the jaeger format."""
    monkeypatch.delenv("JAEGER_AGENT_HOST")
    monkeypatch.delenv("JAEGER_AGENT_PORT")
    monkeypatch.delenv("JAEGER_SAMPLING_ENDPOINT")
    assert resolve_options("svc").effective_sampling_endpoint == "http://127.0.0.1:5778/sampling"
    # The sampler polls at once: only its endpoint is this test's own.
    tracer = init_tracer("svc", sampling_endpoint=server.url, set_global=False)
    tracers.append(tracer)
    reporter = tracer.reporter
    assert isinstance(reporter, RemoteReporter)
    sender = reporter._sender
    assert isinstance(sender, UDPSender)
    assert (sender.host, sender.port, sender.max_packet_size) == ("localhost", 6831, 65000)
    assert sender.resolve_interval == 30.0
    sampler = tracer.sampler
    assert isinstance(sampler, RemoteSampler)
    assert sampler.sampling_endpoint.startswith(server.url)
    assert sampler.sampler == ProbabilisticSampler(0.001)
    headers: dict[str, str] = {}
    tracer.inject(SpanContext(1, 2, 0, 1), Format.HTTP_HEADERS, headers)  # no span: no poll
    assert list(headers) == ["uber-trace-id"]


def test_no_thread_until_the_first_span(agent: UDPAgent, tracers: list[Tracer]) -> None:
    """The defaults start no thread until the first span (the sampler's poller used to
    start in init_tracer), and that first trace follows the served strategy (100% here)
    rather than the initial 0.1%."""
    strategies = StrategyServer()
    strategies.answer(prob(1.0))
    try:
        before = set(threading.enumerate())
        tracer = init_tracer(
            "svc",
            agent_host="127.0.0.1",
            agent_port=agent.port,
            sampling_endpoint=strategies.url,
            set_global=False,
        )
        tracers.append(tracer)
        assert set(threading.enumerate()) == before
        with tracer.start_active_span("first") as scope:
            assert scope.span.context.is_sampled
        assert tracer.flush(5)
        assert [s.operationName for s in agent.wait_for_spans(1)] == ["first"]
        # The strategy server's own request threads may still be finishing (seen in CI).
        started = {t.name for t in set(threading.enumerate()) - before}
        assert {n for n in started if not n.endswith("(process_request_thread)")} == {
            "jaeger_lite-sampler",
            "jaeger_lite-reporter",
        }
    finally:
        strategies.close()


def test_endpoint_switches_to_http_with_credentials(tracers: list[Tracer]) -> None:
    """endpoint= sends binary batches to the collector with basic auth."""
    collector = Collector()
    try:
        tracer = init_tracer(
            "http-svc",
            endpoint=collector.url,
            user="ann",
            password="pw",
            sampler_type="const",
            set_global=False,
        )
        tracers.append(tracer)
        assert isinstance(tracer.reporter._sender, HTTPSender)  # type: ignore[attr-defined]
        tracer.start_span("posted").finish()
        assert tracer.flush(5.0)
        (request,) = collector.requests
        expected = "Basic " + base64.b64encode(b"ann:pw").decode()
        assert request["headers"]["Authorization"] == expected
        batch = decode_binary_batch(request["body"])
        assert batch.process.serviceName == "http-svc"
        assert [s.operationName for s in batch.spans] == ["posted"]
    finally:
        collector.stop()


@pytest.mark.parametrize(
    ("endpoint", "shown"),
    [
        ("http://ann:pw@127.0.0.1:14268/api/traces", "http://127.0.0.1:14268/api/traces"),
        ("http://[::1]:14268/api/traces", "http://[::1]:14268/api/traces"),
        ("https://collector.test/api/traces", "https://collector.test/api/traces"),
    ],
)
def test_startup_log_names_the_collector_without_credentials(
    endpoint: str, shown: str, caplog: pytest.LogCaptureFixture, tracers: list[Tracer]
) -> None:
    """The start-up line names the collector's host and port, never its user:password."""
    with caplog.at_level(logging.INFO, logger="jaeger_lite"):
        tracers.append(
            init_tracer("svc", endpoint=endpoint, sampler_type="const", set_global=False)
        )
    (line,) = [r.getMessage() for r in caplog.records if "reports to" in r.getMessage()]
    assert f"reports to {shown}," in line
    assert "pw" not in line


@pytest.mark.parametrize(
    ("kind", "param", "expected"),
    [
        ("const", 0, ConstSampler(False)),
        ("const", 1, ConstSampler(True)),
        ("probabilistic", 0.25, ProbabilisticSampler(0.25)),
    ],
)
def test_sampler_types(kind: str, param: float, expected: object, tracers: list[Tracer]) -> None:
    """Each sampler type builds the matching sampler."""
    tracer = init_tracer("svc", sampler_type=kind, sampler_param=param, set_global=False)
    tracers.append(tracer)
    assert tracer.sampler == expected


def test_ratelimiting_sampler(tracers: list[Tracer]) -> None:
    """ratelimiting takes traces per second."""
    tracer = init_tracer("svc", sampler_type="ratelimiting", sampler_param=5, set_global=False)
    tracers.append(tracer)
    assert isinstance(tracer.sampler, RateLimitingSampler)
    assert tracer.sampler.max_traces_per_second == 5.0


def test_remote_sampler_options(server: StrategyServer, tracers: list[Tracer]) -> None:
    """Sampling endpoint, refresh interval, max operations and the initial rate."""
    tracer = init_tracer(
        "svc",
        sampling_endpoint=server.url,
        sampler_refresh_interval="2m",
        sampler_max_operations=12,
        sampler_param=0.5,
        set_global=False,
    )
    tracers.append(tracer)
    sampler = tracer.sampler
    assert isinstance(sampler, RemoteSampler)
    assert sampler.sampling_endpoint.startswith(server.url)
    assert sampler.refresh_interval == 120.0
    assert sampler.max_operations == 12
    assert sampler.sampler == ProbabilisticSampler(0.5)


def test_reporter_options(tracers: list[Tracer]) -> None:
    """Queue size, flush interval, packet size and re-resolution reach the reporter."""
    tracer = init_tracer(
        "svc",
        reporter_max_queue_size=10,
        reporter_flush_interval="250ms",
        agent_max_packet_size=9216,
        reporter_attempt_reconnecting_disabled=True,
        sampler_type="const",
        set_global=False,
    )
    tracers.append(tracer)
    reporter = tracer.reporter
    assert isinstance(reporter, RemoteReporter)
    assert reporter._max_queued == 10 and reporter._flush_interval == 0.25
    assert reporter._sender.max_packet_size == 9216  # type: ignore[attr-defined]
    assert reporter._sender.resolve_interval is None  # type: ignore[attr-defined]


def test_log_spans_adds_a_logging_reporter(
    caplog: pytest.LogCaptureFixture, agent: UDPAgent, tracers: list[Tracer]
) -> None:
    """reporter_log_spans=True logs each span as well as sending it."""
    tracer = init_tracer("svc", reporter_log_spans=True, sampler_type="const", set_global=False)
    tracers.append(tracer)
    assert isinstance(tracer.reporter, CompositeReporter)
    with caplog.at_level(logging.INFO, logger="jaeger_lite"):
        tracer.start_span("logged").finish()
    assert any("svc.logged" in r.getMessage() for r in caplog.records)
    assert tracer.flush(5.0)
    assert [span.operationName for span in agent.wait_for_spans(1)] == ["logged"]


def test_traceid_128bit_and_propagation(tracers: list[Tracer]) -> None:
    """128-bit ids and the chosen formats (all injected)."""
    tracer = init_tracer(
        "svc", traceid_128bit=True, propagation="w3c,b3", sampler_type="const", set_global=False
    )
    tracers.append(tracer)
    span = tracer.start_span("op")
    assert span.context.trace_id >= 2**64 or span.context.trace_id_high == 0
    headers: dict[str, str] = {}
    tracer.inject(span.context, Format.HTTP_HEADERS, headers)
    assert "traceparent" in headers and "x-b3-traceid" in headers


def test_disabled_tracer_starts_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """JAEGER_DISABLED=true: no thread, no socket, unsampled spans, still propagates."""
    monkeypatch.setenv("JAEGER_DISABLED", "true")
    threads_before = threading.active_count()
    tracer = init_tracer("svc", set_global=False)
    with tracer.start_active_span("op") as scope:
        scope.span.set_tag("k", "v")
    assert threading.active_count() == threads_before
    assert isinstance(tracer.reporter, NullReporter)
    assert not scope.span.context.is_sampled
    headers: dict[str, str] = {}
    tracer.inject(scope.span.context, Format.HTTP_HEADERS, headers)
    assert "uber-trace-id" in headers


def test_set_global_false_keeps_the_global_tracer(tracers: list[Tracer]) -> None:
    """set_global=False leaves jaeger_lite.global_tracer() alone."""
    before = jaeger_lite.global_tracer()
    tracer = init_tracer("svc", disabled=True, set_global=False)
    tracers.append(tracer)
    assert jaeger_lite.global_tracer() is before


def test_bad_options_raise_config_errors() -> None:
    """Unknown names and bad values are errors that say what is wrong."""
    with pytest.raises(ConfigError, match="did you mean 'agent_port'"):
        init_tracer("svc", agent_prot=6831)
    with pytest.raises(ConfigError, match="reporter_flush_interval='soon'"):
        init_tracer("svc", reporter_flush_interval="soon")

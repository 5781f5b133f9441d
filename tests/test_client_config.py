"""Config: jaeger-client-python's configuration dictionaries, as its documentation shows them."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jaeger_client
import pytest
from jaeger_client.reporter import InMemoryReporter as ClientReporter
from jaeger_client.sampler import ConstSampler as ClientConstSampler

import jaeger_lite
from jaeger_lite import (
    CompositeReporter,
    Config,
    ConfigError,
    ConstSampler,
    Format,
    NullReporter,
    ProbabilisticSampler,
    RateLimitingSampler,
    RemoteSampler,
    Tracer,
)
from tests._strategy_server import WAIT, StrategyServer, prob
from tests._wire_helpers import UDPAgent, tag_dict


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch, jaeger_env: UDPAgent) -> None:
    """Config starts uninitialized; what a dict leaves to the defaults goes to this test's
    own agent and strategy server (jaeger_env), never to localhost:6831 or :5778."""
    monkeypatch.setattr(Config, "_initialized", False)


def make(config: dict[str, Any], tracers: list[Tracer], **kwargs: Any) -> Tracer:
    tracer = Config(config, service_name=kwargs.pop("service_name", "app"), **kwargs).new_tracer()
    tracers.append(tracer)
    return tracer


def test_getting_started_example(tracers: list[Tracer], caplog: pytest.LogCaptureFixture) -> None:
    """jaeger-client's README example: const sampler, logging on, validate=True."""
    config = {"sampler": {"type": "const", "param": 1}, "logging": True}
    tracer = make(config, tracers, validate=True)
    assert tracer.service_name == "app"
    assert tracer.sampler == ConstSampler(True)
    assert isinstance(tracer.reporter, CompositeReporter)  # remote + logging
    with caplog.at_level(logging.INFO, logger="jaeger_lite"):
        with tracer.start_span("TestSpan") as span:
            span.log_kv({"event": "test message", "life": 42})
    assert any("app.TestSpan" in r.getMessage() for r in caplog.records)


def test_local_agent_reporting_host_and_port(tracers: list[Tracer]) -> None:
    """local_agent.reporting_host/port send spans there (the all-in-one example)."""
    agent = UDPAgent()
    try:
        config = {
            "sampler": {"type": "const", "param": 1},
            "local_agent": {"reporting_host": "127.0.0.1", "reporting_port": agent.port},
            "tags": {"team": "checkout"},
            "logging": False,
        }
        tracer = make(config, tracers)
        tracer.start_span("ChildSpan").finish()
        assert tracer.flush(5.0)
        (span,) = agent.wait_for_spans(1)
        assert span.operationName == "ChildSpan"
        (batch,) = agent.batches()
        assert tag_dict(batch.process.tags)["team"] == "checkout"
    finally:
        agent.close()


def test_production_example_samples_remotely_from_the_local_agent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """config={} (the 'Production' example): the remote sampler asks the local agent."""
    monkeypatch.delenv("JAEGER_SAMPLING_ENDPOINT")
    config = Config({}, service_name="app")
    assert config.options.sampler_type == "remote"
    assert config.options.effective_sampling_endpoint == "http://127.0.0.1:5778/sampling"


def test_remote_sampler_polls_the_configured_endpoint(
    server: StrategyServer, tracers: list[Tracer]
) -> None:
    """The tracer of config={} samples with a RemoteSampler that polls the endpoint."""
    server.answer(prob(0.25))
    tracer = make({}, tracers)
    sampler = tracer.sampler
    assert isinstance(sampler, RemoteSampler)
    tracer.start_span("first").finish()  # the first decision starts the poller
    assert sampler._wait_for_polls(1, WAIT)
    assert server.paths == ["/sampling?service=app"]
    assert sampler.sampler == ProbabilisticSampler(0.25)


def test_sampling_port_moves_the_sampling_endpoint() -> None:
    """local_agent.sampling_port (and reporting_host) locate the sampling server."""
    config = {"local_agent": {"reporting_host": "agent.local", "sampling_port": 5999}}
    endpoint = Config(config, service_name="app").options.effective_sampling_endpoint
    assert endpoint == "http://agent.local:5999/sampling"


def test_sampling_port_alone_asks_the_agent_host_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tracers: list[Tracer]
) -> None:
    """As jaeger-client does, local_agent.sampling_port without reporting_host is asked on
    JAEGER_AGENT_HOST (not on 127.0.0.1): a strategy server on 127.0.0.2 gets the poll."""
    polled: list[str] = []
    seen = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            polled.append(self.path)
            body = json.dumps(prob(0.5)).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            seen.set()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.2", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        monkeypatch.setenv("JAEGER_AGENT_HOST", "127.0.0.2")
        port = httpd.server_address[1]
        client = jaeger_client.Config({"local_agent": {"sampling_port": port}}, service_name="app")
        assert (client.local_agent_reporting_host, client.local_agent_sampling_port) == (
            "127.0.0.2",
            port,
        )
        tracer = make({"local_agent": {"sampling_port": port}}, tracers)
        tracer.start_span("first").finish()  # the remote sampler polls from the first span
        assert seen.wait(WAIT), "the remote sampler never asked 127.0.0.2"
        assert polled[0].startswith("/sampling?service=app")
        assert isinstance(tracer.sampler, RemoteSampler)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(WAIT)


def test_propagation_b3_leaves_text_map_jaeger_as_jaeger_client_does(
    tracers: list[Tracer],
) -> None:
    """jaeger-client's "propagation": "b3" makes only HTTP_HEADERS B3; TEXT_MAP (message
    headers) keeps uber-trace-id, so producers and consumers on either client still meet."""
    config = {"propagation": "b3", "sampler": {"type": "const", "param": 1}}
    lite = make(config, tracers)
    peer = jaeger_client.Tracer(
        "peer",
        ClientReporter(),
        ClientConstSampler(True),
        extra_codecs=jaeger_client.Config(config, service_name="peer").propagation,
    )
    span = lite.start_span("produce").set_baggage_item("k", "v")
    ours: dict[str, str] = {}
    lite.inject(span.context, Format.TEXT_MAP, ours)
    assert set(ours) == {"uber-trace-id", "uberctx-k"}
    theirs = peer.extract(Format.TEXT_MAP, ours)
    assert (theirs.trace_id, theirs.span_id) == (span.trace_id, span.span_id)
    assert theirs.baggage == {"k": "v"}

    peer_span = peer.start_span("produce")
    message: dict[str, str] = {}
    peer.inject(peer_span.context, Format.TEXT_MAP, message)
    got = lite.extract(Format.TEXT_MAP, message)
    assert got is not None
    assert (got.trace_id, got.span_id) == (peer_span.trace_id, peer_span.span_id)

    headers: dict[str, str] = {}  # HTTP_HEADERS is B3 on both sides
    lite.inject(span.context, Format.HTTP_HEADERS, headers)
    assert "x-b3-traceid" in headers and "uber-trace-id" not in headers
    theirs = peer.extract(Format.HTTP_HEADERS, headers)
    assert (theirs.trace_id, theirs.span_id) == (span.trace_id, span.span_id)


def test_header_names_with_underscores_are_written_as_jaeger_client_writes_them(
    tracers: list[Tracer],
) -> None:
    """jaeger-client lower-cases trace_id_header, baggage_header_prefix and
    debug_id_header and turns "_" into "-" (proxies such as nginx drop headers with "_"):
    the same dict gives the same header names, and each side reads the other's."""
    config = {
        "sampler": {"type": "const", "param": 1},
        "trace_id_header": "X_Trace_Id",
        "baggage_header_prefix": "X_Bag_",
        "debug_id_header": "X_Debug",
    }
    client = jaeger_client.Config(dict(config), service_name="peer")
    peer = jaeger_client.Tracer(
        "peer",
        ClientReporter(),
        ClientConstSampler(True),
        trace_id_header=client.trace_id_header,
        baggage_header_prefix=client.baggage_header_prefix,
        debug_id_header=client.debug_id_header,
    )
    lite = make(config, tracers)
    for fmt in (Format.HTTP_HEADERS, Format.TEXT_MAP):
        ours: dict[str, str] = {}
        span = lite.start_span("x").set_baggage_item("k", "v")
        lite.inject(span.context, fmt, ours)
        theirs: dict[str, str] = {}
        peer_span = peer.start_span("x").set_baggage_item("k", "v")
        peer.inject(peer_span.context, fmt, theirs)
        assert set(ours) == set(theirs) == {"x-trace-id", "x-bag-k"}
        back = peer.extract(fmt, ours)
        assert (back.trace_id, back.span_id) == (span.trace_id, span.span_id)
        assert back.baggage == {"k": "v"}
        got = lite.extract(fmt, theirs)
        assert got is not None and (got.trace_id, got.baggage) == (peer_span.trace_id, {"k": "v"})
    debug = lite.extract(Format.HTTP_HEADERS, {"x-debug": "d1"})
    assert debug is not None and debug.debug_id == "d1"


def test_docstring_yaml_example(tracers: list[Tracer], caplog: pytest.LogCaptureFixture) -> None:
    """enabled/reporter_batch_size/logging/metrics/sampler(param true), as jaeger-client's
    Config docstring shows; keys without an equivalent are accepted with a warning."""
    config = {
        "enabled": True,
        "reporter_batch_size": 10,
        "logging": True,
        "metrics": True,
        "sampler": {"type": "const", "param": True},
    }
    with caplog.at_level(logging.WARNING, logger="jaeger_lite"):
        tracer = make(config, tracers, validate=True)
    assert tracer.sampler == ConstSampler(True)
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "reporter_batch_size" in warned and "'metrics'" in warned


@pytest.mark.parametrize(
    ("sampler", "expected"),
    [
        ({"type": "const", "param": 0}, ConstSampler(False)),
        ({"type": "const", "param": "true"}, ConstSampler(True)),
        ({"type": "probabilistic", "param": 0.1}, ProbabilisticSampler(0.1)),
        ({"type": "probabilistic", "param": "0.5"}, ProbabilisticSampler(0.5)),
    ],
)
def test_sampler_shapes(sampler: dict[str, Any], expected: object, tracers: list[Tracer]) -> None:
    """The sampler types and parameter spellings jaeger-client accepts."""
    assert make({"sampler": sampler}, tracers).sampler == expected


@pytest.mark.parametrize("kind", ["ratelimiting", "rate_limiting"])
def test_rate_limiting_spellings(kind: str, tracers: list[Tracer]) -> None:
    """Both spellings of the rate limiting sampler."""
    sampler = make({"sampler": {"type": kind, "param": 2}}, tracers).sampler
    assert isinstance(sampler, RateLimitingSampler) and sampler.max_traces_per_second == 2.0


def test_a_sampler_instance_is_used_as_is(tracers: list[Tracer]) -> None:
    """jaeger-client also accepts a Sampler object under 'sampler'."""
    sampler = ProbabilisticSampler(0.3)
    assert make({"sampler": sampler}, tracers).sampler is sampler


def test_propagation_b3_and_header_names(tracers: list[Tracer]) -> None:
    """propagation: b3 switches formats; custom Jaeger header names are honoured."""
    b3 = make({"propagation": "b3", "sampler": {"type": "const", "param": 1}}, tracers)
    headers: dict[str, str] = {}
    b3.inject(b3.start_span("x").context, Format.HTTP_HEADERS, headers)
    assert "x-b3-traceid" in headers and "uber-trace-id" not in headers

    custom = make(
        {"trace_id_header": "x-trace", "baggage_header_prefix": "x-bag-"},
        tracers,
    )
    span = custom.start_span("y").set_baggage_item("k", "v")
    headers = {}
    custom.inject(span.context, Format.HTTP_HEADERS, headers)
    assert set(headers) == {"x-trace", "x-bag-k"}
    assert custom.extract(Format.HTTP_HEADERS, headers).span_id == span.context.span_id  # type: ignore[union-attr]


def test_128bit_tags_and_lengths(tracers: list[Tracer]) -> None:
    """generate_128bit_trace_id, tags, max_tag_value_length, max_traceback_length."""
    tracer = make(
        {
            "generate_128bit_trace_id": True,
            "max_tag_value_length": 5,
            "max_traceback_length": 50,
            "sampler": {"type": "const", "param": 1},
        },
        tracers,
    )
    assert tracer._trace_id_bits == 128
    span = tracer.start_span("op").set_tag("long", "abcdefgh")
    assert span.tags["long"] == "abcde"
    try:
        with span:
            raise ValueError("boom")
    except ValueError:
        pass
    stack = span.logs[-1].fields["stack"]
    assert len(stack) == 50 and stack.rstrip().endswith("ValueError: boom")


def test_max_logs_per_span_as_max_tag_value_length_is(tracers: list[Tracer]) -> None:
    """max_logs_per_span (jaeger_lite's own key, the Tracer keyword's) bounds a span's
    logs, validated as the length keys are; left out (or null), the Tracer's default."""
    tracer = make({"max_logs_per_span": 2, "sampler": {"type": "const", "param": 1}}, tracers)
    span = tracer.start_span("op")
    for n in range(5):
        span.log_kv({"n": n})
    assert [log.fields["n"] for log in span.logs] == [0, 1]
    assert tracer.metrics["span_logs_dropped"] == 3
    assert Config({"max_logs_per_span": None}, service_name="app").tracer_settings == {}
    for bad in (0, "many"):
        with pytest.raises(ConfigError, match=f"max_logs_per_span={bad!r}"):
            Config({"max_logs_per_span": bad}, service_name="app")
    Config({"max_logs_per_span": 10}, service_name="app", validate=True)  # a known key


def test_enabled_false_and_local_agent_disabled(tracers: list[Tracer]) -> None:
    """enabled: false gives a no-op tracer; local_agent.enabled: false sends nothing."""
    disabled = make({"enabled": False}, tracers)
    assert disabled.sampler == ConstSampler(False)
    no_agent = make({"local_agent": {"enabled": False}}, tracers)
    assert isinstance(no_agent.reporter, NullReporter)


def test_unknown_keys(caplog: pytest.LogCaptureFixture, tracers: list[Tracer]) -> None:
    """validate=True rejects unknown keys by name; validate=False warns and goes on."""
    with pytest.raises(ConfigError, match="reporting_hots"):
        Config({"local_agent": {"reporting_hots": "x"}}, service_name="app", validate=True)
    with pytest.raises(ConfigError, match="sampler_type"):
        Config({"sampler_type": "const"}, service_name="app", validate=True)
    with caplog.at_level(logging.WARNING, logger="jaeger_lite"):
        make({"colour": "blue"}, tracers, validate=False)
    assert any("'colour'" in r.getMessage() for r in caplog.records)


def test_validation_is_off_unless_asked_as_in_jaeger_client(
    caplog: pytest.LogCaptureFixture, tracers: list[Tracer]
) -> None:
    """A dictionary with an unknown key that jaeger-client starts with (its ``validate``
    defaults to False) starts here too, with a warning naming the key."""
    config = {"sampler": {"type": "const", "param": 1}, "sampler_type": "const", "logging": False}
    theirs = jaeger_client.Config(config=dict(config), service_name="app")
    assert theirs.sampler.decision is True  # jaeger-client took it
    with caplog.at_level(logging.WARNING, logger="jaeger_lite"):
        tracer = Config(config, service_name="app").new_tracer()
    tracers.append(tracer)
    assert tracer.sampler == ConstSampler(True)
    assert any("'sampler_type'" in r.getMessage() for r in caplog.records)


def test_yaml_nulls_mean_not_set(tracers: list[Tracer]) -> None:
    """Keys left empty in a YAML file (None) fall back to their defaults, as jaeger-client
    treats them, instead of being rejected."""
    config = {
        "tags": None,
        "logging": None,
        "propagation": None,
        "reporter_queue_size": None,
        "reporter_flush_interval": None,
        "generate_128bit_trace_id": None,
        "max_tag_value_length": None,
        "trace_id_header": None,
        "local_agent": {"reporting_host": None, "reporting_port": None, "sampling_port": None},
        "sampler": {"type": "const", "param": None},
    }
    loaded = Config(config, service_name="app")
    defaults = Config({"sampler": {"type": "const"}}, service_name="app")
    assert loaded.options == defaults.options
    assert loaded.tracer_settings == defaults.tracer_settings
    make({"sampler": None, "local_agent": None, "tags": None}, tracers)
    with pytest.raises(ConfigError, match="colour"):  # an unknown key is still one
        Config({"colour": None}, service_name="app", validate=True)


@pytest.mark.parametrize(
    ("value", "seconds"), [(2, 2.0), (0.5, 0.5), ("0.5", 0.5), ("10", 10.0), ("250ms", 0.25)]
)
def test_intervals_in_seconds_as_jaeger_client_reads_them(value: Any, seconds: float) -> None:
    """reporter_flush_interval and sampling_refresh_interval are seconds in jaeger-client's
    dict, numbers or numeric strings (a config file run through envsubst); Go durations
    work too."""
    config = Config(
        {"reporter_flush_interval": value, "sampling_refresh_interval": value},
        service_name="app",
    )
    assert config.options.reporter_flush_interval == seconds
    assert config.options.sampler_refresh_interval == seconds


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"sampler": {"type": "sometimes"}}, "sampler.type='sometimes'"),
        ({"sampler": {"type": "probabilistic", "param": "lots"}}, "sampler.param='lots'"),
        ({"sampler": {"type": "probabilistic", "param": 2}}, "sampler.param=2"),
        ({"sampler": {"type": "const", "param": 5}}, "sampler.param=5"),
        ({"local_agent": {"reporting_port": "x"}}, "local_agent.reporting_port='x'"),
        ({"reporter_queue_size": 0}, "reporter_queue_size=0"),
        ({"reporter_flush_interval": "often"}, "reporter_flush_interval='often'"),
        ({"logging": "maybe"}, "logging='maybe'"),
        ({"propagation": "zipkin"}, "propagation='zipkin'"),
        ({"trace_id_header": ""}, "trace_id_header=''"),
        ("not a dict", "config must be a dict"),
    ],
)
def test_bad_values_name_the_key_and_value(config: Any, message: str) -> None:
    """Every bad value is an error naming its key path and the value."""
    with pytest.raises(ConfigError) as error:
        Config(config, service_name="app")
    assert message in str(error.value)


def test_service_name_from_config_or_argument() -> None:
    """config['service_name'] wins over the argument; one of them is required."""
    assert Config({"service_name": "from-config"}, service_name="arg").service_name == "from-config"
    with pytest.raises(ConfigError, match="service_name"):
        Config({})


def test_initialize_tracer_once(tracers: list[Tracer], caplog: pytest.LogCaptureFixture) -> None:
    """The first initialize_tracer() sets the global tracer; later ones warn, return None."""
    first = Config({"sampler": {"type": "const", "param": 1}}, service_name="app")
    tracer = first.initialize_tracer()
    assert tracer is not None
    tracers.append(tracer)
    assert jaeger_lite.global_tracer() is tracer
    assert Config.initialized()
    with caplog.at_level(logging.WARNING, logger="jaeger_lite"):
        assert Config({}, service_name="other").initialize_tracer() is None
    assert any("already initialized" in r.getMessage() for r in caplog.records)


def test_environment_fills_what_the_dict_leaves_out(
    monkeypatch: pytest.MonkeyPatch, jaeger_env: UDPAgent, tracers: list[Tracer]
) -> None:
    """JAEGER_AGENT_HOST/PORT and JAEGER_TAGS apply unless the dict sets them."""
    monkeypatch.setenv("JAEGER_AGENT_HOST", "localhost")  # the dict's host wins
    monkeypatch.setenv("JAEGER_TAGS", "zone=a")
    tracer = make({"local_agent": {"reporting_host": "127.0.0.1"}}, tracers)
    sender = tracer.reporter._sender  # type: ignore[attr-defined]
    assert (sender.host, sender.port) == ("127.0.0.1", jaeger_env.port)
    assert tracer.tags["zone"] == "a"


def test_jaeger_tags_merge_into_the_dict_tags(
    monkeypatch: pytest.MonkeyPatch, tracers: list[Tracer]
) -> None:
    """As in jaeger-client, JAEGER_TAGS adds to the dict's tags and wins per key."""
    monkeypatch.setenv("JAEGER_TAGS", "zone=b,extra=1")
    tracer = make({"tags": {"zone": "a", "team": "x"}}, tracers)
    assert dict(tracer.tags) == {"zone": "b", "team": "x", "extra": "1"}

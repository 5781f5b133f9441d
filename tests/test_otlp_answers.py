"""OTLPSender against answers a real peer may give that the OTLP spec leaves to HTTP:
interim 1xx answers before the final one, a 2xx whose body is not a well-formed
ExportTraceServiceResponse, and the headers a user adds (real sockets on 127.0.0.1)."""

from __future__ import annotations

import logging
import os
import ssl
from collections.abc import Iterator

import pytest

import jaeger_lite
from jaeger_lite import ConfigError, ConstSampler, OTLPSender, RemoteReporter, Tracer
from jaeger_lite.config.otlp_env import read_otlp

from ._otlp_collector import Answer, OTLPCollector, partial_success
from ._wire_helpers import accounted


def run(sender: OTLPSender, spans: int = 5) -> dict[str, int]:
    """Report ``spans`` spans one export at a time, close, check the accounting identity."""
    tracer = Tracer("svc", RemoteReporter(sender, flush_interval=60), ConstSampler(True))
    for i in range(spans):
        tracer.start_span(f"op{i}").finish()
        tracer.reporter.flush(10)  # type: ignore[attr-defined]
    tracer.close(30)
    metrics = tracer.metrics
    assert accounted(metrics) == metrics["spans_sampled"] == spans, metrics
    return metrics


@pytest.fixture
def collector() -> Iterator[OTLPCollector]:
    server = OTLPCollector()
    yield server
    server.stop()


EARLY_HINTS = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
PROCESSING = b"HTTP/1.1 102 Processing\r\n\r\n"


def test_interim_1xx_answers_are_read_past_to_the_final_one() -> None:
    """RFC 9110 15.2: a client reads past any 1xx to the final answer. The export behind a
    102 and a 103 is accepted (its partial success counted), and the next export on the same
    connection gets its own answer, not one left over."""
    rejected_two = partial_success(2, "bad span")
    rejected_two.interim = PROCESSING + EARLY_HINTS
    answers = [Answer(interim=EARLY_HINTS), rejected_two, Answer(400), Answer()]
    with OTLPCollector(*answers) as collector:
        metrics = run(OTLPSender(collector.url, timeout=5), spans=4)
        assert len(collector.received) == 4
        assert len(collector.client_ports) == 1  # one kept-alive connection throughout
        assert len(collector.spans()) == 4
    assert metrics["spans_sent"] == 1 + 0 + 0 + 1
    assert (metrics["spans_rejected"], metrics["spans_dropped_send_failed"]) == (2, 2)
    assert (metrics["send_errors"], metrics["send_retries"]) == (1, 0)


@pytest.mark.parametrize(
    "body",
    [
        b'{"partialSuccess": {"rejectedSpans": Infinity}}',
        b'{"partialSuccess": {"rejectedSpans": [1]}}',
        b'{"partialSuccess": {"rejectedSpans": true}}',
        b'{"partialSuccess": {"rejectedSpans": 1.5}}',
        b"[" * 100_000,
        b"\xff\xfe not json",
    ],
)
def test_a_2xx_with_a_body_we_cannot_read_is_a_success(
    body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """The collector took the spans: counted sent, no exception out of send() (which the
    reporter would count as a failed send of spans that arrived)."""
    answer = Answer(200, {"Content-Type": "application/json"}, body)
    with OTLPCollector(default=answer) as collector, caplog.at_level(logging.DEBUG):
        metrics = run(OTLPSender(collector.url, protocol="http/json", timeout=5), spans=2)
        assert len(collector.spans()) == 2
    assert (metrics["spans_sent"], metrics["spans_dropped_send_failed"]) == (2, 0)
    assert metrics["send_errors"] == 0
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_rejected_spans_as_a_json_string_or_integral_number() -> None:
    """int64 in protobuf's JSON mapping: a decimal string or a number."""
    for value in (b'"2"', b"2", b"2.0"):
        body = b'{"partialSuccess": {"rejectedSpans": %s, "errorMessage": "x"}}' % value
        answer = Answer(200, {"Content-Type": "application/json"}, body)
        with OTLPCollector(answer) as collector:
            metrics = run(OTLPSender(collector.url, protocol="http/json", timeout=5), spans=1)
        assert (metrics["spans_sent"], metrics["spans_rejected"]) == (0, 1), value


def test_custom_headers_replace_ours_whatever_their_case(collector: OTLPCollector) -> None:
    """One field per header name: a custom User-Agent or Authorization replaces ours (in any
    case) rather than going out as a second field; Content-Type and Content-Encoding follow
    the body."""
    sender = OTLPSender(
        collector.url.replace("://", "://user:pw@"),
        compression="gzip",
        headers={
            "user-agent": "my-app/2",
            "AUTHORIZATION": "Bearer t",
            "content-type": "text/plain",
            "Content-Encoding": "br",
            "x-tenant": "acme",
        },
    )
    run(sender, spans=1)
    (request,) = collector.received
    fields = [name.lower() for name in request.headers]
    assert len(fields) == len(set(fields)), request.headers.items()
    assert request.headers["User-Agent"] == "my-app/2"
    assert request.headers["Authorization"] == "Bearer t"
    assert request.headers["Content-Type"] == "application/x-protobuf"
    assert request.headers["Content-Encoding"] == "gzip"
    assert request.headers["x-tenant"] == "acme"
    assert [span.name for span in collector.spans()] == ["op0"]


@pytest.mark.parametrize(
    "headers",
    [{"x-key": "a\r\nInjected: 1"}, {"x-key": "nul\0"}, {"bad name": "v"}, {"": "v"},
     {"x:y": "v"}, {"tenant": "\u6771\u4eac\n"}],
)  # fmt: skip
def test_headers_http_cannot_send_are_refused_up_front(headers: dict[str, str]) -> None:
    """Else every export fails in http.client and is retried until its deadline."""
    with pytest.raises(ValueError, match="header"):
        OTLPSender("http://127.0.0.1:4318/v1/traces", headers=headers)


def test_otel_exporter_otlp_headers_that_cannot_be_sent_are_a_config_error() -> None:
    """Percent-encoding lets OTEL_EXPORTER_OTLP_HEADERS carry a line break; that is named
    as a bad variable, as any other bad value."""
    for text in ("api-key=s3cret%0D%0AInjected: 1", "api-key=s3cret%00", "api-key=s3cret,x"):
        with pytest.raises(ConfigError, match="OTEL_EXPORTER_OTLP_HEADERS") as error:
            read_otlp({"OTEL_EXPORTER_OTLP_HEADERS": text})
        assert "s3cret" not in str(error.value)  # the API key is never in the message
    values, _ = read_otlp({"OTEL_EXPORTER_OTLP_HEADERS": "api-key=a%20b%3Dc,x=%C3%A9"})
    assert values["otlp_headers"] == {"api-key": "a b=c", "x": "é"}


def test_header_values_go_out_as_utf8(collector: OTLPCollector) -> None:
    """A percent-encoded value stands for UTF-8 bytes (W3C Baggage's encoding, which the
    spec gives OTEL_EXPORTER_OTLP_HEADERS), and those bytes go out, as Go's SDK sends
    them and the Collector (Go) reads them; http.client alone refused anything beyond
    Latin-1 at every export and sent é as the single byte 0xE9."""
    values, _ = read_otlp(
        {
            "OTEL_EXPORTER_OTLP_HEADERS": "tenant=%E6%9D%B1%E4%BA%AC,city=Z%C3%BCrich",
        }
    )
    run(OTLPSender(collector.url, headers=values["otlp_headers"]), spans=1)
    (request,) = collector.received
    # http.server reads header bytes as Latin-1: back to bytes, then UTF-8
    raw = {k: request.headers[k].encode("latin-1") for k in ("tenant", "city")}
    assert raw == {"tenant": "東京".encode(), "city": "Zürich".encode()}


@pytest.fixture
def mtls_collector(certificate: tuple[str, str]) -> Iterator[OTLPCollector]:
    """A collector that requires a client certificate signed by its CA (the test's
    self-signed certificate serves as CA, server and client certificate)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(certificate[0])
    server = OTLPCollector(tls=context)
    yield server
    server.stop()


def test_client_certificate_from_the_otel_variables(
    mtls_collector: OTLPCollector, certificate: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and _CLIENT_KEY (the spec's mTLS variables)
    present a client certificate; without them the collector refuses the handshake and the
    spans are counted as failed."""
    for name in [n for n in os.environ if n.startswith(("JAEGER_", "OTEL_"))]:
        monkeypatch.delenv(name)
    cert, key = certificate
    env = {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_TRACES_SAMPLER": "always_on",
        "OTEL_SERVICE_NAME": "svc",
        "OTEL_EXPORTER_OTLP_ENDPOINT": mtls_collector.base_url,
        "OTEL_EXPORTER_OTLP_CERTIFICATE": cert,
        "OTEL_EXPORTER_OTLP_TIMEOUT": "1000",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for client_cert, sent in ((None, 0), (cert, 1)):
        if client_cert:
            monkeypatch.setenv("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", client_cert)
            monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", key)
        tracer = jaeger_lite.init_tracer(set_global=False)
        tracer.start_span("op").finish()
        tracer.close(10)
        metrics = tracer.metrics
        assert accounted(metrics) == metrics["spans_sampled"] == 1, metrics
        assert (metrics["spans_sent"], metrics["spans_dropped_send_failed"]) == (sent, 1 - sent)
    assert [span.name for span in mtls_collector.spans()] == ["op"]


def test_client_certificate_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_CLIENT_KEY", "key.pem")
    with pytest.raises(ConfigError, match="OTEL_EXPORTER_OTLP_CLIENT_KEY"):
        jaeger_lite.init_tracer("svc", exporter="otlp", set_global=False)
    with pytest.raises(ValueError, match="client_certificate_file"):
        OTLPSender("https://127.0.0.1:4318/v1/traces", client_key_file="key.pem")
    with pytest.raises(ValueError, match="not both"):
        OTLPSender(
            "https://127.0.0.1:4318/v1/traces",
            client_certificate_file="cert.pem",
            ssl_context=ssl.create_default_context(),
        )


def test_a_413_sends_each_half_on_its_own(collector: OTLPCollector) -> None:
    """A proxy in front of the collector refuses bodies over its limit (nginx's default is
    1 MiB, and a full request is 1 MiB of spans plus the resource): the spans go again in
    halves until they fit, none lost. A span alone over the limit is counted as failed."""
    collector.max_body = 64 << 10
    sender = OTLPSender(collector.url, timeout=10)
    reporter = RemoteReporter(sender, flush_interval=60)
    tracer = Tracer("svc", reporter, ConstSampler(True), max_tag_value_length=200_000)
    for i in range(400):
        span = tracer.start_span(f"op{i}")
        span.set_tag("payload", "x" * 500)
        span.finish()
    huge = tracer.start_span("huge")
    huge.set_tag("payload", "y" * (100 << 10))
    huge.finish()
    tracer.close(30)
    metrics = tracer.metrics
    assert accounted(metrics) == metrics["spans_sampled"] == 401, metrics
    assert (metrics["spans_sent"], metrics["spans_dropped_send_failed"]) == (400, 1)
    assert metrics["send_errors"] == 1
    assert collector.too_large >= 2
    assert all(len(request.raw) <= 64 << 10 for request in collector.received)
    names = sorted(span.name for span in collector.spans())
    assert names == sorted(f"op{i}" for i in range(400))


HOSTILE = "bad span\n2024-01-01 ERROR forged line \x1b[31mred\x1b[0m \u202eevil\x00" + "x" * 100_000


@pytest.mark.parametrize("json_body", [False, True])
def test_a_partial_success_message_is_logged_once_bounded_and_printable(
    json_body: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """OTLP: a partial success is not retried and its error_message may be logged: one
    rate-limited warning with the rejected count, the message cut and its control
    characters escaped (a collector cannot forge log lines or flood the log)."""
    answer = partial_success(1, HOSTILE, json_body=json_body)
    protocol = "http/json" if json_body else "http/protobuf"
    with OTLPCollector(default=answer) as collector, caplog.at_level(logging.WARNING):
        metrics = run(OTLPSender(collector.url, protocol=protocol, timeout=5), spans=3)
        assert len(collector.received) == 3  # each export once: none retried
    assert (metrics["spans_sent"], metrics["spans_rejected"]) == (0, 3)  # a span an export
    (record,) = [r for r in caplog.records if "partial success" in r.getMessage()]
    line = record.getMessage()
    assert record.levelno == logging.WARNING
    assert "rejected 1 of 1 spans" in line
    assert "bad span\\n2024-01-01 ERROR forged line \\x1b[31mred" in line
    assert "\\u202eevil\\x00" in line and f"({len(HOSTILE) - 200} more characters)" in line
    assert line.isprintable() and len(line) < 1000


@pytest.mark.parametrize("json_body", [False, True])
def test_a_partial_success_with_nothing_rejected_is_a_warning(
    json_body: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """rejected_spans 0 with a message: the collector took every span and warns."""
    answer = partial_success(0, "attribute values truncated", json_body=json_body)
    protocol = "http/json" if json_body else "http/protobuf"
    with OTLPCollector(default=answer) as collector, caplog.at_level(logging.WARNING):
        metrics = run(OTLPSender(collector.url, protocol=protocol, timeout=5), spans=1)
        assert len(collector.received) == 1
    assert (metrics["spans_sent"], metrics["spans_rejected"]) == (1, 0)
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert [m for m in messages if "rejected 0 of 1 spans" in m] == [
        f"{collector.url} rejected 0 of 1 spans (partial success): attribute values truncated"
    ]

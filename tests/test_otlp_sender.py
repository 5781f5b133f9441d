"""OTLPSender against a stand-in collector on 127.0.0.1 (real sockets): every answer the
OTLP/HTTP spec names has its outcome, nothing raises, and every sampled span is sent or
counted (the accounting identity) whatever the collector does."""

from __future__ import annotations

import email.utils
import ssl
import time
from collections.abc import Iterator
from typing import Any

import pytest

from jaeger_lite import ConstSampler, OTLPSender, RemoteReporter, Tracer, init_tracer

from ._bad_servers import free_port
from ._otlp_collector import Answer, OTLPCollector, partial_success
from ._wire_helpers import accounted, expected_user_agent

SLACK = 1.0  # scheduling on a shared machine


def run(sender: OTLPSender, spans: int = 5, close: float = 30.0) -> dict[str, int]:
    """Report ``spans`` spans through a RemoteReporter, close, return the metrics after
    checking the identity: finished sampled = sent + counted drops."""
    tracer = Tracer("svc", RemoteReporter(sender), ConstSampler(True))
    for i in range(spans):
        tracer.start_span(f"op{i}").finish()
    tracer.close(close)
    metrics = tracer.metrics
    assert accounted(metrics) == metrics["spans_sampled"] == spans, metrics
    assert metrics["queue_length"] == 0
    return metrics


@pytest.fixture
def collector() -> Iterator[OTLPCollector]:
    server = OTLPCollector()
    yield server
    server.stop()


@pytest.mark.parametrize("protocol", ["http/protobuf", "http/json"])
@pytest.mark.parametrize("compression", [None, "gzip"])
def test_accepted_export(collector: OTLPCollector, protocol: str, compression: Any) -> None:
    """200: POST /v1/traces with the right content type (and encoding), custom headers;
    every span arrives and counts as sent."""
    sender = OTLPSender(
        collector.url, protocol=protocol, compression=compression,
        headers={"x-api-key": "k-123", "tenant": "acme"},
    )  # fmt: skip
    metrics = run(sender, 5)
    assert (metrics["spans_sent"], metrics["batches_sent"], metrics["send_errors"]) == (5, 1, 0)
    (request,) = collector.received
    assert request.path == "/v1/traces"
    content_type = "application/json" if protocol == "http/json" else "application/x-protobuf"
    assert request.headers["Content-Type"] == content_type
    assert request.headers.get("Content-Encoding") == compression
    assert (request.headers["x-api-key"], request.headers["tenant"]) == ("k-123", "acme")
    assert request.headers["User-Agent"] == expected_user_agent()
    assert sorted(span.name for span in collector.spans()) == [f"op{i}" for i in range(5)]
    assert metrics["bytes_sent"] == len(request.raw)


def test_400_is_counted_as_rejected_and_never_retried() -> None:
    with OTLPCollector(default=Answer(400, {"Content-Type": "text/plain"}, b"bad data")) as c:
        metrics = run(OTLPSender(c.url), 4)
        assert len(c.received) == 1
    assert metrics["spans_rejected"] == metrics["spans_dropped_send_failed"] == 4
    assert (metrics["spans_sent"], metrics["send_retries"], metrics["send_errors"]) == (0, 0, 1)


@pytest.mark.parametrize("json_answer", [False, True])
def test_partial_success_counts_the_rejected_spans(json_answer: bool) -> None:
    with OTLPCollector(partial_success(2, "2 spans too old", json_answer)) as c:
        metrics = run(OTLPSender(c.url), 5)
    assert (metrics["spans_sent"], metrics["spans_rejected"]) == (3, 2)
    assert metrics["spans_dropped_send_failed"] == 2


def test_429_waits_for_retry_after_then_retries() -> None:
    with OTLPCollector(Answer(429, {"Retry-After": "1"})) as c:
        start = time.monotonic()
        metrics = run(OTLPSender(c.url, timeout=5), 3)
        assert len(c.received) == 2
    assert time.monotonic() - start >= 0.9
    assert (metrics["spans_sent"], metrics["send_retries"], metrics["send_errors"]) == (3, 1, 0)


def test_retry_after_as_an_http_date() -> None:
    when = email.utils.formatdate(time.time() + 1, usegmt=True)
    with OTLPCollector(Answer(503, {"Retry-After": when})) as c:
        metrics = run(OTLPSender(c.url, timeout=5), 2)
        assert len(c.received) == 2
    assert metrics["spans_sent"] == 2


@pytest.mark.parametrize("status", [502, 503, 504])
def test_retryable_answers_are_retried_with_backoff(status: int) -> None:
    with OTLPCollector(Answer(status), Answer(status)) as c:
        metrics = run(OTLPSender(c.url, timeout=10), 3)
        assert len(c.received) == 3
    assert (metrics["spans_sent"], metrics["send_retries"]) == (3, 2)


@pytest.mark.parametrize("status", [401, 403, 404, 413, 500])
def test_other_errors_are_final(status: int) -> None:
    with OTLPCollector(default=Answer(status)) as c:
        metrics = run(OTLPSender(c.url), 3)
        # A 413 goes again in halves (test_otlp_answers.py): [3] -> [1], [2] -> [1], [1].
        assert len(c.received) == (5 if status == 413 else 1)
    assert (metrics["spans_dropped_send_failed"], metrics["spans_rejected"]) == (3, 0)


def test_retries_stop_at_the_export_deadline_and_later_exports_fail_at_once() -> None:
    """503 for ever: the export gives up within its timeout; the next one, right after,
    fails without a request (the collector is away), counted."""
    with OTLPCollector(default=Answer(503)) as c:
        sender = OTLPSender(c.url, timeout=1.5)
        sender.set_process("svc", {})
        start = time.monotonic()
        sender.send([b"\x12\x00"])  # one empty Span
        assert time.monotonic() - start < 1.5 + SLACK
        tried = len(c.received)
        assert tried >= 2
        sender.send([b"\x12\x00", b"\x12\x00"])
        assert len(c.received) == tried
    metrics = sender.metrics()
    assert (metrics["spans_dropped_send_failed"], metrics["send_errors"]) == (3, 1)


@pytest.mark.parametrize("value", ["\xb2", "\xb9\xb3", "1e9", "-5", "soon", ""])
def test_a_retry_after_that_is_not_seconds_or_a_date_means_back_off(value: str) -> None:
    """Header bytes are Latin-1: 0xB2 is "²", a digit to str.isdigit() that float()
    refuses. Such a value made send() raise ValueError (a "sender failed" traceback, no
    send_errors, no back-off); now, as any unreadable value, it means the usual back-off."""
    with OTLPCollector(Answer(503, {"Retry-After": value})) as c:
        metrics = run(OTLPSender(c.url, timeout=5), 2)
        assert len(c.received) == 2
    assert (metrics["spans_sent"], metrics["send_retries"], metrics["send_errors"]) == (2, 1, 0)


def test_retry_after_beyond_the_deadline_gives_up_at_once() -> None:
    with OTLPCollector(default=Answer(429, {"Retry-After": "120"})) as c:
        sender = OTLPSender(c.url, timeout=2)
        start = time.monotonic()
        metrics = run(sender, 3)
        assert time.monotonic() - start < SLACK
        assert len(c.received) == 1
    assert metrics["spans_dropped_send_failed"] == 3


def test_slow_answer_within_the_deadline_is_a_success() -> None:
    with OTLPCollector(Answer(200, action="trickle", interval=0.02)) as c:
        metrics = run(OTLPSender(c.url, timeout=10), 2)
    assert metrics["spans_sent"] == 2


@pytest.mark.parametrize("action", ["trickle", "stall"])
def test_trickling_or_stalled_collector_costs_one_timeout(action: str) -> None:
    """close() returns within about the export timeout; the spans count as failed."""
    with OTLPCollector(default=Answer(200, action=action, interval=0.3)) as c:
        start = time.monotonic()
        metrics = run(OTLPSender(c.url, timeout=1.5), 4)
        assert time.monotonic() - start < 1.5 + SLACK
    assert (metrics["spans_dropped_send_failed"], metrics["spans_sent"]) == (4, 0)


def test_connection_dropped_mid_request_is_retried_on_a_new_one() -> None:
    with OTLPCollector(Answer(action="hang_up")) as c:
        metrics = run(OTLPSender(c.url, timeout=5), 3)
        assert len(c.received) == 1
    assert (metrics["spans_sent"], metrics["send_retries"]) == (3, 1)


def test_dead_collector_costs_one_timeout() -> None:
    """Nothing listens: close() takes about the export timeout (not one per batch)."""
    sender = OTLPSender(f"http://127.0.0.1:{free_port()}/v1/traces", timeout=1.5, batch_bytes=200)
    start = time.monotonic()
    metrics = run(sender, 20)
    assert time.monotonic() - start < 1.5 + SLACK
    assert metrics["spans_dropped_send_failed"] == 20
    assert metrics["send_errors"] == 1


def test_large_queues_go_as_several_bounded_requests(collector: OTLPCollector) -> None:
    sender = OTLPSender(collector.url, batch_bytes=4000)
    metrics = run(sender, 500)
    assert metrics["spans_sent"] == 500
    assert len(collector.received) == metrics["batches_sent"] > 5
    assert all(len(r.body) < 4000 + 400 for r in collector.received)  # + the envelope
    assert len(collector.spans()) == 500


def test_a_burst_of_50000_spans_is_delivered_with_defaults(collector: OTLPCollector) -> None:
    tracer = Tracer("burst", RemoteReporter(OTLPSender(collector.url)), ConstSampler(True))
    with tracer.start_active_span("root"):
        for _ in range(50_000):
            with tracer.start_active_span("GET /users/{id}") as scope:
                scope.span.set_tag("component", "bench").set_tag("http.status_code", 200)
                scope.span.log_kv({"event": "cache-miss", "key": "user:42"})
    tracer.close(60)
    metrics = tracer.metrics
    assert metrics["spans_sent"] == 50_001, metrics
    assert len(collector.spans()) == 50_001


def test_credentials_are_never_in_repr_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    url = f"http://ann:pw-in-url@127.0.0.1:{free_port()}/v1/traces"
    sender = OTLPSender(url, headers={"Authorization": "Bearer tok-secret"}, timeout=0.5)
    run(sender, 1)
    text = repr(sender) + caplog.text
    assert "failed" in caplog.text
    for secret in ("tok-secret", "pw-in-url", "ann"):
        assert secret not in text


def test_bad_arguments_are_refused() -> None:
    for kwargs in ({"protocol": "grpc"}, {"compression": "zstd"}, {"timeout": 0}):
        with pytest.raises(ValueError):
            OTLPSender("http://localhost:4318/v1/traces", **kwargs)
    with pytest.raises(ValueError, match="http"):
        OTLPSender("localhost:4318")


@pytest.fixture
def tls_collector(certificate: tuple[str, str]) -> Iterator[OTLPCollector]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server = OTLPCollector(tls=context)
    yield server
    server.stop()


def test_https_with_a_certificate_file(
    tls_collector: OTLPCollector, certificate: tuple[str, str]
) -> None:
    metrics = run(OTLPSender(tls_collector.url, certificate_file=certificate[0]), 2)
    assert metrics["spans_sent"] == 2


@pytest.mark.parametrize(
    "option", ["certificate_file", "client_certificate_file", "client_key_file"]
)
def test_a_certificate_file_that_is_not_there_is_refused_at_once(
    tmp_path: Any, certificate: tuple[str, str], option: str
) -> None:
    """A missing PEM file is told when the sender is made, naming the argument, rather
    than failing every export later as if the collector were down."""
    given = {"client_certificate_file": certificate[0], option: str(tmp_path / "gone.pem")}
    with pytest.raises(ValueError, match=f"{option} .*gone.pem.* is not a file"):
        OTLPSender("https://127.0.0.1:9/v1/traces", **given)
    options = {f"otlp_{name.removesuffix('_file')}": path for name, path in given.items()}
    with pytest.raises(ValueError, match="gone.pem"):  # init_tracer: the same, at start
        init_tracer(
            "svc",
            set_global=False,
            exporter="otlp",
            otlp_endpoint="https://127.0.0.1:9/v1/traces",
            **options,
        )


def test_https_without_trust_fails_counted(tls_collector: OTLPCollector) -> None:
    metrics = run(OTLPSender(tls_collector.url, timeout=1), 2)
    assert metrics["spans_dropped_send_failed"] == 2


def test_a_forked_child_starts_over(collector: OTLPCollector) -> None:
    """after_fork: the parent's counters are not the child's, and the child names itself
    with a new service.instance.id."""
    sender = OTLPSender(collector.url)
    run(sender, 2)
    resource = sender.resource_bytes()
    sender.after_fork()
    assert sender.metrics()["spans_sent"] == 0
    assert sender.resource_bytes() != resource
    run(sender, 1)
    assert len(collector.spans()) == 3

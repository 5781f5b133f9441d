"""UDP and HTTP senders against real sockets on the loopback interface."""

from __future__ import annotations

import base64
import os
import select
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from jaeger_lite import HTTPSender, InMemoryReporter, RemoteReporter, Sender, Tracer, UDPSender
from jaeger_lite._encoding.thrift_batch import EMIT_BATCH_OVERHEAD
from jaeger_lite.span import Span
from tests._wire_helpers import (
    Collector,
    UDPAgent,
    decode_binary_batch,
    expected_user_agent,
    free_udp_port,
    tag_dict,
)


def make_spans(count: int, payload: int = 0, name: str = "op") -> list[Span]:
    tracer = Tracer("svc", InMemoryReporter(), max_tag_value_length=1 << 20)
    spans = []
    for i in range(count):
        span = tracer.start_span(f"{name}{i}")
        if payload:
            span.set_tag("payload", "x" * payload)
        span.finish()
        spans.append(span)
    return spans


@pytest.fixture
def agent() -> Iterator[UDPAgent]:
    agent = UDPAgent()
    yield agent
    agent.close()


def udp_sender(port: int, **options: Any) -> UDPSender:
    sender = UDPSender("127.0.0.1", port, **options)
    sender.set_process("svc", {"team": "core"})
    return sender


def test_udp_sender_is_a_sender() -> None:
    """UDPSender and HTTPSender satisfy the Sender protocol."""
    assert isinstance(UDPSender(), Sender)
    assert isinstance(HTTPSender("http://127.0.0.1:1/api/traces"), Sender)


def test_udp_delivers_spans_with_process(agent: UDPAgent) -> None:
    """Spans and the Process (service, default and tracer tags) reach the agent."""
    sender = udp_sender(agent.port)
    sender.send([sender.encode(span) for span in make_spans(3)])
    spans = agent.wait_for_spans(3)
    assert [s.operationName for s in spans] == ["op0", "op1", "op2"]
    process = agent.batches()[0].process
    assert process.serviceName == "svc"
    tags = tag_dict(process.tags)
    assert tags["team"] == "core"
    assert {"jaeger.version", "hostname", "ip", "client-uuid"} <= tags.keys()
    assert sender.metrics()["spans_sent"] == 3


def test_seq_no_counts_from_one_and_stats_are_cumulative(agent: UDPAgent) -> None:
    """seqNo is 1, 2, 3...; every batch carries the running ClientStats."""
    sender = udp_sender(agent.port, max_packet_size=2000)
    dropped = [5]
    sender.set_queue_dropped(lambda: dropped[0])
    sender.send([sender.encode(make_spans(1, payload=3000)[0])])  # too large: counted
    sender.send([sender.encode(s) for s in make_spans(1)])
    dropped[0] = 9
    sender.send([sender.encode(s) for s in make_spans(1)])
    agent.wait_for_datagrams(2)
    batches = agent.batches()
    assert [b.seqNo for b in batches] == [1, 2]
    assert [(b.stats.fullQueueDroppedSpans, b.stats.tooLargeDroppedSpans) for b in batches] == [
        (5, 1),
        (9, 1),
    ]


def test_packet_budget_never_exceeds_the_limit(agent: UDPAgent) -> None:
    """Many small spans, a few huge ones and one too big: all but that one delivered."""
    limit = 9216
    sender = udp_sender(agent.port, max_packet_size=limit)
    small = make_spans(300, name="small")
    huge = make_spans(3, payload=limit - 1200, name="huge")
    too_big = make_spans(1, payload=limit, name="toobig")
    mixed = small[:100] + huge[:1] + small[100:200] + too_big + huge[1:] + small[200:]
    sender.send([sender.encode(span) for span in mixed])
    spans = agent.wait_for_spans(len(mixed) - 1)
    assert len(spans) == len(mixed) - 1
    assert "toobig0" not in {s.operationName for s in spans}
    assert max(len(d) for d in agent.datagrams) <= limit
    assert len(agent.datagrams) < 30  # packed, not one datagram per span
    metrics = sender.metrics()
    assert metrics["spans_dropped_too_large"] == 1
    assert metrics["spans_sent"] == len(mixed) - 1


def test_batch_bytes_leaves_room_for_envelope_and_process(agent: UDPAgent) -> None:
    """batch_bytes = max_packet_size - envelope - encoded Process."""
    sender = udp_sender(agent.port, max_packet_size=4000)
    assert sender.batch_bytes == 4000 - EMIT_BATCH_OVERHEAD - len(sender.process_bytes())


def test_agent_down_fails_every_datagram_from_the_first() -> None:
    """A refused datagram counts as failed, the first one included: Linux reports the ICMP
    refusal on the *next* send, which used to count every other datagram as sent."""
    sender = udp_sender(free_udp_port())
    for _ in range(20):
        sender.send([sender.encode(s) for s in make_spans(2)])
    metrics = sender.metrics()
    assert metrics["spans_sent"] == 0
    assert metrics["spans_dropped_send_failed"] == 40
    assert metrics["send_errors"] == 20
    assert metrics["batches_sent"] == metrics["bytes_sent"] == 0


def _wait_for_pending_error(sender: UDPSender, timeout: float) -> None:
    """Wait (at most ``timeout``) for an error to be pending on the sender's socket; reads
    nothing, so the sender still finds it."""
    sock = sender._sock
    if sock is not None:
        poller = select.poll()
        poller.register(sock, select.POLLERR)
        poller.poll(int(timeout * 1000))


def test_restarting_agent_sent_is_what_arrived() -> None:
    """An agent that stops and comes back on the same port: spans_sent counts exactly the
    spans the agent received, and the datagrams sent while it was down count as failed."""
    first = UDPAgent()
    port = first.port
    sender = udp_sender(port)
    for _ in range(3):
        sender.send([sender.encode(s) for s in make_spans(2)])
    assert len(first.wait_for_spans(6)) == 6
    first.close()
    for _ in range(5):
        sender.send([sender.encode(s) for s in make_spans(3)])
        # Batches are far apart in use; here, let a refusal still on its way arrive before
        # the next send (a socket holds one pending error: two would merge into one).
        _wait_for_pending_error(sender, 0.5)
    second = UDPAgent(port=port)
    try:
        for _ in range(4):
            sender.send([sender.encode(s) for s in make_spans(1)])
        assert len(second.wait_for_spans(4)) == 4
        metrics = sender.metrics()
        assert metrics["spans_sent"] == 6 + 4
        assert metrics["spans_dropped_send_failed"] == 15
        assert metrics["batches_sent"] == 3 + 4
    finally:
        second.close()


def test_a_refusal_that_arrives_late_moves_the_last_datagram_to_failed() -> None:
    """A refusal that comes back after the send was checked (a remote agent: one round
    trip later) is charged to the datagram before, which is then failed, not sent."""
    agent = UDPAgent()
    sender = udp_sender(agent.port)
    sender.send([sender.encode(s) for s in make_spans(2)])
    assert len(agent.wait_for_spans(2)) == 2
    assert sender.metrics()["spans_sent"] == 2
    agent.close()
    # A refusal for that datagram, arriving now: a datagram to the closed port from the
    # sender's own socket leaves ECONNREFUSED pending on it, as a late ICMP would.
    sock = sender._sock
    assert sock is not None
    sock.send(b"x")
    _wait_for_pending_error(sender, 5.0)  # without reading it: the sender must find it
    sender.send([sender.encode(s) for s in make_spans(3)])
    metrics = sender.metrics()
    assert metrics["spans_sent"] == 0
    assert metrics["spans_dropped_send_failed"] == 5
    assert metrics["batches_sent"] == metrics["bytes_sent"] == 0


def test_unresolvable_host_is_counted_not_raised() -> None:
    """A host that cannot resolve (label over 63 chars: no lookup is sent) fails quietly."""
    sender = UDPSender("a" * 64 + ".invalid", 6831)
    sender.set_process("svc", {})
    sender.send([sender.encode(s) for s in make_spans(3)])
    sender.send([sender.encode(s) for s in make_spans(2)])
    assert sender.metrics()["spans_dropped_send_failed"] == 5
    assert sender.metrics()["spans_sent"] == 0


@pytest.mark.parametrize("host", ["::1", "[::1]"])
def test_ipv6_loopback(host: str) -> None:
    """The agent can be given as ::1, or in brackets as in URLs and host:port strings
    ([::1] was taken for an IP address, never looked up again, but handed to getaddrinfo
    with its brackets: it never resolved, and every span failed)."""
    if not socket.has_ipv6:
        pytest.skip("no IPv6 support")
    try:
        agent = UDPAgent(socket.AF_INET6)
    except OSError:
        pytest.skip("::1 not available")
    try:
        sender = UDPSender(host, agent.port)
        sender.send([sender.encode(s) for s in make_spans(2)])
        assert len(agent.wait_for_spans(2)) == 2
        assert sender.metrics()["spans_sent"] == 2
        assert sender.resolve_interval is None  # an address: never looked up again
    finally:
        agent.close()


def test_bad_arguments_raise() -> None:
    """Out-of-range ports and packet sizes are API misuse."""
    with pytest.raises(ValueError):
        UDPSender(port=0)
    with pytest.raises(ValueError):
        UDPSender(max_packet_size=70000)
    with pytest.raises(ValueError):
        HTTPSender("ftp://host/api/traces")
    with pytest.raises(ValueError):
        HTTPSender("http://host/api/traces", user="u")


# -- HTTP ------------------------------------------------------------------------------


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    yield server
    server.stop()


def http_send(sender: HTTPSender, count: int = 2) -> None:
    sender.set_process("svc", {})
    sender.send([sender.encode(s) for s in make_spans(count)])


def test_http_posts_binary_batch(collector: Collector) -> None:
    """POST to the endpoint path, application/x-thrift, body a binary Batch."""
    sender = HTTPSender(collector.url + "?format=jaeger.thrift")
    http_send(sender, 3)
    request = collector.requests[0]
    assert request["method"] == "POST"
    assert request["path"] == "/api/traces?format=jaeger.thrift"
    assert request["headers"]["Content-Type"] == "application/x-thrift"
    assert request["headers"]["User-Agent"] == expected_user_agent()
    assert "Authorization" not in request["headers"]
    batch = decode_binary_batch(request["body"])
    assert batch.process.serviceName == "svc"
    assert [s.operationName for s in batch.spans] == ["op0", "op1", "op2"]
    assert sender.metrics()["spans_sent"] == 3


def test_http_basic_auth(collector: Collector) -> None:
    """user and password become a Basic Authorization header."""
    http_send(HTTPSender(collector.url, user="ann", password="s3cret"))
    expected = "Basic " + base64.b64encode(b"ann:s3cret").decode()
    assert collector.requests[0]["headers"]["Authorization"] == expected


def test_http_bearer_token(collector: Collector) -> None:
    """auth_token becomes a Bearer Authorization header."""
    http_send(HTTPSender(collector.url, auth_token="tok123"))
    assert collector.requests[0]["headers"]["Authorization"] == "Bearer tok123"


def test_http_reuses_the_connection(collector: Collector) -> None:
    """Consecutive batches go over one kept-alive connection."""
    sender = HTTPSender(collector.url)
    for _ in range(3):
        http_send(sender)
    assert len(collector.requests) == 3
    assert len(collector.client_ports) == 1


def test_http_error_status_is_counted_not_raised() -> None:
    """A 500 counts the batch's spans as failed."""
    server = Collector(status=500)
    try:
        sender = HTTPSender(server.url)
        http_send(sender, 4)
        metrics = sender.metrics()
        assert metrics["spans_dropped_send_failed"] == 4
        assert metrics["spans_sent"] == 0
        assert metrics["send_errors"] == 1
    finally:
        server.stop()


def test_http_dead_server_is_counted_not_raised() -> None:
    """Connection refused counts as failed; later batches fail fast while it is down."""
    server = Collector()
    url = server.url
    server.stop()
    sender = HTTPSender(url, timeout=2.0)
    http_send(sender, 2)
    http_send(sender, 3)
    metrics = sender.metrics()
    assert metrics["spans_dropped_send_failed"] == 5
    assert metrics["send_errors"] == 1


@pytest.fixture
def tls_collector(certificate: tuple[str, str]) -> Iterator[Collector]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server = Collector(tls=context)
    yield server
    server.stop()


def test_https_posts_to_a_collector_the_context_trusts(
    tls_collector: Collector, certificate: tuple[str, str]
) -> None:
    """https:// with an ssl_context that trusts the collector's CA: the batch arrives."""
    trusting = ssl.create_default_context(cafile=certificate[0])
    sender = HTTPSender(tls_collector.url, auth_token="tok", ssl_context=trusting)
    http_send(sender, 3)
    http_send(sender, 2)
    assert [r["headers"]["Authorization"] for r in tls_collector.requests] == ["Bearer tok"] * 2
    batch = decode_binary_batch(tls_collector.requests[0]["body"])
    assert [s.operationName for s in batch.spans] == ["op0", "op1", "op2"]
    assert sender.metrics()["spans_sent"] == 5
    assert len(tls_collector.client_ports) == 1  # one TLS connection, kept alive


def test_https_with_an_untrusted_certificate_is_counted_not_raised(
    tls_collector: Collector, caplog: pytest.LogCaptureFixture
) -> None:
    """The system's CAs do not know a self-signed certificate: the POST fails (counted and
    logged, with the reason), nothing is sent and nothing raises."""
    sender = HTTPSender(tls_collector.url)
    http_send(sender, 2)
    metrics = sender.metrics()
    assert metrics["spans_dropped_send_failed"] == 2 and metrics["spans_sent"] == 0
    assert tls_collector.requests == []
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text


def test_https_trusts_ssl_cert_file(tls_collector: Collector, certificate: tuple[str, str]) -> None:
    """Without code, SSL_CERT_FILE makes the default context trust a private CA (as for
    JAEGER_ENDPOINT=https://...)."""
    script = (
        "import jaeger_lite\n"
        f"tracer = jaeger_lite.init_tracer('tls', endpoint={tls_collector.url!r})\n"
        "tracer.start_span('over-tls').finish()\n"
        "tracer.close(10)\n"
        "print(tracer.metrics['spans_sent'])\n"
    )
    env = dict(os.environ, SSL_CERT_FILE=certificate[0], JAEGER_SAMPLER_TYPE="const")
    env["JAEGER_SAMPLER_PARAM"] = "1"
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1", result.stderr
    (request,) = tls_collector.requests
    assert [s.operationName for s in decode_binary_batch(request["body"]).spans] == ["over-tls"]


def test_credentials_never_in_repr_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Neither password nor token appears in repr or in the failure log."""
    server = Collector()
    url = server.url.replace("http://", "http://bob:pw-in-url@")
    server.stop()
    for sender in (
        HTTPSender(url),
        HTTPSender(server.url, user="ann", password="s3cret"),
        HTTPSender(server.url, auth_token="tok123"),
    ):
        http_send(sender)
        text = repr(sender) + caplog.text
        for secret in ("s3cret", "tok123", "pw-in-url", "bob"):
            assert secret not in text
    assert "failed" in caplog.text


def test_remote_reporter_over_http(collector: Collector) -> None:
    """RemoteReporter + HTTPSender: flushed spans reach the collector as one Batch."""
    tracer = Tracer("web", RemoteReporter(HTTPSender(collector.url, auth_token="t")))
    for i in range(5):
        tracer.start_span(f"op{i}").finish()
    assert tracer.flush(5)
    batch = decode_binary_batch(collector.requests[0]["body"])
    assert batch.process.serviceName == "web"
    assert [s.operationName for s in batch.spans] == [f"op{i}" for i in range(5)]
    assert tracer.metrics["spans_sent"] == 5
    tracer.close()


def test_log_lines_name_the_logger_once_and_count_in_english(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With logging's basic format a line reads ``WARNING:jaeger_lite:UDP send of 1 span``:
    the logger's name once (messages repeated it: "jaeger_lite:jaeger_lite: ..."), and
    "1 span", not "1 spans"."""
    import logging

    from jaeger_lite import init_tracer

    caplog.set_level(logging.DEBUG, logger="jaeger_lite")
    tracer = init_tracer(
        "svc",
        agent_host="127.0.0.1",
        agent_port=free_udp_port(),
        sampler_type="const",
        set_global=False,
    )
    tracer.start_span("one").finish()
    assert tracer.flush(5)
    tracer.close(5)
    sender = HTTPSender(f"http://127.0.0.1:{free_udp_port()}/api/traces", timeout=1.0)
    sender.send([sender.encode(make_spans(1)[0])])
    lines = [logging.Formatter(logging.BASIC_FORMAT).format(r) for r in caplog.records]
    assert any(line.startswith("INFO:jaeger_lite:tracer 'svc' reports to") for line in lines)
    assert any("UDP send of 1 span to 127.0.0.1:" in line for line in lines), lines
    assert any("POST of 1 span to http://127.0.0.1:" in line for line in lines), lines
    assert not any("jaeger_lite: " in line for line in lines), lines

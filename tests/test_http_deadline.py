"""Every HTTP request has a deadline for all of it: servers that trickle, stall, never
answer or hang up cannot hold a sender, a sampler poll or close() past their timeout."""

from __future__ import annotations

import http.server
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any, Optional

import pytest

from jaeger_lite import InMemoryReporter, RemoteReporter, RemoteSampler, Tracer
from jaeger_lite._http import HTTPClient, HTTPRequestError
from jaeger_lite.sampling import ConstSampler
from jaeger_lite.senders import HTTPSender

from ._bad_servers import BEHAVIOURS, BadServer, free_port
from ._wire_helpers import accounted

TIMEOUT = 0.6
SLACK = 0.75  # scheduling on a shared machine; the old behaviour took 10 s and more


@pytest.fixture(params=BEHAVIOURS)
def bad_server(request: pytest.FixtureRequest) -> Iterator[BadServer]:
    server = BadServer(request.param)
    yield server
    server.stop()


def test_request_returns_within_its_deadline(bad_server: BadServer) -> None:
    """Whatever the server does, request() raises HTTPRequestError within its timeout."""
    client = HTTPClient(bad_server.url(), timeout=TIMEOUT)
    start = time.monotonic()
    with pytest.raises(HTTPRequestError):
        client.request("POST", "/v1/traces", b"x" * 1000, {"Content-Type": "text/plain"})
    assert time.monotonic() - start < TIMEOUT + SLACK
    client.close()


def test_trickling_answer_times_out_though_each_read_is_quick() -> None:
    """Each byte comes 0.25 s after the last (under the timeout); the request as a whole
    still ends at the deadline. (Plain http.client waits 25 s here.)"""
    with BadServer("trickle", interval=0.25) as server:
        client = HTTPClient(server.url(), timeout=TIMEOUT)
        start = time.monotonic()
        with pytest.raises(HTTPRequestError, match=f"within {TIMEOUT:g}s"):
            client.request("GET", "/sampling")
        assert TIMEOUT - 0.05 <= time.monotonic() - start < TIMEOUT + SLACK


def test_a_quick_enough_trickle_is_read_completely() -> None:
    """A slow answer that finishes before the deadline is a normal answer."""
    with BadServer("trickle", interval=0.002) as server:
        response = HTTPClient(server.url(), timeout=5.0).request("GET", "/")
        assert (response.status, response.body) == (200, b"{}")


def test_connection_refused_is_a_request_error() -> None:
    client = HTTPClient(f"http://127.0.0.1:{free_port()}", timeout=TIMEOUT)
    with pytest.raises(HTTPRequestError):
        client.request("GET", "/")


def test_http_sender_returns_within_its_timeout_and_counts_the_spans(
    bad_server: BadServer,
) -> None:
    """HTTPSender against every misbehaving collector: send() returns in time, the
    batch's spans count as failed, nothing raises."""
    sender = HTTPSender(bad_server.url("/api/traces"), timeout=TIMEOUT)
    sender.set_process("svc", {})
    tracer = Tracer("svc", InMemoryReporter(), ConstSampler(True))
    spans = [tracer.start_span(f"op{i}") for i in range(3)]
    for span in spans:
        span.finish()
    encoded = [sender.encode(span) for span in spans]
    start = time.monotonic()
    sender.send(encoded)
    assert time.monotonic() - start < TIMEOUT + SLACK
    metrics = sender.metrics()
    assert (metrics["spans_dropped_send_failed"], metrics["spans_sent"]) == (3, 0)


def test_close_against_a_trickling_collector_is_bounded() -> None:
    """tracer.close() returns within the sender's timeout, and every span is accounted
    for. (Before: close() never returned.)"""
    with BadServer("trickle", interval=0.25) as server:
        reporter = RemoteReporter(HTTPSender(server.url("/api/traces"), timeout=TIMEOUT))
        tracer = Tracer("svc", reporter, ConstSampler(True))
        for i in range(10):
            tracer.start_span(f"op{i}").finish()
        start = time.monotonic()
        tracer.close(TIMEOUT * 3)
        assert time.monotonic() - start < TIMEOUT + SLACK
        metrics = tracer.metrics
        assert metrics["spans_dropped_send_failed"] == 10
        assert accounted(metrics) == metrics["spans_sampled"] == 10


def test_sampler_poll_against_a_trickling_agent_is_bounded() -> None:
    """A poll ends at its timeout, counted as failed. (Before: a poll with timeout=3 took
    ~24 s.)"""
    with BadServer("trickle", interval=0.25) as server:
        sampler = RemoteSampler(
            "svc", sampling_endpoint=server.url("/sampling"), refresh_interval=3600,
            timeout=TIMEOUT,
        )  # fmt: skip
        try:
            sampler.start()  # the poller starts at the first decision otherwise
            assert sampler._wait_for_polls(1, timeout=TIMEOUT + SLACK + 1)
            start = time.monotonic()
            assert sampler.refresh() is False
            assert time.monotonic() - start < TIMEOUT + SLACK
            assert sampler.metrics()["sampler_polls_failed"] == 2
        finally:
            sampler.close()


class _KeepAliveHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    ports: list[int]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.server.ports.append(self.client_address[1])  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        if self.path == "/close-after":
            self.close_connection = True

    def log_message(self, *args: Any) -> None:
        pass


class _KeepAliveServer(http.server.ThreadingHTTPServer):
    """Counts the connections it has hung up (``hung_up``), for a test to wait on."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _KeepAliveHandler)
        self.hung_up = threading.Semaphore(0)

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        self.hung_up.release()


def _serve_keepalive(
    tls: Optional[ssl.SSLContext] = None,
) -> Iterator[http.server.ThreadingHTTPServer]:
    """A keep-alive server recording the client ports it saw, over TLS when given."""
    server = _KeepAliveServer()
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    server.ports = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def keepalive_server() -> Iterator[http.server.ThreadingHTTPServer]:
    yield from _serve_keepalive()


def test_one_connection_is_kept_alive(keepalive_server: http.server.ThreadingHTTPServer) -> None:
    client = HTTPClient(f"http://127.0.0.1:{keepalive_server.server_address[1]}", timeout=5)
    for _ in range(3):
        assert client.request("POST", "/", b"{}").status == 200
    assert len(set(keepalive_server.ports)) == 1  # type: ignore[attr-defined]
    client.close()


def test_a_connection_the_server_closed_is_replaced_at_once(
    keepalive_server: http.server.ThreadingHTTPServer,
) -> None:
    """The server hangs up after an answer (as collectors do with idle connections): the
    next request goes out on a new connection instead of failing."""
    client = HTTPClient(f"http://127.0.0.1:{keepalive_server.server_address[1]}", timeout=5)
    assert client.request("POST", "/close-after", b"{}").status == 200
    assert client.request("POST", "/", b"{}").status == 200
    assert client.request("POST", "/", b"{}").status == 200
    ports = keepalive_server.ports  # type: ignore[attr-defined]
    assert len(ports) == 3 and len(set(ports)) == 2
    client.close()


def test_a_host_name_is_looked_up_and_connected(
    keepalive_server: http.server.ThreadingHTTPServer,
) -> None:
    """A name (not an address) goes through the bounded lookup and reaches the server."""
    client = HTTPClient(f"http://localhost:{keepalive_server.server_address[1]}", timeout=5)
    assert client.request("POST", "/", b"{}").status == 200
    client.close()


def test_a_hung_name_lookup_ends_at_the_deadline(hung_resolver: list[str]) -> None:
    """getaddrinfo has no timeout of its own; the request's deadline covers it, and
    requests made while a lookup hangs wait for that one instead of starting more."""
    client = HTTPClient(f"http://localhost:{free_port()}", timeout=TIMEOUT)
    for _ in range(2):
        start = time.monotonic()
        with pytest.raises(HTTPRequestError, match=f"within {TIMEOUT:g}s"):
            client.request("POST", "/v1/traces", b"x")
        assert TIMEOUT - 0.05 <= time.monotonic() - start < TIMEOUT + SLACK
    assert hung_resolver == ["localhost"]  # one lookup, not one per request
    lookups = [t for t in threading.enumerate() if t.name == "jaeger_lite-dns"]
    assert len(lookups) == 1


def test_close_with_a_hung_resolver_is_bounded(hung_resolver: list[str]) -> None:
    """An HTTP collector whose name never resolves (the guarded name is "localhost", so
    nothing could leave the machine if the seam failed): close() returns in time and the
    spans count as failed sends."""
    reporter = RemoteReporter(
        HTTPSender(f"http://localhost:{free_port()}/api/traces", timeout=TIMEOUT)
    )
    tracer = Tracer("svc", reporter, ConstSampler(True))
    for i in range(5):
        tracer.start_span(f"op{i}").finish()
    start = time.monotonic()
    tracer.close(TIMEOUT * 3)
    assert time.monotonic() - start < TIMEOUT + SLACK
    assert tracer.metrics["spans_dropped_send_failed"] == 5
    assert accounted(tracer.metrics) == 5


def test_a_lookup_without_a_thread_fails_once_and_leaves_the_name_usable(
    keepalive_server: http.server.ThreadingHTTPServer,
) -> None:
    """No thread can be started for the name lookup (a thread limit, no memory for a stack;
    here a stack size no system gives): that request fails as a request error, and the next
    one, once threads start again, looks the name up for real. It used to raise
    RuntimeError into the sender, and leave the lookup registered as running: every later
    request for that name waited out its timeout for a lookup that never began."""
    port = keepalive_server.server_address[1]
    client = HTTPClient(f"http://localhost:{port}", timeout=5)
    old = threading.stack_size(1 << 45)
    try:
        with pytest.raises(HTTPRequestError, match="cannot look up 'localhost'"):
            client.request("POST", "/", b"{}")
    finally:
        threading.stack_size(old)
    start = time.monotonic()
    assert client.request("POST", "/", b"{}").status == 200
    assert time.monotonic() - start < 4  # not a lookup timeout (5 s) waited out
    client.close()


@pytest.fixture
def tls_keepalive_server(
    certificate: tuple[str, str],
) -> Iterator[http.server.ThreadingHTTPServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    yield from _serve_keepalive(context)


def test_a_tls_connection_the_server_closed_is_replaced_at_once(
    tls_keepalive_server: http.server.ThreadingHTTPServer, certificate: tuple[str, str]
) -> None:
    """Over TLS, writing to a connection the server has closed raises SSLEOFError, not
    BrokenPipeError: that too is a connection closed while idle, replaced at once. Before,
    HTTPSender lost the first batch after each idle close and OTLPSender backed off."""
    port = tls_keepalive_server.server_address[1]
    context = ssl.create_default_context(cafile=certificate[0])
    sender = HTTPSender(f"https://127.0.0.1:{port}/close-after", ssl_context=context)
    tracer = Tracer("svc", RemoteReporter(sender, flush_interval=60), ConstSampler(True))
    for i in range(3):
        tracer.start_span(f"op{i}").finish()
        assert tracer.reporter.flush(5)  # type: ignore[attr-defined]
        # The server has hung up this connection before the next span goes out on it.
        assert tls_keepalive_server.hung_up.acquire(timeout=5)  # type: ignore[attr-defined]
    tracer.close(10)
    metrics = tracer.metrics
    assert (metrics["spans_sent"], metrics["send_errors"]) == (3, 0), metrics
    ports = tls_keepalive_server.ports  # type: ignore[attr-defined]
    assert len(ports) == len(set(ports)) == 3

"""The HTTP senders and the remote sampler go through the proxy HTTP_PROXY / HTTPS_PROXY
name, except for NO_PROXY and loopback hosts, within their deadline.

The collectors are addressed as ``collector.invalid``, a name no resolver answers and that
only the test's forward proxy (tests/_forward_proxy.py) maps to 127.0.0.1: spans that
arrive came through the proxy. Each test sets the variables it needs (conftest.py removes
the shell's)."""

from __future__ import annotations

import base64
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from typing import Any, Union

import pytest

from jaeger_lite import InMemoryReporter, RemoteSampler, Tracer
from jaeger_lite._http import HTTPClient
from jaeger_lite._proxy import Proxy, proxy_for
from jaeger_lite.sampling import ConstSampler, ProbabilisticSampler
from jaeger_lite.senders import HTTPSender, OTLPSender

from ._bad_servers import BadServer, free_port
from ._forward_proxy import ForwardProxy
from ._otlp_collector import OTLPCollector
from ._port_guard import GUARD
from ._strategy_server import StrategyServer
from ._wire_helpers import Collector, decode_binary_batch

TIMEOUT = 0.6
SLACK = 0.75  # scheduling on a shared machine
NAME = "collector.invalid"

Sender = Union[OTLPSender, HTTPSender]


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    server = ForwardProxy()
    yield server
    server.stop()


@pytest.fixture
def collector() -> Iterator[OTLPCollector]:
    server = OTLPCollector()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def named_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for collector.invalid (and nothing else) and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a test certificate")
    folder = tmp_path_factory.mktemp("proxy-tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", key, "-out", cert, "-subj", f"/CN={NAME}",
         "-addext", f"subjectAltName=DNS:{NAME}"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def tls_collector(certificate: tuple[str, str]) -> OTLPCollector:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return OTLPCollector(tls=context)


def named(url: str) -> str:
    """``url`` with 127.0.0.1 replaced by the name only the proxy knows."""
    return url.replace("127.0.0.1", NAME)


def send(sender: Sender, batches: int = 3, spans: int = 2) -> dict[str, int]:
    """``batches`` sends of ``spans`` spans each, one after the other; the metrics."""
    sender.set_process("svc", {})
    tracer = Tracer("svc", InMemoryReporter(), ConstSampler(True))
    for b in range(batches):
        finished = [tracer.start_span(f"op{b}.{i}") for i in range(spans)]
        for span in finished:
            span.finish()
        sender.send([sender.encode(span) for span in finished])
    return sender.metrics()


def names(collector: OTLPCollector) -> list[str]:
    return [span.name for span in collector.spans()]


# -- through the proxy ---------------------------------------------------------------


def test_otlp_over_http_goes_through_http_proxy(
    monkeypatch: pytest.MonkeyPatch, proxy: ForwardProxy, collector: OTLPCollector
) -> None:
    """An http:// endpoint: absolute-form requests to HTTP_PROXY, on one kept-alive
    connection to the proxy."""
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    metrics = send(OTLPSender(named(collector.url)))
    assert (metrics["spans_sent"], metrics["spans_dropped_send_failed"]) == (6, 0)
    assert names(collector) == ["op0.0", "op0.1", "op1.0", "op1.1", "op2.0", "op2.1"]
    port = collector.server_address[1]
    assert proxy.request_lines() == [f"POST http://{NAME}:{port}/v1/traces HTTP/1.1"] * 3
    assert collector.received[0].headers["Host"] == f"{NAME}:{port}"
    assert proxy.connections == 1


def test_otlp_over_https_tunnels_through_https_proxy(
    monkeypatch: pytest.MonkeyPatch, proxy: ForwardProxy, named_certificate: tuple[str, str]
) -> None:
    """An https:// endpoint: one CONNECT tunnel to the collector, TLS inside it checked
    against the collector's name, kept alive for every export."""
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # for http:// only: unused
    collector = tls_collector(named_certificate)
    try:
        sender = OTLPSender(named(collector.url), certificate_file=named_certificate[0])
        metrics = send(sender)
        assert (metrics["spans_sent"], metrics["spans_dropped_send_failed"]) == (6, 0)
        assert len(names(collector)) == 6
        assert proxy.request_lines() == [f"CONNECT {NAME}:{collector.server_address[1]} HTTP/1.1"]
        assert proxy.connections == 1 and len(collector.client_ports) == 1
    finally:
        collector.stop()


def test_the_tunnelled_certificate_is_checked_against_the_collector_name(
    monkeypatch: pytest.MonkeyPatch,
    proxy: ForwardProxy,
    certificate: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A certificate that is trusted but made for 127.0.0.1 (where the proxy really
    connects), not for collector.invalid: the handshake fails, the spans are counted."""
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    collector = tls_collector(certificate)
    try:
        trusting = ssl.create_default_context(cafile=certificate[0])
        url = named(collector.url).replace("/v1/", "/api/")
        sender = HTTPSender(url, ssl_context=trusting, timeout=2)
        caplog.set_level("WARNING", "jaeger_lite")
        metrics = send(sender, batches=1)
        assert (metrics["spans_sent"], metrics["spans_dropped_send_failed"]) == (0, 2)
        assert f"certificate is not valid for '{NAME}'" in caplog.text
        assert collector.received == []
        assert proxy.request_lines()[0].startswith(f"CONNECT {NAME}:")
    finally:
        collector.stop()


def test_jaeger_http_sender_goes_through_http_proxy(
    monkeypatch: pytest.MonkeyPatch, proxy: ForwardProxy
) -> None:
    """HTTPSender's Thrift batches reach the collector through the proxy, whole."""
    monkeypatch.setenv("http_proxy", proxy.url)
    collector = Collector()
    try:
        metrics = send(HTTPSender(named(collector.url)), batches=2)
        assert metrics["spans_sent"] == 4
        batches = [decode_binary_batch(request["body"]) for request in collector.requests]
        assert [[s.operationName for s in b.spans] for b in batches] == [
            ["op0.0", "op0.1"],
            ["op1.0", "op1.1"],
        ]
        assert batches[0].process.serviceName == "svc"
        assert len(proxy.request_lines()) == 2 and proxy.connections == 1
    finally:
        collector.stop()


def test_remote_sampler_polls_through_the_proxy(
    monkeypatch: pytest.MonkeyPatch, proxy: ForwardProxy, server: StrategyServer
) -> None:
    """The strategy fetch goes through HTTP_PROXY like the senders' requests."""
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    server.answer({"strategyType": "PROBABILISTIC", "probabilisticSampling": {"samplingRate": 0.5}})
    sampler = RemoteSampler("svc", sampling_endpoint=named(server.url), timeout=5)
    try:
        assert sampler.refresh() is True
        assert isinstance(sampler._delegate, ProbabilisticSampler)
        assert sampler._delegate.rate == 0.5
        assert proxy.request_lines()[0].startswith(f"GET http://{NAME}:")
    finally:
        sampler.close()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_connection_the_proxy_closed_while_idle_is_replaced(
    monkeypatch: pytest.MonkeyPatch,
    proxy: ForwardProxy,
    named_certificate: tuple[str, str],
    scheme: str,
) -> None:
    """The proxy hangs up between exports (an idle timeout): the next export goes out on a
    new connection (and tunnel) at once, nothing lost, no error counted."""
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    collector = tls_collector(named_certificate) if scheme == "https" else OTLPCollector()
    try:
        sender = OTLPSender(named(collector.url), certificate_file=named_certificate[0])
        sender.set_process("svc", {})
        tracer = Tracer("svc", InMemoryReporter(), ConstSampler(True))
        for i in range(3):
            span = tracer.start_span(f"op{i}")
            span.finish()
            sender.send([sender.encode(span)])
            proxy.hang_up()
        metrics = sender.metrics()
        assert (metrics["spans_sent"], metrics["send_errors"], metrics["send_retries"]) == (3, 0, 0)
        assert names(collector) == ["op0", "op1", "op2"]
        assert proxy.connections == 3
    finally:
        collector.stop()


# -- credentials and refusals --------------------------------------------------------


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "HTTPS_PROXY"])
def test_proxy_credentials_become_proxy_authorization(
    monkeypatch: pytest.MonkeyPatch, named_certificate: tuple[str, str], variable: str
) -> None:
    """user:password in the proxy URL (percent-decoded) authenticate to the proxy, on the
    CONNECT or on each absolute-form request, and never reach the collector."""
    proxy = ForwardProxy(user="ann", password="s3 cret")
    https = variable == "HTTPS_PROXY"
    collector = tls_collector(named_certificate) if https else OTLPCollector()
    try:
        monkeypatch.setenv(variable, f"http://ann:s3%20cret@127.0.0.1:{proxy.port}")
        sender = OTLPSender(named(collector.url), certificate_file=named_certificate[0])
        metrics = send(sender, batches=2)
        assert metrics["spans_sent"] == 4
        expected = "Basic " + base64.b64encode(b"ann:s3 cret").decode()
        assert [h["proxy-authorization"] for _, h in proxy.requests] == [expected] * (
            1 if https else 2
        )
        if https:  # inside the tunnel: only what the collector should see
            assert all("Proxy-Authorization" not in r.headers for r in collector.received)
        assert "s3" not in repr(sender) + repr(sender._client)
    finally:
        collector.stop()
        proxy.stop()


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "HTTPS_PROXY"])
def test_a_407_is_a_counted_failure_with_a_warning_without_credentials(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, variable: str
) -> None:
    """Wrong proxy credentials: the proxy answers 407 (to CONNECT, or to the request);
    the spans count as failed, one warning says so, and names neither user nor password."""
    proxy = ForwardProxy(user="ann", password="right")
    try:
        monkeypatch.setenv(variable, f"http://bob:wrong-pw@127.0.0.1:{proxy.port}")
        scheme = "https" if variable == "HTTPS_PROXY" else "http"
        sender = OTLPSender(f"{scheme}://{NAME}:{free_port()}/v1/traces", timeout=TIMEOUT)
        caplog.set_level("WARNING", "jaeger_lite")
        metrics = send(sender, batches=2)
        assert (metrics["spans_sent"], metrics["spans_dropped_send_failed"]) == (0, 4)
        warnings = [r.getMessage() for r in caplog.records if r.name == "jaeger_lite"]
        assert len(warnings) == 1, warnings
        assert f"proxy http://127.0.0.1:{proxy.port}" in warnings[0] and "407" in warnings[0]
        assert "bob" not in caplog.text and "wrong-pw" not in caplog.text
    finally:
        proxy.stop()


def test_a_502_to_connect_is_a_counted_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    """The proxy cannot reach the collector: its 502 ends the export, counted, in time."""
    proxy = ForwardProxy(connect_answer=b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
    try:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        sender = HTTPSender(f"https://{NAME}:{free_port()}/api/traces", timeout=TIMEOUT)
        start = time.monotonic()
        metrics = send(sender, batches=1)
        assert time.monotonic() - start < TIMEOUT + SLACK
        assert (metrics["spans_sent"], metrics["spans_dropped_send_failed"]) == (0, 2)
        assert metrics["send_errors"] == 1
    finally:
        proxy.stop()


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "HTTPS_PROXY"])
def test_a_dead_proxy_is_a_counted_failure_at_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, variable: str
) -> None:
    """Nothing listens where the proxy should be: refused, counted, named in the warning."""
    port = free_port()
    monkeypatch.setenv(variable, f"127.0.0.1:{port}")  # no scheme: http://, as Go reads it
    scheme = "https" if variable == "HTTPS_PROXY" else "http"
    sender = HTTPSender(f"{scheme}://{NAME}:{free_port()}/api/traces", timeout=TIMEOUT)
    caplog.set_level("WARNING", "jaeger_lite")
    start = time.monotonic()
    metrics = send(sender, batches=1)
    assert time.monotonic() - start < TIMEOUT + SLACK
    assert (metrics["spans_sent"], metrics["spans_dropped_send_failed"]) == (0, 2)
    assert f"proxy http://127.0.0.1:{port}" in caplog.text


@pytest.mark.parametrize("behaviour", ["silent", "no_accept"])
@pytest.mark.parametrize("variable", ["HTTP_PROXY", "HTTPS_PROXY"])
def test_a_silent_proxy_costs_the_deadline_not_a_hang(
    monkeypatch: pytest.MonkeyPatch, behaviour: str, variable: str
) -> None:
    """A proxy that never answers (the CONNECT or the request): the export ends at its
    timeout, counted; then exports fail at once for a while rather than each waiting."""
    with BadServer(behaviour) as bad:
        monkeypatch.setenv(variable, f"http://127.0.0.1:{bad.port}")
        scheme = "https" if variable == "HTTPS_PROXY" else "http"
        sender = OTLPSender(f"{scheme}://{NAME}:{free_port()}/v1/traces", timeout=TIMEOUT)
        start = time.monotonic()
        metrics = send(sender, batches=2)
        assert TIMEOUT - 0.05 <= time.monotonic() - start < TIMEOUT + SLACK
        assert (metrics["spans_sent"], metrics["spans_dropped_send_failed"]) == (0, 4)


def test_an_unsupported_proxy_scheme_fails_the_sends_rather_than_going_direct(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """socks5:// (and https://) proxies are not spoken: each export fails, counted and
    explained, and nothing connects to the collector directly."""
    monkeypatch.setenv("HTTPS_PROXY", "socks5://user:pw@127.0.0.1:1080")
    sender = OTLPSender(f"https://{NAME}:{free_port()}/v1/traces", timeout=TIMEOUT)
    caplog.set_level("WARNING", "jaeger_lite")
    metrics = send(sender, batches=1)
    assert (metrics["spans_sent"], metrics["spans_dropped_send_failed"]) == (0, 2)
    assert "only http:// proxies are supported" in caplog.text and "pw" not in caplog.text


# -- not through the proxy -----------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_collectors_are_reached_directly(
    monkeypatch: pytest.MonkeyPatch, proxy: ForwardProxy, collector: OTLPCollector, host: str
) -> None:
    """A collector on this machine never goes through the proxy, NO_PROXY or not."""
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    metrics = send(OTLPSender(collector.url.replace("127.0.0.1", host)), batches=1)
    assert metrics["spans_sent"] == 2 and len(names(collector)) == 2
    assert proxy.requests == [] and proxy.connections == 0


def test_no_proxy_sends_directly(monkeypatch: pytest.MonkeyPatch, proxy: ForwardProxy) -> None:
    """A host NO_PROXY names is connected to directly: the proxy sees nothing, and the
    port guard sees the direct attempt at collector.invalid (which it blocks)."""
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "example.com, .invalid")
    port = free_port()
    sender = HTTPSender(f"http://{NAME}:{port}/api/traces", timeout=TIMEOUT)
    with GUARD.expecting() as caught:
        metrics = send(sender, batches=1)
    assert metrics["spans_dropped_send_failed"] == 2
    assert proxy.connections == 0
    assert len(caught) == 1 and f"http.client.connect to {NAME}:{port}" in caught[0]


def test_the_environment_is_read_when_the_sender_is_made(
    monkeypatch: pytest.MonkeyPatch, proxy: ForwardProxy, collector: OTLPCollector
) -> None:
    """HTTP_PROXY set after the sender was made changes nothing for it."""
    sender = HTTPSender(named(collector.url).replace("/v1/", "/api/"), timeout=TIMEOUT)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    with GUARD.expecting() as caught:
        send(sender, batches=1)
    assert proxy.connections == 0 and len(caught) == 1


# -- the rules (Go's httpproxy) ------------------------------------------------------


def proxy_host(url: str, **env: str) -> Any:
    found = proxy_for(url, env)
    return None if found is None else f"{found.host}:{found.port}"


@pytest.mark.parametrize(
    ("url", "env", "expected"),
    [
        ("http://c.example/v1", {"HTTP_PROXY": "p:3128"}, "p:3128"),
        ("http://c.example/v1", {"HTTPS_PROXY": "p:3128"}, None),
        ("https://c.example/v1", {"HTTPS_PROXY": "http://p"}, "p:80"),
        ("https://c.example/v1", {"HTTP_PROXY": "http://p"}, None),
        # uppercase first, lowercase when it is empty or missing (as Go)
        ("http://c.example", {"HTTP_PROXY": "up:1", "http_proxy": "low:1"}, "up:1"),
        ("http://c.example", {"HTTP_PROXY": "", "http_proxy": "low:1"}, "low:1"),
        ("https://c.example", {"https_proxy": "low:1"}, "low:1"),
        # httpoxy: under CGI, HTTP_PROXY may come from a request's Proxy: header
        ("http://c.example", {"HTTP_PROXY": "up:1", "REQUEST_METHOD": "GET"}, None),
        ("http://c.example", {"http_proxy": "low:1", "REQUEST_METHOD": "GET"}, "low:1"),
        ("https://c.example", {"HTTPS_PROXY": "up:1", "REQUEST_METHOD": "GET"}, "up:1"),
        # loopback never
        ("http://localhost:4318", {"HTTP_PROXY": "p:1"}, None),
        ("http://127.8.9.10:4318", {"HTTP_PROXY": "p:1"}, None),
        ("http://[::1]:4318", {"HTTP_PROXY": "p:1"}, None),
        ("http://[::ffff:127.0.0.1]:4318", {"HTTP_PROXY": "p:1"}, None),
        ("http://localhost.example", {"HTTP_PROXY": "p:1"}, "p:1"),
    ],
)
def test_which_variable_applies(url: str, env: dict[str, str], expected: Any) -> None:
    assert proxy_host(url, **env) == expected


@pytest.mark.parametrize(
    ("no_proxy", "url", "bypassed"),
    [
        ("*", "http://anything.example", True),
        ("example.com", "http://example.com", True),
        ("example.com", "http://foo.example.com", True),
        ("example.com", "http://ample.com", False),
        ("ample.com", "http://example.com", False),
        (".example.com", "http://foo.example.com", True),
        (".example.com", "http://example.com", False),  # a leading dot: subdomains only
        ("*.example.com", "http://foo.example.com", True),
        ("*.example.com", "http://example.com", False),
        ("EXAMPLE.com", "http://Foo.Example.COM", True),
        (" other.org , example.com ", "http://a.example.com", True),
        ("example.com:8080", "http://example.com:8080", True),
        ("example.com:8080", "http://example.com", False),
        ("example.com:80", "http://example.com", True),  # the scheme's port
        ("example.com:443", "https://example.com", True),
        ("10.1.2.3", "http://10.1.2.3:4318", True),
        ("10.1.2.3", "http://10.1.2.4:4318", False),
        ("10.1.2.3:4318", "http://10.1.2.3:4318", True),
        ("10.1.2.3:4318", "http://10.1.2.3:9", False),
        ("10.0.0.0/8", "http://10.200.0.1", True),
        ("10.0.0.0/8", "http://11.0.0.1", False),
        ("2001:db8::/32", "http://[2001:db8::5]:4318", True),
        ("2001:db8::5", "http://[2001:db8::5]", True),
        ("[2001:db8::5]:4318", "http://[2001:db8::5]:4318", True),
        ("10.0.0.0/8", "http://ten.example", False),  # ranges match addresses only
        ("1.2.3.4", "http://example.com", False),
        ("example.com", "http://1.2.3.4", False),  # names match names only
        ("", "http://example.com", False),
        (",,", "http://example.com", False),
    ],
)
def test_no_proxy_entries(no_proxy: str, url: str, bypassed: bool) -> None:
    env = {"HTTP_PROXY": "p:1", "HTTPS_PROXY": "p:1", "no_proxy": no_proxy}
    assert (proxy_host(url, **env) is None) is bypassed


def test_no_proxy_uppercase_comes_first() -> None:
    env = {"HTTP_PROXY": "p:1", "NO_PROXY": "a.example", "no_proxy": "b.example"}
    assert proxy_host("http://a.example", **env) is None
    assert proxy_host("http://b.example", **env) == "p:1"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://p.example:3128", Proxy("p.example", 3128)),
        ("p.example:3128", Proxy("p.example", 3128)),
        ("p.example", Proxy("p.example", 80)),
        ("http://[2001:db8::1]:3128/", Proxy("2001:db8::1", 3128)),
    ],
)
def test_proxy_values(value: str, expected: Proxy) -> None:
    assert proxy_for("http://c.example", {"HTTP_PROXY": value}) == expected


def test_unusable_proxy_values_are_problems_not_exceptions() -> None:
    for value in ("socks5://p:1080", "https://p:3128", "http://p:notaport", "http://"):
        found = proxy_for("http://c.example", {"HTTP_PROXY": value})
        assert found is not None and found.problem, value


def test_credentials_stay_out_of_the_proxy_repr_and_str() -> None:
    found = proxy_for("http://c.example", {"HTTP_PROXY": "http://ann:pw%21@p:3128"})
    assert found is not None
    assert found.authorization == "Basic " + base64.b64encode(b"ann:pw!").decode()
    assert "pw" not in repr(found) + str(found) + repr(HTTPClient("http://c.example", proxy=found))

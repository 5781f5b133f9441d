"""WSGIMiddleware on a real server (wsgiref on 127.0.0.1): trace continuation, names and
tags, errors, a streamed body held open until close(), skipped paths, broken tracers."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from jaeger_lite import Format, Reporter, Span, Tracer
from jaeger_lite.integrations import WSGIMiddleware, metrics, set_route
from jaeger_lite.integrations._server import peer_tag

from ._integration_helpers import WAIT, waiting_tracer, wsgi_server


def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


def get(url: str, headers: Optional[dict[str, str]] = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=WAIT) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_the_server_span_continues_the_callers_trace() -> None:
    """The caller's context and baggage arrive through the environ; standard tags are set."""
    client, _ = waiting_tracer("client")
    tracer, reporter = waiting_tracer("server")
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        span = tracer.active_span
        assert span is not None
        seen["tenant"] = span.get_baggage_item("tenant")
        return hello(environ, start_response)

    with wsgi_server(WSGIMiddleware(app, tracer)) as url:
        with client.start_active_span("call") as scope:
            scope.span.set_baggage_item("tenant", "acme")
            headers: dict[str, str] = {}
            client.inject(scope.span.context, Format.HTTP_HEADERS, headers)
            assert get(f"{url}/users/42", headers) == (200, b"hello")
        (span,) = reporter.wait_for(1)
    assert span.context.trace_id == scope.span.context.trace_id
    assert span.context.parent_id == scope.span.context.span_id
    assert seen["tenant"] == "acme"
    assert span.operation_name == "GET"  # no route known: the method, never the raw path
    assert dict(span.tags) == {
        "span.kind": "server",
        "component": "wsgi",
        "http.method": "GET",
        "http.url": f"{url}/users/42",
        "peer.ipv4": "127.0.0.1",
        "http.status_code": 200,
    }


def test_a_route_names_the_span() -> None:
    """A route function (or set_route from the app) gives the template, not the path."""
    tracer, reporter = waiting_tracer()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"].startswith("/orders/"):
            set_route(environ, "/orders/{id}")
        return hello(environ, start_response)

    def route(environ: dict[str, Any]) -> Optional[str]:
        return "/users/{id}" if environ["PATH_INFO"].startswith("/users/") else None

    with wsgi_server(WSGIMiddleware(app, tracer, route=route)) as url:
        get(f"{url}/users/42")
        get(f"{url}/orders/7")
        spans = reporter.wait_for(2)
    assert sorted(s.operation_name for s in spans) == ["GET /orders/{id}", "GET /users/{id}"]
    assert sorted(s.tags["http.route"] for s in spans) == ["/orders/{id}", "/users/{id}"]


def test_secret_query_values_are_redacted() -> None:
    """Passwords, tokens and keys in the query string never reach http.url."""
    tracer, reporter = waiting_tracer()
    query = "page=2&password=hunter2&access_token=abc&api-key=k&Session_Token=s&q=a%20b"
    with wsgi_server(WSGIMiddleware(hello, tracer)) as url:
        get(f"{url}/search?{query}")
        (span,) = reporter.wait_for(1)
    assert span.tags["http.url"] == (
        f"{url}/search?page=2&password=REDACTED&access_token=REDACTED&api-key=REDACTED"
        "&Session_Token=REDACTED&q=a%20b"
    )


@pytest.mark.parametrize(("status", "error"), [(500, True), (503, True), (404, False)])
def test_5xx_answers_are_errors(status: int, error: bool) -> None:
    """A 5xx status marks the span failed; a 4xx is the client's problem."""
    tracer, reporter = waiting_tracer()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(f"{status} Whatever", [])
        return [b""]

    with wsgi_server(WSGIMiddleware(app, tracer)) as url:
        assert get(url)[0] == status
        (span,) = reporter.wait_for(1)
    assert span.tags["http.status_code"] == status
    assert span.tags.get("error", False) is error


def test_an_exception_is_recorded_and_reraised() -> None:
    """The server sees the application's exception unchanged; the span records it."""
    tracer, reporter = waiting_tracer()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise LookupError("no such user")

    with wsgi_server(WSGIMiddleware(app, tracer)) as url:
        assert get(url)[0] == 500  # wsgiref's own answer to the exception
        (span,) = reporter.wait_for(1)
    assert span.tags["error"] is True
    (log,) = span.logs
    assert log.fields["error.kind"] == "LookupError"
    assert log.fields["message"] == "no such user"


def test_a_status_never_sent_is_not_recorded() -> None:
    """An exception after ``start_response("200 OK")`` but before any body is produced
    (from the call, or from the body's first step) leaves the server to answer 500: the
    span does not say 200. An exception after the first chunk keeps the 200 that was sent."""
    tracer, reporter = waiting_tracer()

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        if environ["PATH_INFO"] == "/call":
            raise LookupError("after start_response")

        def body() -> Iterator[bytes]:
            if environ["PATH_INFO"] == "/late":
                yield b"sent;"
            raise LookupError("in the body")

        return body()

    with wsgi_server(WSGIMiddleware(app, tracer)) as url:
        assert get(f"{url}/call")[0] == 500  # wsgiref's own answer
        assert get(f"{url}/first")[0] == 500
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=WAIT)
        connection.request("GET", "/late")
        response = connection.getresponse()
        assert (response.status, response.read(5)) == (200, b"sent;")
        connection.close()
        spans = reporter.wait_for(3)
    by_url = {urlsplit(span.tags["http.url"]).path: span for span in spans}
    assert [by_url[path].tags.get("http.status_code") for path in ("/call", "/first")] == [
        None,
        None,
    ]
    assert by_url["/late"].tags["http.status_code"] == 200
    assert all(span.tags["error"] is True for span in spans)


def test_a_one_chunk_body_keeps_its_content_length() -> None:
    """wsgiref sets ``Content-Length`` for a one-item list body the app gave none for; the
    middleware's wrapper had no length, so the answer went out without one."""
    tracer, reporter = waiting_tracer()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"hello"]

    with wsgi_server(WSGIMiddleware(app, tracer)) as url:
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=WAIT)
        connection.request("GET", "/")
        response = connection.getresponse()
        assert (response.getheader("Content-Length"), response.read()) == ("5", b"hello")
        connection.close()
        (span,) = reporter.wait_for(1)
    assert span.tags["http.status_code"] == 200


def test_a_streamed_body_keeps_the_span_open_until_close() -> None:
    """The span is active while the generator runs and ends only when the server closes
    the response, after the last chunk; an error while streaming is recorded."""
    tracer, reporter = waiting_tracer()
    release = threading.Event()
    active: list[Optional[Span]] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])

        def body() -> Iterator[bytes]:
            active.append(tracer.active_span)
            yield b"first;"
            assert release.wait(WAIT)
            active.append(tracer.active_span)
            yield b"second"
            raise RuntimeError("stream broke")

        return body()

    with wsgi_server(WSGIMiddleware(app, tracer)) as url:
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=WAIT)
        connection.request("GET", "/stream")
        response = connection.getresponse()
        assert response.read(6) == b"first;"
        assert reporter.spans == []  # mid-stream: the span is still open
        release.set()
        assert response.read(6) == b"second"
        connection.close()
        (span,) = reporter.wait_for(1)
    assert active == [span, span]
    assert span.tags["error"] is True
    assert span.logs[0].fields["error.kind"] == "RuntimeError"


def test_a_scope_left_by_the_body_does_not_outlive_the_request() -> None:
    """A body generator paused inside ``with start_active_span`` leaves its scope above
    the server span's: the middleware unwinds it (counted as leaked) and the server thread
    is left with no active span. It kept the finished server span active between requests
    (a pooled thread parented later work to it) and chained every request's scope and span
    onto the last, never freed."""
    tracer, reporter = waiting_tracer()
    between: list[Optional[Span]] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])

        def body() -> Iterator[bytes]:
            with tracer.start_active_span("render"):
                yield b"a"
                yield b"b"

        return body()

    class Handler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # after each response
            between.append(tracer.active_span)

    # One thread serves every request in turn, as a worker thread of a pool does.
    server = make_server("127.0.0.1", 0, WSGIMiddleware(app, tracer), handler_class=Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for _ in range(3):
            assert get(f"http://127.0.0.1:{server.server_port}/page") == (200, b"ab")
        spans = reporter.wait_for(6)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(WAIT)
    assert between == [None, None, None]
    assert [s.operation_name for s in spans] == ["render", "GET"] * 3
    assert tracer.metrics["scopes_leaked"] == 3


GUNICORN_APP = """
import os
import socket

from jaeger_lite import InMemoryReporter, Tracer
from jaeger_lite.integrations import WSGIMiddleware

SENDFILE = []
_sendfile = socket.socket.sendfile


def counting_sendfile(self, *args, **kwargs):
    SENDFILE.append(1)
    return _sendfile(self, *args, **kwargs)


socket.socket.sendfile = counting_sendfile
reporter = InMemoryReporter()
tracer = Tracer("files", reporter)


def files(environ, start_response):
    if environ["PATH_INFO"] == "/stats":
        spans = [span.tags.get("http.url", "").rpartition("/")[2] for span in reporter.spans]
        body = f"{len(SENDFILE)} {','.join(spans)}".encode()
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]
    start_response("200 OK", [("Content-Length", str(os.path.getsize(__file__)))])
    return environ["wsgi.file_wrapper"](open(__file__, "rb"))


app = WSGIMiddleware(files, tracer)
"""


def test_the_servers_file_wrapper_reaches_it_and_close_ends_the_span(tmp_path: Path) -> None:
    """An app returning ``environ["wsgi.file_wrapper"](file)`` (Flask's send_file,
    WhiteNoise) under gunicorn: the server still sees its own wrapper and sends the file
    with ``sendfile()`` (the middleware's wrapper hid it: the file was read and copied in
    8 KB blocks), and the span ends when gunicorn closes it."""
    pytest.importorskip("gunicorn")
    if not hasattr(os, "fork"):
        pytest.skip("gunicorn needs os.fork")
    (tmp_path / "files_app.py").write_text(GUNICORN_APP)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # requests queue here until the worker has booted
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), root]))
    command = [sys.executable, "-m", "gunicorn", "--workers=1", "--worker-class=sync"]
    command += [f"--bind=fd://{listener.fileno()}", "--graceful-timeout=5", "files_app:app"]
    proc = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=env,
        pass_fds=(listener.fileno(),),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        source = (tmp_path / "files_app.py").read_bytes()
        assert get(f"{url}/page.css") == (200, source)
        assert get(f"{url}/stats") == (200, b"1 page.css")
    finally:
        proc.terminate()
        proc.wait(WAIT)
        listener.close()


def test_skipped_paths_are_not_traced() -> None:
    """Exact paths and ``prefix*`` entries are served untraced."""
    tracer, reporter = waiting_tracer()
    middleware = WSGIMiddleware(hello, tracer, skip_paths=["/health", "/static/*"])
    with wsgi_server(middleware) as url:
        for path in ("/health", "/static/app.js", "/healthz"):
            assert get(url + path) == (200, b"hello")
        (span,) = reporter.wait_for(1)
    assert span.tags["http.url"].endswith("/healthz")


def test_nested_middleware_traces_once() -> None:
    """A second WSGIMiddleware inside the first adds no second span."""
    tracer, reporter = waiting_tracer()
    with wsgi_server(WSGIMiddleware(WSGIMiddleware(hello, tracer), tracer)) as url:
        get(url)
        reporter.wait_for(1)
        get(url)
        assert len(reporter.wait_for(2)) == 2


class _Broken(Tracer):
    def start_active_span(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("misconfigured")


class _FailingReporter(Reporter):
    def report_span(self, span: Span) -> None:
        raise OSError("disk full")


def test_a_closed_or_broken_tracer_never_breaks_the_app() -> None:
    """A closed tracer, one that raises, a failing reporter and a strict tracer given a
    corrupt header: every request is answered as without tracing."""
    closed, _ = waiting_tracer()
    closed.close()
    strict, strict_reporter = waiting_tracer(strict_extract=True)
    tracers = [closed, _Broken("broken"), Tracer("failing", _FailingReporter()), strict]
    before = metrics()["integration_errors"]
    for tracer in tracers:
        with wsgi_server(WSGIMiddleware(hello, tracer)) as url:
            headers = {"uber-trace-id": "not:a:trace:id"}
            assert get(f"{url}/x", headers) == (200, b"hello")
    (span,) = strict_reporter.wait_for(1)  # the corrupt header started a new trace
    assert span.context.parent_id == 0
    assert metrics()["integration_errors"] >= before + 2  # broken start, strict extract


@pytest.mark.parametrize(
    ("address", "tag"),
    [
        ("127.0.0.1", "peer.ipv4"),
        ("::1", "peer.ipv6"),
        ("::ffff:10.0.0.1", "peer.ipv6"),
        ("testclient", "peer.hostname"),
        ("/run/app.sock", "peer.hostname"),
    ],
)
def test_the_peer_address_tag_is_named_as_opentracing_names_it(address: str, tag: str) -> None:
    """IPv4 and IPv6 addresses get OpenTracing's peer.ipv4 / peer.ipv6, anything else a
    server hands over (a test client's name, a socket path) peer.hostname."""
    assert peer_tag(address) == tag

"""Real servers on 127.0.0.1 for the integration tests (a threaded wsgiref server, uvicorn
on a socket the test opened) and a reporter the tests can wait on."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from jaeger_lite import InMemoryReporter, Span, Tracer

WAIT = 10.0  # seconds: the bound of every wait on a server or a span


class WaitingReporter(InMemoryReporter):
    """An InMemoryReporter whose test can wait until spans arrive (a server ends its span
    after the client has its answer: on close() of the response)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = threading.Condition()

    def report_span(self, span: Span) -> None:
        with self.arrived:
            super().report_span(span)
            self.arrived.notify_all()

    def wait_for(self, count: int, timeout: float = WAIT) -> list[Span]:
        """The spans once ``count`` have arrived (fewer after ``timeout``: the test fails)."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self._spans) >= count, timeout)
        return self.spans

    def in_trace(self, trace_id: int, count: int = 1, timeout: float = WAIT) -> list[Span]:
        """The spans of one trace once ``count`` have arrived (spans of other traces, late
        from an earlier test, are left out)."""

        def arrived() -> list[Span]:
            return [s for s in self._spans if s.context.trace_id == trace_id]

        with self.arrived:
            self.arrived.wait_for(lambda: len(arrived()) >= count, timeout)
            return arrived()

    def named(self, name: str) -> Span:
        (span,) = [s for s in self.spans if s.operation_name == name]
        return span


def waiting_tracer(service: str = "svc", **options: Any) -> tuple[Tracer, WaitingReporter]:
    reporter = WaitingReporter()
    return Tracer(service, reporter, **options), reporter


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def wsgi_server(app: Any) -> Iterator[str]:
    """Serve the WSGI ``app`` (stdlib wsgiref, a thread per request); yields its base URL."""
    server = make_server(
        "127.0.0.1", 0, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(WAIT)


@contextmanager
def asgi_server(app: Any) -> Iterator[str]:
    """Serve the ASGI ``app`` with uvicorn (lifespan on) on a socket bound here: it listens
    before uvicorn starts, so requests queue instead of racing the start-up."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    config = uvicorn.Config(app, lifespan="on", log_level="warning", ws="auto")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(WAIT)
        sock.close()


def parent_id(span: Span) -> int:
    return span.context.parent_id

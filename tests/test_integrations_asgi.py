"""ASGIMiddleware on Starlette and FastAPI under uvicorn (127.0.0.1): HTTP and WebSocket
spans named by the route template, active in the endpoint, covering the body stream;
lifespan passed through; errors; a broken tracer."""

from __future__ import annotations

import asyncio
import http.client
import threading
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any, Optional
from urllib.parse import urlsplit

import pytest

from jaeger_lite import Format, Span, Tracer
from jaeger_lite.integrations import ASGIMiddleware
from jaeger_lite.integrations.asgi import route_template

from ._integration_helpers import WAIT, WaitingReporter, asgi_server, waiting_tracer

pytest.importorskip("uvicorn")
pytest.importorskip("websockets")
applications = pytest.importorskip("starlette.applications")
responses = pytest.importorskip("starlette.responses")
routing = pytest.importorskip("starlette.routing")
fastapi = pytest.importorskip("fastapi")


class Site:
    """A Starlette app with a mounted sub-app, and what its endpoints saw."""

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        self.active: dict[str, Optional[Span]] = {}
        self.lifespan: list[str] = []
        self.release = threading.Event()
        self.app = applications.Starlette(
            routes=[
                routing.Route("/users/{user_id}", self.user),
                routing.Route("/sync/{n}", self.sync),
                routing.Route("/stream", self.stream),
                routing.Route("/fail", self.fail),
                routing.WebSocketRoute("/ws/{room}", self.chat),
                routing.Mount("/api", routes=[routing.Route("/v1/orders/{id}", self.user)]),
            ],
            lifespan=self.lifespan_events,
        )

    @asynccontextmanager
    async def lifespan_events(self, app: Any) -> AsyncIterator[None]:
        self.lifespan.append("startup")
        yield
        self.lifespan.append("shutdown")

    async def user(self, request: Any) -> Any:
        self.active["user"] = self.tracer.active_span
        return responses.PlainTextResponse("user")

    def sync(self, request: Any) -> Any:  # Starlette runs it in a worker thread
        self.active["sync"] = self.tracer.active_span
        return responses.PlainTextResponse("sync")

    async def stream(self, request: Any) -> Any:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first;"
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, WAIT)
            self.active["stream"] = self.tracer.active_span
            yield b"second"

        return responses.StreamingResponse(chunks())

    async def fail(self, request: Any) -> Any:
        raise ConnectionError("backend gone")

    async def chat(self, websocket: Any) -> None:
        self.active["chat"] = self.tracer.active_span
        await websocket.accept()
        text = await websocket.receive_text()
        await websocket.send_text(f"{websocket.path_params['room']}: {text}")
        await websocket.close()


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, Site, WaitingReporter]]:
    tracer, reporter = waiting_tracer("asgi-app")
    site = Site(tracer)
    with asgi_server(ASGIMiddleware(site.app, tracer, skip_paths=["/health"])) as url:
        yield url, site, reporter
    assert site.lifespan == ["startup", "shutdown"]


@pytest.fixture
def service(served: tuple[str, Site, WaitingReporter]) -> tuple[str, Site, WaitingReporter]:
    served[2].clear()
    return served


def fetch(url: str, headers: Optional[dict[str, str]] = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=WAIT) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_http_span_named_by_route_and_active_in_the_endpoint(
    service: tuple[str, Site, WaitingReporter],
) -> None:
    """The caller's trace continues; the endpoint sees the span; the template names it."""
    url, site, reporter = service
    client, _ = waiting_tracer("client")
    with client.start_active_span("call") as scope:
        headers: dict[str, str] = {}
        client.inject(scope.span.context, Format.HTTP_HEADERS, headers)
        assert fetch(f"{url}/users/42?token=t0p&page=1", headers) == (200, b"user")
    (span,) = reporter.wait_for(1)
    assert site.active["user"] is span
    assert span.context.parent_id == scope.span.context.span_id
    assert span.operation_name == "GET /users/{user_id}"
    assert dict(span.tags) == {
        "span.kind": "server",
        "component": "asgi",
        "http.method": "GET",
        "http.url": f"{url}/users/42?token=REDACTED&page=1",
        "peer.ipv4": "127.0.0.1",
        "http.route": "/users/{user_id}",
        "http.status_code": 200,
    }


def test_sync_endpoints_and_mounts(service: tuple[str, Site, WaitingReporter]) -> None:
    """A sync endpoint's worker thread sees the span; a mount's prefix is in the name."""
    url, site, reporter = service
    assert fetch(f"{url}/sync/1")[0] == 200
    assert fetch(f"{url}/api/v1/orders/9")[0] == 200
    spans = reporter.wait_for(2)
    assert site.active["sync"] is spans[0]
    assert [s.operation_name for s in spans] == ["GET /sync/{n}", "GET /api/v1/orders/{id}"]


def test_the_span_covers_the_body_stream(service: tuple[str, Site, WaitingReporter]) -> None:
    """Open while the body streams, active in the generator, ended after the last chunk."""
    url, site, reporter = service
    site.release.clear()
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=WAIT)
    connection.request("GET", "/stream")
    response = connection.getresponse()
    assert response.read(6) == b"first;"
    assert reporter.spans == []
    site.release.set()
    assert response.read() == b"second"
    connection.close()
    (span,) = reporter.wait_for(1)
    assert site.active["stream"] is span
    assert span.operation_name == "GET /stream"


def test_an_exception_is_an_error(service: tuple[str, Site, WaitingReporter]) -> None:
    """The endpoint's exception: a 500 answer, the span failed with the exception."""
    url, _, reporter = service
    assert fetch(f"{url}/fail")[0] == 500
    (span,) = reporter.wait_for(1)
    assert span.tags["http.status_code"] == 500
    assert span.tags["error"] is True
    assert span.logs[0].fields["error.kind"] == "ConnectionError"


def test_skipped_and_unmatched(service: tuple[str, Site, WaitingReporter]) -> None:
    """skip_paths are untraced; a 404 is named by the method alone."""
    url, _, reporter = service
    assert fetch(f"{url}/health")[0] == 404
    assert fetch(f"{url}/nothing/here")[0] == 404
    (span,) = reporter.wait_for(1)
    assert span.operation_name == "GET"


def test_a_websocket_connection_is_one_span(service: tuple[str, Site, WaitingReporter]) -> None:
    """Accepted (101), active in the endpoint, ended when the endpoint returns."""
    from websockets.sync.client import connect

    url, site, reporter = service
    with connect(url.replace("http", "ws") + "/ws/lobby", open_timeout=WAIT) as websocket:
        websocket.send("hi")
        assert websocket.recv(timeout=WAIT) == "lobby: hi"
    (span,) = reporter.wait_for(1)
    assert site.active["chat"] is span
    assert span.operation_name == "WEBSOCKET /ws/{room}"
    assert span.tags["http.status_code"] == 101
    assert span.tags["http.url"].startswith("ws://127.0.0.1:")


def test_a_websocket_closed_before_accept_is_a_403() -> None:
    """An endpoint that closes the socket before accepting it (and a path no route
    matches): the server refuses the handshake with 403, as the ASGI spec says, and the
    span says so (it had no status)."""
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    tracer, reporter = waiting_tracer("ws-app")

    async def members_only(websocket: Any) -> None:
        await websocket.close(code=1008)

    app = applications.Starlette(routes=[routing.WebSocketRoute("/members", members_only)])
    with asgi_server(ASGIMiddleware(app, tracer)) as url:
        for path in ("/members", "/nowhere"):
            with pytest.raises(InvalidStatus) as refused:
                connect(url.replace("http", "ws") + path, open_timeout=WAIT)
            assert refused.value.response.status_code == 403
        spans = reporter.wait_for(2)
    assert [(s.operation_name, s.tags["http.status_code"]) for s in spans] == [
        ("WEBSOCKET /members", 403),
        ("WEBSOCKET", 403),
    ]
    assert not any(s.tags.get("error") for s in spans)


def test_an_app_that_returns_without_a_response_is_a_500() -> None:
    """An ASGI app that returns without starting a response: uvicorn answers 500, and the
    span has that status and error=true (it had neither)."""
    tracer, reporter = waiting_tracer("silent-app")

    async def silent(scope: Any, receive: Any, send: Any) -> None:
        return None

    with asgi_server(ASGIMiddleware(silent, tracer)) as url:
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(url + "/quiet", timeout=WAIT)
        assert answer.value.code == 500
        (span,) = reporter.wait_for(1)
    assert span.tags["http.status_code"] == 500 and span.tags["error"] is True


def test_fastapi_routes_are_templates() -> None:
    """FastAPI's path operations name the span (``GET /items/{item_id}``), with the
    middleware added the FastAPI way (inside the app's own error middleware)."""
    tracer, reporter = waiting_tracer("fastapi-app")
    app = fastapi.FastAPI()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, Any]:
        span = tracer.active_span
        return {"item": item_id, "traced": span is not None}

    app.add_middleware(ASGIMiddleware, tracer=tracer)
    with asgi_server(app) as url:
        assert fetch(f"{url}/items/5") == (200, b'{"item":5,"traced":true}')
        (span,) = reporter.wait_for(1)
    assert span.operation_name == "GET /items/{item_id}"


def test_the_span_ends_with_the_response_not_the_background_task() -> None:
    """A background task runs after the response (the client has its answer): the span
    ends when the last chunk was sent, before the task's own span starts, and an error the
    task raises is still recorded on it. The span lasted as long as the task did."""
    background = pytest.importorskip("starlette.background")
    tracer, reporter = waiting_tracer("bg-app")
    release = threading.Event()

    async def task() -> None:
        with tracer.start_active_span("send-email"):
            await asyncio.get_running_loop().run_in_executor(None, release.wait, WAIT)
        raise LookupError("mail server gone")

    async def order(request: Any) -> Any:
        return responses.PlainTextResponse("ordered", background=background.BackgroundTask(task))

    app = applications.Starlette(routes=[routing.Route("/order", order)])
    with asgi_server(ASGIMiddleware(app, tracer)) as url:
        assert fetch(f"{url}/order") == (200, b"ordered")
        release.set()  # only now, with the answer in hand, may the task end
        email, served = reporter.wait_for(2)
    assert (served.operation_name, email.operation_name) == ("GET /order", "send-email")
    assert email.context.parent_id == served.context.span_id
    assert served.finish_time is not None and email.finish_time is not None
    assert served.finish_time <= email.start_time + 1e-6 < email.finish_time
    assert served.tags["http.status_code"] == 200
    assert served.tags["error"] is True
    assert served.logs[0].fields["error.kind"] == "LookupError"


def test_routes_are_found_without_scope_route() -> None:
    """Starlette before 0.50 records no ``scope["route"]``: the router is matched again."""
    site = Site(waiting_tracer()[0])
    router = site.app.router
    for path, template in [
        ("/users/42", "/users/{user_id}"),
        ("/api/v1/orders/9", "/api/v1/orders/{id}"),
        ("/nowhere", None),
    ]:
        scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "router": router}
        assert route_template(scope) == template


class _Broken(Tracer):
    def start_active_span(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("misconfigured")


def test_a_closed_or_broken_tracer_never_breaks_the_app() -> None:
    """Requests are answered as without tracing."""
    closed, _ = waiting_tracer()
    closed.close()
    for tracer in (closed, _Broken("broken")):
        site = Site(tracer)
        with asgi_server(ASGIMiddleware(site.app, tracer)) as url:
            assert fetch(f"{url}/users/1") == (200, b"user")

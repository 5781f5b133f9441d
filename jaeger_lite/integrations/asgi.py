"""ASGI middleware: each HTTP request and WebSocket connection runs in a server span that
continues the caller's trace, is active in the endpoint's task and lasts until the last
body chunk is sent (or the socket closes). Lifespan events pass through untouched.

    app = ASGIMiddleware(app, skip_paths=["/health"])

Starlette and FastAPI record the matched route in the scope; the span is named after its
template (``GET /users/{user_id}``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, MutableMapping
from time import time
from typing import Any, Callable, Optional
from urllib.parse import quote

from ..span import Span
from ..tracer import Tracer
from ._common import failed, redact_query, secrets_from, tracer_or_global
from ._server import (
    REQUEST_KEY,
    ServerRequest,
    SkipPaths,
    SpanName,
    default_span_name,
    peer_tag,
    start_server_span,
)

__all__ = ["ASGIMiddleware", "route_template", "scope_url"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_PATH_SAFE = "/:@!$&'()*+,;="  # as in wsgi.py: the characters a path keeps as sent
# The messages that end a response when their more_body is false (pathsend has none).
_LAST_BODY = frozenset(
    {"http.response.body", "http.response.pathsend", "http.response.zerocopysend"}
)


class ASGIMiddleware:
    """Trace every HTTP request and WebSocket connection of an ASGI application.

    The options are those of :class:`~jaeger_lite.integrations.wsgi.WSGIMiddleware`
    (``tracer``, ``skip_paths``, ``span_name``, ``redact``). A WebSocket span is named
    ``WEBSOCKET /route`` and tagged ``http.status_code`` 101 once accepted (403 when closed
    before).
    """

    def __init__(
        self,
        app: ASGIApp,
        tracer: Optional[Tracer] = None,
        *,
        skip_paths: Iterable[str] = (),
        span_name: Optional[SpanName] = None,
        redact: Optional[Iterable[str]] = None,
    ) -> None:
        self.app = app
        self._tracer = tracer
        skip = SkipPaths(skip_paths)
        self._skip = skip if skip else None  # checked per request: None when empty
        self._span_name = span_name or default_span_name
        self._secrets = secrets_from(redact)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if (
            kind not in ("http", "websocket")  # lifespan, or an extension's type
            or REQUEST_KEY in scope
            or (self._skip is not None and scope.get("path") in self._skip)
        ):
            await self.app(scope, receive, send)
            return
        request = self._start(scope, kind == "websocket")
        if request is None:
            await self.app(scope, receive, send)
            return
        root_path = scope.get("root_path") or ""
        sent: list[float] = []  # when the response's last chunk was handed to the server

        async def traced_send(message: Message) -> None:
            kind = message.get("type")
            if kind == "http.response.start":
                request.status = _status(message.get("status"))
            elif kind == "websocket.accept":
                request.status = 101
            elif kind == "websocket.http.response.start":  # the handshake was refused
                request.status = _status(message.get("status"))
            elif kind == "websocket.close" and request.status is None:
                request.status = 403  # closed before accept: the server answers 403 (ASGI)
            await send(message)
            if kind in _LAST_BODY and not sent and not message.get("more_body", False):
                sent.append(time())

        try:
            await self.app(scope, receive, traced_send)
        except BaseException as error:
            request.fail(error)
            raise
        else:
            if request.status is None and kind == "http":
                # Returned without a response: the server answers 500 itself (uvicorn,
                # hypercorn and daphne do), and the span says so.
                request.status = 500
        finally:
            route = route_template(scope, root_path)
            if route:
                request.set_route(route)
            # The span ends when the response did, not after Starlette's background tasks
            # (no part of the request's latency); what they raise is still recorded on it.
            request.finish(sent[0] if sent else None)

    def _start(self, scope: Scope, websocket: bool) -> Optional[ServerRequest]:
        request = start_server_span(
            tracer_or_global(self._tracer),
            "GET" if websocket else str(scope.get("method") or "GET"),
            scope.get("headers") or (),
            None,
            self._span_name,
            "asgi",
            "WEBSOCKET" if websocket else None,
        )
        if request is None:
            return None
        try:
            scope[REQUEST_KEY] = request
            span = request.span
            if span.is_sampled:
                _tag_request(span, scope, self._secrets)
        except Exception:  # a scope value of an unexpected kind
            failed("tagging the server span")
        return request


def _status(value: Any) -> Optional[int]:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _tag_request(span: Span, scope: Scope, secrets: frozenset[str]) -> None:
    span.set_tag("http.url", scope_url(scope, secrets))
    client = scope.get("client")
    if client:
        address = str(client[0])
        span.set_tag(peer_tag(address), address)


def route_template(scope: Scope, root_path: str = "") -> Optional[str]:
    """The template of the route the framework matched, after any mount's prefix: the route
    recorded in the scope (Starlette 0.50+, FastAPI: ``scope["route"].path``), else the
    route of Starlette's router (``scope["router"]``) that matches the request."""
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        mounted = scope.get("root_path") or ""  # a Mount appends the part it matched
        if mounted.startswith(root_path) and len(mounted) > len(root_path):
            return mounted[len(root_path) :] + path
        return path
    router = scope.get("router")
    if router is None:
        return None
    try:
        return _match(router, {**scope, "root_path": root_path}, "", 0)
    except Exception:  # a router of another shape: the span keeps the method's name
        failed("matching the Starlette route")
        return None


def _match(router: Any, probe: Scope, prefix: str, depth: int) -> Optional[str]:
    """The template of the route of ``router`` that fully matches ``probe``, looking into
    mounts (as the router itself did, on the scope as it was before routing)."""
    for route in getattr(router, "routes", None) or ():
        match, child = route.matches(probe)
        if getattr(match, "name", None) != "FULL":
            continue
        path = prefix + str(getattr(route, "path", ""))
        if getattr(route, "routes", None) and depth < 8:  # a Mount of routes: look inside
            return _match(route, {**probe, **child}, path, depth + 1) or path
        return path
    return None


def scope_url(scope: Scope, secrets: frozenset[str]) -> str:
    """The URL the client asked for, without the values of secret query parameters."""
    scheme = scope.get("scheme") or ("ws" if scope.get("type") == "websocket" else "http")
    host = ""
    for name, value in scope.get("headers") or ():
        if name == b"host":
            host = bytes(value).decode("latin-1")
            break
    if not host:
        server = scope.get("server")
        if server:
            host = f"{server[0]}:{server[1]}" if len(server) > 1 and server[1] else str(server[0])
    raw = scope.get("raw_path")
    if isinstance(raw, (bytes, bytearray)):
        path = bytes(raw).decode("latin-1").partition("?")[0]
    else:
        path = quote((scope.get("root_path") or "") + (scope.get("path") or ""), safe=_PATH_SAFE)
    query = scope.get("query_string")
    if query:
        text = bytes(query).decode("latin-1")
        return f"{scheme}://{host}{path}?{redact_query(text, secrets)}"
    return f"{scheme}://{host}{path}"

"""The server span of one request, shared by the WSGI, ASGI and Django integrations:
started from the caller's headers, named by method and route template, finished once."""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any, Callable, Optional

from ..propagation import Format
from ..scope import Scope
from ..span import Span, record_error
from ..tracer import Tracer
from ._common import failed

__all__ = [
    "REQUEST_KEY",
    "ServerRequest",
    "SkipPaths",
    "SpanName",
    "default_span_name",
    "fail_request",
    "peer_tag",
    "set_route",
    "start_server_span",
]

#: Where the request's :class:`ServerRequest` is kept in the WSGI environ or ASGI scope, so
#: the framework helpers (and :func:`set_route`) reach the span the middleware started.
REQUEST_KEY = "jaeger_lite.request"

#: Builds the operation name from the HTTP method and the route template (None: unknown).
SpanName = Callable[[str, Optional[str]], str]


def peer_tag(address: str) -> str:
    """The OpenTracing tag for a client's address: ``peer.ipv6``, ``peer.ipv4``, or
    ``peer.hostname`` for anything else a server hands over (a name, a socket path)."""
    if ":" in address:
        return "peer.ipv6"
    return "peer.ipv4" if address[:1].isdigit() else "peer.hostname"


def default_span_name(method: str, route: Optional[str]) -> str:
    """``GET /users/{id}`` when the route template is known, else ``GET``: never the raw
    path, which would give every URL an operation of its own."""
    return f"{method} {route}" if route else method


class ServerRequest:
    """One traced request: its span (active while application code runs) and its answer."""

    __slots__ = ("_error", "_finished", "_method", "_scope", "_span_name", "span", "status")

    def __init__(self, span: Span, scope: Scope, method: str, span_name: SpanName) -> None:
        self.span = span
        self._scope: Optional[Scope] = scope
        self._method = method
        self._span_name = span_name
        self._error: Optional[BaseException] = None
        self._finished = False
        self.status: Optional[int] = None

    def set_route(self, route: str) -> None:
        """Name the span after the route template the framework matched."""
        try:
            self.span.set_operation_name(self._span_name(self._method, route))
            self.span.set_tag("http.route", route)
        except Exception:  # a user span_name function failed: keep the first name
            failed("naming the server span")

    def fail(self, error: BaseException) -> None:
        """Record an exception raised by the application (once, however often it is seen)."""
        if error is not self._error:
            self._error = error
            record_error(self.span, error, error.__traceback__)

    def activate(self) -> None:
        """Make the span active in this thread or task (for code the server runs later)."""
        if self._scope is None and not self._finished:
            self._scope = self.span.tracer.scope_manager.activate(self.span, False)

    def deactivate(self) -> None:
        """Leave the scope as the end of a ``with`` block does: scopes the application
        left active above it (a generator paused inside ``with start_active_span``) are
        unwound and counted as leaked. ``close()`` did nothing under them, so a pooled
        server thread kept every request's scope and span, chained, and parented later
        work to a finished span."""
        scope, self._scope = self._scope, None
        if scope is not None:
            scope.__exit__(None, None, None)

    def finish(self, finish_time: Optional[float] = None) -> None:
        """Tag the status (5xx is an error), leave the scope and end the span, once (at
        ``finish_time``, seconds since the epoch, when given)."""
        if self._finished:
            return
        self._finished = True
        try:
            self.deactivate()
            span = self.span
            status = self.status
            if status is not None:
                span.set_tag("http.status_code", status)
                if status >= 500:
                    span.set_tag("error", True)
            span.finish(finish_time)
        except Exception:  # the scope belonged to another context, or a reporter bug
            failed("finishing the server span")


def start_server_span(
    tracer: Tracer,
    method: str,
    headers: Any,
    route: Optional[str],
    span_name: SpanName,
    component: str,
    name_method: Optional[str] = None,
) -> Optional[ServerRequest]:
    """Start the active server span of a request continuing the caller's trace from
    ``headers`` (any carrier the tracer's HTTP_HEADERS codecs read); None when tracing
    fails (a misconfigured tracer): the request then runs untraced. ``name_method``
    replaces the method in the operation name (``WEBSOCKET`` for a WebSocket's GET)."""
    name_method = name_method or method
    try:
        try:
            parent = tracer.extract(Format.HTTP_HEADERS, headers)
        except Exception:  # strict_extract's SpanContextCorruptedException, a codec bug
            failed("extracting the caller's context")
            parent = None
        # A request is an entry point: with no caller context it starts a trace, never a
        # child of a span some earlier code left active in a pooled thread.
        scope = tracer.start_active_span(
            span_name(name_method, route),
            child_of=parent,
            ignore_active_span=True,
            finish_on_close=False,
        )
        span = scope.span
        request = ServerRequest(span, scope, name_method, span_name)
        if span.is_sampled:
            span.set_tag("span.kind", "server")
            span.set_tag("component", component)
            span.set_tag("http.method", method)
            if route:
                span.set_tag("http.route", route)
        return request
    except Exception:  # a closed, foreign or broken tracer: serve the request untraced
        failed("starting the server span")
        return None


def set_route(carrier: MutableMapping[str, Any], route: str) -> None:
    """Name the server span of the request whose WSGI environ or ASGI scope is ``carrier``
    after its route template (``/users/{id}``); for frameworks without a helper here."""
    request = carrier.get(REQUEST_KEY)
    if isinstance(request, ServerRequest):
        request.set_route(route)


def fail_request(carrier: MutableMapping[str, Any], error: BaseException) -> None:
    """Record ``error`` on the request's server span (for frameworks that turn exceptions
    into 500 answers before the middleware could see them)."""
    request = carrier.get(REQUEST_KEY)
    if isinstance(request, ServerRequest):
        request.fail(error)


class SkipPaths:
    """Paths served untraced: exact paths, and prefixes written with a trailing ``*``."""

    __slots__ = ("_exact", "_prefixes")

    def __init__(self, paths: Iterable[str]) -> None:
        paths = [paths] if isinstance(paths, str) else list(paths)
        self._exact = frozenset(p for p in paths if not p.endswith("*"))
        self._prefixes = tuple(p[:-1] for p in paths if p.endswith("*"))

    def __bool__(self) -> bool:
        return bool(self._exact or self._prefixes)

    def __contains__(self, path: object) -> bool:
        if path in self._exact:
            return True
        return bool(self._prefixes) and isinstance(path, str) and path.startswith(self._prefixes)

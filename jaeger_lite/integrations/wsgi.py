"""WSGI middleware: each request runs in a server span continuing the caller's trace, from
the call of the application until the server closes the response (streaming included).

    app = WSGIMiddleware(app, skip_paths=["/health"])

Works for any WSGI application (Flask, Django, Pyramid, bare WSGI); the Flask and Django
helpers add the route template the framework matched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
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

__all__ = ["WSGIMiddleware", "environ_headers", "request_url"]

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

# RFC 3986's sub-delims and the path's ":" and "@" stay as they are; PATH_INFO arrives
# percent-decoded (PEP 3333), so everything else is encoded again, as it was sent.
_PATH_SAFE = "/:@!$&'()*+,;="
_NEEDS_QUOTING = re.compile(r"[^A-Za-z0-9_.~/:@!$&'()*+,;=-]").search


class WSGIMiddleware:
    """Trace every request of a WSGI application.

    ``tracer``: the tracer to use (default: the global tracer at request time).
    ``skip_paths``: paths served untraced (exact, or a prefix written ``"/static/*"``).
    ``route``: a function of the environ returning the route template, for bare WSGI apps
    that know it before they run (frameworks set it through their helper instead).
    ``span_name``: builds the operation name from the method and the route template
    (default ``"GET /users/{id}"``, or ``"GET"`` while the route is unknown).
    ``redact``: query parameter names whose values ``http.url`` hides (default:
    :data:`~jaeger_lite.integrations.SECRET_QUERY_PARAMETERS`).
    """

    def __init__(
        self,
        app: WSGIApp,
        tracer: Optional[Tracer] = None,
        *,
        skip_paths: Iterable[str] = (),
        route: Optional[Callable[[Environ], Optional[str]]] = None,
        span_name: Optional[SpanName] = None,
        redact: Optional[Iterable[str]] = None,
    ) -> None:
        self.app = app
        self._tracer = tracer
        skip = SkipPaths(skip_paths)
        self._skip = skip if skip else None  # checked per request: None when empty
        self._route = route
        self._span_name = span_name or default_span_name
        self._secrets = secrets_from(redact)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if REQUEST_KEY in environ or (
            self._skip is not None and environ.get("PATH_INFO", "") in self._skip
        ):
            return self.app(environ, start_response)  # traced further out, or skipped
        request = self._start(environ)
        if request is None:
            return self.app(environ, start_response)

        def traced_start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            try:
                request.status = int(status[:3])
            except (TypeError, ValueError):
                request.status = None  # not "NNN reason": the server will refuse it
            return start_response(status, headers, exc_info)

        try:
            result = self.app(environ, traced_start_response)
        except BaseException as error:
            # No body was produced, so the status passed to start_response was not sent:
            # the server answers with its own error (500), which we do not see.
            request.status = None
            request.fail(error)
            request.finish()
            raise
        request.deactivate()  # the server, not the application, runs from here on
        wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(wrapper, type) and isinstance(result, wrapper):
            return _file_body(result, request)
        if result.__class__ is list or result.__class__ is tuple:
            return ReadyBody(result, request)
        return TracedBody(result, request)

    def _start(self, environ: Environ) -> Optional[ServerRequest]:
        route = None
        if self._route is not None:
            try:
                route = self._route(environ)
            except Exception:  # the user's route function: serve the request anyway
                failed("the route function")
        request = start_server_span(
            tracer_or_global(self._tracer),
            environ.get("REQUEST_METHOD") or "GET",
            environ_headers(environ),
            route,
            self._span_name,
            "wsgi",
        )
        if request is None:
            return None
        try:
            environ[REQUEST_KEY] = request
            span = request.span
            if span.is_sampled:
                tag_request(span, environ, self._secrets)
        except Exception:  # an environ or tag value of an unexpected kind
            failed("tagging the server span")
        return request


def tag_request(span: Span, environ: Mapping[str, Any], secrets: frozenset[str]) -> None:
    span.set_tag("http.url", request_url(environ, secrets))
    peer = environ.get("REMOTE_ADDR")
    if peer:
        span.set_tag(peer_tag(str(peer)), peer)


class TracedBody:
    """The application's response iterable, holding the span open until ``close()``; the
    span is active again while the application's generator produces each chunk."""

    __slots__ = ("_iterator", "_request", "_result", "_sent")

    def __init__(self, result: Iterable[bytes], request: ServerRequest) -> None:
        self._result = result
        self._request = request
        self._iterator: Optional[Iterator[bytes]] = None
        self._sent = False  # a chunk was produced: the server sent the status

    def __iter__(self) -> Iterator[bytes]:
        result = self._result
        if result.__class__ is list or result.__class__ is tuple:
            return iter(result)  # a ready body: no application code runs while it is read
        self._iterator = self._call(iter, result)
        return self

    def __next__(self) -> bytes:
        iterator = self._iterator
        if iterator is None:
            raise StopIteration
        chunk: bytes = self._call(next, iterator)
        self._sent = True  # servers send the headers with the first chunk, even b""
        return chunk

    def _call(self, func: Callable[[Any], Any], arg: Any) -> Any:
        request = self._request
        request.activate()
        try:
            return func(arg)
        except StopIteration:
            raise
        except BaseException as error:
            if not self._sent:  # the server answers with its own 500, not this status
                request.status = None
            request.fail(error)
            raise
        finally:
            request.deactivate()

    def close(self) -> None:
        request = self._request
        try:
            close = getattr(self._result, "close", None)
            if close is not None:
                self._call(lambda _: close(), None)
        finally:
            request.finish()


class ReadyBody(TracedBody):
    """A list or tuple body: it has a length, as the application's own had, so a server
    that sets ``Content-Length`` from a one-chunk body (wsgiref, waitress) still does."""

    __slots__ = ()

    def __len__(self) -> int:
        return len(self._result)  # type: ignore[arg-type]


def _file_body(result: Any, request: ServerRequest) -> Iterable[bytes]:
    """The server's own ``wsgi.file_wrapper``, handed back as it is, so the server still
    recognises it and sends the file with ``sendfile()`` (gunicorn; Flask's ``send_file``
    and WhiteNoise return one): its ``close()``, which the server calls, ends the span. No
    application code runs while it is read. A wrapper refusing the attribute is wrapped."""
    close = getattr(result, "close", None)

    def close_and_finish() -> None:
        try:
            if close is not None:
                close()
        except BaseException as error:
            request.fail(error)
            raise
        finally:
            request.finish()

    try:
        result.close = close_and_finish
    except Exception:  # a wrapper with slots or a read-only close
        return TracedBody(result, request)
    return result  # type: ignore[no-any-return]


def environ_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    """The request headers of a WSGI environ (``HTTP_UBER_TRACE_ID`` → ``uber-trace-id``),
    the carrier the tracer's HTTP_HEADERS codecs read. CGI turned ``-`` into ``_``, so a
    baggage key written with ``_`` arrives with ``-``; servers often drop such headers."""
    headers: dict[str, str] = {}
    names = _HEADER_NAMES
    for key, value in environ.items():
        name = names.get(key)
        if name is None:
            name = key[5:].replace("_", "-").lower() if key[:5] == "HTTP_" else ""
            if len(names) < _MAX_NAMES:
                names[key] = name
        if name:
            headers[name] = value
    return headers


# Environ key -> header name ("" for CGI variables): the keys repeat from request to
# request, and the lookup makes environ_headers ~3x faster (about 2.5 µs a request with
# 20 environ keys). Bounded, as clients choose header names.
_HEADER_NAMES: dict[str, str] = {}
_MAX_NAMES = 1024


def request_url(environ: Mapping[str, Any], secrets: frozenset[str]) -> str:
    """The URL the client asked for, without the values of secret query parameters."""
    scheme = environ.get("wsgi.url_scheme") or "http"
    host = environ.get("HTTP_HOST")
    if not host:
        host = environ.get("SERVER_NAME") or ""
        port = str(environ.get("SERVER_PORT") or "")
        if port and port != ("443" if scheme == "https" else "80"):
            host = f"{host}:{port}"
    path = (environ.get("SCRIPT_NAME") or "") + (environ.get("PATH_INFO") or "")
    if _NEEDS_QUOTING(path):  # most paths need none: skipping quote() saves ~1 µs
        path = quote(path, safe=_PATH_SAFE, encoding="latin-1", errors="replace")
    query = environ.get("QUERY_STRING")
    if query:
        return f"{scheme}://{host}{path}?{redact_query(query, secrets)}"
    return f"{scheme}://{host}{path}"

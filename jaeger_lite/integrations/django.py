"""Django: a settings middleware tracing each request, named by the URL pattern matched.

    MIDDLEWARE = ["jaeger_lite.integrations.django.TracingMiddleware", ...]

Put it first, so the span covers the other middleware. The span of ``GET /users/42/`` is
named ``GET /users/<int:user_id>/`` (the resolver's route). Settings, all optional:
``JAEGER_LITE_SKIP_PATHS`` (paths served untraced, as ``skip_paths`` of the WSGI
middleware) and ``JAEGER_LITE_REDACT`` (the secret query parameters). The tracer is the
global one (``init_tracer`` in ``settings.py`` or ``wsgi.py`` sets it). Under a WSGI or
ASGI middleware of ours the middleware only names that span.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping
from typing import Any, Callable, Optional

from ._common import failed, secrets_from, tracer_or_global
from ._server import REQUEST_KEY, ServerRequest, SkipPaths, default_span_name, start_server_span
from .wsgi import environ_headers, tag_request

__all__ = ["TracingMiddleware"]


class TracingMiddleware:
    """Django middleware (synchronous; Django adapts it under ASGI)."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response
        from django.conf import settings

        self._skip = SkipPaths(getattr(settings, "JAEGER_LITE_SKIP_PATHS", ()))
        self._secrets = secrets_from(getattr(settings, "JAEGER_LITE_REDACT", None))

    def __call__(self, request: Any) -> Any:
        if _request_of(request) is not None or (self._skip and request.path_info in self._skip):
            return self.get_response(request)  # traced by our WSGI/ASGI middleware, or skipped
        state = self._start(request)
        if state is None:
            return self.get_response(request)
        try:
            response = self.get_response(request)
        except BaseException as error:
            state.fail(error)
            state.finish()
            raise
        try:
            state.status = int(response.status_code)
            closers = getattr(response, "_resource_closers", None)
            if getattr(response, "streaming", False) and isinstance(closers, list):
                # A streamed body is sent after this returns: the server's close() of the
                # response ends the span (Django's own request_finished hook works this way).
                state.deactivate()
                if not getattr(response, "is_async", False):
                    response.streaming_content = _traced_chunks(state, response.streaming_content)
                closers.append(state.finish)
                return response
        except Exception:  # a response object of an unexpected kind
            failed("reading the Django response")
        state.finish()
        return response

    def _start(self, request: Any) -> Optional[ServerRequest]:
        meta = request.META
        state = start_server_span(
            tracer_or_global(None),
            request.method or "GET",
            environ_headers(meta),
            None,
            default_span_name,
            "django",
        )
        if state is None:
            return None
        try:
            meta[REQUEST_KEY] = state
            if state.span.is_sampled:
                tag_request(state.span, meta, self._secrets)
        except Exception:  # META of an unexpected kind
            failed("tagging the server span")
        return state

    def process_view(self, request: Any, view: Any, args: Any, kwargs: Any) -> None:
        """Called once the URL resolver has matched: name the span after its route."""
        state = _request_of(request)
        if state is None:
            return
        try:
            route = getattr(request.resolver_match, "route", None)
            if isinstance(route, str) and route:
                state.set_route(route if route.startswith("/") else "/" + route)
        except Exception:  # a resolver of an unexpected kind
            failed("reading Django's resolver match")

    def process_exception(self, request: Any, exception: Exception) -> None:
        """Record a view's exception (Django answers it with a 500 before we see it)."""
        state = _request_of(request)
        if state is not None:
            state.fail(exception)


def _traced_chunks(state: ServerRequest, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """A streamed body's chunks, the span active while the view's iterator makes each (as
    under the WSGI middleware) and an exception it raises recorded on the span."""
    iterator = iter(chunks)
    sent = False
    while True:
        state.activate()
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        except BaseException as error:
            if not sent:  # the status was never sent: the server answers its own 500
                state.status = None
            state.fail(error)
            raise
        finally:
            state.deactivate()
        sent = True
        yield chunk


def _request_of(request: Any) -> Optional[ServerRequest]:
    """The traced request in META (the WSGI environ) or, under ASGI, the scope."""
    for carrier in (getattr(request, "META", None), getattr(request, "scope", None)):
        if isinstance(carrier, MutableMapping):
            state = carrier.get(REQUEST_KEY)
            if isinstance(state, ServerRequest):
                return state
    return None

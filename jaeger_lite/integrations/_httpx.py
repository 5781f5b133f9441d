"""``httpx``: a client span per request through the default transports, sync and async
(``Client`` and ``AsyncClient``; each redirect hop is a request of its own)."""

from __future__ import annotations

from typing import Any, Callable

from ._client import IN_CLIENT_CALL, Switch, finish_client_span, inject, start_client_span
from ._patch import Patch

__all__ = ["patches"]


def patches(switch: Switch) -> list[Patch]:
    """The patches that trace ``httpx``; ImportError when it is not installed."""
    import httpx

    def make_sync(handle: Callable[..., Any]) -> Callable[..., Any]:
        def handle_request(self: Any, request: Any) -> Any:
            span = start_client_span(switch.config, "httpx", request.method, str(request.url))
            if span is None:
                return handle(self, request)
            inject(span, request.headers)
            token = IN_CLIENT_CALL.set(True)
            try:
                response = handle(self, request)
            except BaseException as error:
                finish_client_span(span, None, error)
                raise
            finally:
                IN_CLIENT_CALL.reset(token)
            finish_client_span(span, getattr(response, "status_code", None))
            return response

        return handle_request

    def make_async(handle: Callable[..., Any]) -> Callable[..., Any]:
        async def handle_async_request(self: Any, request: Any) -> Any:
            span = start_client_span(switch.config, "httpx", request.method, str(request.url))
            if span is None:
                return await handle(self, request)
            inject(span, request.headers)
            token = IN_CLIENT_CALL.set(True)
            try:
                response = await handle(self, request)
            except BaseException as error:
                finish_client_span(span, None, error)
                raise
            finally:
                IN_CLIENT_CALL.reset(token)
            finish_client_span(span, getattr(response, "status_code", None))
            return response

        return handle_async_request

    return [
        Patch(httpx.HTTPTransport, "handle_request", make_sync),
        Patch(httpx.AsyncHTTPTransport, "handle_async_request", make_async),
    ]

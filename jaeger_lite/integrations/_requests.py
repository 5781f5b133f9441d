"""``requests``: a client span per ``HTTPAdapter.send``, the call that sends one request
and reads the answer's headers: each redirect hop (``Session.send`` follows redirects by
calling itself inside the first call) is a span of its own, with its own status."""

from __future__ import annotations

from typing import Any, Callable

from ._client import IN_CLIENT_CALL, Switch, finish_client_span, inject, start_client_span
from ._patch import Patch

__all__ = ["patches"]


def patches(switch: Switch) -> list[Patch]:
    """The patches that trace ``requests``; ImportError when it is not installed."""
    import requests.adapters

    def make(send: Callable[..., Any]) -> Callable[..., Any]:
        def traced_send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            span = start_client_span(switch.config, "requests", request.method, request.url)
            if span is None:
                return send(self, request, *args, **kwargs)
            inject(span, request.headers)
            token = IN_CLIENT_CALL.set(True)
            try:
                response = send(self, request, *args, **kwargs)
            except BaseException as error:
                finish_client_span(span, None, error)
                raise
            finally:
                IN_CLIENT_CALL.reset(token)
            finish_client_span(span, getattr(response, "status_code", None))
            return response

        return traced_send

    return [Patch(requests.adapters.HTTPAdapter, "send", make)]

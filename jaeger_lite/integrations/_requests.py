"""``requests``: a client span per ``Session.send`` (each redirect hop is a send of its own)."""

from __future__ import annotations

from typing import Any, Callable

from ._client import IN_CLIENT_CALL, Switch, finish_client_span, inject, start_client_span
from ._patch import Patch

__all__ = ["patches"]


def patches(switch: Switch) -> list[Patch]:
    """The patches that trace ``requests``; ImportError when it is not installed."""
    import requests.sessions

    def make(send: Callable[..., Any]) -> Callable[..., Any]:
        def traced_send(self: Any, request: Any, **kwargs: Any) -> Any:
            span = start_client_span(switch.config, "requests", request.method, request.url)
            if span is None:
                return send(self, request, **kwargs)
            inject(span, request.headers)
            token = IN_CLIENT_CALL.set(True)
            try:
                response = send(self, request, **kwargs)
            except BaseException as error:
                finish_client_span(span, None, error)
                raise
            finally:
                IN_CLIENT_CALL.reset(token)
            finish_client_span(span, getattr(response, "status_code", None))
            return response

        return traced_send

    return [Patch(requests.sessions.Session, "send", make)]

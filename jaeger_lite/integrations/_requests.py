"""``requests``: a client span per ``Session.send``, and one per redirect hop. Requests
follows redirects by calling ``Session.send`` again from inside the first call: each of
those calls is a span of its own, and the first call's span ends where the second hop
begins, tagged with the first answer's status."""

from __future__ import annotations

from contextvars import ContextVar
from time import time
from typing import Any, Callable, Optional

from ._client import IN_CLIENT_CALL, Switch, finish_client_span, inject, start_client_span
from ._patch import Patch

__all__ = ["patches"]


class _Hops:
    """The redirect hops sent from inside one traced ``Session.send``."""

    __slots__ = ("failed", "started")

    def __init__(self) -> None:
        self.started: Optional[float] = None  # when the first hop began
        self.failed: Optional[BaseException] = None  # what a hop raised (on its own span)


_HOPS: ContextVar[Optional[_Hops]] = ContextVar("jaeger_lite_requests_hops", default=None)


def patches(switch: Switch) -> list[Patch]:
    """The patches that trace ``requests``; ImportError when it is not installed."""
    import requests.sessions

    def make(send: Callable[..., Any]) -> Callable[..., Any]:
        def traced_send(self: Any, request: Any, **kwargs: Any) -> Any:
            hops = _HOPS.get()
            if hops is None or not IN_CLIENT_CALL.get():
                return send_one(self, request, kwargs)
            if hops.started is None:  # a redirect hop, sent from inside a traced send
                hops.started = time()
            token = IN_CLIENT_CALL.set(False)
            try:
                return send_one(self, request, kwargs)
            except BaseException as error:
                hops.failed = error
                raise
            finally:
                IN_CLIENT_CALL.reset(token)

        def send_one(self: Any, request: Any, kwargs: dict[str, Any]) -> Any:
            span = start_client_span(switch.config, "requests", request.method, request.url)
            if span is None:
                return send(self, request, **kwargs)
            inject(span, request.headers)
            hops = _Hops()
            token, hops_token = IN_CLIENT_CALL.set(True), _HOPS.set(hops)
            try:
                response = send(self, request, **kwargs)
            except BaseException as error:
                # A later hop's failure is on that hop's span (TooManyRedirects is not).
                own = None if error is hops.failed else error
                finish_client_span(span, None, own, hops.started)
                raise
            finally:
                _HOPS.reset(hops_token)
                IN_CLIENT_CALL.reset(token)
            history = getattr(response, "history", None)
            first = history[0] if history else response  # this hop's own answer
            finish_client_span(span, getattr(first, "status_code", None), None, hops.started)
            return response

        return traced_send

    return [Patch(requests.sessions.Session, "send", make)]

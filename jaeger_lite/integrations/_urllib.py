"""``urllib.request``: a client span per HTTP(S) connection ``urlopen`` makes (each
redirect hop is one), from the request to the answer's headers."""

from __future__ import annotations

from typing import Any, Callable

from ..propagation import Format
from ._client import IN_CLIENT_CALL, Switch, finish_client_span, start_client_span
from ._common import failed
from ._patch import Patch

__all__ = ["patches"]


def patches(switch: Switch) -> list[Patch]:
    """The patches that trace ``urllib.request`` (always importable)."""
    import urllib.request

    def make(do_open: Callable[..., Any]) -> Callable[..., Any]:
        def traced_do_open(self: Any, http_class: Any, request: Any, **kwargs: Any) -> Any:
            span = start_client_span(
                switch.config, "urllib", request.get_method(), request.full_url
            )
            if span is None:
                return do_open(self, http_class, request, **kwargs)
            headers: dict[str, str] = {}
            try:
                span.tracer.inject(span.context, Format.HTTP_HEADERS, headers)
                for name, value in headers.items():
                    # Unredirected: a redirect's new request gets its own span's context.
                    request.add_unredirected_header(name, value)
            except Exception:  # a request object of an unexpected kind
                failed("injecting the context into the request headers")
            token = IN_CLIENT_CALL.set(True)
            try:
                response = do_open(self, http_class, request, **kwargs)
            except BaseException as error:
                finish_client_span(span, None, error)
                raise
            finally:
                IN_CLIENT_CALL.reset(token)
            finish_client_span(span, getattr(response, "status", None))
            return response

        return traced_do_open

    return [Patch(urllib.request.AbstractHTTPHandler, "do_open", make)]

"""``urllib3``: a client span per ``HTTPConnectionPool.urlopen`` (its own retries and
redirects stay inside that span; ``PoolManager`` redirects are requests of their own)."""

from __future__ import annotations

from typing import Any, Callable

from ._client import IN_CLIENT_CALL, Switch, finish_client_span, inject, start_client_span
from ._common import failed
from ._patch import Patch

__all__ = ["patches"]

_HEADERS_AT = 1  # urlopen(method, url, body=None, headers=None, ...): headers is args[1]


def patches(switch: Switch) -> list[Patch]:
    """The patches that trace ``urllib3``; ImportError when it is not installed."""
    import urllib3.connectionpool
    from urllib3._collections import HTTPHeaderDict  # there in urllib3 1.26 and 2

    def make(urlopen: Callable[..., Any]) -> Callable[..., Any]:
        def traced_urlopen(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            config = switch.config
            if config is None or IN_CLIENT_CALL.get():
                return urlopen(self, method, url, *args, **kwargs)
            span = start_client_span(config, "urllib3", method, _absolute(self, url))
            if span is None:
                return urlopen(self, method, url, *args, **kwargs)
            # A copy of the headers (the pool's defaults, self.headers, are shared), case
            # insensitive: the injected uber-trace-id replaces a caller's Uber-Trace-Id (a
            # dict copy sent both, two contexts in one request).
            try:
                if len(args) > _HEADERS_AT:
                    headers = HTTPHeaderDict(_given(args[_HEADERS_AT], self))
                    args = (*args[:_HEADERS_AT], headers, *args[_HEADERS_AT + 1 :])
                else:
                    headers = HTTPHeaderDict(_given(kwargs.get("headers"), self))
                    kwargs["headers"] = headers
                inject(span, headers)
            except Exception:  # headers of a kind urllib3 will refuse itself: send as given
                failed("copying the request headers")
            token = IN_CLIENT_CALL.set(True)
            try:
                response = urlopen(self, method, url, *args, **kwargs)
            except BaseException as error:
                finish_client_span(span, None, error)
                raise
            finally:
                IN_CLIENT_CALL.reset(token)
            finish_client_span(span, getattr(response, "status", None))
            return response

        return traced_urlopen

    return [Patch(urllib3.connectionpool.HTTPConnectionPool, "urlopen", make)]


def _given(headers: Any, pool: Any) -> Any:
    """The headers urllib3 sends: the pool's defaults when none are given."""
    return pool.headers if headers is None else headers


def _absolute(pool: Any, url: str) -> str:
    if "://" in url[:12]:  # through a proxy the pool is given the whole URL
        return url
    host = pool.host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{pool.scheme}://{host}:{pool.port}{url}"

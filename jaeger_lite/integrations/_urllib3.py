"""``urllib3``: a client span per ``HTTPConnectionPool.urlopen`` (its own retries and
redirects stay inside that span; ``PoolManager`` redirects are requests of their own)."""

from __future__ import annotations

from typing import Any, Callable

from ._client import IN_CLIENT_CALL, Switch, finish_client_span, inject, start_client_span
from ._patch import Patch

__all__ = ["patches"]

_HEADERS_AT = 1  # urlopen(method, url, body=None, headers=None, ...): headers is args[1]


def patches(switch: Switch) -> list[Patch]:
    """The patches that trace ``urllib3``; ImportError when it is not installed."""
    import urllib3.connectionpool

    def make(urlopen: Callable[..., Any]) -> Callable[..., Any]:
        def traced_urlopen(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            config = switch.config
            if config is None or IN_CLIENT_CALL.get():
                return urlopen(self, method, url, *args, **kwargs)
            span = start_client_span(config, "urllib3", method, _absolute(self, url))
            if span is None:
                return urlopen(self, method, url, *args, **kwargs)
            # A copy of the headers: the pool's defaults (self.headers) are shared.
            if len(args) > _HEADERS_AT:
                args = (*args[:_HEADERS_AT], _copy(args[_HEADERS_AT], self), *args[2:])
                inject(span, args[_HEADERS_AT])
            else:
                kwargs["headers"] = _copy(kwargs.get("headers"), self)
                inject(span, kwargs["headers"])
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


def _copy(headers: Any, pool: Any) -> Any:
    headers = pool.headers if headers is None else headers
    copy = getattr(headers, "copy", None)
    return copy() if callable(copy) else dict(headers)


def _absolute(pool: Any, url: str) -> str:
    if "://" in url[:12]:  # through a proxy the pool is given the whole URL
        return url
    host = pool.host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{pool.scheme}://{host}:{pool.port}{url}"

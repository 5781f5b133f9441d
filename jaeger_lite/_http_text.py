"""Text for HTTP requests and logs: header checks, ``host:port``, URLs without credentials.

Apart from the client (``_http``) so that the proxy settings (``_proxy``) can use it too;
``_http`` re-exports every name.
"""

from __future__ import annotations

import urllib.parse
from typing import Optional

__all__ = ["header_problem", "header_value", "netloc", "safe_url"]

_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def header_problem(name: str, value: str) -> Optional[str]:
    """Why ``name: value`` cannot be sent as a header (``http.client`` would refuse it at
    every request), or None: the name must be a token, the value free of line breaks and
    NUL (RFC 9110, 5.1 and 5.5). Send the value through :func:`header_value`."""
    if not name or not set(name) <= _TOKEN:
        return f"header name {name!r} is not an HTTP token"
    if any(c in value for c in "\r\n\0"):
        return f"the value of header {name!r} has a line break or NUL"
    return None


def header_value(value: str) -> str:
    """``value`` as ``http.client`` should send it: its UTF-8 bytes (what the
    percent-encoding of OTEL_EXPORTER_OTLP_HEADERS stands for, and what Go servers read),
    spelled as the Latin-1 text ``http.client`` encodes byte for byte."""
    return value if value.isascii() else value.encode("utf-8", "replace").decode("latin-1")


def netloc(host: str, port: Optional[int]) -> str:
    """``host[:port]`` with IPv6 hosts in brackets."""
    host = f"[{host}]" if ":" in host else host
    return host if port is None else f"{host}:{port}"


def safe_url(url: str) -> str:
    """``url`` without any ``user:password@`` it carries (for messages and logs)."""
    try:
        parts = urllib.parse.urlsplit(url)
        if parts.username is None and parts.password is None:
            return url
        host = parts.hostname or ""
        return parts._replace(netloc=netloc(host, parts.port)).geturl()
    except ValueError:
        return "<unparsable URL>"

"""Proxies from the environment, read as Go's ``http.ProxyFromEnvironment`` reads them
(golang.org/x/net/http/httpproxy), and the ``CONNECT`` exchange that opens a tunnel.

``HTTPS_PROXY`` serves ``https://`` URLs and ``HTTP_PROXY`` ``http://`` ones, the uppercase
name first, then the lowercase one (the first that is not empty). Under CGI
(``REQUEST_METHOD`` set) the uppercase ``HTTP_PROXY`` is ignored: a web server sets it from a
request's ``Proxy:`` header (httpoxy, CVE-2016-5385); lowercase ``http_proxy`` still counts,
as in urllib. A value without a scheme is ``http://`` plus it. ``NO_PROXY`` (or
``no_proxy``) is a comma list: ``*``; a name, matching itself and its subdomains; ``.name``
or ``*.name``, subdomains only; an IP address; a CIDR range; any of these but ``*`` and CIDR
with ``:port``. ``localhost`` and loopback addresses never go through a proxy. The proxy
itself is spoken to in plain HTTP: an ``https://`` or ``socks5://`` proxy is refused (each
request fails, counted) rather than bypassed.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import socket
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Callable, Optional, Union

from ._http_text import netloc, safe_url

__all__ = ["Proxy", "ProxyError", "open_tunnel", "proxy_for"]

_Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
_Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
_MAX_ANSWER = 16 << 10  # a CONNECT answer's status line and headers


class ProxyError(OSError):
    """The proxy refused or garbled the tunnel (an answer to ``CONNECT`` other than 2xx)."""


@dataclass(frozen=True)
class Proxy:
    """A forward proxy: where it is, the ``Proxy-Authorization`` its URL's ``user:password``
    make (never in ``repr`` or messages), and why it cannot be used, if it cannot."""

    host: str
    port: int
    authorization: Optional[str] = field(default=None, repr=False)
    problem: Optional[str] = None

    def __str__(self) -> str:
        return f"http://{netloc(self.host, self.port)}"


def proxy_for(url: str, environ: Optional[Mapping[str, str]] = None) -> Optional[Proxy]:
    """The proxy ``url`` (``http(s)://host[:port]...``) goes through according to
    ``environ`` (default: ``os.environ``), or None for a direct connection."""
    env = os.environ if environ is None else environ
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None  # the client refuses such a URL itself
    if parts.scheme == "https":
        name, value = _first(env, "HTTPS_PROXY", "https_proxy")
    elif parts.scheme == "http":
        cgi = bool(env.get("REQUEST_METHOD"))
        name, value = _first(env, *(("http_proxy",) if cgi else ("HTTP_PROXY", "http_proxy")))
    else:
        return None
    if not value or not host or not _use_proxy(host, port, _first(env, "NO_PROXY", "no_proxy")[1]):
        return None
    return _parse(name, value)


def _first(env: Mapping[str, str], *names: str) -> tuple[str, str]:
    for name in names:
        value = env.get(name, "")
        if value:
            return name, value
    return "", ""


def _parse(name: str, value: str) -> Proxy:
    """The proxy ``value`` names (``name`` is the variable, for messages)."""
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https", "socks5", "socks5h"):
        parts = urllib.parse.urlsplit("http://" + value)  # host:port, as Go reads it
    shown = safe_url(value)
    try:
        port = parts.port
    except ValueError:
        port = None
        parts = parts._replace(netloc="")
    if not parts.hostname:
        return Proxy("", 0, problem=f"{name} is not a proxy URL: {shown!r}")
    if parts.scheme != "http":
        problem = f"{name} {shown!r}: only http:// proxies are supported"
        return Proxy(parts.hostname, port or 0, problem=problem)
    authorization = None
    if parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        authorization = f"Basic {token}"
    return Proxy(parts.hostname, port or 80, authorization)


def _ip(host: str) -> Optional[_Address]:
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _use_proxy(host: str, port: int, no_proxy: str) -> bool:
    """Whether ``host:port`` goes through the proxy (Go's ``useProxy``)."""
    ip = _ip(host)
    if host == "localhost" or (ip is not None and ip.is_loopback):
        return False
    for entry in no_proxy.split(","):
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return False
        if _excludes(entry, host, str(port), ip):
            return False
    return True


def _excludes(entry: str, host: str, port: str, ip: Optional[_Address]) -> bool:
    """Whether one ``NO_PROXY`` entry names ``host:port``."""
    if "/" in entry:  # a CIDR range
        try:
            network: _Network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return False
        return ip is not None and ip.version == network.version and ip in network
    name, entry_port = entry, ""
    if entry.startswith("["):  # [IPv6]:port or [IPv6]
        name, _, rest = entry[1:].partition("]")
        entry_port = rest[1:] if rest.startswith(":") else ""
    elif entry.count(":") == 1:  # name:port or IPv4:port (a bare IPv6 has several)
        name, entry_port = entry.split(":")
    if not name or (entry_port and entry_port != port):
        return False
    entry_ip = _ip(name)
    if entry_ip is not None:
        return ip is not None and ip == entry_ip
    if ip is not None:
        return False  # names match names only
    if name.startswith("*."):
        name = name[1:]
    if name.startswith("."):  # subdomains only
        return host.endswith(name)
    return host == name or host.endswith("." + name)


def open_tunnel(
    sock: socket.socket, host: str, port: int, proxy: Proxy, left: Callable[[], float]
) -> None:
    """Ask the proxy connected on ``sock`` for a tunnel to ``host:port``; returns once it is
    open. Each socket operation gets ``left()`` seconds (which raises when none are left);
    raises :class:`ProxyError` for any answer but 2xx, ``OSError`` as the socket does."""
    target = netloc(host if host.isascii() else host.encode("idna").decode("ascii"), port)
    lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
    if proxy.authorization:
        lines.append(f"Proxy-Authorization: {proxy.authorization}")
    request = memoryview(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
    while request:
        sock.settimeout(left())
        request = request[sock.send(request) :]
    answer = b""
    while b"\r\n\r\n" not in answer:
        if len(answer) > _MAX_ANSWER:
            raise ProxyError(f"an answer to CONNECT {target} over {_MAX_ANSWER} bytes")
        sock.settimeout(left())
        # Byte counts past the blank line would be the collector's: none come before our
        # TLS handshake, so reading in chunks takes only the proxy's answer.
        chunk = sock.recv(4096)
        if not chunk:
            raise ProxyError(f"closed without an answer to CONNECT {target}")
        answer += chunk
    head, _, rest = answer.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    version, _, status = status_line.partition(" ")
    code, _, reason = status.partition(" ")
    if not version.startswith("HTTP/") or not (code.isascii() and code.isdigit()):
        raise ProxyError(f"not an HTTP answer to CONNECT {target}: {status_line[:80]!r}")
    if not 200 <= int(code) < 300:
        reason = "".join(c if c.isprintable() else "?" for c in reason[:80])
        raise ProxyError(f"answered {code} {reason} to CONNECT {target}".replace("  ", " "))
    if rest:
        raise ProxyError(f"sent bytes of its own after its answer to CONNECT {target}")

"""A small HTTP/1.1 client: one kept-alive connection, and a deadline for the whole request.

``http.client`` applies its timeout to each socket operation, so a server that trickles its
answer (a byte every few seconds) holds a request forever, and a name lookup has no
timeout at all. Here every operation of a request (name lookup, connect, a proxy's
tunnel, TLS handshake, send, status line, headers, body) gets only the time left before the
request's deadline, so :meth:`HTTPClient.request` returns or raises
:class:`HTTPRequestError` within its timeout whatever the server, proxy or resolver does.
Senders and the remote sampler use it; it imports nothing of jaeger_lite but the bounded
name lookup, the proxy settings and their text helpers.
"""

from __future__ import annotations

import http.client
import io
import socket
import sys
import time
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from ._http_text import header_problem, header_value, netloc, safe_url
from ._proxy import Proxy, open_tunnel
from ._resolve import AddrInfo, resolve

if TYPE_CHECKING:  # ssl is only needed for the annotation (Pythons without it exist)
    import ssl

__all__ = [
    "HTTPClient",
    "HTTPRequestError",
    "Response",
    "header_problem",
    "header_value",
    "netloc",
    "safe_url",
]

#: Answers larger than this are refused (collectors answer in bytes, strategies in KB).
MAX_RESPONSE = 4 << 20


class HTTPRequestError(OSError):
    """A request that got no complete answer: refused, reset, TLS, timeout, bad answer."""


@dataclass(frozen=True)
class Response:
    """A complete answer: status, headers (case-insensitive ``get``) and body."""

    status: int
    reason: str
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> Optional[str]:
        value: Optional[str] = self.headers.get(name)
        return value


class _Deadline:
    """The current request's deadline, shared by the connection and its socket."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at = float("inf")

    def left(self) -> float:
        """Seconds left; raises ``socket.timeout`` when there are none."""
        left = self.at - time.monotonic()
        if left <= 0:
            raise socket.timeout("deadline for the whole request passed")
        return left


class _DeadlineSocket:
    """The connection's socket as ``http.client`` sees it: each operation gets the time
    left before the deadline, so no sequence of slow reads can outlast it.

    Like a real socket, ``close()`` waits for the files ``makefile`` returned (a response
    still reading its body after ``http.client`` closed the connection); ``kill()`` does not.
    """

    __slots__ = ("_sock", "_deadline", "_readers", "_closed")

    def __init__(self, sock: socket.socket, deadline: _Deadline) -> None:
        self._sock = sock
        self._deadline = deadline
        self._readers = 0
        self._closed = False

    def sendall(self, data: Any) -> None:
        # A loop of send() rather than sendall(): an SSL socket's sendall applies its
        # timeout to each piece, and a server reading slowly could stretch it.
        view = memoryview(data).cast("B")
        while view:
            self._sock.settimeout(self._deadline.left())
            view = view[self._sock.send(view) :]

    def recv_into(self, buffer: Any, nbytes: int = 0) -> int:
        self._sock.settimeout(self._deadline.left())
        return self._sock.recv_into(buffer, nbytes) if nbytes else self._sock.recv_into(buffer)

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BufferedReader:
        self._readers += 1
        return io.BufferedReader(_Reader(self))

    def reader_closed(self) -> None:
        self._readers -= 1
        if self._closed and self._readers <= 0:
            self._sock.close()

    def close(self) -> None:
        self._closed = True
        if self._readers <= 0:
            self._sock.close()

    def kill(self) -> None:
        self._closed = True
        self._sock.close()

    def __getattr__(self, name: str) -> Any:  # setsockopt, fileno, ...: the real socket's
        return getattr(self._sock, name)


class _Reader(io.RawIOBase):
    """What ``makefile("rb")`` returns, reading through the deadline socket."""

    def __init__(self, sock: _DeadlineSocket) -> None:
        super().__init__()
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._sock.recv_into(buffer)

    def close(self) -> None:
        if not self.closed:
            self._sock.reader_closed()
        super().close()


class _Response(http.client.HTTPResponse):
    """``HTTPResponse`` that passes over every interim 1xx answer (102 Processing, 103
    Early Hints), not only 100 Continue as ``http.client`` does: a client must read past
    them to the final answer (RFC 9110, 15.2). 101 is final (we never ask to upgrade)."""

    def _read_status(self) -> tuple[str, int, str]:
        while True:
            version, status, reason = super()._read_status()  # type: ignore[misc]
            if not 100 <= status < 200 or status == 101:
                return version, status, reason
            http.client.parse_headers(self.fp)  # its headers, then the next answer


class _Connection(http.client.HTTPConnection):
    """``HTTPConnection`` whose connect, TLS handshake and socket obey a deadline. With a
    ``proxy``, it connects there instead, and over TLS through a ``CONNECT`` tunnel."""

    response_class = _Response

    def __init__(
        self,
        host: str,
        port: int,
        deadline: _Deadline,
        tls: Optional[ssl.SSLContext],
        proxy: Optional[Proxy] = None,
    ) -> None:
        super().__init__(host, port)
        self._deadline = deadline
        self._tls = tls
        self._proxy = proxy
        self.raw: Optional[_DeadlineSocket] = None

    def connect(self) -> None:
        # What HTTPConnection.connect does, with the name lookup bounded too: getaddrinfo
        # has no timeout of its own, and a hung resolver would otherwise hold the request.
        proxy = self._proxy
        host, port = (self.host, self.port) if proxy is None else (proxy.host, proxy.port)
        sys.audit("http.client.connect", self, host, port)  # where the socket goes
        try:
            addresses = resolve(host, port, socket.SOCK_STREAM, self._deadline.left())
            sock = _connect(addresses, self._deadline)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:
            if proxy is None or isinstance(exc, socket.timeout):
                raise
            raise HTTPRequestError(f"proxy {proxy}: {_describe(exc)}") from exc
        if proxy is not None and self._tls is not None:
            try:
                open_tunnel(sock, self.host, self.port, proxy, self._deadline.left)
            except BaseException as exc:
                sock.close()
                if isinstance(exc, socket.timeout) or not isinstance(exc, OSError):
                    raise
                raise HTTPRequestError(f"proxy {proxy}: {_describe(exc)}") from exc
        if self._tls is not None:
            # The handshake as a whole is bounded by the socket's timeout (CPython's
            # do_handshake keeps one deadline across its retries).
            sock.settimeout(self._deadline.left())
            sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        self.sock = self.raw = _DeadlineSocket(sock, self._deadline)


def _connect(addresses: list[AddrInfo], deadline: _Deadline) -> socket.socket:
    """A connected socket to the first address that answers before the deadline."""
    error: Optional[OSError] = None
    for family, kind, proto, _, address in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(deadline.left())
            sock.connect(address)
        except OSError as exc:
            sock.close()
            if isinstance(exc, socket.timeout):
                raise
            error = exc
        else:
            return sock
    raise error if error is not None else OSError("name lookup returned no address")


class HTTPClient:
    """Requests to one ``http(s)://host[:port]`` origin over one kept-alive connection.

    ``https`` verifies the server against the system's CAs (``SSL_CERT_FILE`` adds one),
    ``ca_file`` (a PEM file of trusted CAs), or as ``ssl_context`` says (a client
    certificate, a private CA); ``cert_file``/``key_file`` are a client certificate. With a
    ``proxy`` (see ``_proxy.proxy_for``), ``http`` requests go to it in absolute form and
    ``https`` ones through a ``CONNECT`` tunnel, the certificate checked against ``url``'s
    host. Used by one thread at a time. :meth:`request` never takes longer than its
    timeout: slow, trickling and silent servers (and proxies) included.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        ssl_context: Optional[ssl.SSLContext] = None,
        ca_file: Optional[str] = None,
        cert_file: Optional[str] = None,
        key_file: Optional[str] = None,
        proxy: Optional[Proxy] = None,
    ) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an http(s)://host[:port] URL, got {safe_url(url)!r}")
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"bad port in {safe_url(url)!r}") from None
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = port if port is not None else (443 if self.https else 80)
        self.timeout = timeout
        self._ssl_context = ssl_context
        self._ca_file = ca_file
        self._cert_file, self._key_file = cert_file, key_file
        self._tls: Optional[ssl.SSLContext] = None
        self._deadline = _Deadline()
        self._conn: Optional[_Connection] = None
        self.proxy = proxy
        self._via = f" through proxy {proxy}" if proxy is not None else ""

    @property
    def origin(self) -> str:
        """``scheme://host:port``, without credentials (safe to log)."""
        return f"{'https' if self.https else 'http'}://{netloc(self.host, self.port)}"

    def request(
        self,
        method: str,
        target: str,
        body: Optional[bytes] = None,
        headers: Optional[dict[str, str]] = None,
        *,
        timeout: Optional[float] = None,
        max_body: int = MAX_RESPONSE,
    ) -> Response:
        """Send one request and read the whole answer within ``timeout`` seconds (default:
        the client's); raises :class:`HTTPRequestError` when that does not happen.

        A kept-alive connection the server closed while idle is replaced once, at once.
        """
        self._deadline.at = time.monotonic() + (self.timeout if timeout is None else timeout)
        try:
            reused = self._conn is not None
            try:
                return self._exchange(method, target, body, headers or {}, max_body)
            except OSError as exc:
                if not reused or not _closed_by_peer(exc):
                    raise
                self.close()  # closed by the server while idle: once more, on a new one
                return self._exchange(method, target, body, headers or {}, max_body)
        except HTTPRequestError:
            self.close()
            raise
        except socket.timeout as exc:
            self.close()
            seconds = self.timeout if timeout is None else timeout
            raise HTTPRequestError(f"no complete answer within {seconds:g}s{self._via}") from exc
        except (OSError, http.client.HTTPException, ValueError) as exc:
            self.close()
            raise HTTPRequestError(_describe(exc)) from exc
        finally:
            self._deadline.at = float("inf")

    def _exchange(
        self,
        method: str,
        target: str,
        body: Optional[bytes],
        headers: dict[str, str],
        max_body: int,
    ) -> Response:
        conn, proxy = self._conn, self.proxy
        if proxy is not None and proxy.problem:
            raise HTTPRequestError(proxy.problem)
        if conn is None:
            tls = self._context()
            conn = self._conn = _Connection(self.host, self.port, self._deadline, tls, proxy)
        if proxy is not None and not self.https:  # to the proxy: the whole URL in the request
            default = self.port == 80
            target = f"http://{netloc(self.host, None if default else self.port)}{target}"
            if proxy.authorization:
                headers = {**headers, "Proxy-Authorization": proxy.authorization}
        conn.request(method, target, body, headers)
        response = conn.getresponse()
        if response.status == 407 and proxy is not None and not self.https:
            raise HTTPRequestError(f"proxy {proxy} answered 407 {response.reason}".rstrip())
        length = response.length
        if length is not None and length > max_body:
            raise HTTPRequestError(f"answer of {length} bytes is over {max_body}")
        data = response.read(max_body + 1)
        if len(data) > max_body:
            raise HTTPRequestError(f"answer over {max_body} bytes")
        if not response.isclosed():  # more than we read (chunked past max_body)
            raise HTTPRequestError(f"answer over {max_body} bytes")
        if response.will_close:
            self.close()
        return Response(response.status, response.reason, response.headers, data)

    def _context(self) -> Optional[ssl.SSLContext]:
        if not self.https:
            return None
        if self._tls is None:
            if self._ssl_context is not None:
                self._tls = self._ssl_context
            else:
                import ssl

                tls = ssl.create_default_context(cafile=self._ca_file)
                if self._cert_file:  # mutual TLS: this client's certificate
                    tls.load_cert_chain(self._cert_file, self._key_file)
                self._tls = tls
        return self._tls

    def close(self) -> None:
        """Close the connection; the next request opens a new one."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
            if conn.raw is not None:  # even if a response still holds it
                conn.raw.kill()

    def after_fork(self) -> None:
        """In a forked child: forget the parent's connection without touching it."""
        self._conn = None

    def __repr__(self) -> str:
        return f"HTTPClient({self.origin!r}, timeout={self.timeout:g}{self._via})"


def _closed_by_peer(exc: OSError) -> bool:
    """Whether ``exc`` says the server had closed the connection: reset, broken pipe, no
    answer, or over TLS an EOF (writing to a TLS connection the server closed raises
    ``SSLEOFError``, not ``BrokenPipeError``)."""
    if isinstance(exc, (ConnectionResetError, BrokenPipeError)):  # RemoteDisconnected too
        return True
    ssl = sys.modules.get("ssl")  # imported already if the connection is TLS
    return ssl is not None and isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError))


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, OSError) else f"{type(exc).__name__}: {text}"

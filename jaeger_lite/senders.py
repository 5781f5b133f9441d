"""Senders carry encoded spans to Jaeger: UDP datagrams to an agent, HTTP POSTs to a collector.

A sender is driven by one thread at a time (the :class:`~jaeger_lite.RemoteReporter`
worker): ``encode`` turns a finished span into bytes early, so a backlog costs a couple
of hundred bytes per span rather than a live ``Span``; ``send`` packs encoded spans into
batches and transmits them. Network trouble is counted (see :meth:`UDPSender.metrics`) and
logged at most once a minute, never raised.
"""

from __future__ import annotations

import base64
import errno
import http.client
import ipaddress
import logging
import socket
import time
import urllib.parse
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Callable, Optional

from ._sender_base import Sender, _SenderBase
from .span import Span
from .thrift import (
    EMIT_BATCH_OVERHEAD,
    BinaryEncoder,
    CompactEncoder,
    compact_process,
    emit_batch,
    process_tags,
)

if TYPE_CHECKING:  # ssl is only needed for the annotation (Pythons without it exist)
    import ssl

__all__ = ["HTTPSender", "Sender", "UDPSender"]

_log = logging.getLogger("jaeger_lite")

_RESOLVE_RETRY = 30.0  # seconds between attempts to resolve an agent host that failed


class UDPSender(_SenderBase):
    """Sends compact ``emitBatch`` datagrams to a Jaeger agent (default localhost:6831).

    Spans are packed into as few datagrams as fit in ``max_packet_size`` bytes; no datagram
    is ever larger. A span that cannot fit on its own (with the Process) is dropped and
    counted as too large; the others still go. Every datagram carries ``seqNo`` (1, 2, ...)
    and the cumulative ClientStats. ``host`` may be a name, an IPv4 or an IPv6 address;
    names prefer IPv4, as ``localhost`` agents usually listen there.

    macOS limits a UDP datagram to 9216 bytes by default (``sysctl net.inet.udp.maxdgram``):
    use ``max_packet_size=9216`` there, or raise the limit. Agents accept 65000 at most.
    A host name is looked up again every ``resolve_interval`` seconds (None: never) and
    the socket reconnected if the agent moved, as jaeger-client-go does.
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int = 6831,
        max_packet_size: int = 65000,
        *,
        accelerated: Optional[bool] = None,
        resolve_interval: Optional[float] = 30.0,
    ) -> None:
        if not 0 < port < 65536:
            raise ValueError(f"port must be 1-65535, got {port!r}")
        if not 1024 <= max_packet_size <= 65507:
            raise ValueError(f"max_packet_size must be 1024-65507, got {max_packet_size!r}")
        self.host = host
        self.port = port
        self.max_packet_size = max_packet_size
        self._encoder = CompactEncoder(accelerated)
        self.encode: Callable[[Span], bytes] = self._encoder.span
        self.encode_spans: Callable[[Iterable[Span]], list[bytes]] = self._encoder.spans
        self._sock: Optional[socket.socket] = None
        self._resolve_after = 0.0
        # Follow an agent whose address changes (a rescheduled pod), as jaeger-client-go
        # does; an IP literal never changes, so it is never looked up again.
        self.resolve_interval = None if _is_ip_literal(host) else resolve_interval
        self._next_resolve = 0.0
        super().__init__()

    def _after_fork(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()  # our copy of the descriptor only; the parent's stays open
        self._encoder = CompactEncoder(self._encoder.accelerated)  # fork may be mid-encode
        self.encode = self._encoder.span
        self.encode_spans = self._encoder.spans
        super()._after_fork()

    @property
    def batch_bytes(self) -> int:
        """Encoded span bytes that fit in one datagram next to the Process and envelope."""
        return self.max_packet_size - EMIT_BATCH_OVERHEAD - len(self.process_bytes())

    @property
    def accelerated(self) -> bool:
        """True when thrift's C extension writes the span heads."""
        return self._encoder.accelerated

    def process_bytes(self) -> bytes:
        """The encoded compact Process (built on first use, again after a fork)."""
        self._check_fork()
        if self._process is None:
            tags = process_tags(self._tracer_tags)
            self._process = compact_process(self._encoder, self._service_name, tags)
        return self._process

    def send(self, spans: Sequence[bytes]) -> None:
        """Pack encoded spans into datagrams and send them all."""
        process = self.process_bytes()
        budget = self.batch_bytes
        if spans and sum(map(len, spans)) <= budget:  # as RemoteReporter cuts them: no loop
            return self._emit(process, spans)
        batch: list[bytes] = []
        size = 0
        for span in spans:
            length = len(span)
            if length > budget:
                self._too_large += 1
                self._warn.warning(
                    "jaeger_lite: dropped a span of %d bytes: over max_packet_size=%d",
                    length,
                    self.max_packet_size,
                )
                continue
            if size + length > budget:
                self._emit(process, batch)
                batch, size = [], 0
            batch.append(span)
            size += length
        if batch:
            self._emit(process, batch)

    def _emit(self, process: bytes, spans: Sequence[bytes]) -> None:
        self._seq_no += 1
        stats = (self._queue_dropped(), self._too_large, self._failed)
        message = emit_batch(process, spans, self._seq_no, stats)
        try:
            if self._sock is not None and self.resolve_interval is not None:
                self._follow_address_change()
            sock = self._sock or self._connect()
            if sock is None:
                raise OSError(f"cannot resolve agent host {self.host!r}")
            sock.send(message)
        except OSError as error:  # agent down, refused, unresolvable, EMSGSIZE, ...
            self._failed += len(spans)
            self._send_errors += 1
            self._warn.warning(
                "jaeger_lite: UDP send of %d spans to %s:%d failed: %s%s",
                len(spans),
                self.host,
                self.port,
                error,
                " (datagram too long for this OS: lower max_packet_size, e.g. 9216 on macOS)"
                if error.errno == errno.EMSGSIZE
                else "",
            )
            if not isinstance(error, ConnectionRefusedError) and self._sock is not None:
                self._sock.close()
                self._sock = None  # re-resolve and reconnect next time
        else:
            self._spans_sent += len(spans)
            self._batches += 1
            self._bytes += len(message)

    def _follow_address_change(self) -> None:
        """Every ``resolve_interval`` seconds, look the agent up again and reconnect when
        its address changed; a failed lookup keeps the current connection."""
        now = time.monotonic()
        if now < self._next_resolve or self._sock is None:
            return
        self._next_resolve = now + (self.resolve_interval or 0.0)
        address = self._resolve()
        try:
            current = self._sock.getpeername()
        except OSError:
            current = None
        if address is not None and current is not None and address[4][:2] != current[:2]:
            self._sock.close()
            self._sock = None

    def _resolve(self) -> Optional[tuple[Any, ...]]:
        """The agent's preferred address info (IPv4 first), or None when it does not resolve."""
        try:
            infos = socket.getaddrinfo(self.host, self.port, 0, socket.SOCK_DGRAM)
        except (OSError, UnicodeError):  # UnicodeError: a name IDNA cannot encode
            return None
        infos.sort(key=lambda info: info[0] != socket.AF_INET)
        return tuple(infos[0])

    def _connect(self) -> Optional[socket.socket]:
        """A UDP socket connected to the agent, or None while the host does not resolve."""
        now = time.monotonic()
        if now < self._resolve_after:
            return None
        info = self._resolve()
        if info is None:
            self._resolve_after = now + _RESOLVE_RETRY  # no DNS lookup per batch while down
            return None
        family, kind, proto, _, address = info
        self._next_resolve = now + (self.resolve_interval or 0.0)
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(1.0)  # a full send buffer must not stall the worker for long
            if sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) < self.max_packet_size:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.max_packet_size)
            sock.connect(address)
        except OSError:
            sock.close()
            raise
        self._sock = sock
        return sock

    def close(self) -> None:
        """Close the socket; a later send opens a new one."""
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    def __repr__(self) -> str:
        return f"UDPSender({self.host!r}, {self.port}, max_packet_size={self.max_packet_size})"


class HTTPSender(_SenderBase):
    """POSTs binary-protocol Batches to a Jaeger collector (``http://host:14268/api/traces``).

    Basic auth with ``user`` and ``password``, or a bearer ``auth_token``. ``https://``
    verifies the collector's certificate against the system's CAs (``SSL_CERT_FILE``
    adds one), or as ``ssl_context`` says (a private CA, a client certificate). One
    persistent connection (stdlib ``http.client``) is reused. A non-2xx answer or a network error
    counts the batch's spans as failed; after a network error, batches fail at once for
    ``timeout`` seconds so a dead collector cannot hold the worker (or exit) for long.
    Credentials never appear in ``repr`` or in logs.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        user: Optional[str] = None,
        password: Optional[str] = None,
        auth_token: Optional[str] = None,
        timeout: float = 5.0,
        batch_bytes: int = 1 << 20,
        ssl_context: Optional[ssl.SSLContext] = None,
    ) -> None:
        url = urllib.parse.urlsplit(endpoint)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError("endpoint must be an http(s) URL, e.g. http://host:14268/api/traces")
        if (user is None) != (password is None):
            raise ValueError("set both user and password, or neither")
        self._https = url.scheme == "https"
        self._ssl_context = ssl_context
        self._host = url.hostname
        self._port = url.port
        self._path = (url.path or "/api/traces") + (f"?{url.query}" if url.query else "")
        self._endpoint = urllib.parse.urlunsplit(
            (url.scheme, _netloc(url.hostname, url.port), url.path, url.query, "")
        )  # without any user:password@ the URL may have carried
        self._headers = {"Content-Type": "application/x-thrift"}
        if url.username and user is None:
            user = urllib.parse.unquote(url.username)
            password = urllib.parse.unquote(url.password or "")
        if user is not None:
            token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            self._headers["Authorization"] = f"Basic {token}"
        elif auth_token is not None:
            self._headers["Authorization"] = f"Bearer {auth_token}"
        self.timeout = timeout
        self.batch_bytes = batch_bytes
        self._encoder = BinaryEncoder()
        self.encode: Callable[[Span], bytes] = self._encoder.span
        self._conn: Optional[http.client.HTTPConnection] = None
        self._down_until = 0.0
        super().__init__()

    def _after_fork(self) -> None:
        self._conn = None  # the parent's connection: never write to it from the child
        super()._after_fork()

    def process_bytes(self) -> bytes:
        """The encoded binary Process (built on first use, again after a fork)."""
        self._check_fork()
        if self._process is None:
            tags = process_tags(self._tracer_tags)
            self._process = self._encoder.process(self._service_name, tags)
        return self._process

    def send(self, spans: Sequence[bytes]) -> None:
        """POST the spans, ``batch_bytes`` at a time."""
        process = self.process_bytes()
        batch: list[bytes] = []
        size = 0
        for span in spans:
            if batch and size + len(span) > self.batch_bytes:
                self._post(process, batch)
                batch, size = [], 0
            batch.append(span)
            size += len(span)
        if batch:
            self._post(process, batch)

    def _post(self, process: bytes, spans: list[bytes]) -> None:
        if time.monotonic() < self._down_until:
            self._failed += len(spans)
            return
        body = BinaryEncoder.batch(process, spans)
        try:
            conn = self._conn or self._connect()
            conn.request("POST", self._path, body, self._headers)
            response = conn.getresponse()
            response.read()
            status = response.status
            if response.will_close:
                self._drop_connection()
        except (OSError, http.client.HTTPException) as error:
            self._drop_connection()
            self._down_until = time.monotonic() + self.timeout
            self._failed += len(spans)
            self._send_errors += 1
            self._warn.warning(
                "jaeger_lite: POST of %d spans to %s failed: %s", len(spans), self._endpoint, error
            )
            return
        if 200 <= status < 300:
            self._spans_sent += len(spans)
            self._batches += 1
            self._bytes += len(body)
        else:
            self._failed += len(spans)
            self._send_errors += 1
            self._warn.warning(
                "jaeger_lite: collector %s answered %d to a batch of %d spans",
                self._endpoint,
                status,
                len(spans),
            )

    def _connect(self) -> http.client.HTTPConnection:
        if self._https:
            self._conn = http.client.HTTPSConnection(
                self._host, self._port, timeout=self.timeout, context=self._ssl_context
            )
        else:
            self._conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
        return self._conn

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Close the connection; a later send opens a new one."""
        self._drop_connection()

    def __repr__(self) -> str:
        auth = self._headers.get("Authorization", "").split(" ")[0].lower() or "none"
        return f"HTTPSender({self._endpoint!r}, auth={auth})"


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _netloc(host: str, port: Optional[int]) -> str:
    host = f"[{host}]" if ":" in host else host
    return host if port is None else f"{host}:{port}"

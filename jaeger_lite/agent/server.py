"""The agent's listeners: UDP sockets (compact and binary Thrift) and the HTTP collector.

Each listener hands every payload to one callback and never decodes anything itself. All
listening sockets share one thread blocked in ``select`` together with a wake-up socket,
so stopping is immediate and nothing polls; HTTP requests are then served on their own
threads, under the deadlines and the connection cap of ``httplimits``.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional

from .httplimits import BoundedHTTPServer, DeadlineHandler
from .sampling import strategy_response

#: ``(listener name, payload, sender address) -> accepted``; must not raise.
Handler = Callable[[str, bytes, Any], bool]

MAX_DATAGRAM = 65536
MAX_HTTP_BODY = 32 * 1024 * 1024
HTTP_PATH = "/api/traces"
CONTENT_TYPES = ("application/x-thrift", "application/vnd.apache.thrift.binary")
#: zlib window bits of each Content-Encoding taken, as the Collector's: ``gzip``, and
#: ``deflate``/``zlib`` as zlib streams (what the Python SDK's ``Compression.Deflate`` sends).
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS, "zlib": zlib.MAX_WBITS}


def _resolve(host: str, port: int, kind: int) -> tuple[int, Any]:
    family, _, _, _, address = socket.getaddrinfo(host, port, type=kind, flags=socket.AI_PASSIVE)[0]
    return family, address


class BindError(OSError):
    """A listener could not start: which one, on which address and port, and why (the
    cause's errno is kept; ``unresolved`` when the host name did not resolve)."""

    def __init__(self, listener: str, host: str, port: int, cause: OSError) -> None:
        kind = "UDP" if listener in ("compact", "binary") else "TCP"
        reason = cause.strerror or str(cause)
        super().__init__(cause.errno, f"{kind} port {port} on {host} ({listener}): {reason}")
        self.listener = listener
        self.reason = reason
        self.host = host
        self.port = port
        self.unresolved = isinstance(cause, socket.gaierror)


class _Server(BoundedHTTPServer):
    handler: Handler
    sampling_rate: float = 1.0


class _CollectorHandler(DeadlineHandler):
    """``POST /api/traces`` with a binary Thrift ``Batch`` (gzip, deflate or plain), as
    Jaeger's collector takes it."""

    server: _Server
    server_version = "jaeger-lite-agent"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the agent reports what matters itself; no access log on the terminal

    def _reply(self, status: int, message: str = "") -> None:
        body = (message + "\n").encode() if message else b""
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != HTTP_PATH:
            self._reply(404, f"only POST {HTTP_PATH} is served here")
            return
        content_type = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        body = self._read_body()
        if body is None:
            return
        if content_type not in CONTENT_TYPES:
            self._reply(400, f"Unsupported content type: {content_type or '(none)'}")
            return
        body = self._decoded(body)
        if body is None:
            return
        if self.server.handler("http", body, self.client_address):
            self._reply(202)
        else:
            self._reply(400, "Unable to process request body as a Thrift Batch")

    def _read_body(self) -> Optional[bytes]:
        """The request body (Content-Length or chunked), or None after replying with an error."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            # jaeger-client for Node streams its batches: no Content-Length, chunked framing.
            return self._read_chunked()
        length_header = self.headers.get("Content-Length")
        if length_header is None or not length_header.strip().isdigit():
            self._reply(411, "Content-Length required")
            return None
        length = int(length_header)
        if length > MAX_HTTP_BODY:
            self._too_large()
            return None
        self.body_deadline(length)
        return self.rfile.read(length)

    def _read_chunked(self) -> Optional[bytes]:
        chunks: list[bytes] = []
        total = 0
        self.body_deadline(0)
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                self._reply(400, "malformed chunked body")
                self.close_connection = True
                return None
            if size == 0:
                break
            total += size
            if size < 0 or total > MAX_HTTP_BODY:
                self._too_large()
                return None
            self.extend_deadline(size)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)  # the CRLF after the chunk
        while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
            pass  # trailer fields, up to the blank line
        return b"".join(chunks)

    def _decoded(self, body: bytes) -> Optional[bytes]:
        """The body without its Content-Encoding, or None after replying 400, 413 or 415."""
        encoding = (self.headers.get("Content-Encoding") or "").strip().lower()
        if encoding in ("", "identity"):
            return body
        if encoding not in _WBITS:
            self._reply(415, f"Unsupported content encoding: {encoding}")
            return None
        inflate = zlib.decompressobj(_WBITS[encoding])
        try:  # never more than the limit in memory, however far the body would inflate
            data = inflate.decompress(body, MAX_HTTP_BODY)
        except zlib.error as exc:
            self._reply(400, f"bad {encoding} body: {exc}")
            return None
        if inflate.unconsumed_tail:  # a small body inflating past the limit
            self._too_large()
            return None
        if not inflate.eof:  # cut short: part of a request is not the request
            self._reply(400, f"bad {encoding} body: truncated")
            return None
        return data

    def _too_large(self) -> None:
        self._reply(413, f"body over {MAX_HTTP_BODY} bytes")
        self.close_connection = True

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == "/api/sampling":  # as Jaeger's v1 collector
            self._reply_sampling()
            return
        self._reply(405, f"POST binary Thrift batches to {HTTP_PATH}")

    def _reply_sampling(self) -> None:
        status, body = strategy_response(self.path, self.server.sampling_rate)
        data = (body + ("" if status == 200 else "\n")).encode()
        self.send_response(status)
        content_type = "application/json" if status == 200 else "text/plain; charset=utf-8"
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _SamplingHandler(_CollectorHandler):
    """``GET /sampling?service=NAME`` (and the legacy ``/``), as the agent's port 5778."""

    def do_GET(self) -> None:
        self._reply_sampling()

    def do_POST(self) -> None:
        self._reply(405, "GET /sampling?service=NAME")


class Listeners:
    """Bound UDP sockets and an optional HTTP server, served by one thread."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._sockets: list[socket.socket] = []
        self._http: list[ThreadingHTTPServer] = []
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._thread: Optional[threading.Thread] = None
        self._stopping = False

    def bind_udp(self, name: str, host: str, port: int) -> int:
        """Bind a UDP socket for listener ``name``; return the port actually bound.
        Raises :class:`BindError`."""
        try:
            family, address = _resolve(host, port, socket.SOCK_DGRAM)
            sock = socket.socket(family, socket.SOCK_DGRAM)
        except OSError as exc:
            raise BindError(name, host, port, exc) from exc
        try:
            # A bigger receive buffer rides out bursts from many reporters (where allowed).
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
            sock.bind(address)
        except OSError as exc:
            sock.close()
            raise BindError(name, host, port, exc) from exc
        self._sockets.append(sock)
        self._selector.register(sock, selectors.EVENT_READ, name)
        return int(sock.getsockname()[1])

    def bind_http(
        self,
        host: str,
        port: int,
        *,
        sampling_rate: float = 1.0,
        sampling_only: bool = False,
        request_handler: Optional[type[BaseHTTPRequestHandler]] = None,
    ) -> int:
        """Bind the HTTP collector endpoint (or, with ``sampling_only``, the sampling
        endpoint; or one served by ``request_handler``); return the port actually bound.
        Raises :class:`BindError`."""
        try:
            family, address = _resolve(host, port, socket.SOCK_STREAM)
            server_class = type("_BoundServer", (_Server,), {"address_family": family})
            handler = request_handler or (_SamplingHandler if sampling_only else _CollectorHandler)
            server: _Server = server_class(address, handler)
        except OSError as exc:
            name = "otlp" if request_handler else "sampling" if sampling_only else "http"
            raise BindError(name, host, port, exc) from exc
        server.handler = self._handler
        server.sampling_rate = sampling_rate
        server.timeout = 0.05  # bounds handle_request() if a wake-up was spurious
        self.add_server(server)
        return int(server.server_address[1])

    def add_server(self, server: ThreadingHTTPServer) -> None:
        """Serve another bound HTTP server (the web UI) from the same thread."""
        self._http.append(server)
        self._selector.register(server.socket, selectors.EVENT_READ, server)

    def start(self) -> None:
        """Serve the bound sockets on a daemon thread."""
        self._thread = threading.Thread(
            target=self._serve, name="jaeger-lite-agent-io", daemon=True
        )
        self._thread.start()

    def _serve(self) -> None:
        while not self._stopping:
            for key, _ in self._selector.select():
                if key.data is None:
                    return
                if isinstance(key.data, ThreadingHTTPServer):
                    key.data.handle_request()  # accepts; the request runs on its own thread
                    continue
                sock: socket.socket = key.fileobj  # type: ignore[assignment]
                try:
                    data, sender = sock.recvfrom(MAX_DATAGRAM)
                except OSError:  # e.g. ECONNREFUSED left by an ICMP error on some systems
                    continue
                self._handler(key.data, data, sender)

    def stop(self) -> None:
        """Stop the thread and close every socket."""
        self._stopping = True
        with contextlib.suppress(OSError):  # the wake-up pipe is full: the thread is awake
            self._wake_w.send(b"x")
        if self._thread is not None:
            self._thread.join(5)
        self._selector.close()
        for server in self._http:
            server.server_close()
        for sock in (*self._sockets, self._wake_r, self._wake_w):
            sock.close()

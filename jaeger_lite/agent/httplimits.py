"""The limits every HTTP port of the agent keeps (collector, OTLP, sampling, web UI).

A thread serves each connection, so what a client may hold is bounded twice. Each request
has a deadline for the whole of it, not a timeout per read: its request line and headers
must arrive within ``head_timeout`` of the connection being accepted (or of the previous
answer on a kept-alive one), and its body within ``body_floor`` plus its declared length at
``body_rate`` (chunk by chunk for a chunked body); a client that sends a byte every few
seconds (slowloris) is cut off then like one that sends nothing. And at most
``max_connections`` connections are served at once per port: one more is answered ``503``
with ``Retry-After: 1`` and closed at once by the listener thread, never queued.
"""

from __future__ import annotations

import contextlib
import io
import logging
import queue
import select
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional

__all__ = ["LIMITS", "BoundedHTTPServer", "DeadlineHandler", "HTTPLimits"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HTTPLimits:
    """What one client may take from an HTTP port of the agent."""

    #: Seconds for the request line and headers (idle keep-alive time included).
    head_timeout: float = 5.0
    #: Seconds any body may take, plus its length at ``body_rate``.
    body_floor: float = 10.0
    #: Bytes per second a body's deadline allows for (32 MiB: 10 s + 32 s).
    body_rate: float = 1024 * 1024
    #: Connections served at once per port; 64 threads cost little, and a browser opens 6.
    max_connections: int = 64
    #: Seconds each write of an answer may wait for a client that does not read.
    write_timeout: float = 30.0


#: The limits a server takes when it is made.
LIMITS = HTTPLimits()

#: Seconds a refused connection stays open for its request to arrive and be discarded.
_REFUSED_LINGER = 1.0
_BUSY_TEXT = b"too many connections; retry\n"
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: %d\r\nRetry-After: 1\r\nConnection: close\r\n\r\n%s"
    % (len(_BUSY_TEXT), _BUSY_TEXT)
)


class DeadlineReader(io.RawIOBase):
    """A connection's reading side that gives up at ``deadline`` (``time.monotonic``)
    however the bytes trickle in: each read waits only for what is left of it."""

    def __init__(self, sock: socket.socket, write_timeout: float) -> None:
        super().__init__()
        self._sock = sock
        self._write_timeout = write_timeout
        self.deadline = time.monotonic()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("request deadline passed")
        self._sock.settimeout(left)
        try:
            return self._sock.recv_into(buffer)
        finally:  # writes of the answer keep their own timeout
            self._sock.settimeout(self._write_timeout)


def _answer_busy(sock: socket.socket) -> bool:
    """Send 503 without waiting (on the listener thread); False when it could not go."""
    try:
        sock.setblocking(False)
        sock.send(_BUSY)
        sock.shutdown(socket.SHUT_WR)
        return True
    except OSError:
        return False


def _close_quietly(sock: socket.socket) -> None:
    """Close after taking what the client sent: closing with it unread would reset the
    connection, and the client could lose the 503 with it."""
    with contextlib.suppress(OSError):
        sock.setblocking(False)
        while sock.recv(65536):
            pass
    sock.close()


class BoundedHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that serves at most ``limits.max_connections`` at once."""

    daemon_threads = True
    #: The listen backlog: a burst of connections waits for the listener thread in the
    #: kernel rather than each retrying its SYN a second later (the stdlib's is 5).
    request_queue_size = 128
    #: Which server, in debug messages.
    label = "HTTP"

    def __init__(self, address: Any, handler: type[BaseHTTPRequestHandler]) -> None:
        self.limits = LIMITS
        self._slots = threading.BoundedSemaphore(self.limits.max_connections)
        #: Connections answered 503 because ``max_connections`` were being served.
        self.refused = 0
        # Refused connections wait here (at most _REFUSED_LINGER s each) for their request
        # to arrive before they are closed; one thread closes them, in order.
        self._refused: queue.Queue[Optional[tuple[float, socket.socket]]] = queue.Queue(256)
        self._closer: Optional[threading.Thread] = None
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.refused += 1  # the listener thread is the only writer
            self._refuse(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:  # no thread: the slot is not taken
            self._slots.release()
            raise

    def _refuse(self, sock: socket.socket) -> None:
        if not _answer_busy(sock):
            sock.close()
            return
        if self._closer is None:
            self._closer = threading.Thread(
                target=self._close_refused, name="jaeger-lite-agent-refused", daemon=True
            )
            self._closer.start()
        try:
            self._refused.put_nowait((time.monotonic() + _REFUSED_LINGER, sock))
        except queue.Full:  # a flood: close at once, the 503 may be lost
            _close_quietly(sock)

    def _close_refused(self) -> None:
        while True:
            item = self._refused.get()
            if item is None:
                return
            due, sock = item
            # Until the client's request (or its hang-up) arrives, or the linger is over.
            with contextlib.suppress(OSError, ValueError):
                select.select([sock], [], [], max(0.0, due - time.monotonic()))
            _close_quietly(sock)

    def server_close(self) -> None:
        super().server_close()
        if self._closer is not None:
            with contextlib.suppress(queue.Full):
                self._refused.put_nowait(None)
            self._closer.join(_REFUSED_LINGER + 1)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up, stalled or was cut off: nobody to answer, and a traceback
        on the terminal the traces are printed on would only hide them."""
        log.debug("%s connection from %s failed", self.label, client_address, exc_info=True)


class DeadlineHandler(BaseHTTPRequestHandler):
    """Reads each request under the server's deadlines (module docstring)."""

    server: BoundedHTTPServer
    _reader: DeadlineReader

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # the socket's own reader: replaced by one with a deadline
        self._reader = DeadlineReader(self.connection, self.server.limits.write_timeout)
        self.rfile = io.BufferedReader(self._reader)
        self.connection.settimeout(self.server.limits.write_timeout)

    def handle_one_request(self) -> None:
        self._reader.deadline = time.monotonic() + self.server.limits.head_timeout
        super().handle_one_request()  # a TimeoutError there closes the connection

    def body_deadline(self, length: int) -> None:
        """Allow ``length`` more bytes of body from now: the floor plus their time."""
        limits = self.server.limits
        self._reader.deadline = time.monotonic() + limits.body_floor + length / limits.body_rate

    def extend_deadline(self, length: int) -> None:
        """Allow ``length`` more bytes (the next chunk of a chunked body)."""
        self._reader.deadline += length / self.server.limits.body_rate

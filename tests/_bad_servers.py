"""HTTP servers on 127.0.0.1 that misbehave on purpose: they trickle, stall, never answer
or hang up mid-request. Real sockets, one thread per connection, stopped by ``stop()``."""

from __future__ import annotations

import contextlib
import socket
import threading

#: What each behaviour does once a request has arrived.
BEHAVIOURS = (
    "trickle",  # the whole answer, one byte every `interval` seconds
    "trickle_body",  # status and headers at once, then the body a byte at a time
    "stall_headers",  # the status line, then nothing
    "silent",  # reads the request, never answers
    "hang_up",  # reads part of the request, closes the connection
    "no_accept",  # never accepts: the kernel's backlog completes the handshake
)

_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"


class BadServer:
    """A listening socket whose connections all get ``behaviour``."""

    def __init__(self, behaviour: str, interval: float = 0.25) -> None:
        assert behaviour in BEHAVIOURS, behaviour
        self.behaviour = behaviour
        self.interval = interval
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port: int = self._sock.getsockname()[1]
        self.connections = 0
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []
        if behaviour != "no_accept":
            self._sock.settimeout(0.1)
            thread = threading.Thread(target=self._accept_loop, daemon=True)
            thread.start()
            self._threads.append(thread)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (socket.timeout, OSError):
                continue
            self.connections += 1
            self._conns.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.1)
        with contextlib.suppress(OSError):
            if self.behaviour == "hang_up":
                self._read_some(conn, 16)
                conn.close()
                return
            self._read_request(conn)
            if self.behaviour == "trickle":
                self._trickle(conn, _ANSWER)
            elif self.behaviour == "trickle_body":
                head = b"HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n"
                conn.sendall(head)
                self._trickle(conn, b"x" * 4096)
            elif self.behaviour == "stall_headers":
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                self._stop.wait(60)
            else:  # silent
                self._stop.wait(60)

    def _read_some(self, conn: socket.socket, count: int) -> None:
        got = b""
        while len(got) < count and not self._stop.is_set():
            try:
                chunk = conn.recv(count - len(got))
            except socket.timeout:
                continue
            if not chunk:
                return
            got += chunk

    def _read_request(self, conn: socket.socket) -> None:
        """Headers and a Content-Length body."""
        data = b""
        while b"\r\n\r\n" not in data and not self._stop.is_set():
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                return
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length and not self._stop.is_set():
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                return
            body += chunk

    def _trickle(self, conn: socket.socket, data: bytes) -> None:
        for i in range(len(data)):
            if self._stop.wait(self.interval):
                return
            conn.sendall(data[i : i + 1])

    def stop(self) -> None:
        self._stop.set()
        self._sock.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.close()
        for thread in self._threads:
            thread.join(5)

    def __enter__(self) -> BadServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


_HELD: list[socket.socket] = []


def free_port() -> int:
    """A port nothing listens on, and nothing else can take: the socket stays bound (not
    listening, so a connection is refused) until the test process ends. A port that was
    bound and then closed could be taken by another xdist worker's server meanwhile (seen
    in CI: a "dead" collector answered 404)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    _HELD.append(sock)
    port: int = sock.getsockname()[1]
    return port

"""A forward HTTP proxy on 127.0.0.1 for the proxy tests: real sockets, a thread per client
connection. It opens ``CONNECT`` tunnels and forwards absolute-form requests, but only to
the names in ``names``, each of which it alone maps to 127.0.0.1 (the port is the one the
client asked for): a request for such a name (say ``collector.invalid``, which no resolver
answers) that reaches a server must have come through here."""

from __future__ import annotations

import base64
import contextlib
import io
import socket
import threading
import urllib.parse
from typing import Optional

_ESTABLISHED = b"HTTP/1.1 200 Connection established\r\n\r\n"
_AUTH_REQUIRED = (
    b'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="t"\r\n'
    b"Content-Length: 0\r\nConnection: close\r\n\r\n"
)


class ForwardProxy:
    """``requests`` holds each request line and its headers (names lowercased);
    ``connections`` counts the client connections accepted. With ``user``/``password``
    a request without the matching ``Proxy-Authorization`` gets 407; ``connect_answer``
    replaces the answer to every ``CONNECT`` (a 502, say)."""

    def __init__(
        self,
        names: tuple[str, ...] = ("collector.invalid",),
        *,
        user: Optional[str] = None,
        password: Optional[str] = None,
        connect_answer: Optional[bytes] = None,
    ) -> None:
        self.names = names
        self.expected: Optional[str] = None
        if user is not None:
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            self.expected = f"Basic {token}"
        self.connect_answer = connect_answer
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []  # client and upstream sockets
        self._stop = threading.Event()
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request_lines(self) -> list[str]:
        with self._lock:
            return [line for line, _ in self.requests]

    def hang_up(self) -> None:
        """Close every connection now, as a proxy does with idle ones."""
        with self._lock:
            sockets, self._open = self._open, []
        for sock in sockets:
            _close(sock)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()
        self.hang_up()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:  # the 0.05 s poll, or the listener closed
                continue
            with self._lock:
                self.connections += 1
                self._open.append(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        reader = client.makefile("rb")
        try:
            while self._one_request(client, reader):
                pass
        except OSError:
            pass
        finally:
            reader.close()
            _close(client)

    def _one_request(self, client: socket.socket, reader: io.BufferedReader) -> bool:
        """Serve one request; False when the connection is done."""
        line = reader.readline(65536)
        if not line:
            return False
        headers: dict[str, str] = {}
        while True:
            header = reader.readline(65536)
            if header in (b"\r\n", b"\n", b""):
                break
            name, _, value = header.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        text = line.decode("latin-1").rstrip("\r\n")
        with self._lock:
            self.requests.append((text, headers))
        method, target, _ = text.split(" ", 2)
        if self.expected is not None and headers.get("proxy-authorization") != self.expected:
            client.sendall(_AUTH_REQUIRED)
            return False
        if method == "CONNECT":
            if self.connect_answer is not None:
                client.sendall(self.connect_answer)
                return False
            host, _, port = target.rpartition(":")
            upstream = self._dial(client, host, int(port))
            if upstream is not None:
                client.sendall(_ESTABLISHED)
                self._relay(client, upstream)
            return False
        body = reader.read(int(headers.get("content-length", "0")))
        url = urllib.parse.urlsplit(target)
        upstream = self._dial(client, url.hostname or "", url.port or 80)
        if upstream is None:
            return False
        kept = {k: v for k, v in headers.items() if not k.startswith("proxy-")}
        kept["connection"] = "close"  # the answer then ends where the upstream hangs up
        origin_form = (url.path or "/") + (f"?{url.query}" if url.query else "")
        head = f"{method} {origin_form} HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in kept.items()
        )
        upstream.sendall(head.encode("latin-1") + b"\r\n" + body)
        answer = b""
        while True:
            chunk = upstream.recv(65536)
            if not chunk:
                break
            answer += chunk
        _close(upstream)
        client.sendall(answer)  # the collectors' answers carry Content-Length: kept alive
        return True

    def _dial(self, client: socket.socket, host: str, port: int) -> Optional[socket.socket]:
        if host not in self.names:
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return None
        upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
        upstream.settimeout(None)
        with self._lock:
            self._open.append(upstream)
        return upstream

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
        back.start()
        _pump(client, upstream)
        back.join(10)


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy bytes until either side ends, then end both."""
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        _close(source)
        _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()

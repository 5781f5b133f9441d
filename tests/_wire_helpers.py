"""Test helpers: a UDP agent stand-in and independent decoders for what jaeger_lite sends.

Decoding uses the classes generated from the IDL by the thrift compiler
(``jaeger_lite/_gen``) read by thrift's own pure-Python protocols, never our encoder.
"""

from __future__ import annotations

import contextlib
import http.server
import socket
import ssl
import sys
import threading
import time
from typing import Any, Optional

from thrift.protocol.TBinaryProtocol import TBinaryProtocol
from thrift.protocol.TCompactProtocol import TCompactProtocol
from thrift.Thrift import TMessageType
from thrift.transport.TTransport import TMemoryBuffer

from jaeger_lite._gen.agent import Agent
from jaeger_lite._gen.jaeger import ttypes

MASK64 = (1 << 64) - 1


def expected_user_agent() -> str:
    """The User-Agent every HTTP request of ours should carry (the OTLP exporter spec: the
    exporter, its language and version), built here from ``platform``, not our constant."""
    import platform

    import jaeger_lite

    python = f"Python {platform.python_version()}; {platform.python_implementation()}"
    return f"jaeger_lite/{jaeger_lite.__version__} ({python})"


def decode_emit_batch(datagram: bytes) -> ttypes.Batch:
    """Decode one compact emitBatch datagram the way an agent does."""
    protocol = TCompactProtocol(TMemoryBuffer(datagram))
    name, message_type, _seqid = protocol.readMessageBegin()
    assert name == "emitBatch"
    assert message_type == TMessageType.ONEWAY
    args = Agent.emitBatch_args()
    args.read(protocol)
    protocol.readMessageEnd()
    return args.batch


def decode_compact_span(data: bytes) -> ttypes.Span:
    span = ttypes.Span()
    span.read(TCompactProtocol(TMemoryBuffer(data)))
    return span


def decode_binary_batch(body: bytes) -> ttypes.Batch:
    batch = ttypes.Batch()
    batch.read(TBinaryProtocol(TMemoryBuffer(body)))
    return batch


def tag_dict(tags: Optional[list[Any]]) -> dict[str, Any]:
    """Tag list -> {key: typed value}, checking vType matches the value field set."""
    out: dict[str, Any] = {}
    for tag in tags or []:
        value = {
            ttypes.TagType.STRING: tag.vStr,
            ttypes.TagType.DOUBLE: tag.vDouble,
            ttypes.TagType.BOOL: tag.vBool,
            ttypes.TagType.LONG: tag.vLong,
            ttypes.TagType.BINARY: tag.vBinary,
        }[tag.vType]
        assert value is not None, tag
        out[tag.key] = value
    return out


def unsigned(value: int) -> int:
    return value & MASK64


class UDPAgent:
    """Receives datagrams on 127.0.0.1 (or ::1) in a thread; waits on a condition."""

    def __init__(self, family: int = socket.AF_INET, port: int = 0) -> None:
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        # SO_RCVBUFFORCE (Linux, 33; needs root) lifts the rmem_max cap; else SO_RCVBUF.
        for option in ((33,) if sys.platform.startswith("linux") else ()) + (socket.SO_RCVBUF,):
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, option, 32 << 20)
                break
            except OSError:
                continue
        self.sock.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", port))
        self.port: int = self.sock.getsockname()[1]
        self.datagrams: list[bytes] = []
        self._closed = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if self._closed:
                return
            with self._cond:
                self.datagrams.append(data)
                self._cond.notify_all()

    def wait_for_datagrams(self, count: int, timeout: float = 10.0) -> list[bytes]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.datagrams) >= count, timeout)
            return list(self.datagrams)

    def batches(self) -> list[ttypes.Batch]:
        with self._cond:
            return [decode_emit_batch(d) for d in self.datagrams]

    def wait_for_spans(self, count: int, timeout: float = 10.0) -> list[ttypes.Span]:
        """Decoded spans once ``count`` arrived (or whatever came within ``timeout``)."""
        deadline = time.monotonic() + timeout
        decoded: list[ttypes.Span] = []
        seen = 0
        with self._cond:
            while True:
                for data in self.datagrams[seen:]:
                    decoded.extend(decode_emit_batch(data).spans)
                seen = len(self.datagrams)
                remaining = deadline - time.monotonic()
                if len(decoded) >= count or remaining <= 0:
                    return decoded
                self._cond.wait(remaining)

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):  # already shut down
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked recv on Linux
        # The receiving thread holds the socket while recv() returns: the port is free for
        # a new agent (tests restart one on it) only once that thread is gone.
        if self._thread is not threading.current_thread():
            self._thread.join(5)
        self.sock.close()


def free_udp_port() -> int:
    """A loopback UDP port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def accounted(metrics: dict[str, int]) -> int:
    """Spans the reporter can account for: sent, or dropped for a counted reason."""
    return (
        metrics["spans_sent"]
        + metrics["spans_dropped_queue_full"]
        + metrics["spans_dropped_closed"]
        + metrics["spans_dropped_too_large"]
        + metrics["spans_dropped_send_failed"]
        + metrics["spans_dropped_encode_error"]
        + metrics["spans_dropped_close_timeout"]
        + metrics["queue_length"]
    )


class Collector(http.server.ThreadingHTTPServer):
    """A stdlib HTTP server on 127.0.0.1 recording each request."""

    daemon_threads = True

    def __init__(self, status: int = 202, tls: Optional[ssl.SSLContext] = None) -> None:
        self.status = status
        self.requests: list[dict[str, Any]] = []
        self.client_ports: set[int] = set()
        self.scheme = "https" if tls is not None else "http"
        super().__init__(("127.0.0.1", 0), _Handler)
        if tls is not None:  # handshakes happen on the handler threads, at first read
            self.socket = tls.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )
        self.thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}/api/traces"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client refusing our certificate, a client gone: the tests judge outcomes

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append(
            {"method": self.command, "path": self.path, "headers": self.headers, "body": body}
        )
        self.server.client_ports.add(self.client_address[1])
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass

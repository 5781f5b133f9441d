"""A stand-in OpenTelemetry Collector (stdlib ``http.server`` on 127.0.0.1, real sockets)
with scripted answers, and decoders for what it receives that we did not write: the
classes generated from opentelemetry-proto and protobuf's own ``json_format``."""

from __future__ import annotations

import base64
import gzip
import http.server
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Optional

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


@dataclass
class Answer:
    """What the stand-in does with one request."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    action: str = "answer"  # answer | hang_up (close without a word) | trickle | stall
    interval: float = 0.25  # trickle: seconds between bytes
    interim: bytes = b""  # written before the answer: interim 1xx answers, say


def partial_success(rejected: int, message: str = "", json_body: bool = False) -> Answer:
    response = ExportTraceServiceResponse(
        partial_success=ExportTracePartialSuccess(rejected_spans=rejected, error_message=message)
    )
    if json_body:
        return Answer(200, {"Content-Type": "application/json"},
                      json_format.MessageToJson(response).encode())  # fmt: skip
    return Answer(200, {"Content-Type": "application/x-protobuf"}, response.SerializeToString())


@dataclass
class Received:
    path: str
    headers: Any
    raw: bytes

    @property
    def body(self) -> bytes:
        if self.headers.get("Content-Encoding") == "gzip":
            return gzip.decompress(self.raw)
        return self.raw

    def decode(self) -> ExportTraceServiceRequest:
        """The request as opentelemetry-proto's generated class, from protobuf or JSON."""
        if self.headers.get("Content-Type") == "application/json":
            return parse_otlp_json(self.body)
        assert self.headers.get("Content-Type") == "application/x-protobuf"
        return ExportTraceServiceRequest.FromString(self.body)


def parse_otlp_json(body: bytes) -> ExportTraceServiceRequest:
    """OTLP/JSON differs from protobuf's JSON mapping in one thing: ids are hex, not
    base64. Turn them into base64 (checking they are well-formed hex) and let
    ``json_format`` read the rest, unknown fields refused."""
    document = json.loads(body)
    for resource_spans in document.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                _hex_ids(span)
                for link in span.get("links", []):
                    _hex_ids(link)
    return json_format.ParseDict(document, ExportTraceServiceRequest())


def _hex_ids(obj: dict[str, Any]) -> None:
    for name, size in (("traceId", 32), ("spanId", 16), ("parentSpanId", 16)):
        if name in obj:
            text = obj[name]
            assert len(text) == size and text == text.lower(), text
            obj[name] = base64.b64encode(bytes.fromhex(text)).decode()


class OTLPCollector(http.server.ThreadingHTTPServer):
    """Records every request to ``/v1/traces`` and answers from ``answers`` in turn
    (then ``default``)."""

    daemon_threads = True

    def __init__(self, *answers: Answer, default: Optional[Answer] = None, tls: Any = None) -> None:
        self.answers: deque[Answer] = deque(answers)
        self.default = default or Answer()
        self.received: list[Received] = []
        self.client_ports: set[int] = set()
        self.max_body: Optional[int] = None  # larger bodies get 413 (and are not recorded)
        self.too_large = 0
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self.scheme = "https" if tls is not None else "http"
        super().__init__(("127.0.0.1", 0), _Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )
        self.thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}"

    @property
    def url(self) -> str:
        return self.base_url + "/v1/traces"

    def next_answer(self) -> Answer:
        with self._changed:
            return self.answers.popleft() if self.answers else self.default

    def record(self, received: Received, port: int) -> None:
        with self._changed:
            self.received.append(received)
            self.client_ports.add(port)
            self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self.received) >= count, timeout)

    def spans(self) -> list[Any]:
        """Every span received so far, decoded, in order."""
        return [
            span
            for received in self.received
            for resource_spans in received.decode().resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client refusing our certificate, a client gone: the tests judge outcomes

    def stop(self) -> None:
        self._stop.set()
        self.shutdown()
        self.server_close()

    def __enter__(self) -> OTLPCollector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: OTLPCollector

    def do_POST(self) -> None:
        answer = self.server.next_answer()
        if answer.action == "hang_up":
            self.rfile.read(10)  # part of the request, then the connection drops
            self.close_connection = True
            return
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        if self.server.max_body is not None and len(raw) > self.server.max_body:
            self.server.too_large += 1  # as nginx answers past client_max_body_size
            body = b"<html><head><title>413 Request Entity Too Large</title></head></html>"
            self.wfile.write(b"HTTP/1.1 413 Request Entity Too Large\r\nConnection: close\r\n"
                             b"Content-Type: text/html\r\nContent-Length: %d\r\n\r\n%s"
                             % (len(body), body))  # fmt: skip
            self.close_connection = True
            return
        self.server.record(Received(self.path, self.headers, raw), self.client_address[1])
        if answer.action == "stall":
            self.server._stop.wait(30)
            self.close_connection = True
            return
        head = f"HTTP/1.1 {answer.status} X\r\nContent-Length: {len(answer.body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in answer.headers.items()) + "\r\n"
        data = answer.interim + head.encode("latin-1") + answer.body  # HTTP reads latin-1
        if answer.action == "trickle":
            for i in range(len(data)):
                if self.server._stop.wait(answer.interval):
                    break
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass

"""The agent's OTLP/HTTP listener: ``POST /v1/traces`` (protobuf or JSON; gzip, deflate or
none), as an OpenTelemetry Collector's ``otlp`` receiver takes it on port 4318."""

from __future__ import annotations

from .server import _CollectorHandler

__all__ = ["FORWARDED", "OTLP_PATH", "OTLP_TYPES", "OTLPHandler"]

OTLP_PATH = "/v1/traces"
#: Listener name (what the agent's handler is told) of each content type.
OTLP_TYPES = {"application/x-protobuf": "otlp/protobuf", "application/json": "otlp/json"}
#: Marks a request one development agent forwarded to another: it is not forwarded again.
FORWARDED = "X-Jaeger-Lite-Forwarded"


class OTLPHandler(_CollectorHandler):
    """Answers 200 with an empty ``ExportTraceServiceResponse`` (every span taken), 400 for
    a body that is not an export request, 415 for another content type."""

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != OTLP_PATH:
            self._reply(404, f"only POST {OTLP_PATH} is served here")
            return
        content_type = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        body = self._read_body()
        if body is None:
            return
        listener = OTLP_TYPES.get(content_type)
        if listener is None:
            self._reply(415, f"Unsupported content type: {content_type or '(none)'}")
            return
        body = self._decoded(body)  # gzip, deflate or none; bounded as it inflates
        if body is None:
            return
        if self.headers.get(FORWARDED):
            listener += "/forwarded"
        if self.server.handler(listener, body, self.client_address):
            answer = b"{}" if listener.startswith("otlp/json") else b""
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        else:
            self._reply(400, "Unable to process request body as an OTLP ExportTraceServiceRequest")

    def do_GET(self) -> None:
        self._reply(405, f"POST OTLP/HTTP exports to {OTLP_PATH}")

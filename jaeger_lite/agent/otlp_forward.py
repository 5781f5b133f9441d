"""Forwarding OTLP: the development agent relays each OTLP export it receives, unchanged,
to an OTLP/HTTP endpoint (a Jaeger v2 or an OpenTelemetry Collector)."""

from __future__ import annotations

import threading

from .._http import HTTPClient, HTTPRequestError, safe_url
from .otlp_receiver import FORWARDED

__all__ = ["OTLPRelay"]


class OTLPRelay:
    """POSTs bodies to ``url`` over one kept-alive connection, each within ``timeout``,
    marked so that another development agent does not forward them again. Thread-safe:
    each OTLP request to the agent is served on its own thread, and the connection carries
    one exchange at a time (interleaved, they garbled each other and lost the spans)."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = safe_url(url)
        self._client = HTTPClient(url, timeout=timeout)
        self._lock = threading.Lock()
        path = url.split("://", 1)[1]
        self._path = "/" + path.split("/", 1)[1] if "/" in path else "/"

    def relay(self, listener: str, body: bytes) -> None:
        """Send one export request on; raises OSError when it was not accepted (2xx)."""
        json_body = listener.startswith("otlp/json")
        headers = {
            "Content-Type": "application/json" if json_body else "application/x-protobuf",
            FORWARDED: "1",
        }
        with self._lock:
            response = self._client.request("POST", self._path, body, headers)
        if not 200 <= response.status < 300:
            raise HTTPRequestError(f"{self.url} answered {response.status} {response.reason}")

    def close(self) -> None:
        with self._lock:
            self._client.close()

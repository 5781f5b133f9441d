"""``OTLPSender``: OTLP/HTTP exports (protobuf or JSON) to Jaeger v2 or any OpenTelemetry
Collector (``POST /v1/traces``, port 4318).

Driven by one thread at a time (the reporter's worker). It follows the OTLP/HTTP delivery
rules: 429, 502, 503 and 504 and network errors are retried with exponential backoff (or
after ``Retry-After``) within one deadline per export; a 413 sends halves again; other
answers are final (a 400 is counted as rejected, never retried);
``partial_success.rejected_spans`` are counted and its ``error_message`` logged (not retried).
Nothing raises; every span ends up sent or counted.
"""

from __future__ import annotations

import base64
import email.utils
import gzip
import logging
import os
import random
import threading
import time
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Callable, Optional

from .._encoding.otlp_json import (
    JSONEncoder,
    json_export_request,
    json_resource,
    read_json_export_response,
    read_json_status_message,
)
from .._encoding.otlp_model import resource_attributes
from .._encoding.otlp_proto import (
    ProtoEncoder,
    encode_resource,
    export_request,
    read_export_response,
    read_status_message,
)
from .._http import (
    HTTPClient,
    HTTPRequestError,
    Response,
    header_problem,
    header_value,
    safe_url,
)
from .._proxy import proxy_for
from .._safe import log_line_text
from .._version import USER_AGENT, __version__
from ..span import Span
from .base import RateLimitedLog, Sender

if TYPE_CHECKING:
    import ssl

__all__ = ["DEFAULT_OTLP_ENDPOINT", "OTLPSender"]

_log = logging.getLogger("jaeger_lite")

DEFAULT_OTLP_ENDPOINT = "http://localhost:4318/v1/traces"
PROTOCOLS = {"http/protobuf": "application/x-protobuf", "http/json": "application/json"}
#: Answers the OTLP/HTTP spec calls retryable.
RETRYABLE = frozenset({429, 502, 503, 504})
_FIRST_BACKOFF = 0.25  # seconds; doubled after each retry, with ±20% jitter
_MAX_BACKOFF = 5.0
_MAX_THROTTLE = 60.0  # the longest a Retry-After answer makes later exports fail at once


class OTLPSender(Sender):
    """Exports spans over OTLP/HTTP to ``endpoint`` (the full URL, used as is; default
    ``http://localhost:4318/v1/traces``).

    ``protocol`` is ``http/protobuf`` (default) or ``http/json``; ``compression`` ``gzip``
    or None; ``headers`` are added to every request (say, an API key: never logged, never
    in ``repr``). ``https://`` verifies the collector against the system's CAs,
    ``certificate_file`` (PEM) or ``ssl_context``, and presents ``client_certificate_file``
    (and ``client_key_file``, when the key is apart) for mutual TLS. One kept-alive
    connection. Each export has ``timeout`` seconds for all its attempts; after one fails
    for want of a collector (or a ``Retry-After`` longer than that), exports fail at once
    (counted) for as long, so ``close()`` against a dead or trickling collector takes about
    ``timeout``. A request carries at most ``batch_bytes`` of encoded spans (before
    compression). The proxy that ``HTTP_PROXY``/``HTTPS_PROXY`` and ``NO_PROXY`` name when
    the sender is made carries the exports (README: "Proxies").
    """

    #: encode_spans may run on the reporting thread (its encoder is used by one thread at a
    #: time; the Resource is built by functions that keep no state).
    inline_encode = True

    def __init__(
        self,
        endpoint: Optional[str] = None,
        *,
        protocol: str = "http/protobuf",
        headers: Optional[Mapping[str, str]] = None,
        compression: Optional[str] = None,
        timeout: float = 10.0,
        certificate_file: Optional[str] = None,
        client_certificate_file: Optional[str] = None,
        client_key_file: Optional[str] = None,
        ssl_context: Optional[ssl.SSLContext] = None,
        batch_bytes: int = 1 << 20,
    ) -> None:
        endpoint = endpoint or DEFAULT_OTLP_ENDPOINT
        url = urllib.parse.urlsplit(endpoint)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(
                f"endpoint must be an http(s) URL, e.g. {DEFAULT_OTLP_ENDPOINT}, got "
                f"{safe_url(endpoint)!r}"
            )
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be http/protobuf or http/json, got {protocol!r}")
        if compression not in (None, "none", "gzip"):
            raise ValueError(f"compression must be gzip or none, got {compression!r}")
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, got {timeout!r}")
        if batch_bytes < 1:
            raise ValueError(f"batch_bytes must be at least 1, got {batch_bytes!r}")
        if client_key_file and not client_certificate_file:
            raise ValueError("client_key_file needs client_certificate_file")
        if client_certificate_file and ssl_context is not None:
            raise ValueError("give the client certificate in ssl_context or as a file, not both")
        for option, path in (
            ("certificate_file", certificate_file),
            ("client_certificate_file", client_certificate_file),
            ("client_key_file", client_key_file),
        ):  # told now, not as a network error at every export
            if path and not os.path.isfile(path):
                raise ValueError(f"{option} {path!r} is not a file")
        self.endpoint = safe_url(endpoint)
        self.protocol = protocol
        self.compression = "gzip" if compression == "gzip" else None
        self.timeout = float(timeout)
        self.batch_bytes = batch_bytes
        self._client = HTTPClient(
            endpoint,
            timeout=self.timeout,
            ssl_context=ssl_context,
            ca_file=certificate_file,
            cert_file=client_certificate_file,
            key_file=client_key_file,
            proxy=proxy_for(endpoint),
        )
        self._path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        self._headers = {
            "Content-Type": PROTOCOLS[protocol],
            "User-Agent": USER_AGENT,
        }
        if self.compression:
            self._headers["Content-Encoding"] = "gzip"
        if url.username is not None:
            user = urllib.parse.unquote(url.username)
            password = urllib.parse.unquote(url.password or "")
            token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            self._headers["Authorization"] = f"Basic {token}"
        custom = {str(k): str(v) for k, v in (headers or {}).items()}
        for name, value in custom.items():
            problem = header_problem(name, value)
            if problem:  # else every export would fail, retried until its deadline
                raise ValueError(problem)
            # One field per name, as for any non-list header: a custom header replaces
            # ours (User-Agent, Authorization), whatever its case; the body decides
            # Content-Type and Content-Encoding.
            if name.lower() not in ("content-type", "content-encoding"):
                for ours in [k for k in self._headers if k.lower() == name.lower()]:
                    del self._headers[ours]
                self._headers[name] = header_value(value)
        self._header_count = len(custom)
        self._json = protocol == "http/json"
        self._cut_short = threading.Event()  # close() ends a backoff wait
        self._down_until = 0.0
        self._rejected = 0
        self._retries = 0
        self._new_encoder()
        super().__init__()
        # Partial successes: logged apart from failures (neither hides the other), as often.
        self._partial_warn = RateLimitedLog()

    def _new_encoder(self) -> None:
        encoder = JSONEncoder() if self._json else ProtoEncoder()
        self._encode_spans: Callable[[Iterable[Span]], list[bytes]] = encoder.spans

    # -- encoding (the reporter's worker) -----------------------------------------------

    def encode(self, span: Span) -> bytes:
        """One finished span, framed for its request (see ``_encoding.otlp_proto``)."""
        return self._encode_spans((span,))[0]

    def encode_spans(self, spans: Iterable[Span]) -> list[bytes]:
        return self._encode_spans(spans)

    def resource_bytes(self) -> bytes:
        """The encoded Resource (built on first use, again after a fork)."""
        self._check_fork()
        if self._process is None:
            attributes = resource_attributes(self._service_name, self._tracer_tags)
            self._process = (json_resource if self._json else encode_resource)(attributes)
        return self._process

    def body(self, spans: Sequence[bytes]) -> bytes:
        """The request body for encoded spans, compressed if so configured."""
        build = json_export_request if self._json else export_request
        body = build(self.resource_bytes(), spans, __version__)
        # Level 1: most of gzip's gain on span data at a fraction of level 9's CPU.
        return gzip.compress(body, compresslevel=1, mtime=0) if self.compression else body

    # -- sending ------------------------------------------------------------------------

    def send(self, spans: Sequence[bytes]) -> None:
        """Export the spans (the reporter hands at most ``batch_bytes`` at a time)."""
        if not spans:
            return
        self._cut_short.clear()
        self._send(spans, time.monotonic() + self.timeout)

    def _send(self, spans: Sequence[bytes], deadline: float) -> None:
        """A 413 (a proxy's body limit, say nginx's default 1 MiB) sends each half of the
        spans on its own, within the same deadline, down to single spans."""
        if not self._export(self.body(spans), len(spans), deadline, split=len(spans) > 1):
            half = len(spans) // 2
            self._send(spans[:half], deadline)
            self._send(spans[half:], deadline)

    def _export(self, body: bytes, count: int, deadline: float, split: bool = False) -> bool:
        """Deliver or count ``count`` spans; False (nothing counted) for a 413 if ``split``."""
        start = time.monotonic()
        if start < self._down_until:
            self._give_up(count, 0, None, log=False)
            return True
        attempt = 0
        while True:
            left = deadline - time.monotonic()
            retry_after: Optional[float] = None
            status = 0
            try:
                if left <= 0:
                    raise HTTPRequestError(f"no answer within {self.timeout:g}s")
                response = self._client.request(
                    "POST", self._path, body, self._headers, timeout=left
                )
            except HTTPRequestError as error:
                problem = str(error)
                retryable = True
            else:
                status = response.status
                if 200 <= status < 300:
                    self._accepted(response, count, len(body))
                    return True
                if status == 413 and split:
                    return False
                problem = _answer(response)
                retryable = status in RETRYABLE
                retry_after = _retry_after(response.header("Retry-After"))
            if retryable:
                delay = _backoff(attempt) if retry_after is None else max(retry_after, 0.1)
                if time.monotonic() + delay < deadline and not self._cut_short.is_set():
                    attempt += 1
                    self._retries += 1
                    if not self._cut_short.wait(delay):
                        continue
                # No time left: a collector that is away or asks us to wait that long
                # makes the next exports fail at once rather than each waiting in turn.
                down = self.timeout if retry_after is None else min(retry_after, _MAX_THROTTLE)
                self._down_until = time.monotonic() + down
            self._give_up(count, status, problem)
            return True

    def _accepted(self, response: Response, count: int, size: int) -> None:
        self._down_until = 0.0
        self._batches += 1
        self._bytes += size
        rejected, message = 0, ""
        try:
            if (response.header("Content-Type") or "").startswith("application/json"):
                rejected, message = read_json_export_response(response.body)
            else:
                rejected, message = read_export_response(response.body)
        except ValueError:  # a 2xx with a body we cannot read: the spans were taken
            _log.debug("unreadable OTLP answer %r", response.body[:200])
        rejected = min(rejected, count)
        self._spans_sent += count - rejected
        if rejected:
            self._failed += rejected
            self._rejected += rejected
        if rejected or message:  # OTLP: not retried; a message alone is a warning
            self._partial_warn.warning(
                "%s rejected %d of %d spans (partial success): %s", self.endpoint, rejected,
                count, log_line_text(message) if message else "(no reason given)",
            )  # fmt: skip

    def _give_up(self, count: int, status: int, problem: Optional[str], log: bool = True) -> None:
        self._failed += count
        if status == 400:  # the collector will never take this data: rejected, not retried
            self._rejected += count
        if log:
            self._send_errors += 1
            self._warn.warning(
                "OTLP export of %d spans to %s failed: %s",
                count, self.endpoint, problem,
            )  # fmt: skip

    def metrics(self) -> dict[str, int]:
        """The base counters, plus ``spans_rejected`` (a 400 answer or
        ``partial_success``; also in ``spans_dropped_send_failed``) and ``send_retries``."""
        metrics = super().metrics()
        metrics["spans_rejected"] = self._rejected
        metrics["send_retries"] = self._retries
        return metrics

    def _reset(self) -> None:
        super()._reset()
        self._rejected = 0
        self._retries = 0
        self._down_until = 0.0

    def after_fork(self) -> None:
        self._client.after_fork()  # the parent's connection: never write to it from the child
        self._new_encoder()
        super().after_fork()

    def close(self) -> None:
        """Close the connection (a later send opens a new one) and end a backoff wait."""
        self._cut_short.set()
        self._client.close()

    def __repr__(self) -> str:
        extra = f", compression={self.compression}" if self.compression else ""
        return (
            f"OTLPSender({self.endpoint!r}, protocol={self.protocol}{extra}, "
            f"headers={self._header_count})"
        )


def _answer(response: Response) -> str:
    """``HTTP 400: <the collector's message>`` (google.rpc.Status), kept short."""
    body = response.body
    if (response.header("Content-Type") or "").startswith("application/json"):
        message = read_json_status_message(body)
    elif (response.header("Content-Type") or "").startswith("application/x-protobuf"):
        message = read_status_message(body)
    else:
        message = body[:200].decode("utf-8", "replace").strip()
    return f"HTTP {response.status}" + (f": {log_line_text(message)}" if message else "")


def _retry_after(value: Optional[str]) -> Optional[float]:
    """Seconds from a ``Retry-After`` of seconds or an HTTP date; None when absent or bad."""
    if not value:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():  # "²" (byte 0xB2) is a digit to isdigit()
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _backoff(attempt: int) -> float:
    delay: float = min(_FIRST_BACKOFF * 2**attempt, _MAX_BACKOFF)
    return delay * random.uniform(0.8, 1.2)  # noqa: S311  # jitter, not a secret

"""``HTTPSender``: binary-Thrift ``Batch`` POSTs to a Jaeger collector (``/api/traces``;
docs/protocol.md#collector-over-http).

Driven by one thread at a time (the reporter's worker). Network trouble and non-2xx answers
are counted and logged at most once a minute, never raised.
"""

from __future__ import annotations

import base64
import logging
import time
import urllib.parse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Optional

from .._encoding.thrift_batch import BinaryEncoder, process_tags
from .._http import HTTPClient, HTTPRequestError, netloc
from .._proxy import proxy_for
from .._safe import plural
from .._version import USER_AGENT
from ..span import Span
from .base import Sender

if TYPE_CHECKING:  # ssl is only needed for the annotation (Pythons without it exist)
    import ssl

__all__ = ["HTTPSender"]

_log = logging.getLogger("jaeger_lite")


class HTTPSender(Sender):
    """POSTs binary-protocol Batches to a Jaeger collector (``http://host:14268/api/traces``).

    Basic auth with ``user`` and ``password``, or a bearer ``auth_token``. ``https://``
    verifies the collector's certificate against the system's CAs (``SSL_CERT_FILE``
    adds one), or as ``ssl_context`` says (a private CA, a client certificate). One
    persistent connection (stdlib ``http.client``) is reused. Each POST has ``timeout``
    seconds for all of it (connect, send, answer), however slowly the collector answers.
    A non-2xx answer or a network error counts the batch's spans as failed; after a
    network error, batches fail at once for ``timeout`` seconds so a dead collector cannot
    hold the worker (or exit) for long.
    The proxy that ``HTTP_PROXY``/``HTTPS_PROXY`` and ``NO_PROXY`` name when the sender is
    made carries the POSTs (README: "Proxies"). Credentials never appear in ``repr`` or in
    logs.
    """

    #: encode_spans may run on the reporting thread (its encoder is used by one thread at a
    #: time, and the Process is built with an encoder of its own).
    inline_encode = True

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
        self._path = (url.path or "/api/traces") + (f"?{url.query}" if url.query else "")
        self._endpoint = urllib.parse.urlunsplit(
            (url.scheme, netloc(url.hostname, url.port), url.path, url.query, "")
        )  # without any user:password@ the URL may have carried
        self._headers = {"Content-Type": "application/x-thrift", "User-Agent": USER_AGENT}
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
        self._client = HTTPClient(
            self._endpoint, timeout=timeout, ssl_context=ssl_context, proxy=proxy_for(endpoint)
        )
        self._down_until = 0.0
        super().__init__()

    def after_fork(self) -> None:
        self._client.after_fork()  # the parent's connection: never write to it from the child
        # A fork can land while an application thread encodes (inline_encode): fresh caches.
        self._encoder = BinaryEncoder()
        super().after_fork()

    def encode(self, span: Span) -> bytes:
        """One finished span as a binary ``Span`` struct."""
        return self._encoder.span(span)

    def process_bytes(self) -> bytes:
        """The encoded binary Process (built on first use, again after a fork)."""
        self._check_fork()
        if self._process is None:
            tags = process_tags(self._tracer_tags)
            # An encoder of its own: the sender's may be encoding spans on another thread.
            self._process = BinaryEncoder().process(self._service_name, tags)
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
            self._client.timeout = self.timeout
            status = self._client.request("POST", self._path, body, self._headers).status
        except HTTPRequestError as error:
            self._down_until = time.monotonic() + self.timeout
            self._failed += len(spans)
            self._send_errors += 1
            self._warn.warning(
                "POST of %s to %s failed: %s", plural(len(spans), "span"), self._endpoint, error
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
                "collector %s answered %d to a batch of %s",
                self._endpoint,
                status,
                plural(len(spans), "span"),
            )

    def close(self) -> None:
        """Close the connection; a later send opens a new one."""
        self._client.close()

    def __repr__(self) -> str:
        auth = self._headers.get("Authorization", "").split(" ")[0].lower() or "none"
        return f"HTTPSender({self._endpoint!r}, auth={auth})"

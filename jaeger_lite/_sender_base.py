"""What every sender shares: the ``Sender`` protocol, the Process and counters, fork
handling and rate-limited warnings (the transports are in :mod:`jaeger_lite.senders`)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Optional, Protocol, runtime_checkable

from .span import Span

__all__ = ["Sender"]

_log = logging.getLogger("jaeger_lite")


@runtime_checkable
class Sender(Protocol):
    """Transport for finished spans, driven by the reporter's worker thread.

    ``batch_bytes`` tells the reporter how many encoded bytes one ``send`` call should carry
    (about one datagram or request). ``send`` must not raise for transport problems.
    Optional extras the reporter uses when present: ``encode_spans(spans) -> list[bytes]``
    (``encode`` for many spans at once, cheaper per span), ``set_process(service_name,
    tags)``, ``set_queue_dropped(callable)`` (the reporter's count, for ClientStats),
    ``metrics()``.
    """

    @property
    def batch_bytes(self) -> int: ...

    def encode(self, span: Span) -> bytes: ...

    def send(self, spans: Sequence[bytes]) -> None: ...

    def close(self) -> None: ...


class _RateLimitedLog:
    """Logs a warning at most once per ``interval`` seconds (per sender)."""

    __slots__ = ("_interval", "_next")

    def __init__(self, interval: float = 60.0) -> None:
        self._interval = interval
        self._next = 0.0

    def warning(self, message: str, *args: Any) -> None:
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self._interval
            _log.warning(message, *args)


class _SenderBase:
    """Process, counters and fork handling shared by the UDP and HTTP senders."""

    def __init__(self) -> None:
        self._service_name = "unknown_service"
        self._tracer_tags: Mapping[str, Any] = {}
        self._queue_dropped: Callable[[], int] = lambda: 0
        self._warn = _RateLimitedLog()
        self._reset()

    def _reset(self) -> None:
        """Fresh per-process state: also what a forked child starts from."""
        self._pid = os.getpid()
        self._process: Optional[bytes] = None  # built lazily, on the worker thread
        self._seq_no = 0
        self._spans_sent = 0
        self._too_large = 0
        self._failed = 0
        self._batches = 0
        self._bytes = 0
        self._send_errors = 0

    def set_process(self, service_name: str, tags: Mapping[str, Any]) -> None:
        """Name the service and its tracer tags; the Process is encoded on first send."""
        self._service_name = service_name
        self._tracer_tags = dict(tags)
        self._process = None

    def set_queue_dropped(self, count: Callable[[], int]) -> None:
        """Where ClientStats.fullQueueDroppedSpans comes from (the reporter's counter)."""
        self._queue_dropped = count

    def _check_fork(self) -> None:
        # In a forked child the parent's socket, seqNo, stats and client-uuid are not ours.
        if self._pid != os.getpid():
            self._after_fork()

    def _after_fork(self) -> None:
        self._reset()

    def metrics(self) -> dict[str, int]:
        """Counters (see README, "Metrics"); spans are counted once each."""
        return {
            "spans_sent": self._spans_sent,
            "spans_dropped_too_large": self._too_large,
            "spans_dropped_send_failed": self._failed,
            "batches_sent": self._batches,
            "bytes_sent": self._bytes,
            "send_errors": self._send_errors,
        }

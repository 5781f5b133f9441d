"""``Sender``: the transport seam between the reporter's worker thread and the network.

A sender of your own subclasses :class:`Sender` and implements ``encode`` and ``send``
(and sets ``batch_bytes``); everything else has a working default: the Process it is told
about, the counters behind :meth:`Sender.metrics`, fork handling, rate-limited warnings.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable, Optional

if TYPE_CHECKING:
    from ..span import Span

__all__ = ["RateLimitedLog", "Sender", "as_sender"]

_log = logging.getLogger("jaeger_lite")


class RateLimitedLog:
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


class Sender:
    """Base class of transports, driven by one thread at a time (the reporter's worker;
    with ``inline_encode``, ``encode_spans`` also runs on the reporting thread).

    ``batch_bytes`` tells the reporter how many encoded bytes one ``send`` call should carry
    (about one datagram or request). ``encode`` turns a finished span into bytes early, so
    a backlog holds a couple of hundred bytes per span rather than a live ``Span``;
    ``encode_spans`` does it for many at once (override it when that is cheaper). ``send``
    must not raise for transport problems: it counts them (``_failed``, ``_send_errors``).
    """

    #: Encoded span bytes one ``send`` call should carry; subclasses set their own.
    batch_bytes: int = 65000
    #: True when ``encode_spans`` may run on an application thread (the one that reported
    #: the span, at most one at a time) while ``send`` runs on the worker: the reporter
    #: then encodes where the spans are made and wakes its worker far less often.
    inline_encode: bool = False
    #: True when ``try_send`` may run on an application thread (one at a time, never
    #: alongside ``send``) and never waits: the reporter then sends full batches where it
    #: encoded them, and wakes its worker only when ``try_send`` declines.
    inline_send: bool = False

    # Per-process state, as class defaults so a subclass need not call __init__.
    _service_name = "unknown_service"
    _tracer_tags: Mapping[str, Any] = {}
    _pid = 0
    _process: Optional[bytes] = None
    _seq_no = 0
    _spans_sent = 0
    _too_large = 0
    _failed = 0
    _batches = 0
    _bytes = 0
    _send_errors = 0

    def __init__(self) -> None:
        self._queue_dropped: Callable[[], int] = _none
        self._warn = RateLimitedLog()
        self._reset()

    # -- what a subclass implements ---------------------------------------------------

    def encode(self, span: Span) -> bytes:
        """One finished span as the bytes ``send`` will carry."""
        raise NotImplementedError

    def send(self, spans: Sequence[bytes]) -> None:
        """Transmit encoded spans; count failures, never raise for I/O."""
        raise NotImplementedError

    # -- defaults ---------------------------------------------------------------------

    def try_send(self, spans: Sequence[bytes]) -> bool:
        """``send`` if it can finish without waiting (no lookup, connect or full buffer):
        True once done (sent, or failed and counted); False, having done nothing, when it
        would have to wait. Used only when ``inline_send`` is true."""
        return False

    def encode_spans(self, spans: Iterable[Span]) -> list[bytes]:
        """Encode many spans, in order (the reporter hands over all it took off its queue)."""
        return list(map(self.encode, spans))

    def set_process(self, service_name: str, tags: Mapping[str, Any]) -> None:
        """Name the service and its tracer tags; the Process is encoded on first send."""
        self._service_name = service_name
        self._tracer_tags = dict(tags)
        self._process = None

    def set_queue_dropped(self, count: Callable[[], int]) -> None:
        """Where ClientStats.fullQueueDroppedSpans comes from (the reporter's counter)."""
        self._queue_dropped = count

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

    def after_fork(self) -> None:
        """In a forked child: the parent's socket, seqNo, stats and Process are not ours."""
        self._reset()

    def close(self) -> None:
        """Release the connection or socket; a later send opens a new one."""

    # -- for subclasses ---------------------------------------------------------------

    def _reset(self) -> None:
        """Fresh per-process state: also what a forked child starts from."""
        self._pid = os.getpid()
        self._process = None  # built lazily, on the worker thread
        self._seq_no = 0
        self._spans_sent = 0
        self._too_large = 0
        self._failed = 0
        self._batches = 0
        self._bytes = 0
        self._send_errors = 0

    def _check_fork(self) -> None:
        # Fork hooks reset reporter and sender in the child (jaeger_lite._lifecycle); this
        # catches a sender used on its own, or a fork the hooks did not see.
        if self._pid != os.getpid():
            self.after_fork()


def _none() -> int:
    return 0


class _ForeignSender(Sender):
    """A sender that does not subclass :class:`Sender` (duck-typed): the base class's
    defaults for what it lacks, its own methods for the rest."""

    def __init__(self, wrapped: Any) -> None:
        super().__init__()
        self.wrapped = wrapped
        self.encode = wrapped.encode  # type: ignore[method-assign]
        self.send = wrapped.send  # type: ignore[method-assign]
        encode_spans = getattr(wrapped, "encode_spans", None)
        if callable(encode_spans):
            self.encode_spans = encode_spans  # type: ignore[method-assign]

    @property
    def batch_bytes(self) -> int:  # type: ignore[override]  # read from the wrapped sender
        return int(self.wrapped.batch_bytes)

    @property
    def inline_encode(self) -> bool:  # type: ignore[override]  # the wrapped sender's say
        return getattr(self.wrapped, "inline_encode", False) is True

    @property
    def inline_send(self) -> bool:  # type: ignore[override]  # the wrapped sender's say
        return getattr(self.wrapped, "inline_send", False) is True and callable(
            getattr(self.wrapped, "try_send", None)
        )

    def try_send(self, spans: Sequence[bytes]) -> bool:
        return bool(self.wrapped.try_send(spans))

    def set_process(self, service_name: str, tags: Mapping[str, Any]) -> None:
        method = getattr(self.wrapped, "set_process", None)
        if callable(method):
            method(service_name, tags)

    def set_queue_dropped(self, count: Callable[[], int]) -> None:
        method = getattr(self.wrapped, "set_queue_dropped", None)
        if callable(method):
            method(count)

    def metrics(self) -> dict[str, int]:
        method = getattr(self.wrapped, "metrics", None)
        return dict(method()) if callable(method) else {}

    def after_fork(self) -> None:
        method = getattr(self.wrapped, "after_fork", None)
        if callable(method):
            method()

    def close(self) -> None:
        method = getattr(self.wrapped, "close", None)
        if callable(method):
            method()

    def __repr__(self) -> str:
        return repr(self.wrapped)


def as_sender(sender: Any) -> Sender:
    """``sender`` itself when it subclasses :class:`Sender`, else an adapter giving a
    duck-typed one (``batch_bytes``, ``encode`` and ``send`` required) the defaults."""
    if isinstance(sender, Sender):
        return sender
    for name in ("encode", "send"):
        if not callable(getattr(sender, name, None)):
            raise TypeError(f"a sender needs a {name} method, got {type(sender).__name__}")
    return _ForeignSender(sender)

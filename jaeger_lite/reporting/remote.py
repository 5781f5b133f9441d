"""``RemoteReporter``: batches finished spans and hands them to a sender on a worker thread.

The application thread appends each finished span to a list (a length check, an append
and a counter bump; no lock, no I/O). Every ``WAKE_EVERY`` spans it takes a turn: when the
sender declares ``inline_encode`` (the built-in ones do), it takes a try-lock and encodes
up to ``TURN_MAX`` queued spans itself, while they are in the CPU caches and young for the
garbage collector (128 spans of 3 tracked objects stay under CPython's generation-0
threshold of 700). Waking the worker every 128 spans to encode made the whole path ~25%
dearer than its parts (GIL hand-offs: benchmarks/bench_reporter.py --study); now it wakes
when ``WAKE_BYTES`` of encoded spans wait (or half the queue is held), every
``flush_interval``, and on ``flush()`` / ``close()``, cuts batches of ``sender.batch_bytes``
and sends them, and encodes what is still raw (the last spans before a flush; everything
for a sender without ``inline_encode``, whose worker is woken every ``WAKE_EVERY`` spans).
When the sender also declares ``inline_send`` (the UDP sender: a non-blocking datagram),
the turn sends the full batches too, through ``Sender.try_send``, which declines rather
than waits (no connection yet, a lookup due, a full socket buffer): then the worker is
woken for them. Waking the worker for each datagram cost the application ~0.1 µs a span
in GIL hand-offs, more than the sending (bench_reporter.py --study).
"""

from __future__ import annotations

# getaddrinfo() imports encodings.idna on first use: done on the reporter thread, an import
# a fork lands in leaves the child's reporter stuck on the import lock forever.
import encodings.idna  # noqa: F401
import logging
import os
import threading
import time
from collections import deque
from typing import Any, Optional

from .._lifecycle import EXIT_TIMEOUT, own_thread_signals, track_reporter, untrack_reporter
from .._metrics import Counter
from .._safe import plural
from .._span_factory import SpanInbox
from ..senders.base import Sender, as_sender
from ..span import Span
from ._batches import Batches
from ._turns import TURN_MAX, WAKE_BYTES, WAKE_EVERY, Encoding
from .base import Reporter

__all__ = [
    "DEFAULT_QUEUE_SIZE",
    "EXIT_TIMEOUT",
    "TURN_MAX",
    "WAKE_BYTES",
    "WAKE_EVERY",
    "RemoteReporter",
]

_log = logging.getLogger("jaeger_lite")

#: Spans (queued or encoded, not yet sent) a RemoteReporter holds before it drops new ones.
#: A burst of 50,000 spans fits even if the worker gets no CPU meanwhile. Held as a live
#: Span with 3 tags and a log, a span takes about 0.7 KB; encoded, about 0.2 KB.
DEFAULT_QUEUE_SIZE = 65_536


class RemoteReporter(Encoding, Reporter):
    """Reports finished spans to Jaeger through a :class:`~jaeger_lite.senders.Sender`.

    ``queue_size`` bounds the spans held (see :data:`DEFAULT_QUEUE_SIZE`); past it new spans
    are dropped and counted, never waited for. ``flush_interval`` is the longest a span
    waits for the worker when traffic is light. The worker thread starts with the first
    span, and again in a forked child, which gets its own queue, worker, socket, seqNo,
    stats and client-uuid; spans the parent had queued stay the parent's.
    """

    # Slots (with Encoding's): report_span reads slots rather than an instance dict, which
    # past CPython's 30 shared keys is a dict lookup each: ~280 instructions a span less
    # (callgrind). __weakref__: _lifecycle tracks reporters in a WeakSet.
    __slots__ = (
        "__weakref__", "_abandoned", "_close_done", "_closed", "_dropped_closed",
        "_dropped_full", "_finish_on_stop", "_flushes", "_flush_interval", "_max_queued",
        "_pid", "_sender_errors", "_stopping", "_worker",
    )  # fmt: skip

    def __init__(
        self,
        sender: Any,
        *,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        flush_interval: float = 1.0,
    ) -> None:
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, got {queue_size!r}")
        if not flush_interval > 0:
            raise ValueError(f"flush_interval must be positive, got {flush_interval!r}")
        self._sender: Sender = as_sender(sender)
        try:
            self._inline = bool(self._sender.inline_encode)
            self._inline_send = self._inline and bool(self._sender.inline_send)
        except Exception:  # a duck-typed sender's property that raises: use the worker
            self._inline = self._inline_send = False
        self._max_queued = queue_size
        self._queue_size = queue_size
        self._flush_interval = flush_interval
        self._closed = False
        # Reported, not yet encoded. The tracer appends to it itself while it has room
        # (SpanInbox; its room kept by _update_room), and through report_span from then on.
        # The same list for the reporter's life (the tracer holds it), emptied in place.
        self._queue = SpanInbox()
        self._reset()
        self._sender.set_queue_dropped(lambda: self._dropped_full.value)
        track_reporter(self)

    def _reset(self) -> None:
        """Fresh per-process state (also what a forked child starts from)."""
        self._pid = os.getpid()
        self._worker: Optional[threading.Thread] = None
        self._make_sync()
        del self._queue[:]  # a forked child: the parent's spans are the parent's to send
        # Chunks of spans taken off the queue, in order: (encoded bytes, positions of the
        # spans that could not be encoded) or, when an inline encode raised, (the spans,
        # None) for the worker to encode one by one.
        self._encoded: deque[tuple[list[Any], Optional[list[int]]]] = deque()
        # Counters each written by one side only (no read-modify-write races): spans taken
        # off the queue (under _turn_lock), spans handed to the sender or lost to an encode
        # error, in order (worker). Held = _taken - _handed.
        self._taken = 0
        self._handed = 0
        self._limit = self._queue_size  # _handed + _queue_size (worker; close, fork)
        # The worker wakes once this many spans were taken since it last looked (worker
        # writes both): WAKE_BYTES over the mean encoded size it has seen (guess: 128 B).
        self._woken_at = 0
        self._wake_spans = WAKE_BYTES // 128
        self._flushes: deque[tuple[int, threading.Event]] = deque()  # (spans_queued, done)
        self._out = Batches()  # the worker's batches
        self._stopping = False
        # Set once close() has finished waiting (sent all, or gave up): from then on the
        # spans queued and never handed over are counted as dropped (see metrics()).
        self._close_done = False
        # Set when close() gave up on a worker still inside send() or encode(): the worker
        # sends nothing more once that call returns.
        self._abandoned = False
        self._finish_on_stop = False  # close() came from the worker: it finishes the close
        self._dropped_full = Counter()
        self._dropped_closed = Counter()
        self._encode_errors = Counter()
        self._inline_errors = Counter()  # turns whose encode_spans raised (spans went on raw)
        self._sender_errors = Counter()
        self._update_room()

    def _ensure_worker(self) -> None:
        """Start the worker (the first span; a turn) unless one runs."""
        self._green_check()
        with self._lock:
            self._start_worker()

    # -- application thread -----------------------------------------------------------

    def report_span(self, span: Span) -> None:
        """Queue a finished span (drops and counts it when the queue is full); the tracer
        calls it for the first span (which starts the worker) and once the inbox has no
        room: at WAKE_EVERY queued spans, a turn."""
        queue = self._queue
        # _limit (_handed + _queue_size, kept by the worker: ~200 instructions a span less
        # than adding them here, callgrind) is read first: _handed only grows, and never
        # past _taken, so the held count (_taken - _handed) is never under the truth.
        if self._limit <= len(queue) + self._taken:
            self._drop()
            return
        queue.append(span)
        queued = len(queue)
        # Inline, every call past WAKE_EVERY tries a turn (one that found the turn lock
        # taken leaves the queue long); for the worker, every WAKE_EVERY spans.
        if queued >= WAKE_EVERY and (self._inline or not queued & (WAKE_EVERY - 1)):
            self._turn()
        elif self._worker is None:  # the first span: a worker, for flush_interval
            self._ensure_worker()

    def span_inbox(self) -> Optional[SpanInbox]:
        """The queue itself, for the tracer to append to while it has room."""
        return self._queue if self._own_report_span(RemoteReporter.report_span) else None

    def _holds(self) -> bool:
        """True while spans are queued, or taken off the queue and not yet handed over."""
        return bool(self._queue) or self._taken > self._handed

    def _drop(self) -> None:
        (self._dropped_closed if self._closed else self._dropped_full).inc()

    def _start_worker(self) -> bool:
        """Start the worker unless there is one or the reporter is stopping (the caller
        holds ``_lock``); False when no thread can be started (interpreter shutdown)."""
        if self._worker is None and not self._stopping:
            worker = threading.Thread(target=self._run, name="jaeger_lite-reporter", daemon=True)
            try:
                worker.start()
            except RuntimeError:  # "can't create new thread at interpreter shutdown"
                return False
            self._worker = worker
            self._update_room()  # the tracer may now append by itself
        return True

    def set_process(self, service_name: str, tags: Any) -> None:
        """Pass the tracer's service name and tags on to the sender (for the Process)."""
        self._sender.set_process(service_name, tags)

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Wait until every span reported before this call has been handed to the sender.

        Returns False if that did not happen within ``timeout`` seconds (None: no limit).
        """
        self._check_fork()
        self._green_check()
        # Spans are counted after they are queued, so every span counted here is queued;
        # the worker hands spans over in queue order and sets ``done`` once it has handed
        # over this many. Checked and registered under the lock close() sets ``_closed``
        # under, so close() releases every flush registered (one could wait forever).
        deadline = None if timeout is None else time.monotonic() + timeout
        lock = self._turn_lock
        if not lock.acquire(False) and (
            self._reentered()  # a signal handler that stopped this thread holding it
            or not lock.acquire(timeout=-1 if timeout is None else timeout)
        ):
            return False  # an encode holds it that long (a custom sender's)
        try:
            target = self._queued_spans()
        finally:
            self._turn_lock.release()
        if self._flush_here() and self._handed >= target:
            return True
        if self._reentered():  # on the worker, or in a signal handler: it cannot wait
            return False
        if deadline is not None:  # one timeout for the lock and the wait together
            timeout = max(0.0, deadline - time.monotonic())
        done = threading.Event()
        with self._lock:
            closed = self._closed
            if not closed:
                self._flushes.append((target, done))
                self._start_worker()
        if closed:  # close() sends (or has sent) what there is: nothing to wait for here
            return not self._holds() and self._handed >= target
        self._wake.set()
        return done.wait(timeout) and self._handed >= target

    def close(self, timeout: Optional[float] = None) -> None:
        """Send what is queued (waiting at most ``timeout`` seconds), stop, close the sender.

        Idempotent. Spans reported afterwards are dropped and counted.
        """
        self._check_fork()
        self._green_check()
        # Called on the worker (a sender closing), or by a signal handler that stopped this
        # thread inside the reporter, maybe holding a lock the worker needs: no waiting
        # here; the worker drains what is left once that code goes on, then finishes.
        reentered = self._reentered()
        with self._lock:  # reentrant, for that signal handler
            closed = self._closed
            if closed:  # a close left to the worker is waited for, where that can be done
                pending = self._worker if self._finish_on_stop else None
            else:
                self._closed = True
                self._queue_size = self._limit = 0  # report_span drops (as "closed")
                self._update_room()  # and the tracer calls it for every span
                # The drain runs on the worker even when none was started yet, so that
                # this call returns after ``timeout`` whatever the sender does; only when
                # no thread can start (interpreter shutdown) does the caller's thread drain.
                inline = self._holds() and not self._start_worker()
                self._finish_on_stop = reentered
                self._stopping = True
                worker = self._worker
        if closed:
            if pending is not None and not reentered and not self._close_done:
                pending.join(timeout)
                if pending.is_alive():
                    self._give_up()
            return
        self._wake.set()
        if reentered:
            return
        if worker is not None:
            worker.join(timeout)
            if worker.is_alive():
                self._give_up()
                return
        elif inline:
            self._drain(force=True)
        self._finish_close()

    def _finish_close(self) -> None:
        """close()'s end, once everything was handed over: flushes released, sender closed."""
        self._close_done = True
        self._release_flushes()
        try:
            self._sender.close()
        except Exception:  # a custom sender's bug must not escape close()
            _log.warning("closing the sender failed", exc_info=True)
        untrack_reporter(self)

    def _give_up(self) -> None:
        """close() timed out with the worker inside the sender: what it has not handed over
        counts as spans_dropped_close_timeout, the worker sends nothing more, waiting
        flushes return False. The sender stays open: the worker is still inside it."""
        self._abandoned = True
        self._close_done = True
        self._release_flushes()
        lost = self._queued_spans() - self._handed
        _log.warning(
            "reporter close timed out: %s not sent (counted as spans_dropped_close_timeout)",
            plural(lost, "span"),
        )

    def _release_flushes(self) -> None:
        """Wake every flush() still waiting: close() is over, nothing else will."""
        with self._flush_lock:
            while self._flushes:
                self._flushes.popleft()[1].set()

    def _flush_at_exit(self, timeout: float) -> bool:
        """Hand what is pending to the sender on the way out, leaving the reporter open
        (spans finished later still go at atexit, when the process gets there); False
        when that took longer than ``timeout``."""
        self._check_fork()
        if self._closed or not self._holds():
            return True
        self._green_check()
        with self._lock:
            if self._worker is None and not self._stopping:
                # No worker to wake (under WAKE_EVERY spans so far): drain here rather
                # than start a thread while the process shuts down.
                self._drain(force=True)
                return True
        return self.flush(timeout)

    def metrics(self) -> dict[str, int]:
        """Counters, the sender's included (see README, "Metrics")."""
        locked = self._turn_lock.acquire(timeout=0.1)  # a best guess without it
        try:
            queued = self._queued_spans()
        finally:
            if locked:
                self._turn_lock.release()
        # After close() no span queued and not handed over will ever be: those (inside a
        # send close() gave up on, still queued, or queued by a report racing close())
        # are dropped. A send that returns after all hands its spans to the sender's
        # counters, and they leave this one: each span is counted once.
        unsent = max(0, queued - self._handed) if self._close_done else 0
        held = self._taken - self._handed
        snapshot = {
            "spans_queued": queued,
            "spans_dropped_queue_full": self._dropped_full.value,
            "spans_dropped_closed": self._dropped_closed.value,
            "spans_dropped_encode_error": self._encode_errors.value,
            "spans_dropped_close_timeout": unsent,
            "queue_length": 0 if self._close_done else len(self._queue) + held,
        }
        snapshot.update(self._sender.metrics())
        snapshot["spans_dropped_send_failed"] = (
            snapshot.get("spans_dropped_send_failed", 0) + self._sender_errors.value
        )
        return snapshot

    # -- fork -------------------------------------------------------------------------

    def _check_fork(self) -> None:
        if self._pid != os.getpid():
            self._after_fork()

    def _after_fork(self) -> None:
        """In a forked child: start empty (the parent sends its own spans) and lazily, with
        a sender that has its own socket, seqNo, stats and client-uuid."""
        self._reset()
        self._sender.after_fork()
        self._queue_size = self._limit = 0 if self._closed else self._max_queued
        self._update_room()

    # -- worker thread ----------------------------------------------------------------

    def _run(self) -> None:
        own_thread_signals()
        wake = self._wake
        while True:
            woken = wake.wait(self._flush_interval)
            wake.clear()
            stopping = self._stopping
            try:
                self._drain(force=stopping or not woken)
            except Exception:  # keep the worker alive whatever a bug did
                _log.warning("reporter worker error", exc_info=True)
            if stopping:
                if self._finish_on_stop:  # close() was called where it could not wait
                    self._finish_close()
                return

    def _finish_flushes(self) -> None:
        # A lock, as close() may release the same flushes from its own thread; the
        # application's threads never take it (flush() and close() only).
        with self._flush_lock:
            flushes = self._flushes
            while flushes and flushes[0][0] <= self._handed:
                flushes.popleft()[1].set()

    def __repr__(self) -> str:
        return f"<RemoteReporter sender={self._sender!r} queue_size={self._max_queued}>"

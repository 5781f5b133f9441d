"""Finished spans on their way to the sender: the turns and the worker's drain.

``RemoteReporter``'s encoding half (a mixin): whoever encodes (the application thread at a
turn, or the worker) holds the turn lock and appends a chunk of encoded spans, in queue
order. Whoever cuts chunks into batches of ``sender.batch_bytes`` and sends them holds the
send lock: the worker for its whole drain, and, with ``Sender.inline_send``, a turn that
finds it free, as far as ``try_send`` goes without waiting. A turn never holds both locks.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from time import sleep as _sleep
from typing import TYPE_CHECKING, Any, Optional

from .._metrics import Counter
from ._batches import Batches, encode_each
from ._sync import Synchronization

if TYPE_CHECKING:
    from .._span_factory import SpanInbox
    from ..senders.base import Sender

__all__ = ["TURN_MAX", "WAKE_BYTES", "WAKE_EVERY", "Encoding"]

#: Every this many reported spans (a power of two) the reporting thread takes a turn:
#: encodes the queue itself (``Sender.inline_encode``) or wakes the worker to (otherwise).
WAKE_EVERY = 128
#: Encoded bytes waiting that wake the worker to send them (about 4 datagrams).
WAKE_BYTES = 250_000
#: Most spans one turn encodes (a backlog left by a turn that found the lock taken).
TURN_MAX = 256
_NONE_LOST: list[int] = []  # shared, never appended to

_log = logging.getLogger("jaeger_lite")


class Encoding(Synchronization):
    """RemoteReporter's encoding: turns on the reporting thread, the rest on the worker."""

    __slots__ = (
        "_encode_errors",
        "_encoded",
        "_handed",
        "_inline",
        "_inline_errors",
        "_inline_send",
        "_limit",
        "_out",
        "_queue",
        "_queue_size",
        "_sender",
        "_taken",
        "_wake_spans",
        "_woken_at",
    )

    _sender: Sender
    _inline: bool
    _inline_send: bool  # the sender's inline_send (read once; cleared if try_send raises)
    _queue: SpanInbox
    # (encoded bytes, positions of spans that could not be encoded), or (spans, None)
    _encoded: deque[tuple[list[Any], Optional[list[int]]]]
    _taken: int
    _handed: int
    _limit: int
    _queue_size: int
    _out: Batches
    _encode_errors: Counter
    _inline_errors: Counter

    # The worker wakes once _wake_spans were taken since it last looked (_woken_at).
    _woken_at: int
    _wake_spans: int

    # RemoteReporter's (in its slots); the locks and _wake are Synchronization's
    _abandoned: bool
    _flushes: deque[tuple[int, threading.Event]]
    _flush_interval: float
    _sender_errors: Counter

    def _finish_flushes(self) -> None:
        raise NotImplementedError

    def _ensure_worker(self) -> None:
        raise NotImplementedError

    def _update_room(self) -> None:
        """Recompute the inbox's room after _taken, _limit or _worker changed: the tracer
        appends while the queue is under WAKE_EVERY - 1 spans and under the bound; the span
        after that goes through report_span, which takes the turn (as do all spans until
        the worker runs). Under a lock, and read fresh: of two threads updating (a turn
        took spans, the worker handed some over) the later sees both changes."""
        with self._room_lock:
            room = min(WAKE_EVERY - 1, self._limit - self._taken)
            self._queue.room = 0 if self._worker is None else room

    def _queued_spans(self) -> int:
        """Spans queued so far (taken off the queue, or in it): a consistent pair under the
        turn lock; the caller holds it or accepts a count that may be off by a turn."""
        return self._taken + len(self._queue)

    def _turn(self) -> None:
        """Every WAKE_EVERY spans: encode the queue here (inline) or have the worker do it."""
        if self._worker is None:
            self._ensure_worker()
        if not self._inline:
            self._wake.set()
            # Yield the GIL so the worker encodes these spans now, while they are young
            # for the garbage collector and still in the CPU caches, rather than after a
            # whole switch interval (5 ms) of more spans: this makes reporting ~25% cheaper.
            _sleep(0)
            return
        lock = self._turn_lock
        if lock.acquire(False):  # taken: another thread is encoding the queue right now
            try:
                self._encode_turn()
            finally:
                lock.release()
        if self._inline_send:
            lock = self._send_lock
            if lock.acquire(False):  # taken: the worker is sending, and takes these too
                try:
                    sent_all = self._send_turn()
                finally:
                    lock.release()
                if not sent_all:  # try_send declined, or a chunk needs the worker
                    self._wake.set()
                return
        taken = self._taken
        if (
            taken - self._woken_at >= self._wake_spans
            or taken - self._handed >= self._queue_size >> 1
        ):
            self._wake.set()

    # -- the worker's drain (also close() or exit when no worker runs) -----------------

    def _drain(self, force: bool) -> None:
        """Cut the encoded chunks into batches and send the full ones, one at a time, taking
        newly encoded chunks between sends. Raw spans are encoded here too, and the open
        batch sent, when ``force``d (flush interval, close) or a flush waits; raw spans also
        whenever the sender encodes on the worker only, the open batch once it is
        ``flush_interval`` old."""
        if self._abandoned:  # close() gave up: these spans are counted as dropped
            return
        with self._send_lock:  # with inline_send, turns send too
            self._drain_batches(force)

    def _drain_batches(self, force: bool) -> None:
        """_drain's work, under the send lock."""
        try:
            # At least 1: a Process too big for a datagram leaves no room for spans, and
            # each span then goes alone, for the sender to drop as too large.
            limit = max(1, self._sender.batch_bytes)
        except Exception:  # a custom sender's bug: fall back to a datagram's worth
            limit = 65000
        wake_bytes = max(WAKE_BYTES, 4 * limit)
        out = self._out
        while True:
            if self._queue and (force or not self._inline or self._flushes):
                with self._turn_lock:
                    self._encode_rest()
            self._woken_at = self._taken
            spans, size = self._take_chunks(limit)
            if size:
                self._wake_spans = max(WAKE_EVERY, wake_bytes * spans // size)
            if not out.full:
                if not (
                    force
                    or self._flushes
                    or out.due(self._flush_interval)
                    or self._taken - self._handed >= self._queue_size >> 1  # woken by it
                ):
                    break
                out.close_open()
                if not out.full:
                    break
            self._send(out.full.popleft())
        self._finish_flushes()

    def _send(self, batch: list[bytes]) -> None:
        if self._abandoned:  # close() gave up and counted these spans as dropped
            return
        try:
            self._sender.send(batch)
        # Senders count their own I/O errors; this is a sender bug. SystemExit too: on this
        # thread it would only end the worker, and every later flush() would wait for it.
        except BaseException:
            self._sender_errors.add(len(batch))
            _log.warning("sender %r failed", self._sender, exc_info=True)
        self._handed += len(batch)
        self._limit = self._handed + self._queue_size
        self._update_room()
        self._finish_flushes()

    def _encode_turn(self) -> None:
        """Encode up to TURN_MAX queued spans on this thread (the caller holds _turn_lock);
        a sender's exception never leaves here: the spans go on to the worker raw."""
        queue = self._queue
        count = min(len(queue), TURN_MAX)
        if not count:
            return
        self._taken += count  # counted before they leave the queue: never under
        spans = queue[:count]
        del queue[:count]
        self._update_room()
        try:
            encoded = self._sender.encode_spans(spans)
        except Exception:  # the worker encodes them one by one and counts what fails
            self._inline_errors.inc()
            _log.debug("inline encode failed; the worker retries", exc_info=True)
            self._encoded.append((spans, None))
            return
        self._encoded.append((encoded, _NONE_LOST))

    def _send_turn(self) -> bool:
        """Cut the encoded chunks into batches and send the full ones on this thread, as far
        as ``try_send`` goes without waiting. False when
        something is left for the worker: a batch ``try_send`` declined, or a chunk whose
        inline encode failed. (The caller holds the send lock.) Sending here rather than
        waking the worker saves the application ~0.1 µs a span of GIL hand-offs
        (bench_reporter.py --study)."""
        chunks, out = self._encoded, self._out
        try:
            limit = max(1, self._sender.batch_bytes)
        except Exception:  # a custom sender's bug: the worker's drain copes
            return False
        while chunks and chunks[0][1] is _NONE_LOST:
            out.add(chunks.popleft()[0], limit)
        full = out.full
        while full and not self._abandoned:
            batch = full[0]
            try:
                sent = self._sender.try_send(batch)
            except Exception:  # a sender bug: send the rest on the worker from now on
                self._inline_send = False
                _log.warning("try_send of %r failed; sending on the worker", self._sender)
                return False
            if not sent:
                return False
            full.popleft()
            self._handed += len(batch)
            self._limit = self._handed + self._queue_size
            self._update_room()
        if self._flushes:
            self._finish_flushes()
        return not chunks

    def _flush_here(self) -> bool:
        """flush()'s quick way, on the caller's thread: with ``inline_send``, a short queue
        (at most TURN_MAX spans) and the worker not sending, encode what is queued, close
        the open batch and ``try_send`` everything. True when all of it went; False, having
        sent what it could in order, when the worker must do the rest (try_send declined,
        a chunk to encode one by one, a longer queue). Saves the two thread wake-ups of
        handing the flush to the worker (~0.1-1 ms; bench_reporter.py --flush)."""
        if not self._inline_send or len(self._queue) > TURN_MAX or self._abandoned:
            return False
        lock = self._send_lock
        if not lock.acquire(False):  # the worker is draining: it sends these too
            return False
        try:
            if self._queue:
                turn = self._turn_lock
                if not turn.acquire(False):  # another thread's turn is encoding
                    return False
                try:
                    self._encode_turn()  # spans reported since the flush began may stay
                finally:
                    turn.release()
            if not self._send_turn():
                return False
            self._out.close_open()
            return self._send_turn()
        finally:
            lock.release()

    def _encode_rest(self) -> None:
        """Encode every queued span on this thread (the caller holds _turn_lock)."""
        queue = self._queue
        count = len(queue)
        if count:
            self._taken += count  # counted before they leave the queue: never under
            spans = queue[:count]
            del queue[:count]
            self._update_room()
            self._encoded.append(encode_each(self._sender, spans))

    def _take_chunks(self, limit: int) -> tuple[int, int]:
        """Move every encoded chunk into batches, in order; raw chunks are encoded here,
        and a span that cannot be encoded is counted once the spans before it are sent.
        Returns the spans and bytes moved (the worker's measure of a span's size)."""
        chunks, out = self._encoded, self._out
        spans = size = 0
        while chunks:
            done, lost = chunks.popleft()
            if lost is None:  # an inline encode raised: one by one, as turns do not
                with self._turn_lock:
                    done, lost = encode_each(self._sender, done)
            spans += len(done)
            if not lost:
                size += out.add(done, limit)
                continue
            start = 0
            for position, index in enumerate(lost):
                end = index - position  # encoded spans before this lost one
                size += out.add(done[start:end], limit)
                start = end
                # Send what came before it first, so spans are handed over in order and
                # flush() never counts the lost span ahead of earlier ones.
                out.close_open()
                while out.full:
                    self._send(out.full.popleft())
                self._handed += 1
                self._limit = self._handed + self._queue_size
                self._update_room()
                self._encode_errors.inc()
            size += out.add(done[start:], limit)
        return spans, size

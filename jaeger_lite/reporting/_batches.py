"""Finished spans on their way to the sender: encoded in chunks, cut into batches.

``RemoteReporter``'s encoding half (a mixin): whoever encodes (the application thread at a
turn, or the worker) holds the turn lock and appends a chunk of encoded spans, in queue
order; only the worker cuts chunks into batches of ``sender.batch_bytes`` and sends them.
"""

from __future__ import annotations

import logging
import threading
import time
from bisect import bisect_right
from collections import deque
from itertools import accumulate
from time import sleep as _sleep
from typing import TYPE_CHECKING, Any, Optional

from .._metrics import Counter

if TYPE_CHECKING:
    from ..senders.base import Sender
    from ..span import Span

__all__ = ["TURN_MAX", "Batches", "Encoding", "encode_each"]

#: Most spans one turn encodes (a backlog left by a turn that found the lock taken).
TURN_MAX = 256
_NONE_LOST: list[int] = []  # shared, never appended to

_log = logging.getLogger("jaeger_lite")


class Batches:
    """Full batches waiting to be sent, and the batch being filled (worker thread only)."""

    __slots__ = ("full", "open", "open_bytes", "started")

    def __init__(self) -> None:
        self.full: deque[list[bytes]] = deque()
        self.open: list[bytes] = []
        self.open_bytes = 0
        self.started = 0.0  # monotonic time of the open batch's first span

    def add(self, encoded: list[bytes], limit: int) -> int:
        """Append encoded spans to the open batch, closing it whenever it is full; returns
        their bytes.

        Works on running byte totals (``ends[i]``: bytes up to span ``i``) with bisect, so
        the per-span cost is C code; Python runs once per batch.
        """
        full, batch = self.full, self.open
        if not batch:
            self.started = time.monotonic()
        ends = list(accumulate(map(len, encoded), initial=self.open_bytes))
        origin = 0  # ends[k] - origin = bytes in the batch once spans before k are in it
        k, n = 0, len(encoded)
        while k < n:
            j = bisect_right(ends, origin + limit, k) - 1  # spans k..j-1 fit
            # j < k: the open batch is over the limit already (a span too big on its own
            # ended the last drain); j == k: not even one more span fits.
            if j <= k:
                if not batch:
                    j = k + 1  # a span over the limit on its own: the sender drops it
                else:
                    full.append(batch)
                    batch, origin = [], ends[k]
                    self.started = time.monotonic()
                    continue
            batch.extend(encoded[k:j])
            k = j
            if k < n:  # stopped because the batch is full
                full.append(batch)
                batch, origin = [], ends[k]
                self.started = time.monotonic()
        self.open, self.open_bytes = batch, ends[n] - origin
        return ends[n] - ends[0]

    def close_open(self) -> None:
        """The open batch joins the full ones (to be sent now)."""
        if self.open:
            self.full.append(self.open)
            self.open, self.open_bytes = [], 0

    def due(self, interval: float) -> bool:
        """True when the open batch has spans older than ``interval`` seconds."""
        return bool(self.open) and time.monotonic() - self.started >= interval


def encode_each(sender: Sender, spans: list[Span]) -> tuple[list[bytes], list[int]]:
    """``sender.encode_spans(spans)``, else one span at a time: the encoded spans and the
    positions (in ``spans``) of those that could not be encoded, which are left out."""
    try:
        return sender.encode_spans(spans), []
    except Exception:  # some span cannot be encoded: go one by one and lose only it
        encoded: list[bytes] = []
        lost: list[int] = []
        for index, span in enumerate(spans):
            try:
                encoded.append(sender.encode(span))
            except Exception:  # this span is the one: the caller counts it
                lost.append(index)
                _log.debug("could not encode %r", span, exc_info=True)
        return encoded, lost


class Encoding:
    """RemoteReporter's encoding: turns on the reporting thread, the rest on the worker."""

    __slots__ = (
        "_encode_errors",
        "_encoded",
        "_handed",
        "_inline",
        "_inline_errors",
        "_limit",
        "_out",
        "_queue",
        "_queue_size",
        "_sender",
        "_taken",
        "_turn_lock",
    )

    _sender: Sender
    _inline: bool
    _queue: list[Span]
    _turn_lock: threading.Lock
    # (encoded bytes, positions of spans that could not be encoded), or (spans, None)
    _encoded: deque[tuple[list[Any], Optional[list[int]]]]
    _taken: int
    _handed: int
    _limit: int
    _queue_size: int
    _out: Batches
    _encode_errors: Counter
    _inline_errors: Counter

    # RemoteReporter's (in its slots)
    _lock: threading.Lock
    _worker: Optional[threading.Thread]
    _wake: threading.Event
    _woken_at: int
    _wake_spans: int

    def _start_worker(self) -> bool:
        raise NotImplementedError

    def _send(self, batch: list[bytes]) -> None:
        raise NotImplementedError

    def _turn(self) -> None:
        """Every WAKE_EVERY spans: encode the queue here (inline) or have the worker do it."""
        if self._worker is None:
            with self._lock:
                self._start_worker()
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
        taken = self._taken
        if (
            taken - self._woken_at >= self._wake_spans
            or taken - self._handed >= self._queue_size >> 1
        ):
            self._wake.set()

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
        try:
            encoded = self._sender.encode_spans(spans)
        except Exception:  # the worker encodes them one by one and counts what fails
            self._inline_errors.inc()
            _log.debug("inline encode failed; the worker retries", exc_info=True)
            self._encoded.append((spans, None))
            return
        self._encoded.append((encoded, _NONE_LOST))

    def _encode_rest(self) -> None:
        """Encode every queued span on this thread (the caller holds _turn_lock)."""
        queue = self._queue
        count = len(queue)
        if count:
            self._taken += count  # counted before they leave the queue: never under
            spans = queue[:count]
            del queue[:count]
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
                self._encode_errors.inc()
            size += out.add(done[start:], limit)
        return spans, size

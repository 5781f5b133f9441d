"""Encoded spans cut into datagram-sized batches (:class:`Batches`), and the one-by-one
encode that loses only the spans that cannot be encoded (:func:`encode_each`)."""

from __future__ import annotations

import logging
import time
from bisect import bisect_right
from collections import deque
from itertools import accumulate
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..senders.base import Sender
    from ..span import Span

__all__ = ["Batches", "encode_each"]

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

        A chunk that fits whole is appended whole (~4 of 5: a chunk is ~11 KB, a datagram
        ~64 KB); otherwise the cut works on running byte totals (``ends[i]``: bytes up to
        span ``i``) with bisect, so the per-span cost is C code; Python runs once per batch.
        """
        full, batch = self.full, self.open
        if not batch:
            self.started = time.monotonic()
        size = sum(map(len, encoded))
        if self.open_bytes + size <= limit:  # most chunks fit whole: no per-span totals
            batch.extend(encoded)
            self.open_bytes += size
            return size
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

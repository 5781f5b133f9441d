"""Counters: exact under threads, cheap on the span hot path."""

from __future__ import annotations

from jaeger_lite._metrics import Counter


def test_counter_counts_inc_and_ticks() -> None:
    """inc() returns the earlier inc() calls; next(ticks) counts too, allocating nothing."""
    counter = Counter()
    assert counter.inc() == 0 and counter.inc() == 1
    next(counter.ticks)
    counter.add(5)
    assert counter.value == 8

"""The samplers that decide on their own: constant, probabilistic, rate limiting.

The rules are jaeger-client-go's (docs/protocol.md#sampling-rules), so every service of a
trace agrees.
"""

from __future__ import annotations

import math
import time
from typing import Callable

from .._lifecycle import fork_safe_lock
from .base import Sampler, SamplingDecision, sampler_tags

__all__ = [
    "MAX_RANDOM",
    "ConstSampler",
    "ProbabilisticSampler",
    "RateLimitingSampler",
    "check_per_second",
]

#: 63-bit mask and bound used by every Jaeger client for probabilistic sampling.
MAX_RANDOM = 0x7FFF_FFFF_FFFF_FFFF


class ConstSampler(Sampler):
    """Samples every trace (``True``) or none (``False``)."""

    __slots__ = ("decision", "_result")

    def __init__(self, decision: bool = True) -> None:
        self.decision = bool(decision)
        self._result: SamplingDecision = (self.decision, sampler_tags("const", self.decision))

    def is_sampled(self, trace_id: int, operation_name: str = "") -> SamplingDecision:
        return self._result

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConstSampler) and other.decision == self.decision

    def __hash__(self) -> int:
        return hash(("const", self.decision))

    def __repr__(self) -> str:
        return f"ConstSampler({self.decision})"


class ProbabilisticSampler(Sampler):
    """Samples a fraction ``rate`` of traces, decided from the trace id so that every
    service using Go's rule makes the same decision for the same trace.

    Same rule as jaeger-client-go: sampled when
    ``(trace_id & 0x7FFF_FFFF_FFFF_FFFF) <= rate * 0x7FFF_FFFF_FFFF_FFFF``.
    """

    __slots__ = ("rate", "_boundary", "_sampled", "_unsampled")

    def __init__(self, rate: float) -> None:
        rate = float(rate)
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"sampling rate must be between 0.0 and 1.0, got {rate}")
        self.rate = rate
        # float(0x7FFF...) rounds to 2**63, as Go's float64 conversion does.
        self._boundary = int(float(MAX_RANDOM) * rate)
        tags = sampler_tags("probabilistic", rate)
        self._sampled: SamplingDecision = (True, tags)
        self._unsampled: SamplingDecision = (False, tags)

    def is_sampled(self, trace_id: int, operation_name: str = "") -> SamplingDecision:
        if trace_id & MAX_RANDOM <= self._boundary:
            return self._sampled
        return self._unsampled

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProbabilisticSampler) and other.rate == self.rate

    def __hash__(self) -> int:
        return hash(("probabilistic", self.rate))

    def __repr__(self) -> str:
        return f"ProbabilisticSampler({self.rate})"


def check_per_second(value: float, what: str) -> float:
    rate = float(value)
    if not (rate >= 0.0 and math.isfinite(rate)):
        raise ValueError(f"{what} must be a finite number >= 0, got {value!r}")
    return rate


# -- rate limiting --------------------------------------------------------------------


class RateLimitingSampler(Sampler):
    """Samples at most ``max_traces_per_second`` new traces per second.

    A token bucket as in jaeger-client-go: refilled at ``max_traces_per_second`` credits per
    second, holding at most ``max(max_traces_per_second, 1)`` credits, starting full; each
    sampled trace spends one credit. Unlike Go, a rate of 0 samples nothing (Go's bucket
    starts with one credit even then). Thread-safe; ``clock`` (seconds, monotonic) can be
    replaced to drive the bucket with simulated time in tests.
    """

    __slots__ = (
        "max_traces_per_second",
        "_capacity",
        "_balance",
        "_last",
        "_clock",
        "_lock",
        "_sampled",
        "_unsampled",
        "__weakref__",
    )

    def __init__(
        self, max_traces_per_second: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._configure(check_per_second(max_traces_per_second, "max_traces_per_second"))
        self._balance = self._capacity
        self._clock = clock
        self._last = clock()
        self._lock = fork_safe_lock(self)

    def _configure(self, rate: float) -> None:
        self.max_traces_per_second = rate
        self._capacity = max(rate, 1.0) if rate > 0.0 else 0.0
        tags = sampler_tags("ratelimiting", rate)
        self._sampled: SamplingDecision = (True, tags)
        self._unsampled: SamplingDecision = (False, tags)

    def is_sampled(self, trace_id: int, operation_name: str = "") -> SamplingDecision:
        return self._sampled if self.take() else self._unsampled

    def take(self) -> bool:
        """Spend one credit if there is one; True when it was spent."""
        lock = self._lock
        lock.acquire()  # acquire/try/release costs ~50 ns less than `with` here
        try:
            now = self._clock()
            elapsed = now - self._last
            self._last = now
            balance = self._balance
            if elapsed > 0.0:  # an injected clock may stand still or step back
                balance += elapsed * self.max_traces_per_second
                if balance > self._capacity:
                    balance = self._capacity
            if balance >= 1.0:
                self._balance = balance - 1.0
                return True
            self._balance = balance
            return False
        finally:
            lock.release()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = now - self._last
        self._last = now
        if elapsed > 0.0:
            balance = self._balance + elapsed * self.max_traces_per_second
            self._balance = balance if balance < self._capacity else self._capacity

    def update(self, max_traces_per_second: float) -> None:
        """Change the rate in place; the balance keeps its proportion of the capacity
        (as in Go), so a strategy refresh neither empties nor refills the bucket."""
        rate = check_per_second(max_traces_per_second, "max_traces_per_second")
        with self._lock:
            if rate == self.max_traces_per_second:
                return
            self._refill()
            old_capacity = self._capacity
            self._configure(rate)
            if old_capacity > 0.0:
                self._balance = self._balance * self._capacity / old_capacity
            else:
                self._balance = self._capacity

    def __repr__(self) -> str:
        return f"RateLimitingSampler({self.max_traces_per_second})"

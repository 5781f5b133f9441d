"""Samplers: decide at a trace's local root whether it is recorded and reported.

The decision is made once per local root; children and spans continuing a remote context
inherit it. A sampled root is tagged ``sampler.type``/``sampler.param``. The rules are
jaeger-client-go's (PROTOCOL.md section 5), so every service of a trace agrees.
``RemoteSampler``, which follows the agent's strategy, lives in ``remote_sampling``.
"""

from __future__ import annotations

import math
import os
import threading
import time
import weakref
from collections.abc import Mapping
from typing import Any, Callable, Optional, Protocol, Union, runtime_checkable

__all__ = [
    "ConstSampler",
    "GuaranteedThroughputSampler",
    "PerOperationSampler",
    "ProbabilisticSampler",
    "RateLimitingSampler",
    "Sampler",
    "SamplingDecision",
]

#: ``(sampled, tags)``; the tags mapping is shared and must not be mutated.
SamplingDecision = tuple[bool, Mapping[str, Any]]

#: 63-bit mask and bound used by every Jaeger client for probabilistic sampling.
_MAX_RANDOM = 0x7FFF_FFFF_FFFF_FFFF


@runtime_checkable
class Sampler(Protocol):
    """Decides whether a new trace is sampled; returns the decision and the tags to record."""

    def is_sampled(self, trace_id: int, operation_name: str) -> SamplingDecision:
        """Return ``(sampled, tags)`` for a new local root with ``trace_id``."""
        ...

    def close(self) -> None:
        """Release resources (threads, sockets); called by ``Tracer.close``."""
        ...


def _tags(sampler_type: str, param: Any) -> dict[str, Any]:
    # A plain dict, shared by every decision of the sampler: the tracer copies it into the
    # span (dict.copy is ~5x faster than copying from a MappingProxyType). Treat as read-only.
    return {"sampler.type": sampler_type, "sampler.param": param}


class ConstSampler:
    """Samples every trace (``True``) or none (``False``)."""

    __slots__ = ("decision", "_result")

    def __init__(self, decision: bool = True) -> None:
        self.decision = bool(decision)
        self._result: SamplingDecision = (self.decision, _tags("const", self.decision))

    def is_sampled(self, trace_id: int, operation_name: str = "") -> SamplingDecision:
        return self._result

    def close(self) -> None:
        pass

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConstSampler) and other.decision == self.decision

    def __hash__(self) -> int:
        return hash(("const", self.decision))

    def __repr__(self) -> str:
        return f"ConstSampler({self.decision})"


class ProbabilisticSampler:
    """Samples a fraction ``rate`` of traces, decided from the trace id so that every
    service (in any language) makes the same decision for the same trace.

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
        self._boundary = int(float(_MAX_RANDOM) * rate)
        tags = _tags("probabilistic", rate)
        self._sampled: SamplingDecision = (True, tags)
        self._unsampled: SamplingDecision = (False, tags)

    def is_sampled(self, trace_id: int, operation_name: str = "") -> SamplingDecision:
        if trace_id & _MAX_RANDOM <= self._boundary:
            return self._sampled
        return self._unsampled

    def close(self) -> None:
        pass

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProbabilisticSampler) and other.rate == self.rate

    def __hash__(self) -> int:
        return hash(("probabilistic", self.rate))

    def __repr__(self) -> str:
        return f"ProbabilisticSampler({self.rate})"


# -- locks that survive fork ------------------------------------------------------------

# A lock held by another thread at the moment of fork() stays locked forever in the child,
# and these locks sit on the path of every new trace: give each owner a fresh lock in the
# child, as the logging module does for its handlers.
_LOCK_OWNERS: weakref.WeakSet[Any] = weakref.WeakSet()


def _fork_safe_lock(owner: Any) -> threading.Lock:
    _LOCK_OWNERS.add(owner)
    return threading.Lock()


def _reinit_locks_in_child() -> None:
    for owner in list(_LOCK_OWNERS):
        owner._lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX; Windows has no fork to worry about
    os.register_at_fork(after_in_child=_reinit_locks_in_child)


def _check_per_second(value: float, what: str) -> float:
    rate = float(value)
    if not (rate >= 0.0 and math.isfinite(rate)):
        raise ValueError(f"{what} must be a finite number >= 0, got {value!r}")
    return rate


# -- rate limiting --------------------------------------------------------------------


class RateLimitingSampler:
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
        self._configure(_check_per_second(max_traces_per_second, "max_traces_per_second"))
        self._balance = self._capacity
        self._clock = clock
        self._last = clock()
        self._lock = _fork_safe_lock(self)

    def _configure(self, rate: float) -> None:
        self.max_traces_per_second = rate
        self._capacity = max(rate, 1.0) if rate > 0.0 else 0.0
        tags = _tags("ratelimiting", rate)
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
        rate = _check_per_second(max_traces_per_second, "max_traces_per_second")
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

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"RateLimitingSampler({self.max_traces_per_second})"


# -- per operation --------------------------------------------------------------------


class GuaranteedThroughputSampler:
    """Probabilistic sampling that still samples ``lower_bound`` traces per second.

    jaeger-client-go's GuaranteedThroughputProbabilisticSampler: when the probabilistic
    check passes the trace is sampled with the ``probabilistic`` tags (and the rate limiter
    is charged too); otherwise it is sampled only if the limiter has a credit, tagged
    ``sampler.type=lowerbound``, ``sampler.param=<lower_bound>``.
    """

    __slots__ = ("_probabilistic", "_limiter", "_lower_bound_sampled", "_unsampled")

    def __init__(
        self,
        lower_bound: float,
        sampling_rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._probabilistic = ProbabilisticSampler(sampling_rate)
        self._limiter = RateLimitingSampler(lower_bound, clock=clock)
        self._set_lower_bound_tags()

    def _set_lower_bound_tags(self) -> None:
        tags = _tags("lowerbound", self._limiter.max_traces_per_second)
        self._lower_bound_sampled: SamplingDecision = (True, tags)
        self._unsampled: SamplingDecision = (False, tags)

    @property
    def lower_bound(self) -> float:
        return self._limiter.max_traces_per_second

    @property
    def sampling_rate(self) -> float:
        return self._probabilistic.rate

    def is_sampled(self, trace_id: int, operation_name: str = "") -> SamplingDecision:
        probabilistic = self._probabilistic  # one read: an update swaps it whole
        if trace_id & _MAX_RANDOM <= probabilistic._boundary:
            self._limiter.take()
            return probabilistic._sampled
        if self._limiter.take():
            return self._lower_bound_sampled
        return self._unsampled

    def update(self, lower_bound: float, sampling_rate: float) -> None:
        """Change both parameters in place, keeping the rate limiter's credit."""
        probabilistic = (
            ProbabilisticSampler(sampling_rate)
            if float(sampling_rate) != self._probabilistic.rate
            else self._probabilistic
        )
        if float(lower_bound) != self._limiter.max_traces_per_second:
            self._limiter.update(lower_bound)
            self._set_lower_bound_tags()
        self._probabilistic = probabilistic

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"GuaranteedThroughputSampler({self.lower_bound}, {self.sampling_rate})"


class PerOperationSampler:
    """A sampling rate per operation name plus a per-operation lower bound.

    jaeger-client-go's and -java's PerOperationSampler (jaeger-client-python calls it
    AdaptiveSampler); it applies the ``operationSampling`` strategy of the Jaeger agent.
    Each operation gets a :class:`GuaranteedThroughputSampler` (its rate from
    ``operations``, else ``default_sampling_probability``; ``lower_bound`` traces per
    second). Once ``max_operations`` operations are known, further ones share a plain
    :class:`ProbabilisticSampler` at the default probability, so user-controlled operation
    names cannot grow memory without bound.
    """

    __slots__ = (
        "max_operations",
        "_default",
        "_lower_bound",
        "_samplers",
        "_clock",
        "_lock",
        "__weakref__",
    )

    def __init__(
        self,
        default_sampling_probability: float,
        lower_bound: float,
        operations: Optional[Mapping[str, float]] = None,
        *,
        max_operations: int = 2000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if int(max_operations) < 1:
            raise ValueError(f"max_operations must be >= 1, got {max_operations!r}")
        self.max_operations = int(max_operations)
        self._clock = clock
        self._lock = _fork_safe_lock(self)
        self._default = ProbabilisticSampler(default_sampling_probability)
        self._lower_bound = _check_per_second(lower_bound, "lower_bound")
        #: Replaced whole by update(); learned operations are added under the lock.
        self._samplers: dict[str, GuaranteedThroughputSampler] = {}
        self.update(default_sampling_probability, lower_bound, operations or {})

    @property
    def default_sampling_probability(self) -> float:
        return self._default.rate

    @property
    def lower_bound(self) -> float:
        return self._lower_bound

    @property
    def operations(self) -> dict[str, float]:
        """A snapshot of the known operations and their sampling rates."""
        return {op: sampler.sampling_rate for op, sampler in list(self._samplers.items())}

    def is_sampled(self, trace_id: int, operation_name: str = "") -> SamplingDecision:
        sampler = self._samplers.get(operation_name)
        if sampler is None:
            return self._new_operation(operation_name).is_sampled(trace_id, operation_name)
        return sampler.is_sampled(trace_id, operation_name)

    def _new_operation(
        self, operation_name: str
    ) -> Union[GuaranteedThroughputSampler, ProbabilisticSampler]:
        with self._lock:
            samplers = self._samplers
            sampler = samplers.get(operation_name)  # another thread may have added it
            if sampler is not None:
                return sampler
            if len(samplers) >= self.max_operations:
                return self._default
            sampler = GuaranteedThroughputSampler(
                self._lower_bound, self._default.rate, clock=self._clock
            )
            samplers[operation_name] = sampler
            return sampler

    def update(
        self,
        default_sampling_probability: float,
        lower_bound: float,
        operations: Mapping[str, float],
    ) -> None:
        """Apply a new strategy. Operations already known keep their rate limiter (so a
        refresh does not hand out fresh credit); listed operations take their new rate,
        the others the new default. Invalid values raise ValueError and change nothing."""
        default = ProbabilisticSampler(default_sampling_probability)
        lower = _check_per_second(lower_bound, "lower_bound")
        rates = {str(op): ProbabilisticSampler(rate).rate for op, rate in operations.items()}
        with self._lock:
            old = self._samplers
            new: dict[str, GuaranteedThroughputSampler] = {}
            for op, rate in rates.items():
                sampler = old.get(op)
                if sampler is None:
                    sampler = GuaranteedThroughputSampler(lower, rate, clock=self._clock)
                else:
                    sampler.update(lower, rate)
                new[op] = sampler
            # Go and Java drop these and re-create them on their next use with a full
            # bucket; keeping them spares that burst and gives them the new defaults.
            for op, sampler in old.items():
                if op not in new and len(new) < self.max_operations:
                    sampler.update(lower, default.rate)
                    new[op] = sampler
            self._default = default
            self._lower_bound = lower
            self._samplers = new

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return (
            f"PerOperationSampler({self._default.rate}, {self._lower_bound}, "
            f"<{len(self._samplers)} operations>)"
        )

"""Per-operation sampling: a probability per operation name with a guaranteed minimum
throughput, as the agent's ``operationSampling`` strategy describes (jaeger-client-go's
rules: docs/protocol.md#sampling-rules)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Callable, Optional, Union

from .._lifecycle import fork_safe_lock
from .._log import LOG as _log
from .base import Sampler, SamplingDecision, sampler_tags
from .local import MAX_RANDOM, ProbabilisticSampler, RateLimitingSampler, check_per_second

__all__ = ["GuaranteedThroughputSampler", "PerOperationSampler"]


class GuaranteedThroughputSampler(Sampler):
    """Probabilistic sampling that still samples ``lower_bound`` traces per second.

    jaeger-client-go's GuaranteedThroughputProbabilisticSampler: when the probabilistic
    check passes the trace is sampled with the ``probabilistic`` tags (and the rate limiter
    is charged too); otherwise it is sampled only if the limiter has a credit, tagged
    ``sampler.type=lowerbound`` with ``sampler.param`` the sampling rate, as every Jaeger
    client writes it: the collector's adaptive sampling reads that tag as the probability
    the client applied to the operation.
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
        self._set_lower_bound_tags(self._probabilistic.rate)

    def _set_lower_bound_tags(self, sampling_rate: float) -> None:
        tags = sampler_tags("lowerbound", sampling_rate)
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
        if trace_id & MAX_RANDOM <= probabilistic._boundary:
            self._limiter.take()
            return probabilistic._sampled
        if self._limiter.take():
            return self._lower_bound_sampled
        return self._unsampled

    def update(self, lower_bound: float, sampling_rate: float) -> None:
        """Change both parameters in place, keeping the rate limiter's credit."""
        probabilistic = self._probabilistic
        if float(sampling_rate) != probabilistic.rate:
            probabilistic = ProbabilisticSampler(sampling_rate)  # raises before any change
        if float(lower_bound) != self._limiter.max_traces_per_second:
            self._limiter.update(lower_bound)
        if probabilistic is not self._probabilistic:
            self._set_lower_bound_tags(probabilistic.rate)
            self._probabilistic = probabilistic

    def __repr__(self) -> str:
        return f"GuaranteedThroughputSampler({self.lower_bound}, {self.sampling_rate})"


class PerOperationSampler(Sampler):
    """A sampling rate per operation name plus a per-operation lower bound.

    jaeger-client-go's and -java's PerOperationSampler (jaeger-client-python calls it
    AdaptiveSampler); it applies the ``operationSampling`` strategy of the Jaeger agent.
    Each operation gets a :class:`GuaranteedThroughputSampler` (its rate from
    ``operations``, else ``default_sampling_probability``; ``lower_bound`` traces per
    second). Once ``max_operations`` operations are known (listed or seen), further ones
    share a plain :class:`ProbabilisticSampler` at the default probability, so neither
    user-controlled operation names nor a long strategy can grow memory without bound.
    """

    __slots__ = (
        "max_operations",
        "_default",
        "_lower_bound",
        "_samplers",
        "_clock",
        "_lock",
        "_warned",
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
        self._lock = fork_safe_lock(self)
        self._warned = False  # that a strategy listed more than max_operations
        self._default = ProbabilisticSampler(default_sampling_probability)
        self._lower_bound = check_per_second(lower_bound, "lower_bound")
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
        lower = check_per_second(lower_bound, "lower_bound")
        rates = {str(op): ProbabilisticSampler(rate).rate for op, rate in operations.items()}
        with self._lock:
            old = self._samplers
            new: dict[str, GuaranteedThroughputSampler] = {}
            # max_operations bounds the listed operations too (as in Java; Go has no
            # bound): known ones first, so none loses its limiter, then new ones while
            # there is room. The rest are sampled at the default probability.
            for op, rate in rates.items():
                sampler = old.get(op)
                if sampler is not None:
                    sampler.update(lower, rate)
                    new[op] = sampler
            for op, rate in rates.items():
                if op not in new and len(new) < self.max_operations:
                    new[op] = GuaranteedThroughputSampler(lower, rate, clock=self._clock)
            if len(new) < len(rates):
                # Adaptive sampling changes the strategy every minute: warn once.
                log = _log.debug if self._warned else _log.warning
                log(
                    "the sampling strategy lists %d operations, over max_operations=%d: "
                    "%d of them are sampled at the default probability",
                    len(rates),
                    self.max_operations,
                    len(rates) - len(new),
                )
                self._warned = True
            # Go drops these and re-creates them on their next use with a full bucket;
            # keeping them spares that burst and gives them the new defaults.
            for op, sampler in old.items():
                if op not in new and len(new) < self.max_operations:
                    sampler.update(lower, default.rate)
                    new[op] = sampler
            self._default = default
            self._lower_bound = lower
            self._samplers = new

    def __repr__(self) -> str:
        return (
            f"PerOperationSampler({self._default.rate}, {self._lower_bound}, "
            f"<{len(self._samplers)} operations>)"
        )

"""Samplers: decide at a trace's local root whether it is recorded and reported.

The decision is made once per local root; children and spans continuing a remote context
inherit it. A sampled root is tagged ``sampler.type``/``sampler.param``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

__all__ = ["ConstSampler", "ProbabilisticSampler", "Sampler", "SamplingDecision"]

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

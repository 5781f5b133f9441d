"""``Sampler``: decides at a trace's local root whether it is recorded and reported.

The decision is made once per local root; children and spans continuing a remote context
inherit it. A sampled root is tagged ``sampler.type``/``sampler.param``. A sampler of your
own subclasses :class:`Sampler` and implements ``is_sampled``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["Sampler", "SamplingDecision", "as_sampler", "sampler_tags"]

#: ``(sampled, tags)``; the tags mapping is shared and must not be mutated.
SamplingDecision = tuple[bool, Mapping[str, Any]]


class Sampler:
    """Base class of samplers: ``is_sampled`` is required, the rest have defaults."""

    __slots__ = ()

    def is_sampled(self, trace_id: int, operation_name: str = "") -> SamplingDecision:
        """Return ``(sampled, tags)`` for a new local root with ``trace_id``."""
        raise NotImplementedError

    def close(self) -> None:
        """Release resources (threads, sockets); called by ``Tracer.close``."""

    def metrics(self) -> dict[str, int]:
        """Counters merged into ``Tracer.metrics``."""
        return {}


class _ForeignSampler(Sampler):
    """A sampler that does not subclass :class:`Sampler` (duck-typed), with the defaults
    for whatever it lacks."""

    __slots__ = ("wrapped", "is_sampled")

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped
        self.is_sampled = wrapped.is_sampled  # type: ignore[method-assign]

    def close(self) -> None:
        method = getattr(self.wrapped, "close", None)
        if callable(method):
            method()

    def metrics(self) -> dict[str, int]:
        method = getattr(self.wrapped, "metrics", None)
        return dict(method()) if callable(method) else {}

    def __repr__(self) -> str:
        return repr(self.wrapped)


def as_sampler(sampler: Any) -> Sampler:
    """``sampler`` itself when it subclasses :class:`Sampler`, else an adapter giving a
    duck-typed one (only ``is_sampled`` is required) the defaults."""
    if isinstance(sampler, Sampler):
        return sampler
    if isinstance(sampler, type):  # Tracer(..., ProbabilisticSampler): its methods unbound
        raise TypeError(f"a sampler instance is needed, got the class {sampler.__name__}")
    if not callable(getattr(sampler, "is_sampled", None)):
        raise TypeError(f"a sampler needs an is_sampled method, got {type(sampler).__name__}")
    return _ForeignSampler(sampler)


def sampler_tags(sampler_type: str, param: Any) -> dict[str, Any]:
    """The ``sampler.type``/``sampler.param`` tags of a sampled root.

    A plain dict, shared by every decision of the sampler: the tracer copies it into the
    span (dict.copy is ~5x faster than copying from a MappingProxyType). Treat as read-only.
    """
    return {"sampler.type": sampler_type, "sampler.param": param}

"""Sampling: which traces are recorded.

``base`` defines the :class:`Sampler` seam; ``local`` the samplers that decide on their
own (constant, probabilistic, rate limiting); ``per_operation`` the per-operation sampler
the agent's strategies call for; ``strategy`` parses those strategies; ``remote`` holds
:class:`RemoteSampler`, which polls for them.
"""

from .base import Sampler, SamplingDecision
from .local import ConstSampler, ProbabilisticSampler, RateLimitingSampler
from .per_operation import GuaranteedThroughputSampler, PerOperationSampler
from .remote import RemoteSampler

__all__ = [
    "ConstSampler",
    "GuaranteedThroughputSampler",
    "PerOperationSampler",
    "ProbabilisticSampler",
    "RateLimitingSampler",
    "RemoteSampler",
    "Sampler",
    "SamplingDecision",
]

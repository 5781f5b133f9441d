"""Sampling: which traces are recorded.

``base`` defines the :class:`Sampler` seam; ``local`` the samplers that decide on their
own (constant, probabilistic, rate limiting); ``per_operation`` the per-operation sampler
the agent's strategies call for; ``strategy`` parses those strategies; ``remote`` holds
:class:`RemoteSampler`, which polls for them.
"""

from .._lazy import lazy_names
from .base import Sampler, SamplingDecision
from .local import ConstSampler, ProbabilisticSampler, RateLimitingSampler
from .per_operation import GuaranteedThroughputSampler, PerOperationSampler

TYPE_CHECKING = False  # mypy reads this name as True
if TYPE_CHECKING:
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

# RemoteSampler loads the HTTP client, urllib.parse and json (~20 ms): only when first read.
_LAZY = {
    "RemoteSampler": "remote",
}
if not TYPE_CHECKING:  # hidden from type checkers, so a misspelt name stays an error
    __getattr__, __dir__ = lazy_names(globals(), _LAZY)

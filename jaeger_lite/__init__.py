"""jaeger_lite: a light, fast, pure-Python Jaeger tracing client.

Quick start::

    import jaeger_lite

    tracer = jaeger_lite.init_tracer("my-service")
    with tracer.start_active_span("work") as scope:
        scope.span.set_tag("answer", 42)
"""

from ._global import global_tracer, set_global_tracer, trace
from ._version import __version__
from .context import (
    FLAG_DEBUG,
    FLAG_FIREHOSE,
    FLAG_SAMPLED,
    Reference,
    ReferenceType,
    SpanContext,
    child_of,
    follows_from,
)
from .errors import (
    ConfigError,
    InvalidCarrierException,
    SpanContextCorruptedException,
    UnsupportedFormatException,
)
from .propagation import Codec, Format
from .remote_sampling import RemoteSampler
from .reporting import (
    CompositeReporter,
    InMemoryReporter,
    LoggingReporter,
    NullReporter,
    Reporter,
)
from .sampling import (
    ConstSampler,
    GuaranteedThroughputSampler,
    PerOperationSampler,
    ProbabilisticSampler,
    RateLimitingSampler,
    Sampler,
)
from .scope import ContextVarsScopeManager, Scope, ScopeManager, ThreadLocalScopeManager
from .span import Log, Span
from .tracer import Tracer

__all__ = [
    "Codec",
    "CompositeReporter",
    "ConfigError",
    "ConstSampler",
    "ContextVarsScopeManager",
    "FLAG_DEBUG",
    "FLAG_FIREHOSE",
    "FLAG_SAMPLED",
    "Format",
    "GuaranteedThroughputSampler",
    "InMemoryReporter",
    "InvalidCarrierException",
    "Log",
    "LoggingReporter",
    "NullReporter",
    "PerOperationSampler",
    "ProbabilisticSampler",
    "RateLimitingSampler",
    "Reference",
    "ReferenceType",
    "RemoteSampler",
    "Reporter",
    "Sampler",
    "Scope",
    "ScopeManager",
    "Span",
    "SpanContext",
    "SpanContextCorruptedException",
    "ThreadLocalScopeManager",
    "Tracer",
    "UnsupportedFormatException",
    "__version__",
    "child_of",
    "follows_from",
    "global_tracer",
    "set_global_tracer",
    "trace",
]

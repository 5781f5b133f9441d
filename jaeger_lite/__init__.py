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
from .remote import RemoteReporter
from .reporting import (
    CompositeReporter,
    InMemoryReporter,
    LoggingReporter,
    NullReporter,
    Reporter,
)
from .sampling import ConstSampler, ProbabilisticSampler, Sampler
from .scope import ContextVarsScopeManager, Scope, ScopeManager, ThreadLocalScopeManager
from .senders import HTTPSender, Sender, UDPSender
from .span import Log, Span
from .tracer import Tracer

__all__ = [
    "FLAG_DEBUG",
    "FLAG_FIREHOSE",
    "FLAG_SAMPLED",
    "Codec",
    "CompositeReporter",
    "ConfigError",
    "ConstSampler",
    "ContextVarsScopeManager",
    "Format",
    "HTTPSender",
    "InMemoryReporter",
    "InvalidCarrierException",
    "Log",
    "LoggingReporter",
    "NullReporter",
    "ProbabilisticSampler",
    "Reference",
    "ReferenceType",
    "RemoteReporter",
    "Reporter",
    "Sampler",
    "Scope",
    "ScopeManager",
    "Sender",
    "Span",
    "SpanContext",
    "SpanContextCorruptedException",
    "ThreadLocalScopeManager",
    "Tracer",
    "UDPSender",
    "UnsupportedFormatException",
    "__version__",
    "child_of",
    "follows_from",
    "global_tracer",
    "set_global_tracer",
    "trace",
]

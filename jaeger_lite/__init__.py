"""jaeger_lite: a light, fast, pure-Python Jaeger tracing client.

Quick start::

    import jaeger_lite

    tracer = jaeger_lite.init_tracer("my-service")
    with tracer.start_active_span("work") as scope:
        scope.span.set_tag("answer", 42)
"""

from ._lazy import FACADE, lazy_names
from ._version import __version__

TYPE_CHECKING = False  # not typing's: importing typing would cost ~2 ms here
if TYPE_CHECKING:  # type checkers and IDEs see the real names; at run time FACADE loads them
    from ._baggage import BaggageLimits
    from ._global import global_tracer, reset_global_tracer, set_global_tracer, trace
    from .config import Config, init_tracer
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
    from .propagation import (
        B3Codec,
        B3SingleCodec,
        BinaryCodec,
        Codec,
        CompositeCodec,
        Format,
        JaegerCodec,
        TraceContextCodec,
        W3CBaggageCodec,
        codecs_for_propagation,
        parse_propagation,
    )
    from .reporting import (
        CompositeReporter,
        InMemoryReporter,
        LoggingReporter,
        NullReporter,
        RemoteReporter,
        Reporter,
    )
    from .sampling import (
        ConstSampler,
        GuaranteedThroughputSampler,
        PerOperationSampler,
        ProbabilisticSampler,
        RateLimitingSampler,
        RemoteSampler,
        Sampler,
    )
    from .scope import ContextVarsScopeManager, Scope, ScopeManager, ThreadLocalScopeManager
    from .senders import HTTPSender, OTLPSender, Sender, UDPSender
    from .span import Log, Span
    from .tracer import Tracer

__all__ = [
    "B3Codec",
    "B3SingleCodec",
    "BaggageLimits",
    "BinaryCodec",
    "Codec",
    "CompositeCodec",
    "CompositeReporter",
    "Config",
    "ConfigError",
    "ConstSampler",
    "ContextVarsScopeManager",
    "FLAG_DEBUG",
    "FLAG_FIREHOSE",
    "FLAG_SAMPLED",
    "Format",
    "GuaranteedThroughputSampler",
    "HTTPSender",
    "InMemoryReporter",
    "InvalidCarrierException",
    "JaegerCodec",
    "Log",
    "LoggingReporter",
    "NullReporter",
    "OTLPSender",
    "PerOperationSampler",
    "ProbabilisticSampler",
    "RateLimitingSampler",
    "Reference",
    "ReferenceType",
    "RemoteReporter",
    "RemoteSampler",
    "Reporter",
    "Sampler",
    "Scope",
    "ScopeManager",
    "Sender",
    "Span",
    "SpanContext",
    "SpanContextCorruptedException",
    "ThreadLocalScopeManager",
    "TraceContextCodec",
    "Tracer",
    "UDPSender",
    "UnsupportedFormatException",
    "W3CBaggageCodec",
    "__version__",
    "child_of",
    "codecs_for_propagation",
    "follows_from",
    "global_tracer",
    "init_tracer",
    "parse_propagation",
    "reset_global_tracer",
    "set_global_tracer",
    "trace",
]

# Every other public name loads its module on first read (PEP 562; the table is FACADE in
# _lazy.py): `import jaeger_lite` adds ~0.4 ms instead of ~75 (benchmarks/bench_import.py).
if not TYPE_CHECKING:  # hidden from type checkers, so a misspelt name stays an error
    __getattr__, __dir__ = lazy_names(globals(), FACADE)

"""Names a package exports but loads on first use (PEP 562), so ``import jaeger_lite``
stays cheap: the facade's table of public names and the helper every package uses.

``import jaeger_lite`` used to load the senders, the HTTP client (``http.client``,
``ssl``, ``email``), the config machinery and the remote sampler: 71-80 ms of CPU on top
of interpreter start (94-127 ms in the issue's measurement). With the table below it loads
this module and ``_version`` only (~0.4 ms, CPython 3.9-3.13, ``benchmarks/bench_import.py``);
each name loads its module when first read.
"""

import sys

# Neither typing (~2 ms) nor __future__ (~0.1 ms) is loaded here: annotations are quoted.
TYPE_CHECKING = False  # mypy reads this name as True
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

__all__ = ["FACADE", "lazy_names"]

#: Every public name of ``jaeger_lite`` but ``__version__`` -> the module defining it.
FACADE: "dict[str, str]" = {
    "BaggageLimits": "_baggage",
    **dict.fromkeys(
        ["global_tracer", "reset_global_tracer", "set_global_tracer", "trace"], "_global"
    ),
    **dict.fromkeys(["Config", "init_tracer"], "config"),
    **dict.fromkeys(
        [
            "FLAG_DEBUG", "FLAG_FIREHOSE", "FLAG_SAMPLED", "Reference", "ReferenceType",
            "SpanContext", "child_of", "follows_from",
        ],
        "context",
    ),
    **dict.fromkeys(
        [
            "ConfigError", "InvalidCarrierException", "SpanContextCorruptedException",
            "UnsupportedFormatException",
        ],
        "errors",
    ),
    **dict.fromkeys(
        [
            "B3Codec", "B3SingleCodec", "BinaryCodec", "Codec", "CompositeCodec", "Format",
            "JaegerCodec", "TraceContextCodec", "W3CBaggageCodec", "codecs_for_propagation",
            "parse_propagation",
        ],
        "propagation",
    ),
    **dict.fromkeys(
        [
            "CompositeReporter", "InMemoryReporter", "LoggingReporter", "NullReporter",
            "RemoteReporter", "Reporter",
        ],
        "reporting",
    ),
    **dict.fromkeys(
        [
            "ConstSampler", "GuaranteedThroughputSampler", "PerOperationSampler",
            "ProbabilisticSampler", "RateLimitingSampler", "RemoteSampler", "Sampler",
        ],
        "sampling",
    ),
    **dict.fromkeys(
        ["ContextVarsScopeManager", "Scope", "ScopeManager", "ThreadLocalScopeManager"], "scope"
    ),
    **dict.fromkeys(["HTTPSender", "OTLPSender", "Sender", "UDPSender"], "senders"),
    **dict.fromkeys(["Log", "Span"], "span"),
    "Tracer": "tracer",
}  # fmt: skip


def lazy_names(
    namespace: "dict[str, Any]", table: "Mapping[str, str]"
) -> "tuple[Callable[[str], Any], Callable[[], list[str]]]":
    """A package's ``__getattr__`` and ``__dir__`` for ``table`` (name -> submodule,
    relative to the package whose globals are ``namespace``).

    A name is imported from its submodule on first read and then stored in ``namespace``,
    so later reads are plain attribute reads (``__getattr__`` runs once a name)."""
    package = namespace["__name__"]

    def __getattr__(name: str) -> "Any":
        submodule = table.get(name)
        if submodule is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        full = f"{package}.{submodule}"
        module = sys.modules.get(full)
        if module is None:
            __import__(full)  # importlib.import_module would cost its own import
            module = sys.modules[full]
        value = getattr(module, name)
        namespace[name] = value
        return value

    def __dir__() -> "list[str]":
        return sorted({*namespace, *table})

    return __getattr__, __dir__

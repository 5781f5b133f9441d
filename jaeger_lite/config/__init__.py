"""Configuration: from keyword options, ``JAEGER_*`` and ``OTEL_*`` variables or a
jaeger-client ``Config`` dictionary to a wired tracer.

``options`` is the table of every option and the parsers of their values; ``otel_env``
reads the OpenTelemetry variables; ``resolve`` merges keywords, environment and defaults
into validated :class:`TracerOptions`;
``build`` wires the tracer (``init_tracer``); ``jaeger_client`` accepts jaeger-client's
``Config`` dictionary as it is.
"""

from .build import build_tracer, init_tracer
from .jaeger_client import Config
from .options import OPTIONS, SAMPLER_TYPES
from .resolve import TracerOptions, resolve_options

__all__ = [
    "OPTIONS",
    "SAMPLER_TYPES",
    "Config",
    "TracerOptions",
    "build_tracer",
    "init_tracer",
    "resolve_options",
]

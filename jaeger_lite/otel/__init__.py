"""The OpenTelemetry API carried by jaeger_lite: OpenTelemetry instrumentations report
through jaeger_lite's pipeline (``pip install 'jaeger-lite[otel]'``, which needs only
``opentelemetry-api``)::

    import opentelemetry.trace
    import jaeger_lite, jaeger_lite.otel

    tracer = jaeger_lite.init_tracer("my-service")
    opentelemetry.trace.set_tracer_provider(jaeger_lite.otel.TracerProvider(tracer))

Without code: ``OTEL_PYTHON_TRACER_PROVIDER=jaeger_lite`` (a tracer from the environment),
or ``opentelemetry-instrument`` with ``OTEL_PYTHON_DISTRO=jaeger_lite``. ``import
jaeger_lite`` never imports this package (nor OpenTelemetry).
"""

try:
    import opentelemetry.trace  # noqa: F401
except ImportError as exc:  # the optional extra is not installed
    raise ImportError(
        "jaeger_lite.otel needs the OpenTelemetry API: pip install 'jaeger-lite[otel]'"
    ) from exc

from ._provider import TracerProvider, share_active_span
from ._scope import ScopeManager, StandInSpan
from ._span import BridgeSpan
from ._tracer import Tracer
from .propagator import Propagator

__all__ = [
    "BridgeSpan",
    "Propagator",
    "ScopeManager",
    "StandInSpan",
    "Tracer",
    "TracerProvider",
    "share_active_span",
]

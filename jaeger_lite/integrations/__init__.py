"""Batteries included: web frameworks, HTTP clients, logs and databases traced with no
dependency beyond jaeger_lite (each library is imported only when its integration is used).

    from jaeger_lite import integrations
    app = integrations.WSGIMiddleware(app)          # or ASGIMiddleware, flask, django
    integrations.instrument("requests", "httpx")    # outgoing HTTP calls
    integrations.install_log_correlation()          # %(trace_id)s in log formats

``import jaeger_lite`` does not import this package. Nothing here raises into the
application when tracing fails: the failure is counted (:func:`metrics`) and logged at
debug level on the ``jaeger_lite`` logger, and the application carries on untraced.
"""

from ._common import REDACTED, SECRET_QUERY_PARAMETERS, metrics
from ._instrument import LIBRARIES, instrument, instrumented, uninstrument
from ._server import fail_request, set_route
from .asgi import ASGIMiddleware
from .logs import (
    LoguruPatcher,
    SpanLogHandler,
    StructlogProcessor,
    TraceContextFilter,
    install_log_correlation,
    uninstall_log_correlation,
)
from .wsgi import WSGIMiddleware

__all__ = [
    "ASGIMiddleware",
    "LIBRARIES",
    "LoguruPatcher",
    "REDACTED",
    "SECRET_QUERY_PARAMETERS",
    "SpanLogHandler",
    "StructlogProcessor",
    "TraceContextFilter",
    "WSGIMiddleware",
    "fail_request",
    "install_log_correlation",
    "instrument",
    "instrumented",
    "metrics",
    "set_route",
    "uninstall_log_correlation",
    "uninstrument",
]

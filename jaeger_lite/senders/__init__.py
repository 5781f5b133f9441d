"""Senders: the transports that carry encoded spans to a backend, one module per destination.

``base`` defines the :class:`Sender` seam; ``jaeger_udp`` sends compact Thrift datagrams to
a Jaeger agent, ``jaeger_http`` POSTs binary Thrift to a Jaeger collector, ``otlp_http``
exports OTLP/HTTP to Jaeger v2 or an OpenTelemetry Collector. The encoders they use live
in :mod:`jaeger_lite._encoding`.
"""

from .._lazy import lazy_names
from .base import Sender

TYPE_CHECKING = False  # mypy reads this name as True
if TYPE_CHECKING:
    from .jaeger_http import HTTPSender
    from .jaeger_udp import UDPSender
    from .otlp_http import OTLPSender

__all__ = ["HTTPSender", "OTLPSender", "Sender", "UDPSender"]

# Each sender loads its own encoders and transport (the HTTP ones http.client and ssl):
# only the one a tracer uses is loaded, when first read.
_LAZY = {
    "HTTPSender": "jaeger_http",
    "UDPSender": "jaeger_udp",
    "OTLPSender": "otlp_http",
}
if not TYPE_CHECKING:  # hidden from type checkers, so a misspelt name stays an error
    __getattr__, __dir__ = lazy_names(globals(), _LAZY)

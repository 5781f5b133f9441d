"""Senders: the transports that carry encoded spans to a backend, one module per destination.

``base`` defines the :class:`Sender` seam; ``jaeger_udp`` sends compact Thrift datagrams to
a Jaeger agent, ``jaeger_http`` POSTs binary Thrift to a Jaeger collector, ``otlp_http``
exports OTLP/HTTP to Jaeger v2 or an OpenTelemetry Collector. The encoders they use live
in :mod:`jaeger_lite._encoding`.
"""

from .base import Sender
from .jaeger_http import HTTPSender
from .jaeger_udp import UDPSender
from .otlp_http import OTLPSender

__all__ = ["HTTPSender", "OTLPSender", "Sender", "UDPSender"]

"""Senders: the transports that carry encoded spans to a backend, one module per destination.

``base`` defines the :class:`Sender` seam; ``jaeger_udp`` sends compact Thrift datagrams to
a Jaeger agent, ``jaeger_http`` POSTs binary Thrift to a Jaeger collector. The encoders
they use live in :mod:`jaeger_lite._encoding`.
"""

from .base import Sender
from .jaeger_http import HTTPSender
from .jaeger_udp import UDPSender

__all__ = ["HTTPSender", "Sender", "UDPSender"]

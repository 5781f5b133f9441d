"""Context propagation: the ``Format`` names, the ``Codec`` protocol and the built-in codecs.

``base`` holds ``Format`` and ``Codec``; one module per format family: ``jaeger``
(uber-trace-id), ``b3`` (multi and single header), ``w3c`` (traceparent/tracestate),
``baggage`` (W3C baggage), ``binary``; and ``composite``, which picks formats by name and
combines them. ``_carriers`` and ``_text`` are what the codecs share.
"""

from .b3 import B3Codec, B3SingleCodec
from .baggage import W3CBaggageCodec
from .base import Codec, Format
from .binary import BinaryCodec
from .composite import PROPAGATION_NAMES, CompositeCodec, codecs_for_propagation, parse_propagation
from .jaeger import JaegerCodec
from .w3c import TraceContextCodec

__all__ = [
    "PROPAGATION_NAMES",
    "B3Codec",
    "B3SingleCodec",
    "BinaryCodec",
    "Codec",
    "CompositeCodec",
    "Format",
    "JaegerCodec",
    "TraceContextCodec",
    "W3CBaggageCodec",
    "codecs_for_propagation",
    "parse_propagation",
]

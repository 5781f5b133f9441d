"""Context propagation: the ``Format`` names, the ``Codec`` protocol and the built-in codecs.

One module per format family: ``jaeger`` (uber-trace-id), ``b3`` (multi and single
header), ``w3c`` (traceparent/tracestate), ``baggage`` (W3C baggage), ``binary``; and
``composite``, which picks formats by name and combines them.
"""

from __future__ import annotations

from typing import Any, Optional, Protocol, runtime_checkable

from ..context import SpanContext

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


class Format:
    """Carrier formats, equal to OpenTracing's ``opentracing.Format`` strings."""

    TEXT_MAP = "text_map"
    HTTP_HEADERS = "http_headers"
    BINARY = "binary"


@runtime_checkable
class Codec(Protocol):
    """Writes a span context into a carrier and reads one back.

    ``extract`` returns None when the carrier holds no (valid) context; it must not raise
    on malformed input except where a codec documents a strict mode.
    """

    def inject(self, span_context: SpanContext, carrier: Any) -> None: ...

    def extract(self, carrier: Any) -> Optional[SpanContext]: ...


# The codecs import Format/Codec from here, so they come after the definitions above.
from .b3 import B3Codec, B3SingleCodec  # noqa: E402
from .baggage import W3CBaggageCodec  # noqa: E402
from .binary import BinaryCodec  # noqa: E402
from .composite import (  # noqa: E402
    PROPAGATION_NAMES,
    CompositeCodec,
    codecs_for_propagation,
    parse_propagation,
)
from .jaeger import JaegerCodec  # noqa: E402
from .w3c import TraceContextCodec  # noqa: E402

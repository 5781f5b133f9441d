"""``Format`` and ``Codec``: the names of carrier formats and the protocol every codec follows."""

from __future__ import annotations

from typing import Any, Optional, Protocol, runtime_checkable

from ..context import SpanContext

__all__ = ["Codec", "Format"]


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

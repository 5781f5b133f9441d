"""``CodecRegistry``: the codec of each carrier format, and inject/extract with the rules
that keep propagation from breaking the application (the tracer's half that moves
contexts across process boundaries)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, Optional, Union

from .._baggage import BaggageLimits
from .._metrics import Counter
from ..context import SpanContext
from ..errors import (
    InvalidCarrierException,
    SpanContextCorruptedException,
    UnsupportedFormatException,
)
from ..span import Span
from .base import Codec
from .composite import LimitedCodec, codecs_for_propagation

__all__ = ["CodecRegistry"]

_log = logging.getLogger("jaeger_lite")


class CodecRegistry:
    """Mixin of :class:`~jaeger_lite.Tracer`: ``register_codec``, ``inject``, ``extract``."""

    _codecs: dict[str, Codec]
    _baggage_limits: BaggageLimits
    _propagation_errors: Counter

    def _set_up_propagation(
        self,
        propagation: Union[str, Iterable[str]],
        *,
        strict: bool,
        limits: BaggageLimits,
        jaeger_headers: Optional[Mapping[str, str]],
        codecs: Optional[Mapping[str, Codec]],
    ) -> None:
        self._baggage_limits = limits
        self._propagation_errors = Counter()
        self._codecs = codecs_for_propagation(
            propagation, strict=strict, limits=limits, jaeger_headers=jaeger_headers
        )
        for format, codec in (codecs or {}).items():
            self.register_codec(format, codec)

    def register_codec(self, format: str, codec: Codec) -> None:
        """Use ``codec`` for ``format`` (replacing any codec registered for it); the baggage
        it extracts is held to the tracer's limits."""
        self._codecs[format] = LimitedCodec(codec, self._baggage_limits)

    def _codec(self, format: str) -> Codec:
        codec = self._codecs.get(format)
        if codec is None:
            raise UnsupportedFormatException(f"no codec registered for format {format!r}")
        return codec

    def inject(self, span_context: Union[SpanContext, Span], format: str, carrier: Any) -> None:
        """Write ``span_context`` into ``carrier``. Raises UnsupportedFormatException for an
        unknown format and InvalidCarrierException for a carrier of the wrong type; any
        other failure (a carrier's or a user codec's bug) is logged and counted."""
        codec = self._codecs.get(format)
        if codec is None:
            codec = self._codec(format)  # raises UnsupportedFormatException
        if type(span_context) is not SpanContext:
            if isinstance(span_context, Span):
                span_context = span_context.context
            if not isinstance(span_context, SpanContext):
                raise TypeError(f"inject needs a SpanContext, got {type(span_context).__name__}")
        try:
            codec.inject(span_context, carrier)
        except (UnsupportedFormatException, InvalidCarrierException):
            raise
        except Exception:  # a foreign carrier or codec must not break the application
            self._propagation_errors.inc()
            _log.debug("jaeger_lite: inject into %s failed", format, exc_info=True)

    def extract(self, format: str, carrier: Any) -> Optional[SpanContext]:
        """Read a context from ``carrier``; None when it holds none (or only garbage).

        Raises UnsupportedFormatException for an unknown format, and
        SpanContextCorruptedException only with ``strict_extract=True`` (see the class)."""
        codec = self._codecs.get(format)
        if codec is None:
            codec = self._codec(format)  # raises UnsupportedFormatException
        try:
            return codec.extract(carrier)  # built-in codecs apply the baggage limits
        except (UnsupportedFormatException, InvalidCarrierException):
            raise
        except SpanContextCorruptedException:
            raise  # only strict codecs raise it, as OpenTracing specifies
        except Exception:  # a codec bug must not break the application
            self._propagation_errors.inc()
            _log.debug("jaeger_lite: extract from %s failed", format, exc_info=True)
            return None


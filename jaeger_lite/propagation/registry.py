"""``CodecRegistry``: the codec of each carrier format, and inject/extract with the rules
that keep propagation from breaking the application (the tracer's half that moves
contexts across process boundaries)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Optional, Union

from .._baggage import BaggageLimits
from .._log import LOG as _log
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

    def _codec(self, format: Any) -> Codec:
        """The codec of a format that is not a plain str, or UnsupportedFormatException.

        A format that cannot be hashed or compared (a list, an object whose ``__eq__``
        raises) is as unsupported as an unknown name: the one documented outcome."""
        try:
            codec = self._codecs.get(format)
        except Exception:  # unhashable, or a foreign __hash__/__eq__ that raises
            codec = None
        if codec is None:
            raise UnsupportedFormatException(
                f"no codec registered for format {_describe(format)}"
            ) from None
        return codec

    def inject(self, span_context: Union[SpanContext, Span], format: str, carrier: Any) -> None:
        """Write ``span_context`` into ``carrier``. Raises UnsupportedFormatException for an
        unknown format and InvalidCarrierException for a carrier of the wrong type; any
        other failure (a carrier's or a user codec's bug) is logged and counted."""
        # A str format is looked up directly (its hash and == cannot fail); anything
        # else goes through _codec, which turns every failure into UnsupportedFormat.
        codec = self._codecs.get(format) if format.__class__ is str else None
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
            _log.debug("inject into %s failed", format, exc_info=True)

    def extract(self, format: str, carrier: Any) -> Optional[SpanContext]:
        """Read a context from ``carrier``; None when it holds none (or only garbage).

        Raises UnsupportedFormatException for an unknown format, and
        SpanContextCorruptedException only with ``strict_extract=True`` (see the class)."""
        codec = self._codecs.get(format) if format.__class__ is str else None
        if codec is None:
            codec = self._codec(format)  # raises UnsupportedFormatException
        try:
            context = codec.extract(carrier)  # built-in codecs apply the baggage limits
        except (UnsupportedFormatException, InvalidCarrierException):
            raise
        except SpanContextCorruptedException:
            raise  # only strict codecs raise it, as OpenTracing specifies
        except Exception:  # a carrier that fails while read, or a codec's bug
            self._propagation_errors.inc()
            _log.debug("extract from %s failed", format, exc_info=True)
            return None
        if isinstance(context, SpanContext) and context._is_remote is None:
            # A codec of the user's that built it by hand: what extract returns came from
            # another process (OTLP's IS_REMOTE flag; the built-in codecs mark their own).
            context._is_remote = True
        return context


def _describe(format: Any) -> str:
    """``repr(format)``, cut short, or its type when even repr() fails."""
    try:
        return repr(format)[:100]
    except Exception:  # a foreign __repr__ that raises
        return f"of type {type(format).__name__}"

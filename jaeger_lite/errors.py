"""Exception types raised by jaeger_lite.

Only API misuse raises. When the optional ``opentracing`` package is installed these
subclass its exception types, so ``except opentracing.UnsupportedFormatException`` works.
"""

from ._opentracing import (
    InvalidCarrierBase,
    SpanContextCorruptedBase,
    UnsupportedFormatBase,
)

__all__ = [
    "ConfigError",
    "InvalidCarrierException",
    "SpanContextCorruptedException",
    "UnsupportedFormatException",
]


class UnsupportedFormatException(UnsupportedFormatBase):
    """``inject``/``extract`` was called with a format no codec is registered for."""


class InvalidCarrierException(InvalidCarrierBase):
    """The carrier passed to ``inject``/``extract`` cannot hold the format (wrong type)."""


class SpanContextCorruptedException(SpanContextCorruptedBase):
    """A propagation header was present but unparseable (raised only in strict mode)."""


class ConfigError(ValueError):
    """A configuration option or environment variable has an unknown name or a bad value."""

"""The values users hand the API, made safe to record: tag and log values, times in seconds.

Both never raise: an odd value becomes text (or "now", for a time), as README's "What
happens to odd input" documents.
"""

from __future__ import annotations

from time import time_ns
from typing import Any, Optional

from ._log import LOG as _log
from ._safe import safe_str

__all__ = ["Nanoseconds", "normalize_value", "seconds_to_ns"]


_NS = 1_000_000_000  # nanoseconds a second
_I64_LIMIT = 1 << 63  # times are signed 64-bit nanoseconds, as on the wire (in µs)


class Nanoseconds(int):
    """An epoch time in integer nanoseconds, taken wherever the API takes seconds: the
    OpenTelemetry bridge hands its times over this way, exact to the nanosecond (a float
    of epoch seconds holds them only to ~240 ns)."""

    __slots__ = ()


def seconds_to_ns(seconds: float) -> int:
    """Epoch seconds (what the API takes, as OpenTracing does) as integer nanoseconds.

    Exact to the nanosecond, so the span gives the very float back (``ns / _NS`` divides
    two ints, which Python rounds correctly); ``seconds * 1e9`` would be off by up to 128
    ns. Anything that is not a number of seconds Jaeger can hold (NaN, a string, a time
    outside the signed 64-bit nanoseconds of years 1677-2262) counts as now. A
    :class:`Nanoseconds` value is already nanoseconds.
    """
    if isinstance(seconds, Nanoseconds):
        ns = int.__int__(seconds)
    else:
        try:
            whole = int(seconds)
            try:
                fraction = (seconds - whole) * 1e9
            except TypeError:  # a Decimal takes no float: its fraction as one first
                fraction = float(seconds - whole) * 1e9
            ns = whole * _NS + round(fraction)
        except Exception:  # ValueError, OverflowError, TypeError: documented as "now"
            ns = _I64_LIMIT
    if -_I64_LIMIT <= ns < _I64_LIMIT:
        return ns
    _log.debug("%r is not a time in seconds; using now", seconds)
    return time_ns()


def normalize_value(value: Any, limit: Optional[int] = None) -> Any:
    """Coerce a tag/log value: keep str/bool/int/float/bytes (subclasses become the base
    type), truncate str and bytes to ``limit`` (None: no limit), and store anything else
    as its ``str()``. The Thrift encoders use it too, for process tags."""
    try:
        # The base types' own conversions: a subclass overriding __int__ or __str__ (even
        # one that raises) cannot change or stop them.
        if isinstance(value, bool):
            return value  # bool cannot be subclassed
        if isinstance(value, int):
            return int.__int__(value)
        if isinstance(value, float):
            return float.__float__(value)
        if isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(memoryview(value))
            return data if limit is None else data[:limit]
        text = str.__str__(value) if isinstance(value, str) else safe_str(value)
    except Exception:  # an exotic buffer or subclass: fall back to its text
        text = safe_str(value)
    return text[:limit] if limit is not None and len(text) > limit else text

"""Parsers for configuration values, in jaeger-client-go's syntax.

Each parser takes the option's display name (``JAEGER_FLUSH_INTERVAL`` or
``reporter_flush_interval``) so a bad value raises a :class:`ConfigError` naming both the
option and the value. Keyword options may also be given as Python values (``True``, ``0.5``,
``{"k": "v"}``); strings are parsed exactly like the environment.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from typing import Any, Optional

from .errors import ConfigError

__all__ = [
    "parse_bool",
    "parse_duration",
    "parse_float",
    "parse_int",
    "parse_tags",
]

# Go's strconv.ParseBool, exactly.
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}

# Go's time.ParseDuration units, in seconds.
_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def _bad(name: str, value: Any, expected: str) -> ConfigError:
    return ConfigError(f"{name}={value!r} is not valid: expected {expected}")


def parse_bool(name: str, value: Any) -> bool:
    """``true``/``false`` and Go's other ParseBool spellings (``1``, ``t``, ``F``, ...)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise _bad(name, value, "a boolean (true/false, 1/0, t/f)")


def parse_duration(name: str, value: Any) -> float:
    """Seconds from a number or a Go duration string (``500ms``, ``1m30s``, ``2h``).

    A bare ``0`` is allowed without a unit, as in Go; negative durations are rejected.
    """
    if isinstance(value, bool):
        raise _bad(name, value, "a duration such as 500ms, 1s or 1m")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if text in ("0", "+0"):
            return 0.0
        body = text[1:] if text.startswith("+") else text
        parts = _DURATION_PART.findall(body)
        if not body or "".join(number + unit for number, unit in parts) != body:
            raise _bad(name, value, "a duration such as 500ms, 1s or 1m (Go syntax)")
        seconds = sum(float(number) * _UNITS[unit] for number, unit in parts)
    else:
        raise _bad(name, value, "a duration such as 500ms, 1s or 1m")
    if not math.isfinite(seconds) or seconds < 0:
        raise _bad(name, value, "a non-negative duration")
    return seconds


def parse_int(name: str, value: Any, *, minimum: int = 0, maximum: Optional[int] = None) -> int:
    """A whole number within ``[minimum, maximum]``."""
    if isinstance(value, bool):
        raise _bad(name, value, "a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        number = int(value)
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        raise _bad(name, value, "a whole number")
    if number < minimum or (maximum is not None and number > maximum):
        bounds = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        raise _bad(name, value, f"a whole number {bounds}")
    return number


def parse_float(
    name: str, value: Any, *, minimum: float = 0.0, maximum: Optional[float] = None
) -> float:
    """A finite number within ``[minimum, maximum]``."""
    if isinstance(value, bool):
        raise _bad(name, value, "a number")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise _bad(name, value, "a number") from None
    if not math.isfinite(number) or number < minimum or (maximum is not None and number > maximum):
        bounds = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        raise _bad(name, value, f"a number {bounds}")
    return number


def parse_tags(
    name: str, value: Any, environ: Optional[Mapping[str, str]] = None
) -> dict[str, str]:
    """Tracer tags from a mapping or from ``k=v,k2=${ENV_VAR:default}``.

    Keys and values are trimmed. ``${VAR}`` is replaced by the environment variable, or by
    the text after ``:`` when the variable is unset or empty (as in jaeger-client-go).
    An entry without ``=`` or with an empty key is an error.
    """
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    if not isinstance(value, str):
        raise _bad(name, value, "a mapping or 'key=value,key2=value2'")
    env = os.environ if environ is None else environ
    tags: dict[str, str] = {}
    for entry in value.split(","):
        if not entry.strip():
            continue
        key, sep, text = entry.partition("=")
        key, text = key.strip(), text.strip()
        if not sep or not key:
            raise _bad(name, value, "comma-separated key=value pairs")
        if text.startswith("${") and text.endswith("}"):
            variable, _, default = text[2:-1].partition(":")
            text = env.get(variable.strip(), "") or default
        tags[key] = text
    return tags

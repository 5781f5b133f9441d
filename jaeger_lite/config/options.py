"""The configuration options (:data:`OPTIONS`) and the parsers of their values, in
jaeger-client-go's syntax.

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
from dataclasses import dataclass
from typing import Any, Callable, Optional
from urllib.parse import urlsplit

from ..errors import ConfigError
from ..propagation.composite import parse_propagation
from .otel_env import compression, exporters, headers, otlp_protocol

__all__ = [
    "BY_NAME",
    "DEFAULT_SAMPLER_PARAM",
    "OPTIONS",
    "SAMPLER_TYPES",
    "Option",
    "parse_bool",
    "parse_duration",
    "parse_float",
    "parse_int",
    "parse_tags",
]

SAMPLER_TYPES = ("const", "probabilistic", "ratelimiting", "remote")
#: An unset sampler_param never means "sample nothing" (Go's const default does).
DEFAULT_SAMPLER_PARAM = {"const": 1.0, "probabilistic": 0.001, "ratelimiting": 1.0, "remote": 0.001}

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


@dataclass(frozen=True)
class Option:
    """One configuration option: its keyword name, variable, default, parser and meaning.

    ``variable`` names an OpenTelemetry variable for options that have no ``JAEGER_*``
    one (the OTLP exporter's); ``otel_env`` reads those, with the spec's rules.
    """

    name: str
    default: Any
    parse: Callable[[str, Any], Any]
    doc: str
    variable: Optional[str] = None

    @property
    def env(self) -> str:
        return self.variable or "JAEGER_" + self.name.upper()


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{name}={value!r} is not valid: expected a non-empty string")
    return value.strip()


def _url(name: str, value: Any) -> str:
    text = _text(name, value)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{name}={value!r} is not valid: expected an http(s)://host[:port]/path URL"
        )
    return text


def _port(name: str, value: Any) -> int:
    return parse_int(name, value, minimum=1, maximum=65535)


def _sampler_type(name: str, value: Any) -> str:
    text = _text(name, value).lower()
    text = "ratelimiting" if text == "rate_limiting" else text
    if text not in SAMPLER_TYPES:
        raise ConfigError(
            f"{name}={value!r} is not valid: expected one of {', '.join(SAMPLER_TYPES)}"
        )
    return text


def _positive_duration(name: str, value: Any) -> float:
    seconds = parse_duration(name, value)
    if seconds <= 0:
        raise ConfigError(f"{name}={value!r} is not valid: expected a duration above zero")
    return seconds


def _propagation(name: str, value: Any) -> tuple[str, ...]:
    if value == () or (isinstance(value, str) and value.strip().lower() == "none"):
        return ()  # OTEL_PROPAGATORS=none: inject nothing, extract nothing
    try:
        return parse_propagation(value)
    except ValueError as exc:
        raise ConfigError(f"{name}={value!r} is not valid: {exc}") from None


def _optional_text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{name}: expected a string, got {type(value).__name__}")
    return value


OPTIONS: tuple[Option, ...] = (
    Option("service_name", None, _text, "Service name shown in Jaeger (required unless disabled)."),
    Option("disabled", False, parse_bool, "A no-op tracer: no threads, no sockets, nothing sent."),
    Option("agent_host", "localhost", _text, "Jaeger agent host for UDP (compact Thrift)."),
    Option("agent_port", 6831, _port, "Jaeger agent UDP port."),
    Option(
        "agent_max_packet_size",
        65000,
        lambda n, v: parse_int(n, v, minimum=1024, maximum=65507),
        "Largest UDP datagram sent; lower it (e.g. 9216) where the OS limits datagrams (macOS).",
    ),
    Option(
        "endpoint",
        None,
        _url,
        "Collector URL (http://host:14268/api/traces): send over HTTP instead of UDP.",
    ),
    Option("user", None, _optional_text, "Basic-auth user for the collector (with password)."),
    Option("password", None, _optional_text, "Basic-auth password for the collector (with user)."),
    Option("auth_token", None, _text, "Bearer token for the collector (instead of user/password)."),
    Option("tags", {}, parse_tags, "Process tags: k=v,k2=${ENV_VAR:default}."),
    Option(
        "sampler_type", "remote", _sampler_type, "const, probabilistic, ratelimiting or remote."
    ),
    Option(
        "sampler_param",
        None,
        parse_float,
        "const: 1/0; probabilistic: rate; ratelimiting: traces/s; remote: initial rate."
        " Default by type: const 1, ratelimiting 1, probabilistic and remote 0.001.",
    ),
    Option(
        "sampling_endpoint",
        None,
        _url,
        "Remote sampling URL; default http://127.0.0.1:5778/sampling (agent_host when set).",
    ),
    Option(
        "sampler_manager_host_port",
        None,
        _text,
        "Deprecated: host:port (or URL) of the sampling server; used without sampling_endpoint.",
    ),
    Option(
        "sampler_refresh_interval", 60.0, _positive_duration, "How often the remote sampler polls."
    ),
    Option(
        "sampler_max_operations",
        2000,
        lambda n, v: parse_int(n, v, minimum=1),
        "Operations tracked by per-operation sampling.",
    ),
    Option(
        "reporter_max_queue_size",
        None,
        lambda n, v: parse_int(n, v, minimum=1),
        "Spans buffered before drops (default: the RemoteReporter's).",
    ),
    Option(
        "reporter_flush_interval",
        1.0,
        _positive_duration,
        "Longest a span waits before it is sent.",
    ),
    Option(
        "reporter_log_spans", False, parse_bool, "Also log every reported span (LoggingReporter)."
    ),
    Option(
        "reporter_attempt_reconnecting_disabled",
        False,
        parse_bool,
        "Do not re-resolve the agent host periodically.",
    ),
    Option(
        "reporter_attempt_reconnect_interval",
        30.0,
        _positive_duration,
        "How often the agent host name is re-resolved.",
    ),
    Option("traceid_128bit", False, parse_bool, "Generate 128-bit trace ids."),
    Option(
        "propagation",
        ("jaeger",),
        _propagation,
        "Formats to inject/extract: jaeger, b3, b3-single, w3c (or none).",
    ),
    Option(
        "exporter",
        None,
        exporters,
        "Where spans go: jaeger (UDP agent, or endpoint), otlp, console, none; default jaeger.",
        "OTEL_TRACES_EXPORTER",
    ),
    Option(
        "otlp_endpoint",
        None,
        _url,
        "OTLP/HTTP traces URL, used as is; default http://localhost:4318/v1/traces.",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ),
    Option(
        "otlp_protocol",
        "http/protobuf",
        otlp_protocol,
        "http/protobuf or http/json.",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    ),
    Option(
        "otlp_headers",
        {},
        headers,
        "Headers of every export: k=v,k2=v2 (percent-encoded values) or a dict.",
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    ),
    Option(
        "otlp_compression",
        None,
        compression,
        "gzip or none.",
        "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
    ),
    Option(
        "otlp_timeout",
        10.0,
        _positive_duration,
        "Deadline of an export, retries included (the variables are in milliseconds).",
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    ),
    Option(
        "otlp_certificate",
        None,
        _text,
        "PEM file of the CAs trusted for https:// (default: the system's).",
        "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
    ),
    Option(
        "otlp_client_certificate",
        None,
        _text,
        "PEM file of the client certificate for https:// (mTLS), and its key if in it.",
        "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
    ),
    Option(
        "otlp_client_key",
        None,
        _text,
        "PEM file of the client certificate's private key.",
        "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
    ),
)

BY_NAME = {option.name: option for option in OPTIONS}

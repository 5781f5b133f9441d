"""The OTLP exporter's options and variables (``OTEL_EXPORTER_OTLP_[TRACES_]*``): their
parsers, and :func:`read_otlp`, which reads the variables with the OpenTelemetry spec's
rules (the signal's variable over the generic one; the generic endpoint gets
``/v1/traces``). A bad header never has its value quoted: values are API keys.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Optional

from ..errors import ConfigError
from .otel_env import _bad, _first, _milliseconds, _text, _url, parse_key_values, shown_url

__all__ = ["compression", "headers", "otlp_protocol", "read_otlp"]

_log = logging.getLogger("jaeger_lite")


def otlp_protocol(name: str, value: Any) -> str:
    text = _text(name, value)
    if text not in ("http/protobuf", "http/json"):
        hint = " (gRPC is not supported: use http/protobuf, port 4318)" if "grpc" in text else ""
        raise _bad(name, value, "http/protobuf or http/json" + hint)
    return text


def compression(name: str, value: Any) -> Optional[str]:
    text = _text(name, value)
    if text not in ("gzip", "none"):
        raise _bad(name, value, "gzip or none")
    return None if text == "none" else text


def headers(name: str, value: Any) -> dict[str, str]:
    """Headers from a mapping or ``k=v,k2=v2`` (percent-encoded values), checked for what
    HTTP can carry (a token for a name, no line break or NUL in a value; other text goes
    as its UTF-8 bytes). Errors name the header, never a value: values are API keys."""
    if isinstance(value, Mapping):
        pairs = {str(k): str(v) for k, v in value.items()}
    elif isinstance(value, str):
        pairs = parse_key_values(name, value, secret=True)
    else:
        raise ConfigError(f"{name} is not valid: expected a mapping or 'key=value,key2=value2'")
    from .._http import header_problem  # values beyond ASCII go as UTF-8 (header_value)

    for key, text in pairs.items():
        problem = header_problem(key, text)
        if problem:
            raise ConfigError(f"{name} is not valid: {problem}")
    return pairs


def _otlp(env: Mapping[str, str], put: Any) -> None:
    variable, text = _first(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if text:
        put("otlp_endpoint", variable, _url(variable, text))  # used as is
    else:
        variable, text = _first(env, "OTEL_EXPORTER_OTLP_ENDPOINT")
        if text:  # the base URL: the signal's path is appended
            base = _url(variable, text)
            path = "v1/traces" if base.endswith("/") else "/v1/traces"
            if base.rstrip("/").endswith("/v1/traces"):  # a full URL where a base belongs
                _log.warning(
                    "%s is the base URL: spans go to %s; a full URL, used as is, is"
                    " OTEL_EXPORTER_OTLP_TRACES_ENDPOINT's",
                    variable, shown_url(base + path),
                )  # fmt: skip
            put("otlp_endpoint", variable, base + path)
    variable, text = _first(
        env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"
    )
    if text:
        put("otlp_protocol", variable, text)
    variable, text = _first(env, "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS")
    if text:
        put("otlp_headers", variable, headers(variable, text))
    variable, text = _first(
        env, "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION"
    )
    if text:
        put("otlp_compression", variable, text)
    variable, text = _first(
        env,
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "OTEL_BSP_EXPORT_TIMEOUT",
    )
    if text:
        timeout = _milliseconds(variable, text)
        if timeout <= 0:
            raise _bad(variable, text, "a number of milliseconds above zero")
        if timeout < 0.1:  # 10 (ms) reads like OpenTelemetry Python's seconds
            _log.warning(
                "%s=%s is %s milliseconds, as the OpenTelemetry spec has it (OpenTelemetry"
                " Python reads seconds): exports that short will likely time out",
                variable, text, text,
            )  # fmt: skip
        put("otlp_timeout", variable, timeout)
    variable, text = _first(
        env, "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "OTEL_EXPORTER_OTLP_CERTIFICATE"
    )
    if text:
        put("otlp_certificate", variable, text)
    for option, suffix in (("otlp_client_certificate", "CERTIFICATE"), ("otlp_client_key", "KEY")):
        variable, text = _first(
            env,
            f"OTEL_EXPORTER_OTLP_TRACES_CLIENT_{suffix}",
            f"OTEL_EXPORTER_OTLP_CLIENT_{suffix}",
        )
        if text:
            put(option, variable, text)


def read_otlp(env: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The ``otlp_*`` option values the variables set, and the variable of each."""
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}

    def put(option: str, variable: str, value: Any) -> None:
        values[option] = value
        origin[option] = variable

    _otlp(env, put)
    return values, origin

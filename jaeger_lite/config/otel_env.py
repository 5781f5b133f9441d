"""The OpenTelemetry environment (``OTEL_*``), read with the OpenTelemetry spec's rules into
jaeger_lite's options. ``resolve`` gives these the lowest rank: a keyword or a ``JAEGER_*``
variable for the same option wins.

A bad value raises :class:`ConfigError` naming the variable and the value, as for
``JAEGER_*``. ``OTEL_SDK_DISABLED`` follows the spec: only ``true`` disables.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Mapping
from typing import Any, Optional

from ..errors import ConfigError

__all__ = [
    "EXPORTERS",
    "OTEL_SAMPLER_OPTIONS",
    "OTEL_VARIABLES",
    "compression",
    "exporters",
    "headers",
    "otlp_protocol",
    "parse_key_values",
    "read_otel",
]

_log = logging.getLogger("jaeger_lite")

#: The OTEL_* variables read, and the option each feeds.
OTEL_VARIABLES = {
    "OTEL_SDK_DISABLED": "disabled",
    "OTEL_SERVICE_NAME": "service_name",
    "OTEL_RESOURCE_ATTRIBUTES": "tags (and service_name)",
    "OTEL_TRACES_EXPORTER": "exporter",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "otlp_endpoint",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "otlp_endpoint",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "otlp_protocol",
    "OTEL_EXPORTER_OTLP_PROTOCOL": "otlp_protocol",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "otlp_headers",
    "OTEL_EXPORTER_OTLP_HEADERS": "otlp_headers",
    "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "otlp_compression",
    "OTEL_EXPORTER_OTLP_COMPRESSION": "otlp_compression",
    "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "otlp_timeout",
    "OTEL_EXPORTER_OTLP_TIMEOUT": "otlp_timeout",
    "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE": "otlp_certificate",
    "OTEL_EXPORTER_OTLP_CERTIFICATE": "otlp_certificate",
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE": "otlp_client_certificate",
    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": "otlp_client_certificate",
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY": "otlp_client_key",
    "OTEL_EXPORTER_OTLP_CLIENT_KEY": "otlp_client_key",
    "OTEL_PROPAGATORS": "propagation",
    "OTEL_TRACES_SAMPLER": "sampler_type (and the rest of the sampler)",
    "OTEL_TRACES_SAMPLER_ARG": "sampler_param, sampling_endpoint, sampler_refresh_interval",
    "OTEL_BSP_SCHEDULE_DELAY": "reporter_flush_interval",
    "OTEL_BSP_MAX_QUEUE_SIZE": "reporter_max_queue_size",
    "OTEL_BSP_EXPORT_TIMEOUT": "otlp_timeout (when no OTEL_EXPORTER_OTLP_*TIMEOUT)",
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "checked only: requests are bounded in bytes",
}
#: Options OTEL_TRACES_SAMPLER sets together: they apply only while no keyword or
#: JAEGER_* variable chose the sampler type.
OTEL_SAMPLER_OPTIONS = ("sampler_param", "sampling_endpoint", "sampler_refresh_interval")

_EXPORTERS = ("otlp", "jaeger", "console", "none")
_PROPAGATORS = {
    "tracecontext": "w3c",
    "baggage": "w3c",  # jaeger_lite's w3c format carries W3C baggage with traceparent
    "b3": "b3-single",
    "b3multi": "b3",
    "jaeger": "jaeger",
}
# Propagators the spec knows that jaeger_lite's own API cannot write (third-party formats).
_OTHER_KNOWN_PROPAGATORS = ("xray", "ottrace")
_RATIO_SAMPLERS = ("traceidratio", "parentbased_traceidratio")
# jaeger_lite's samplers decide for new local roots only; a child always follows its
# parent, so OTel's plain and parentbased_ samplers are the same thing here.
_SAMPLERS = {
    "always_on": ("const", 1.0),
    "parentbased_always_on": ("const", 1.0),
    "always_off": ("const", 0.0),
    "parentbased_always_off": ("const", 0.0),
    "traceidratio": ("probabilistic", 1.0),
    "parentbased_traceidratio": ("probabilistic", 1.0),
    "jaeger_remote": ("remote", 0.001),
    "parentbased_jaeger_remote": ("remote", 0.001),
}


def _bad(name: str, value: Any, expected: str) -> ConfigError:
    return ConfigError(f"{name}={value!r} is not valid: expected {expected}")


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _bad(name, value, "a non-empty string")
    return value.strip().lower()


def parse_int(name: str, value: str, minimum: int = 0) -> int:
    text = value.strip()
    if not text.lstrip("+-").isdigit() or int(text) < minimum:
        raise _bad(name, value, f"a whole number >= {minimum}")
    return int(text)


def parse_float(name: str, value: str, maximum: float) -> float:
    try:
        number = float(value.strip())
    except ValueError:
        raise _bad(name, value, "a number") from None
    if not 0.0 <= number <= maximum:  # NaN fails this too
        raise _bad(name, value, f"a number between 0 and {maximum:g}")
    return number


EXPORTERS = ("jaeger", "otlp", "console", "none")


def exporters(name: str, value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    try:
        names = tuple(dict.fromkeys(str(item).strip().lower() for item in items if item))
    except TypeError:
        names = ()
    if not names or any(n not in EXPORTERS for n in names) or ("none" in names and len(names) > 1):
        raise _bad(name, value, f"{', '.join(EXPORTERS)}, or several of the first three")
    return names


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
    # Errors name the variable, never its value: headers carry API keys.
    if isinstance(value, Mapping):
        pairs = {str(k): str(v) for k, v in value.items()}
    elif isinstance(value, str):
        try:
            pairs = parse_key_values(name, value)
        except ConfigError:
            raise ConfigError(f"{name} is not valid: expected key=value,key2=value2") from None
    else:
        raise ConfigError(f"{name} is not valid: expected a mapping or 'key=value,key2=value2'")
    from .._http import header_problem

    for key, text in pairs.items():
        problem = header_problem(key, text)
        if problem:
            raise ConfigError(f"{name} is not valid: {problem}")
    return pairs


def _first(env: Mapping[str, str], *names: str) -> tuple[str, str]:
    """(variable, value) of the first of ``names`` set to something, or ("", "")."""
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return name, value
    return "", ""


def parse_key_values(name: str, value: str) -> dict[str, str]:
    """``k=v,k2=v2`` with percent-encoded values (W3C Baggage syntax, as the spec has
    OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS)."""
    pairs: dict[str, str] = {}
    for entry in value.split(","):
        if not entry.strip():
            continue
        key, sep, text = entry.partition("=")
        key = urllib.parse.unquote(key.strip())
        if not sep or not key:
            raise _bad(name, value, "comma-separated key=value pairs")
        pairs[key] = urllib.parse.unquote(text.strip())
    return pairs


def _milliseconds(name: str, value: str) -> float:
    return parse_int(name, value, minimum=0) / 1000.0


def read_otel(env: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Option values from the OTEL_* variables that are set, and the variable of each."""
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}

    def put(option: str, variable: str, value: Any) -> None:
        values[option] = value
        origin[option] = variable

    disabled = env.get("OTEL_SDK_DISABLED", "").strip()
    if disabled:
        if disabled.lower() not in ("true", "false"):
            _log.warning("OTEL_SDK_DISABLED=%r is not true or false: false", disabled)
        put("disabled", "OTEL_SDK_DISABLED", disabled.lower() == "true")
    attributes: dict[str, str] = {}
    text = env.get("OTEL_RESOURCE_ATTRIBUTES", "").strip()
    if text:
        attributes = parse_key_values("OTEL_RESOURCE_ATTRIBUTES", text)
        service = attributes.pop("service.name", "")
        if service:
            put("service_name", "OTEL_RESOURCE_ATTRIBUTES", service)
        put("tags", "OTEL_RESOURCE_ATTRIBUTES", attributes)
    name = env.get("OTEL_SERVICE_NAME", "").strip()
    if name:
        put("service_name", "OTEL_SERVICE_NAME", name)
    _exporter(env, put)
    _otlp(env, put)
    _propagators(env, put)
    _sampler(env, put)
    variable, text = _first(env, "OTEL_BSP_SCHEDULE_DELAY")
    if text:
        delay = _milliseconds(variable, text)
        if delay <= 0:
            raise _bad(variable, text, "a number of milliseconds above zero")
        put("reporter_flush_interval", variable, delay)
    variable, text = _first(env, "OTEL_BSP_MAX_QUEUE_SIZE")
    if text:
        put("reporter_max_queue_size", variable, parse_int(variable, text, minimum=1))
    variable, text = _first(env, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE")
    if text:
        parse_int(variable, text, minimum=1)
    return values, origin


def _exporter(env: Mapping[str, str], put: Any) -> None:
    variable, text = _first(env, "OTEL_TRACES_EXPORTER")
    if not text:
        return
    names = tuple(dict.fromkeys(n.strip().lower() for n in text.split(",") if n.strip()))
    if not names or any(n not in _EXPORTERS for n in names):
        raise _bad(variable, text, f"a comma-separated list of {', '.join(_EXPORTERS)}")
    if "none" in names and len(names) > 1:
        raise _bad(variable, text, "none alone, or exporters without none")
    put("exporter", variable, names)


def _otlp(env: Mapping[str, str], put: Any) -> None:
    variable, text = _first(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if text:
        put("otlp_endpoint", variable, _url(variable, text))  # used as is
    else:
        variable, text = _first(env, "OTEL_EXPORTER_OTLP_ENDPOINT")
        if text:  # the base URL: the signal's path is appended
            base = _url(variable, text)
            path = "v1/traces" if base.endswith("/") else "/v1/traces"
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
        put("otlp_timeout", variable, timeout)
    for option, suffix in (
        ("otlp_certificate", "CERTIFICATE"),
        ("otlp_client_certificate", "CLIENT_CERTIFICATE"),
        ("otlp_client_key", "CLIENT_KEY"),
    ):
        variable, text = _first(
            env, f"OTEL_EXPORTER_OTLP_TRACES_{suffix}", f"OTEL_EXPORTER_OTLP_{suffix}"
        )
        if text:
            put(option, variable, text)


def _url(variable: str, text: str) -> str:
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _bad(variable, text, "an http(s)://host[:port] URL (OTLP/HTTP; no gRPC)")
    return text


def _propagators(env: Mapping[str, str], put: Any) -> None:
    variable, text = _first(env, "OTEL_PROPAGATORS")
    if not text:
        return
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    # "jaeger_lite" names jaeger_lite.otel's propagator, which writes the tracer's own
    # formats: for the tracer it chooses nothing.
    names = [n for n in names if n != "jaeger_lite"]
    if not names and "jaeger_lite" in text.lower():
        return
    if names == ["none"]:
        put("propagation", variable, ())
        return
    # OpenTelemetry's own propagators (the spec's xray and ottrace, or any installed one)
    # serve OpenTelemetry's API; jaeger_lite's API writes the formats it knows of the list.
    others = [n for n in names if n not in _PROPAGATORS and _otel_propagator(n)]
    unknown = [n for n in names if n not in _PROPAGATORS and n not in others]
    if unknown or not names:
        choices = ", ".join([*_PROPAGATORS, "jaeger_lite", "none"])
        raise _bad(variable, text, f"a comma-separated list of {choices}, or OpenTelemetry "
                   "propagators installed (xray, ottrace, ...)")  # fmt: skip
    names = [n for n in names if n in _PROPAGATORS]
    if others:
        _log.info(
            "%s: %s written by OpenTelemetry's propagators only; jaeger_lite's API writes %s",
            variable, ", ".join(others), ", ".join(names) or "its default formats",
        )  # fmt: skip
    if names:
        put("propagation", variable, tuple(dict.fromkeys(_PROPAGATORS[n] for n in names)))


def _otel_propagator(name: str) -> bool:
    """Whether OpenTelemetry knows a propagator by this name: one of the spec's known
    third-party values, or an installed ``opentelemetry_propagator`` entry point."""
    if name in _OTHER_KNOWN_PROPAGATORS:
        return True
    try:
        from importlib.metadata import entry_points

        found: Any = entry_points()
        group = (
            found.select(group="opentelemetry_propagator")
            if hasattr(found, "select")
            else found.get("opentelemetry_propagator", ())  # Python 3.9
        )
        return any(entry.name.strip().lower() == name for entry in group)
    except Exception:  # broken metadata: not a propagator we can vouch for
        return False


def _sampler(env: Mapping[str, str], put: Any) -> None:
    variable, text = _first(env, "OTEL_TRACES_SAMPLER")
    arg_variable, arg = _first(env, "OTEL_TRACES_SAMPLER_ARG")
    if not text:
        return
    name = text.lower()
    if name not in _SAMPLERS:
        raise _bad(variable, text, f"one of {', '.join(_SAMPLERS)}")
    kind, param = _SAMPLERS[name]
    put("sampler_type", variable, kind)
    if kind == "const":
        put("sampler_param", variable, param)
    elif kind == "probabilistic":
        rate = parse_float(arg_variable, arg, maximum=1.0) if arg else param
        put("sampler_param", arg_variable or variable, rate)
    elif arg:  # jaeger_remote: endpoint=...,pollingIntervalMs=...,initialSamplingRate=...
        _remote_sampler_arg(arg_variable, arg, put)


def _remote_sampler_arg(variable: str, text: str, put: Any) -> None:
    settings = parse_key_values(variable, text)
    known = {"endpoint", "pollingIntervalMs", "initialSamplingRate"}
    unknown = sorted(set(settings) - known)
    if unknown:
        expected = f"endpoint, pollingIntervalMs and initialSamplingRate only (not {unknown[0]})"
        raise _bad(variable, text, expected)
    if "endpoint" in settings:
        endpoint = settings["endpoint"]
        if "://" not in endpoint:  # host:port, as the spec's examples write it
            endpoint = f"http://{endpoint}/sampling"
        endpoint = _url(variable, endpoint)
        if endpoint.split("/")[2].endswith(":14250"):  # the spec's example: Jaeger's gRPC port
            _log.warning(
                "%s: port 14250 is Jaeger's gRPC sampling port; jaeger_lite asks over HTTP, "
                "as the agent and Jaeger v2 serve it on 5778 (endpoint=http://host:5778/sampling)",
                variable,
            )
        put("sampling_endpoint", variable, endpoint)
    if "pollingIntervalMs" in settings:
        interval = _milliseconds(variable, settings["pollingIntervalMs"])
        if interval <= 0:
            raise _bad(variable, text, "pollingIntervalMs above zero")
        put("sampler_refresh_interval", variable, interval)
    if "initialSamplingRate" in settings:
        rate = parse_float(variable, settings["initialSamplingRate"], maximum=1.0)
        put("sampler_param", variable, rate)

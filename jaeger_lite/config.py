"""Configuration: keyword options and ``JAEGER_*`` environment variables → a wired tracer.

Every option is named after its environment variable, lower-cased without ``JAEGER_``
(``reporter_flush_interval`` ↔ ``JAEGER_REPORTER_FLUSH_INTERVAL``). A keyword option wins
over the environment, the environment wins over the default. Environment values use
jaeger-client-go's syntax; keyword values may be Python values or the same strings.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Optional
from urllib.parse import urlsplit

from ._config_values import parse_bool, parse_duration, parse_float, parse_int, parse_tags
from .errors import ConfigError

__all__ = ["OPTIONS", "Option", "TracerOptions", "resolve_options"]

SAMPLER_TYPES = ("const", "probabilistic", "ratelimiting", "remote")
#: An unset sampler_param never means "sample nothing" (Go's const default does).
DEFAULT_SAMPLER_PARAM = {"const": 1.0, "probabilistic": 0.001, "ratelimiting": 1.0, "remote": 0.001}
DEFAULT_SAMPLING_PORT = 5778


@dataclass(frozen=True)
class Option:
    """One configuration option: its keyword name, variable, default, parser and meaning."""

    name: str
    default: Any
    parse: Callable[[str, Any], Any]
    doc: str
    extension: bool = False  # not a jaeger-client-go variable: jaeger_lite's own

    @property
    def env(self) -> str:
        return "JAEGER_" + self.name.upper()


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
    names = value.split(",") if isinstance(value, str) else list(value)
    cleaned = tuple(str(n).strip().lower() for n in names if str(n).strip())
    known = ("jaeger", "b3", "b3-single", "w3c")
    unknown = [n for n in cleaned if n not in known]
    if not cleaned or unknown:
        raise ConfigError(f"{name}={value!r} is not valid: expected names among {', '.join(known)}")
    return cleaned


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
        extension=True,
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
        lambda n, v: parse_float(n, v),
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
        "Formats to inject/extract: jaeger, b3, b3-single, w3c.",
    ),
)

_BY_NAME = {option.name: option for option in OPTIONS}


@dataclass(frozen=True)
class TracerOptions:
    """Resolved options; ``sources`` says where each value came from (keyword/env/default)."""

    service_name: Optional[str]
    disabled: bool
    agent_host: str
    agent_port: int
    agent_max_packet_size: int
    endpoint: Optional[str]
    user: Optional[str]
    password: Optional[str]
    auth_token: Optional[str]
    tags: Mapping[str, Any]
    sampler_type: str
    sampler_param: float
    sampling_endpoint: Optional[str]
    sampler_manager_host_port: Optional[str]
    sampler_refresh_interval: float
    sampler_max_operations: int
    reporter_max_queue_size: Optional[int]
    reporter_flush_interval: float
    reporter_log_spans: bool
    reporter_attempt_reconnecting_disabled: bool
    reporter_attempt_reconnect_interval: float
    traceid_128bit: bool
    propagation: tuple[str, ...]
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def effective_sampling_endpoint(self) -> str:
        """The sampling URL: explicit, else the deprecated host:port, else the agent's."""
        if self.sampling_endpoint:
            return self.sampling_endpoint
        manager = self.sampler_manager_host_port
        if manager:
            if "://" in manager:
                return (
                    manager
                    if urlsplit(manager).path not in ("", "/")
                    else manager.rstrip("/") + "/sampling"
                )
            return f"http://{manager}/sampling"
        host = self.agent_host if self.sources.get("agent_host") != "default" else "127.0.0.1"
        return f"http://{_host_for_url(host)}:{DEFAULT_SAMPLING_PORT}/sampling"


def _host_for_url(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def resolve_options(
    service_name: Optional[str] = None,
    *,
    environ: Optional[Mapping[str, str]] = None,
    **options: Any,
) -> TracerOptions:
    """Merge keyword options, the environment and the defaults, validating every value.

    Raises :class:`ConfigError` for an unknown option name (suggesting the closest one) or
    a bad value (naming the option or variable and the value).
    """
    env = os.environ if environ is None else environ
    if service_name is not None:
        options["service_name"] = service_name
    unknown = sorted(set(options) - set(_BY_NAME))
    if unknown:
        name = unknown[0]
        close = difflib.get_close_matches(name, list(_BY_NAME), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown option {name!r}{hint}")

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for option in OPTIONS:
        raw = options.get(option.name)
        if raw is not None:
            values[option.name] = option.parse(option.name, raw)
            sources[option.name] = "keyword"
        elif env.get(option.env, "").strip():
            if option.name == "tags":
                values[option.name] = parse_tags(option.env, env[option.env], env)
            else:
                values[option.name] = option.parse(option.env, env[option.env])
            sources[option.name] = "env"
        else:
            values[option.name] = option.default
            sources[option.name] = "default"
    if values["sampler_param"] is None:
        values["sampler_param"] = DEFAULT_SAMPLER_PARAM[values["sampler_type"]]
    resolved = TracerOptions(**values, sources=sources)
    _check_combinations(resolved)
    return resolved


def _check_combinations(options: TracerOptions) -> None:
    from_env = {name for name, source in options.sources.items() if source == "env"}

    def name(option: str) -> str:
        # Name options as the user wrote them: variables if any of a group came from the env.
        group = (
            {"user", "password", "auth_token"}
            if option in ("user", "password", "auth_token")
            else {option}
        )
        return _BY_NAME[option].env if group & from_env else option

    if not options.disabled and not options.service_name:
        raise ConfigError(
            "service_name is required (argument, service_name= or JAEGER_SERVICE_NAME)"
        )
    if (options.user is None) != (options.password is None):
        raise ConfigError(f"{name('user')} and {name('password')} must be set together")
    if options.auth_token is not None and options.user is not None:
        raise ConfigError(
            f"set either {name('auth_token')} or {name('user')}/{name('password')}, not both"
        )
    param, kind = options.sampler_param, options.sampler_type
    label = f"{name('sampler_param')}={param!r}"
    if kind == "const" and param not in (0.0, 1.0):
        raise ConfigError(f"{label} is not valid for the const sampler: expected 0 or 1")
    if kind in ("probabilistic", "remote") and not 0.0 <= param <= 1.0:
        raise ConfigError(f"{label} is not valid for the {kind} sampler: expected a rate in [0, 1]")


def option_names() -> list[str]:
    """Every keyword option, in documentation order."""
    return [f.name for f in fields(TracerOptions) if f.name != "sources"]

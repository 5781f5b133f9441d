"""Resolving options: keyword arguments, ``JAEGER_*`` and ``OTEL_*`` variables, validated.

Every Jaeger option is named after its environment variable, lower-cased without
``JAEGER_`` (``reporter_flush_interval`` ↔ ``JAEGER_REPORTER_FLUSH_INTERVAL``); the OTLP
exporter's options read OpenTelemetry's variables. A keyword wins over ``JAEGER_*``,
which wins over ``OTEL_*`` (``otel_env``; ``otlp_env`` for the OTLP exporter's, read only
when it is used), which wins over the default. ``JAEGER_*``
values use jaeger-client-go's syntax, ``OTEL_*`` the OpenTelemetry spec's; keyword values
may be Python values or the same strings.
"""

from __future__ import annotations

import difflib
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import urlsplit

from ..errors import ConfigError
from .options import (
    BY_NAME,
    DEFAULT_SAMPLER_PARAM,
    OPTIONS,
    Option,
    parse_duration,
    parse_int,
    parse_tags,
)
from .otel_env import OTEL_SAMPLER_OPTIONS, read_otel
from .otlp_env import read_otlp

__all__ = ["DEFAULT_SAMPLING_PORT", "TracerOptions", "host_for_url", "resolve_options"]

DEFAULT_SAMPLING_PORT = 5778

_log = logging.getLogger("jaeger_lite")

#: JAEGER_* variables whose zero or negative value jaeger-client-go replaces with its
#: default (``<= 0`` in its RemoteReporter, remote sampler options and per-operation
#: sampler), with the parser of their magnitude. Such a value counts as unset here.
_GO_DEFAULTS_AT_OR_BELOW_ZERO = {
    "reporter_max_queue_size": parse_int,
    "reporter_flush_interval": parse_duration,
    "sampler_refresh_interval": parse_duration,
    "sampler_max_operations": parse_int,
}
#: Go's UDP client defaults only a zero reconnect interval; a negative one panics there
#: (time.NewTicker), so it stays an error here.
_GO_DEFAULTS_AT_ZERO = {"reporter_attempt_reconnect_interval": parse_duration}


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
    propagation: tuple[str, ...]  # empty: propagate nothing (OTEL_PROPAGATORS=none)
    exporter: Optional[tuple[str, ...]]  # None: jaeger
    otlp_endpoint: Optional[str]
    otlp_protocol: str
    otlp_headers: Mapping[str, str]
    otlp_compression: Optional[str]
    otlp_timeout: float
    otlp_certificate: Optional[str]
    otlp_client_certificate: Optional[str]
    otlp_client_key: Optional[str]
    # keyword, env (JAEGER_*), otel (OTEL_*; ``variables`` names which) or default
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    variables: Mapping[str, str] = field(default_factory=dict, compare=False)

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
        return f"http://{host_for_url(host)}:{DEFAULT_SAMPLING_PORT}/sampling"


def host_for_url(host: str) -> str:
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
    unknown = sorted(set(options) - set(BY_NAME))
    if unknown:
        name = unknown[0]
        close = difflib.get_close_matches(name, list(BY_NAME), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown option {name!r}{hint}")

    otel, variables = read_otel(env)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for option in OPTIONS:
        name = option.name
        raw = options.get(name)
        if raw is not None:
            values[name] = option.parse(name, raw)
            sources[name] = "keyword"
        elif name in otel and name in OTEL_SAMPLER_OPTIONS and sources["sampler_type"] == "otel":
            # OTEL_TRACES_SAMPLER chose the sampler, so its own parameters come with it: a
            # JAEGER_SAMPLER_PARAM meant for the remote sampler's initial rate must not turn
            # always_off into always_on, or make always_on a ConfigError.
            values[name] = _parse_otel(option, otel, variables)
            sources[name] = "otel"
            if env.get(option.env, "").strip():
                _log.warning(
                    "%s ignored: %s=%r chose the sampler and sets it",
                    option.env,
                    variables["sampler_type"],
                    env.get(variables["sampler_type"], ""),
                )
        elif (
            option.variable is None
            and env.get(option.env, "").strip()
            and not _go_default(option, env[option.env])
        ):
            if name == "tags":
                values[name] = parse_tags(option.env, env[option.env], env)
            else:
                values[name] = option.parse(option.env, env[option.env])
            sources[name] = "env"
        elif name in otel and (
            name not in OTEL_SAMPLER_OPTIONS or sources["sampler_type"] in ("otel", "default")
        ):
            values[name] = _parse_otel(option, otel, variables)
            sources[name] = "otel"
        else:
            values[name] = option.default
            sources[name] = "default"
    if "tags" in otel and sources["tags"] != "otel":  # resource attributes under the tags
        values["tags"] = {**otel["tags"], **values["tags"]}
    if "otlp" in (values["exporter"] or ()):
        # The OTLP exporter's variables count only when it is used: a deployment-wide
        # OTEL_EXPORTER_OTLP_PROTOCOL=grpc must not stop a tracer that sends to Jaeger.
        otlp, otlp_variables = read_otlp(env)
        for name, value in otlp.items():
            if sources[name] == "default":
                values[name] = BY_NAME[name].parse(otlp_variables[name], value)
                sources[name], variables[name] = "otel", otlp_variables[name]
        _otel_defaults(values, sources)
    if values["sampler_param"] is None:
        values["sampler_param"] = DEFAULT_SAMPLER_PARAM[values["sampler_type"]]
    used = {name: variables[name] for name, source in sources.items() if source == "otel"}
    resolved = TracerOptions(**values, sources=sources, variables=used)
    _check_combinations(resolved)
    return resolved


def _go_default(option: Option, text: str) -> bool:
    """Whether jaeger-client-go would take its default for this ``JAEGER_*`` value (zero,
    or below zero where Go allows that); a value that is no number is not one of those:
    the option's parser then rejects it, naming the variable and the value."""
    name = option.name
    parse = _GO_DEFAULTS_AT_OR_BELOW_ZERO.get(name) or _GO_DEFAULTS_AT_ZERO.get(name)
    if parse is None:
        return False
    body = text.strip()
    negative = body.startswith("-")
    if negative and name in _GO_DEFAULTS_AT_ZERO:
        return False
    try:
        magnitude = parse(option.env, body[1:] if negative else body)
    except ConfigError:
        return False
    if negative or magnitude == 0:
        _log.info("%s=%r: the default, as in jaeger-client-go", option.env, text)
        return True
    return False


def _parse_otel(option: Option, otel: Mapping[str, Any], variables: Mapping[str, str]) -> Any:
    """The option's value from its OTEL_* variable; a bad one raises only now, when used."""
    value = otel[option.name]
    if isinstance(value, ConfigError):
        raise value
    return option.parse(variables[option.name], value)


def _otel_defaults(values: dict[str, Any], sources: dict[str, str]) -> None:
    """Exporting OTLP, what nobody set follows OpenTelemetry's defaults rather than those
    that assume a Jaeger agent beside the process: the sampler is ``parentbased_always_on``
    (our const sampler: a trace's decision is made at its root), and a missing service
    name is ``unknown_service:<executable>``, as the OpenTelemetry resource spec says."""
    if sources["sampler_type"] == "default" and sources["sampler_param"] == "default":
        values["sampler_type"], values["sampler_param"] = "const", 1.0
    if not values["service_name"]:
        executable = os.path.basename(sys.executable or "") or "python"
        values["service_name"] = f"unknown_service:{executable}"


def _check_combinations(options: TracerOptions) -> None:
    from_env = {name for name, source in options.sources.items() if source == "env"}

    def name(option: str) -> str:
        # Name options as the user wrote them: variables if any of a group came from the env.
        if option in options.variables:
            return options.variables[option]
        group = (
            {"user", "password", "auth_token"}
            if option in ("user", "password", "auth_token")
            else {option}
        )
        return BY_NAME[option].env if group & from_env else option

    if not options.disabled and not options.service_name:
        raise ConfigError(
            "service_name is required (argument, service_name=, JAEGER_SERVICE_NAME"
            " or OTEL_SERVICE_NAME)"
        )
    if (options.user is None) != (options.password is None):
        raise ConfigError(f"{name('user')} and {name('password')} must be set together")
    if options.auth_token is not None and options.user is not None:
        raise ConfigError(
            f"set either {name('auth_token')} or {name('user')}/{name('password')}, not both"
        )
    if options.otlp_client_key is not None and options.otlp_client_certificate is None:
        raise ConfigError(f"{name('otlp_client_key')} needs {name('otlp_client_certificate')}")
    param, kind = options.sampler_param, options.sampler_type
    label = f"{name('sampler_param')}={param!r}"
    if kind == "const" and param not in (0.0, 1.0):
        raise ConfigError(f"{label} is not valid for the const sampler: expected 0 or 1")
    if kind in ("probabilistic", "remote") and not 0.0 <= param <= 1.0:
        raise ConfigError(f"{label} is not valid for the {kind} sampler: expected a rate in [0, 1]")

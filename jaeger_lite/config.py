"""Configuration: keyword options and ``JAEGER_*`` environment variables → a wired tracer.

Every option is named after its environment variable, lower-cased without ``JAEGER_``
(``reporter_flush_interval`` ↔ ``JAEGER_REPORTER_FLUSH_INTERVAL``). A keyword option wins
over the environment, the environment wins over the default. Environment values use
jaeger-client-go's syntax; keyword values may be Python values or the same strings.
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import urlsplit

from ._config_options import BY_NAME, DEFAULT_SAMPLER_PARAM, OPTIONS, SAMPLER_TYPES, parse_tags
from ._global import set_global_tracer
from .errors import ConfigError
from .remote import RemoteReporter
from .remote_sampling import RemoteSampler
from .reporting import CompositeReporter, LoggingReporter, NullReporter, Reporter
from .sampling import ConstSampler, ProbabilisticSampler, RateLimitingSampler, Sampler
from .scope import ScopeManager
from .senders import HTTPSender, Sender, UDPSender
from .tracer import Tracer

__all__ = [
    "OPTIONS",
    "SAMPLER_TYPES",
    "TracerOptions",
    "build_tracer",
    "init_tracer",
    "resolve_options",
]

_log = logging.getLogger("jaeger_lite")

DEFAULT_SAMPLING_PORT = 5778


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
    unknown = sorted(set(options) - set(BY_NAME))
    if unknown:
        name = unknown[0]
        close = difflib.get_close_matches(name, list(BY_NAME), n=1)
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
        return BY_NAME[option].env if group & from_env else option

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


def init_tracer(
    service_name: Optional[str] = None,
    *,
    set_global: bool = True,
    scope_manager: Optional[ScopeManager] = None,
    **options: Any,
) -> Tracer:
    """A tracer wired from keyword options and ``JAEGER_*`` variables (see :data:`OPTIONS`).

    By default: UDP to the agent on localhost:6831, the remote sampler (0.1% until the
    agent's strategy arrives, asked for at once), the Jaeger propagation format. It becomes
    the global tracer (``jaeger_lite.global_tracer()`` and, when installed,
    ``opentracing.global_tracer()``) unless ``set_global=False``. Raises ConfigError for an
    unknown option or a bad value; nothing is sent or started for a disabled tracer.
    """
    tracer = build_tracer(resolve_options(service_name, **options), scope_manager=scope_manager)
    if set_global:
        set_global_tracer(tracer)
    return tracer


def build_tracer(
    options: TracerOptions,
    *,
    sampler: Optional[Sampler] = None,
    scope_manager: Optional[ScopeManager] = None,
    local_agent_enabled: bool = True,
    max_tag_value_length: int = 1024,
    max_traceback_length: int = 4096,
    trace_id_header: Optional[str] = None,
    baggage_header_prefix: Optional[str] = None,
    debug_id_header: Optional[str] = None,
) -> Tracer:
    """The tracer for resolved ``options``; the keywords are jaeger-client's extra knobs."""
    headers = {
        name: value
        for name, value in (
            ("trace_id_header", trace_id_header),
            ("baggage_prefix", baggage_header_prefix),
            ("debug_id_header", debug_id_header),
        )
        if value is not None
    }
    common: dict[str, Any] = {
        "tags": options.tags,
        "scope_manager": scope_manager,
        "trace_id_128bit": options.traceid_128bit,
        "propagation": options.propagation,
        "jaeger_headers": headers,
        "max_tag_value_length": max_tag_value_length,
        "max_traceback_length": max_traceback_length,
    }
    if options.disabled:  # no thread, no socket: spans are unsampled and go nowhere
        return Tracer(
            options.service_name or "disabled", NullReporter(), ConstSampler(False), **common
        )
    assert options.service_name  # checked by resolve_options
    reporter = _build_reporter(options, local_agent_enabled)
    sampler = sampler if sampler is not None else _build_sampler(options)
    tracer = Tracer(options.service_name, reporter, sampler, **common)
    _log.info(
        "jaeger_lite: tracer %r reports to %s, samples with %r, propagates %s",
        options.service_name,
        _destination(options, local_agent_enabled),
        sampler,
        ",".join(options.propagation),
    )
    return tracer


def _build_sampler(options: TracerOptions) -> Sampler:
    kind, param = options.sampler_type, options.sampler_param
    if kind == "const":
        return ConstSampler(bool(param))
    if kind == "probabilistic":
        return ProbabilisticSampler(param)
    if kind == "ratelimiting":
        return RateLimitingSampler(param)
    assert options.service_name
    return RemoteSampler(
        options.service_name,
        sampling_endpoint=options.effective_sampling_endpoint,
        initial=ProbabilisticSampler(param),
        refresh_interval=options.sampler_refresh_interval,
        max_operations=options.sampler_max_operations,
    )


def _build_reporter(options: TracerOptions, local_agent_enabled: bool) -> Reporter:
    reporters: list[Reporter] = []
    if options.endpoint or local_agent_enabled:
        sender: Sender
        if options.endpoint:
            sender = HTTPSender(
                options.endpoint,
                user=options.user,
                password=options.password,
                auth_token=options.auth_token,
            )
        else:
            sender = UDPSender(
                options.agent_host,
                options.agent_port,
                options.agent_max_packet_size,
                resolve_interval=None
                if options.reporter_attempt_reconnecting_disabled
                else options.reporter_attempt_reconnect_interval,
            )
        queue: dict[str, Any] = {}
        if options.reporter_max_queue_size is not None:
            queue["queue_size"] = options.reporter_max_queue_size
        reporters.append(
            RemoteReporter(sender, flush_interval=options.reporter_flush_interval, **queue)
        )
    if options.reporter_log_spans:
        reporters.append(LoggingReporter())
    if not reporters:
        return NullReporter()
    return reporters[0] if len(reporters) == 1 else CompositeReporter(*reporters)


def _destination(options: TracerOptions, local_agent_enabled: bool) -> str:
    if options.endpoint:
        # Keep host and port, never user:password (the line is logged).
        url = urlsplit(options.endpoint)
        host = _host_for_url(url.hostname or "")
        try:
            netloc = f"{host}:{url.port}" if url.port is not None else host
        except ValueError:  # an invalid port: the sender reports it; just name the host
            netloc = host
        return url._replace(netloc=netloc).geturl()
    if local_agent_enabled:
        return f"udp://{_host_for_url(options.agent_host)}:{options.agent_port}"
    return "nowhere (local agent disabled)"

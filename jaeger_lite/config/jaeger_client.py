"""``Config``: jaeger-client-python's configuration dictionary, accepted as it is.

Migrating is a one-line import change::

    from jaeger_lite import Config      # was: from jaeger_client import Config

The dictionary wins over ``JAEGER_*`` environment variables, which win over defaults.
Values are validated whatever ``validate`` says (errors name the key path and the value);
``validate=True`` also rejects unknown keys, which are otherwise logged as a warning: as in
jaeger-client, ``validate`` is off unless asked for, so a dictionary jaeger-client started
with starts here too. Keys jaeger_lite has no use for are accepted and logged as a warning,
never silently dropped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional

from ..errors import ConfigError
from .options import (
    SAMPLER_TYPES,
    parse_bool,
    parse_duration,
    parse_float,
    parse_int,
    parse_tags,
)
from .resolve import TracerOptions, host_for_url, resolve_options

if TYPE_CHECKING:
    from ..sampling import Sampler
    from ..scope import ScopeManager
    from ..tracer import Tracer

__all__ = ["Config"]

_log = logging.getLogger("jaeger_lite")

#: jaeger-client 4.x's validated keys, plus the ones it reads without validating.
KNOWN_KEYS = frozenset(
    {
        "logging",
        "local_agent",
        "sampler",
        "tags",
        "enabled",
        "reporter_batch_size",
        "reporter_queue_size",
        "propagation",
        "max_tag_value_length",
        "max_traceback_length",
        "reporter_flush_interval",
        "sampling_refresh_interval",
        "trace_id_header",
        "generate_128bit_trace_id",
        "baggage_header_prefix",
        "service_name",
        "throttler",
        "metrics",
        "debug_id_header",
        "max_operations",
        "max_logs_per_span",  # jaeger_lite's own: the Tracer keyword (jaeger-client has none)
    }
)
LOCAL_AGENT_KEYS = frozenset({"reporting_host", "reporting_port", "sampling_port", "enabled"})
SAMPLER_KEYS = frozenset({"type", "param"})
#: Accepted for compatibility; they change nothing here (README: "Migrating").
NO_EFFECT = {
    "throttler": "jaeger_lite has no debug-span throttler (the Jaeger agent never served one)",
    "metrics": "jaeger_lite always keeps its counters; read them from tracer.metrics",
    "reporter_batch_size": "jaeger_lite fills each UDP datagram up to the packet size instead",
}


class Config:
    """Builds a tracer from a jaeger-client-python configuration dictionary."""

    _initialized = False
    _initialized_lock = threading.Lock()

    def __init__(
        self,
        config: Mapping[str, Any],
        service_name: Optional[str] = None,
        validate: bool = False,
        *,
        scope_manager: Optional[ScopeManager] = None,
        metrics: Any = None,
        metrics_factory: Any = None,
    ) -> None:
        if not isinstance(config, Mapping):
            raise ConfigError(f"config must be a dict, got {type(config).__name__}")
        self.config = dict(config)
        self.validate = validate
        self.scope_manager = scope_manager
        for name, value in (("metrics", metrics), ("metrics_factory", metrics_factory)):
            if value is not None:
                _log.warning("Config(%s=...) is ignored: %s", name, NO_EFFECT["metrics"])
        self._check_keys()
        # A key left empty in a YAML file (None) means "not set", as jaeger-client reads it.
        self.config = _without_nulls(self.config)
        for group in ("local_agent", "sampler"):
            if isinstance(self.config.get(group), Mapping):
                self.config[group] = _without_nulls(self.config[group])
        self.sampler_instance: Optional[Sampler] = None
        self.options, self.tracer_settings = self._translate(service_name)

    @property
    def service_name(self) -> str:
        return self.options.service_name or ""

    # -- translation ------------------------------------------------------------------

    def _check_keys(self) -> None:
        unknown = sorted(set(self.config) - KNOWN_KEYS)
        for group, allowed in (("local_agent", LOCAL_AGENT_KEYS), ("sampler", SAMPLER_KEYS)):
            value = self.config.get(group)
            if isinstance(value, Mapping):
                unknown += [f"{group}.{key}" for key in sorted(set(value) - allowed)]
        if unknown and self.validate:
            raise ConfigError(f"unknown key(s) in the jaeger config: {', '.join(unknown)}")
        for key in unknown:
            _log.warning("unknown jaeger config key %r ignored", key)
        for key, why in NO_EFFECT.items():
            if key in self.config:
                _log.warning("config key %r has no effect: %s", key, why)

    def _translate(self, service_name: Optional[str]) -> tuple[TracerOptions, dict[str, Any]]:
        c = self.config
        options: dict[str, Any] = {}
        settings: dict[str, Any] = {}
        name = c.get("service_name", service_name)
        if name is not None:
            options["service_name"] = name
        if "enabled" in c:
            options["disabled"] = not parse_bool("enabled", c["enabled"])
        if "logging" in c:
            options["reporter_log_spans"] = parse_bool("logging", c["logging"])
        if "tags" in c:  # JAEGER_TAGS adds to (and overrides) the dict's, as in jaeger-client
            env_tags = os.environ.get("JAEGER_TAGS", "").strip()
            extra = parse_tags("JAEGER_TAGS", env_tags) if env_tags else {}
            options["tags"] = {**parse_tags("tags", c["tags"]), **extra}
        if "generate_128bit_trace_id" in c:
            options["traceid_128bit"] = parse_bool(
                "generate_128bit_trace_id", c["generate_128bit_trace_id"]
            )
        if "reporter_queue_size" in c:
            options["reporter_max_queue_size"] = parse_int(
                "reporter_queue_size", c["reporter_queue_size"], minimum=1
            )
        if "reporter_batch_size" in c:
            parse_int("reporter_batch_size", c["reporter_batch_size"], minimum=1)
        for key, option in (
            ("reporter_flush_interval", "reporter_flush_interval"),
            ("sampling_refresh_interval", "sampler_refresh_interval"),
        ):
            if key in c:
                options[option] = _seconds(key, c[key])
        if "max_operations" in c:
            options["sampler_max_operations"] = parse_int(
                "max_operations", c["max_operations"], minimum=1
            )
        if "propagation" in c:
            options["propagation"] = c["propagation"]
            if _is_jaeger_client_b3(c["propagation"]):  # jaeger-client: HTTP_HEADERS only
                settings["text_map_propagation"] = "jaeger"
        for key in ("max_tag_value_length", "max_traceback_length", "max_logs_per_span"):
            if key in c:
                settings[key] = parse_int(key, c[key], minimum=1)
        for key in ("trace_id_header", "baggage_header_prefix", "debug_id_header"):
            if key in c:
                value = c[key]
                if not isinstance(value, str) or not value.strip():
                    raise ConfigError(f"{key}={value!r} is not valid: expected a header name")
                # jaeger-client writes these names in lower case with "-" for "_"
                settings[key] = value.strip().lower().replace("_", "-")
        self._translate_local_agent(options, settings)
        self._translate_sampler(options)
        resolved = resolve_options(**options)
        port = settings.pop("sampling_port", None)
        if port is not None:  # jaeger-client asks the reporting host, JAEGER_AGENT_HOST too
            default = resolved.sources.get("agent_host") == "default"
            host = "127.0.0.1" if default else resolved.agent_host
            resolved = dataclasses.replace(
                resolved,
                sampling_endpoint=f"http://{host_for_url(host)}:{port}/sampling",
                sources={**resolved.sources, "sampling_endpoint": "keyword"},
            )
        return resolved, settings

    def _translate_local_agent(self, options: dict[str, Any], settings: dict[str, Any]) -> None:
        agent = self.config.get("local_agent")
        if agent is None:
            return
        if not isinstance(agent, Mapping):
            raise ConfigError(f"local_agent={agent!r} is not valid: expected a dict")
        if "reporting_host" in agent:
            host = agent["reporting_host"]
            if not isinstance(host, str) or not host.strip():
                raise ConfigError(
                    f"local_agent.reporting_host={host!r} is not valid: expected a host"
                )
            options["agent_host"] = host.strip()
        if "reporting_port" in agent:
            options["agent_port"] = parse_int(
                "local_agent.reporting_port", agent["reporting_port"], minimum=1, maximum=65535
            )
        if "sampling_port" in agent:  # on the reporting host, resolved in _translate
            settings["sampling_port"] = parse_int(
                "local_agent.sampling_port", agent["sampling_port"], minimum=1, maximum=65535
            )
        if "enabled" in agent:
            settings["local_agent_enabled"] = parse_bool("local_agent.enabled", agent["enabled"])

    def _translate_sampler(self, options: dict[str, Any]) -> None:
        sampler = self.config.get("sampler")
        if sampler is None:
            return
        if hasattr(sampler, "is_sampled"):  # jaeger-client also accepts a Sampler instance
            self.sampler_instance = sampler
            return
        if not isinstance(sampler, Mapping):
            raise ConfigError(f"sampler={sampler!r} is not valid: expected a dict with type/param")
        kind = sampler.get("type") or "remote"
        kind = str(kind).strip().lower()
        kind = "ratelimiting" if kind == "rate_limiting" else kind
        if kind not in SAMPLER_TYPES:
            raise ConfigError(
                f"sampler.type={sampler.get('type')!r} is not valid: expected const, "
                "probabilistic, ratelimiting (or rate_limiting) or remote"
            )
        options["sampler_type"] = kind
        param = sampler.get("param")
        if param is None:
            return
        if kind == "const":
            if isinstance(param, (int, float)) and not isinstance(param, bool):
                if param not in (0, 1):
                    raise ConfigError(f"sampler.param={param!r} is not valid: expected 0 or 1")
                decision = bool(param)
            else:
                decision = parse_bool("sampler.param", param)
            options["sampler_param"] = 1.0 if decision else 0.0
        elif kind == "ratelimiting":
            options["sampler_param"] = parse_float("sampler.param", param)
        else:
            options["sampler_param"] = parse_float("sampler.param", param, maximum=1.0)

    # -- tracers ----------------------------------------------------------------------

    def new_tracer(self, io_loop: Any = None) -> Tracer:
        """A new tracer from this configuration (the global tracer is not changed).
        ``io_loop`` is accepted for jaeger-client compatibility and not used."""
        from .build import build_tracer

        return build_tracer(
            self.options,
            sampler=self.sampler_instance,
            scope_manager=self.scope_manager,
            **self.tracer_settings,
        )

    def initialize_tracer(self, io_loop: Any = None) -> Optional[Tracer]:
        """Create the tracer and make it global (also ``opentracing.global_tracer()``).
        As in jaeger-client, only the first call in a process does this; later calls log a
        warning and return None."""
        with Config._initialized_lock:
            if Config._initialized:
                _log.warning("tracer already initialized, skipping")
                return None
            Config._initialized = True
        from .._global import set_global_tracer

        tracer = self.new_tracer(io_loop)
        set_global_tracer(tracer)
        return tracer

    @staticmethod
    def initialized() -> bool:
        with Config._initialized_lock:
            return Config._initialized


def _is_jaeger_client_b3(value: Any) -> bool:
    """jaeger-client's one ``propagation`` value, ``b3``, makes only HTTP_HEADERS B3: its
    TEXT_MAP stays ``uber-trace-id`` (messages keep the Jaeger format)."""
    return isinstance(value, str) and value.strip().lower() == "b3"


def _without_nulls(config: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in config.items() if value is not None}


def _seconds(key: str, value: Any) -> float:
    """jaeger-client's intervals are seconds: a number, or a numeric string (a config file
    run through envsubst); Go durations such as ``500ms`` are accepted too."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):  # not a number: maybe a Go duration
            value = float(value)
    return parse_duration(key, value)

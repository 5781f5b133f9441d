"""Building a tracer from resolved options: ``init_tracer`` and ``build_tracer``."""

from __future__ import annotations

import dataclasses
import logging
import sys
from typing import Any, Optional
from urllib.parse import urlsplit

from .._global import set_global_tracer
from ..context import SpanContext
from ..errors import ConfigError
from ..propagation import Format, codecs_for_propagation
from ..reporting.base import Reporter
from ..reporting.simple import CompositeReporter, LoggingReporter, NullReporter
from ..sampling.base import Sampler
from ..sampling.local import ConstSampler, ProbabilisticSampler, RateLimitingSampler
from ..scope import ScopeManager
from ..senders.base import Sender
from ..tracer import Tracer
from .resolve import TracerOptions, host_for_url, resolve_options

__all__ = ["build_tracer", "init_tracer"]

_log = logging.getLogger("jaeger_lite")


def init_tracer(
    service_name: Optional[str] = None,
    *,
    set_global: bool = True,
    scope_manager: Optional[ScopeManager] = None,
    **options: Any,
) -> Tracer:
    """A tracer wired from keyword options, ``JAEGER_*`` and ``OTEL_*`` variables (see
    :data:`OPTIONS`; ``exporter="otlp"`` or ``OTEL_TRACES_EXPORTER=otlp`` for OTLP).

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
    max_logs_per_span: Optional[int] = 1000,
    trace_id_header: Optional[str] = None,
    baggage_header_prefix: Optional[str] = None,
    debug_id_header: Optional[str] = None,
    text_map_propagation: Optional[str] = None,
) -> Tracer:
    """The tracer for resolved ``options``; the keywords are jaeger-client's extra knobs
    (``text_map_propagation``: TEXT_MAP's formats when they are not ``options``')."""
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
        "propagation": options.propagation or "jaeger",
        "jaeger_headers": headers,
        "max_tag_value_length": max_tag_value_length,
        "max_traceback_length": max_traceback_length,
        "max_logs_per_span": max_logs_per_span,
    }
    if not options.propagation:  # none: neither inject nor extract anything
        common["codecs"] = dict.fromkeys((Format.TEXT_MAP, Format.HTTP_HEADERS), _NoPropagation())
    if options.disabled:  # no thread, no socket: spans are unsampled and go nowhere
        disabled = Tracer(
            options.service_name or "disabled", NullReporter(), ConstSampler(False), **common
        )
        return _text_map(disabled, text_map_propagation, headers)
    if not options.service_name:  # resolve_options refuses this; a hand-made TracerOptions may not
        raise ConfigError("service_name is required")
    reporter = _build_reporter(options, local_agent_enabled)
    sampler = sampler if sampler is not None else _build_sampler(options)
    tracer = Tracer(options.service_name, reporter, sampler, **common)
    _log.info(
        "tracer %r reports to %s, samples with %r, propagates %s",
        options.service_name,
        _destination(options, local_agent_enabled),
        sampler,
        ",".join(options.propagation) or "nothing",
    )
    return _text_map(tracer, text_map_propagation, headers)


def _text_map(tracer: Tracer, propagation: Optional[str], headers: dict[str, str]) -> Tracer:
    """Give TEXT_MAP its own formats (sharing the tracer's baggage limits), if asked."""
    if propagation is not None:
        codecs = codecs_for_propagation(
            propagation, limits=tracer._baggage_limits, jaeger_headers=headers
        )
        tracer._codecs[Format.TEXT_MAP] = codecs[Format.TEXT_MAP]
    return tracer


class _NoPropagation:
    """The codec of ``OTEL_PROPAGATORS=none``."""

    def inject(self, span_context: SpanContext, carrier: Any) -> None:
        pass

    def extract(self, carrier: Any) -> Optional[SpanContext]:
        return None


def _build_sampler(options: TracerOptions) -> Sampler:
    kind, param = options.sampler_type, options.sampler_param
    if kind == "const":
        return ConstSampler(bool(param))
    if kind == "probabilistic":
        return ProbabilisticSampler(param)
    if kind == "ratelimiting":
        return RateLimitingSampler(param)
    # The remote sampler, each sender and RemoteReporter load here, when chosen: an OTLP
    # tracer never loads the Thrift senders, a const-sampled one never the HTTP client.
    from ..sampling.remote import RemoteSampler

    return RemoteSampler(
        options.service_name or "",
        sampling_endpoint=options.effective_sampling_endpoint,
        initial=ProbabilisticSampler(param),
        refresh_interval=options.sampler_refresh_interval,
        max_operations=options.sampler_max_operations,
    )


def _build_reporter(options: TracerOptions, local_agent_enabled: bool) -> Reporter:
    reporters: list[Reporter] = []
    queue: dict[str, Any] = {"flush_interval": options.reporter_flush_interval}
    if options.reporter_max_queue_size is not None:
        queue["queue_size"] = options.reporter_max_queue_size
    for exporter in options.exporter or ("jaeger",):
        sender: Optional[Sender] = None
        if exporter == "otlp":
            from ..senders.otlp_http import OTLPSender

            sender = OTLPSender(
                options.otlp_endpoint,
                protocol=options.otlp_protocol,
                headers=options.otlp_headers,
                compression=options.otlp_compression,
                timeout=options.otlp_timeout,
                certificate_file=options.otlp_certificate,
                client_certificate_file=options.otlp_client_certificate,
                client_key_file=options.otlp_client_key,
            )
        elif exporter == "jaeger" and options.endpoint:
            from ..senders.jaeger_http import HTTPSender

            sender = HTTPSender(
                options.endpoint,
                user=options.user,
                password=options.password,
                auth_token=options.auth_token,
            )
        elif exporter == "jaeger" and local_agent_enabled:
            from ..senders.jaeger_udp import UDPSender

            sender = UDPSender(
                options.agent_host,
                options.agent_port,
                options.agent_max_packet_size,
                resolve_interval=None
                if options.reporter_attempt_reconnecting_disabled
                else options.reporter_attempt_reconnect_interval,
            )
        elif exporter == "console":
            reporters.append(LoggingReporter(_console_logger()))
        if sender is not None:
            from ..reporting.remote import RemoteReporter

            reporters.append(RemoteReporter(sender, **queue))
    if options.reporter_log_spans:
        reporters.append(LoggingReporter())
    if not reporters:
        return NullReporter()
    return reporters[0] if len(reporters) == 1 else CompositeReporter(*reporters)


def _console_logger() -> logging.Logger:
    """A logger that prints to stdout (OTEL_TRACES_EXPORTER=console), whatever logging's
    own configuration."""
    logger = logging.getLogger("jaeger_lite.console")
    if not logger.handlers:
        logger.addHandler(logging.StreamHandler(sys.stdout))
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def _destination(options: TracerOptions, local_agent_enabled: bool) -> str:
    exporters = options.exporter or ("jaeger",)
    if len(exporters) > 1:
        return " and ".join(_destination(_only(options, e), local_agent_enabled) for e in exporters)
    if exporters[0] == "otlp":
        from .._http import safe_url
        from ..senders.otlp_http import DEFAULT_OTLP_ENDPOINT

        protocol = options.otlp_protocol
        return f"{safe_url(options.otlp_endpoint or DEFAULT_OTLP_ENDPOINT)} (OTLP {protocol})"
    if exporters[0] in ("console", "none"):
        return exporters[0]
    if options.endpoint:
        # Keep host and port, never user:password (the line is logged).
        url = urlsplit(options.endpoint)
        host = host_for_url(url.hostname or "")
        try:
            netloc = f"{host}:{url.port}" if url.port is not None else host
        except ValueError:  # an invalid port: the sender reports it; just name the host
            netloc = host
        return url._replace(netloc=netloc).geturl()
    if local_agent_enabled:
        return f"udp://{host_for_url(options.agent_host)}:{options.agent_port}"
    return "nowhere (local agent disabled)"


def _only(options: TracerOptions, exporter: str) -> TracerOptions:
    return dataclasses.replace(options, exporter=(exporter,))

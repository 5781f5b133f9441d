"""The zero-code paths: OpenTelemetry's entry points that give a jaeger_lite provider.

* ``OTEL_PYTHON_TRACER_PROVIDER=jaeger_lite``: ``opentelemetry.trace.get_tracer_provider()``
  loads :func:`tracer_provider` (entry point group ``opentelemetry_tracer_provider``);
* ``opentelemetry-instrument``: :class:`Configurator` (group ``opentelemetry_configurator``)
  sets that provider as the global one before the instrumentations load.

The tracer is the global one when the application made it, else ``init_tracer()`` from
the environment (``JAEGER_*``, then ``OTEL_*``), with OpenTelemetry's ``unknown_service``
for a service named nowhere.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any, Optional
from urllib.parse import unquote

from opentelemetry import trace

from .._global import installed_tracer
from ..config import init_tracer
from ._provider import TracerProvider
from ._scope import ScopeManager

__all__ = ["Configurator", "options_from_environment", "tracer_provider"]

_log = logging.getLogger("jaeger_lite")

DEFAULT_SERVICE_NAME = "unknown_service"


def options_from_environment(environ: Optional[Mapping[str, str]] = None) -> dict[str, Any]:
    """``init_tracer`` keywords for what the environment leaves open. ``init_tracer``
    reads the ``OTEL_*`` variables itself (below ``JAEGER_*``); only a service named
    nowhere gets OpenTelemetry's ``unknown_service`` here, as an SDK would."""
    env = os.environ if environ is None else environ
    named = any(
        env.get(name, "").strip() for name in ("JAEGER_SERVICE_NAME", "OTEL_SERVICE_NAME")
    ) or _resource_service_name(env.get("OTEL_RESOURCE_ATTRIBUTES", ""))
    return {} if named else {"service_name": DEFAULT_SERVICE_NAME}


def _resource_service_name(attributes: str) -> str:
    """``service.name`` of an ``OTEL_RESOURCE_ATTRIBUTES`` value (``k=v,k2=v2``,
    percent-encoded), or ''."""
    for item in attributes.split(","):
        key, _, value = item.partition("=")
        if key.strip() == "service.name":
            return unquote(value.strip())
    return ""


def tracer_provider() -> TracerProvider:
    """The provider of ``OTEL_PYTHON_TRACER_PROVIDER=jaeger_lite``. A configuration error
    is logged and gives a provider over the global tracer (no-op until one is set): a
    bad variable never stops the application."""
    tracer = installed_tracer()
    if tracer is None:
        try:
            tracer = init_tracer(scope_manager=ScopeManager(), **options_from_environment())
        except Exception:  # ConfigError, or a broken environment: never break the application
            _log.error(
                "could not make a tracer from the environment; OpenTelemetry "
                "spans go to the global tracer, a no-op one until init_tracer() runs",
                exc_info=True,
            )
            return TracerProvider()
    return TracerProvider(tracer)


class Configurator:
    """``opentelemetry-instrument``'s configurator: the global tracer provider is
    jaeger_lite's (select it with ``OTEL_PYTHON_CONFIGURATOR=jaeger_lite`` when another
    distro is installed)."""

    def configure(self, **kwargs: Any) -> None:
        trace.set_tracer_provider(tracer_provider())

"""The ``opentelemetry_distro`` entry point: ``OTEL_PYTHON_DISTRO=jaeger_lite`` picks
jaeger_lite's configurator for ``opentelemetry-instrument``. Loaded only by that
command, which brings ``opentelemetry-instrumentation`` (the ``otel`` extra does not)."""

from __future__ import annotations

import os
from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro

__all__ = ["Distro"]


class Distro(BaseDistro):  # type: ignore[misc]
    """Makes ``jaeger_lite`` the configurator unless ``OTEL_PYTHON_CONFIGURATOR`` names one."""

    def _configure(self, **kwargs: Any) -> None:
        os.environ.setdefault("OTEL_PYTHON_CONFIGURATOR", "jaeger_lite")

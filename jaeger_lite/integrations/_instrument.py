"""``instrument()`` and ``uninstrument()``: switching the HTTP-client integrations on and
off, once per process, for the libraries that are installed."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable, Mapping
from typing import Optional, Union

from ..tracer import Tracer
from ._client import ClientConfig, Switch
from ._patch import Patch

__all__ = ["LIBRARIES", "instrument", "instrumented", "uninstrument"]

#: The HTTP client libraries ``instrument()`` knows, and the module that patches each.
LIBRARIES: Mapping[str, str] = {
    "requests": "._requests",
    "httpx": "._httpx",
    "urllib3": "._urllib3",
    "urllib": "._urllib",
}

_lock = threading.Lock()
_switches: dict[str, Switch] = {name: Switch() for name in LIBRARIES}
_patches: dict[str, list[Patch]] = {}


def instrument(
    *libraries: str,
    tracer: Optional[Tracer] = None,
    peer_service: Union[str, Mapping[str, str], None] = None,
    redact: Optional[Iterable[str]] = None,
    root_spans: bool = False,
) -> list[str]:
    """Trace outgoing HTTP requests of ``libraries`` (``"requests"``, ``"httpx"``,
    ``"urllib3"``, ``"urllib"``; all four when none is named); returns those now traced.

    A library that is not installed is skipped. Calling again changes the options (no
    second patch). Each request is a client span, a child of the active span, its context
    injected into the request headers; with no active span a request is not traced unless
    ``root_spans=True``. ``tracer`` defaults to the global tracer at request time;
    ``peer_service`` is a name, or a mapping of ``host:port`` or ``host`` to names, for
    the ``peer.service`` tag and the operation name (``GET billing``); ``redact`` replaces
    :data:`SECRET_QUERY_PARAMETERS`. An unknown library name raises ValueError.
    """
    names = _names(libraries)
    config = ClientConfig(tracer, peer_service, redact, root_spans)
    done: list[str] = []
    with _lock:
        for name in names:
            patches = _patches.get(name)
            if patches is None:
                module = importlib.import_module(LIBRARIES[name], __package__)
                try:
                    patches = module.patches(_switches[name])
                except ImportError:  # the library is not installed: nothing to trace
                    continue
                _patches[name] = patches
            _switches[name].config = config
            for patch in patches:
                patch.apply()
            done.append(name)
    return done


def uninstrument(*libraries: str) -> None:
    """Stop tracing the requests of ``libraries`` (all when none is named); idempotent."""
    with _lock:
        for name in _names(libraries):
            _switches[name].config = None
            for patch in _patches.get(name, ()):
                patch.remove()


def instrumented() -> list[str]:
    """The libraries whose requests are traced now."""
    return [name for name, switch in _switches.items() if switch.config is not None]


def _names(libraries: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [name for name in libraries if name not in LIBRARIES]
    if unknown:
        raise ValueError(f"unknown libraries {unknown}: choose from {sorted(LIBRARIES)}")
    return libraries or tuple(LIBRARIES)

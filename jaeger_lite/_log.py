"""Loggers that import :mod:`logging` when a message is first logged, not at import.

``from jaeger_lite import Tracer`` needs no logging until something goes wrong; with the
close() Future moved out too (``_closed_future``), not importing ``logging`` and
``concurrent.futures`` took it from 35.6 to 32.2 ms (``python -S -X importtime``, min of
7, CPython 3.11, a loaded machine). The modules on the tracer's path log only
at debug level, and only when a rule rejects an input or a reporter fails.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LOG", "LazyLogger"]


class LazyLogger:
    """Stands for ``logging.getLogger(name)``; the real logger is made on first use, so
    configuring ``logging.getLogger("jaeger_lite...")`` beforehand applies as usual."""

    __slots__ = ("_logger", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._logger: Any = None

    def debug(self, msg: str, *args: Any, **kwargs: Any) -> None:
        """``Logger.debug``; the record names the caller, not this module."""
        kwargs.setdefault("stacklevel", 2)
        self._real().debug(msg, *args, **kwargs)

    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None:
        """``Logger.warning``; the record names the caller, not this module."""
        kwargs.setdefault("stacklevel", 2)
        self._real().warning(msg, *args, **kwargs)

    def _real(self) -> Any:
        logger = self._logger
        if logger is None:
            import logging

            logger = self._logger = logging.getLogger(self._name)
        return logger


#: The ``jaeger_lite`` logger, for the modules on the tracer's path.
LOG = LazyLogger("jaeger_lite")

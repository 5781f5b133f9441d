"""The in-process reporters: discard, keep in memory, log, or fan out to several."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional

from .._log import LOG as _log
from .._span_factory import DISCARD, DiscardInbox, SpanInbox
from ..span import Span
from .base import Reporter, as_reporter

if TYPE_CHECKING:
    import logging

__all__ = ["CompositeReporter", "InMemoryReporter", "LoggingReporter", "NullReporter"]

_INFO = 20  # logging.INFO, without importing logging for the tracer's default NullReporter


class NullReporter(Reporter):
    """Discards every span."""

    __slots__ = ()

    def report_span(self, span: Span) -> None:
        pass

    def span_inbox(self) -> Optional[DiscardInbox]:
        """DISCARD: the tracer hands this reporter nothing (see DiscardInbox)."""
        return DISCARD if self._own_report_span(NullReporter.report_span) else None


class InMemoryReporter(Reporter):
    """Keeps finished spans in a list, for tests and debugging (thread-safe)."""

    __slots__ = ("_spans", "_lock")

    def __init__(self) -> None:
        # The tracer appends to it itself (never full: room for any number of spans).
        self._spans = SpanInbox(room=sys.maxsize)
        self._lock = threading.Lock()

    def report_span(self, span: Span) -> None:
        self._spans.append(span)  # list.append is atomic: no lock on the hot path

    def span_inbox(self) -> Optional[SpanInbox]:
        return self._spans if self._own_report_span(InMemoryReporter.report_span) else None

    @property
    def spans(self) -> list[Span]:
        """A copy of the spans reported so far, in finish order."""
        with self._lock:
            return list(self._spans)

    def get_spans(self) -> list[Span]:
        """jaeger-client's name for :attr:`spans`."""
        return self.spans

    def clear(self) -> None:
        with self._lock:
            self._spans.clear()


class LoggingReporter(Reporter):
    """Logs one line per finished span (``trace:span:parent:flags service operation``)."""

    __slots__ = ("_logger", "_level", "_service_name")

    def __init__(self, logger: Optional[logging.Logger] = None, level: int = _INFO) -> None:
        if logger is None:
            import logging

            logger = logging.getLogger("jaeger_lite")
        self._logger = logger
        self._level = level
        self._service_name = ""

    def set_process(self, service_name: str, tags: Mapping[str, Any]) -> None:
        self._service_name = service_name

    def report_span(self, span: Span) -> None:
        if self._logger.isEnabledFor(self._level):
            self._logger.log(
                self._level,
                "Reporting span %s %s.%s (%.3f ms)",
                span.context,
                self._service_name,
                span.operation_name,
                (span.duration or 0.0) * 1000.0,
            )


class CompositeReporter(Reporter):
    """Sends every span to several reporters; one failing does not stop the others."""

    __slots__ = ("reporters",)

    def __init__(self, *reporters: Any) -> None:
        self.reporters: tuple[Reporter, ...] = tuple(map(as_reporter, reporters))

    def set_process(self, service_name: str, tags: Mapping[str, Any]) -> None:
        for reporter in self.reporters:
            reporter.set_process(service_name, tags)

    def report_span(self, span: Span) -> None:
        for reporter in self.reporters:
            try:
                reporter.report_span(span)
            except Exception:  # a user reporter must not break the others or the app
                _log.debug("reporter %r failed", reporter, exc_info=True)

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Flush every reporter (none is skipped), sharing one deadline."""
        deadline = None if timeout is None else time.monotonic() + timeout
        results = [reporter.flush(_remaining(deadline)) for reporter in self.reporters]
        return all(results)

    def close(self, timeout: Optional[float] = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        for reporter in self.reporters:
            reporter.close(_remaining(deadline))

    def metrics(self) -> dict[str, int]:
        """Sum of the metrics of every reporter that has them."""
        total: dict[str, int] = {}
        for reporter in self.reporters:
            for key, value in reporter.metrics().items():
                total[key] = total.get(key, 0) + value
        return total


def _remaining(deadline: Optional[float]) -> Optional[float]:
    return None if deadline is None else max(0.0, deadline - time.monotonic())

"""``Reporter``: where the tracer hands finished, sampled spans.

``report_span`` runs on the application thread inside ``Span.finish``, so it must be cheap
and must not block. ``flush``/``close`` take a timeout in seconds (None waits as long as
needed) and never raise for I/O problems. A reporter of your own subclasses
:class:`Reporter` and implements ``report_span``; every other method has a default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional, Union

if TYPE_CHECKING:
    from .._span_factory import DiscardInbox, SpanInbox
    from ..span import Span

__all__ = ["Reporter", "as_reporter"]


class Reporter:
    """Base class of reporters: ``report_span`` is required, the rest have defaults."""

    __slots__ = ()

    def report_span(self, span: Span) -> None:
        """Take a finished, sampled span (application thread: cheap, never blocking)."""
        raise NotImplementedError

    def span_inbox(self) -> Optional[Union[SpanInbox, DiscardInbox]]:
        """The list the tracer may append finished spans to itself instead of calling
        ``report_span`` (see :class:`~jaeger_lite._span_factory.SpanInbox`), or None."""
        return None

    def _own_report_span(self, method: Any) -> bool:
        """True when ``report_span`` is ``method`` (not overridden by a subclass or on the
        instance): only then may the tracer bypass it through an inbox."""
        return getattr(self.report_span, "__func__", None) is method

    def set_process(self, service_name: str, tags: Mapping[str, Any]) -> None:
        """Learn the tracer's service name and process tags (called once, by the tracer)."""

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Wait until spans reported so far have left; False when ``timeout`` ran out."""
        return True

    def close(self, timeout: Optional[float] = None) -> None:
        """Flush and release resources. Idempotent."""

    def metrics(self) -> dict[str, int]:
        """Counters merged into ``Tracer.metrics`` (see README, "Metrics")."""
        return {}


class _ForeignReporter(Reporter):
    """A reporter that does not subclass :class:`Reporter` (duck-typed, as the OpenTracing
    era wrote them), given the defaults for whatever methods it lacks."""

    __slots__ = ("wrapped", "report_span")

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped
        self.report_span = wrapped.report_span  # type: ignore[method-assign]

    def set_process(self, service_name: str, tags: Mapping[str, Any]) -> None:
        method = getattr(self.wrapped, "set_process", None)
        if callable(method):
            method(service_name, tags)

    def flush(self, timeout: Optional[float] = None) -> bool:
        method = getattr(self.wrapped, "flush", None)
        return bool(method(timeout)) if callable(method) else True

    def close(self, timeout: Optional[float] = None) -> None:
        method = getattr(self.wrapped, "close", None)
        if callable(method):
            method(timeout)

    def metrics(self) -> dict[str, int]:
        method = getattr(self.wrapped, "metrics", None)
        return dict(method()) if callable(method) else {}

    def __repr__(self) -> str:
        return repr(self.wrapped)


def as_reporter(reporter: Any) -> Reporter:
    """``reporter`` itself when it subclasses :class:`Reporter`, else an adapter that gives
    a duck-typed one (only ``report_span`` is required) the base class's defaults."""
    if isinstance(reporter, Reporter):
        return reporter
    if isinstance(reporter, type):  # Tracer(..., InMemoryReporter): its methods unbound
        raise TypeError(f"a reporter instance is needed, got the class {reporter.__name__}")
    if not callable(getattr(reporter, "report_span", None)):
        raise TypeError(f"a reporter needs a report_span method, got {type(reporter).__name__}")
    return _ForeignReporter(reporter)

"""Log correlation: ``trace_id``, ``span_id`` and ``trace_sampled`` of the active span on
every log record (stdlib ``logging``, structlog, loguru), and WARNING+ records copied into
the active span as span logs.

    install_log_correlation()
    logging.basicConfig(format="%(levelname)s [%(trace_id)s %(span_id)s] %(message)s")

The ids are hex (as the Jaeger UI shows them), ``trace_sampled`` is True or False; outside
a span all three are ``""`` (present, so format strings and JSON formatters never fail).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, MutableMapping
from typing import Any, Callable, Optional

from ..tracer import Tracer
from ._common import failed, tracer_or_global

__all__ = [
    "LoguruPatcher",
    "SpanLogHandler",
    "StructlogProcessor",
    "TraceContextFilter",
    "install_log_correlation",
    "trace_fields",
    "uninstall_log_correlation",
]

_EMPTY: dict[str, Any] = {"trace_id": "", "span_id": "", "trace_sampled": ""}


def trace_fields(tracer: Optional[Tracer] = None) -> dict[str, Any]:
    """``{"trace_id", "span_id", "trace_sampled"}`` of the active span (empty strings
    outside a span, or when the tracer fails)."""
    try:
        span = tracer_or_global(tracer).active_span
        if span is None:
            return dict(_EMPTY)
        context = span.context
        return {
            "trace_id": context.trace_id_hex,
            "span_id": context.span_id_hex,
            "trace_sampled": context.is_sampled,
        }
    except Exception:  # a foreign tracer or scope manager: log without ids
        failed("reading the active span for a log record")
        return dict(_EMPTY)


class TraceContextFilter(logging.Filter):
    """A filter (for a handler or a logger) that adds the trace fields to each record it
    sees and lets every record through. Fields already set on a record are kept."""

    def __init__(self, tracer: Optional[Tracer] = None) -> None:
        super().__init__()
        self.tracer = tracer

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "trace_id"):
            record.__dict__.update(trace_fields(self.tracer))
        return True


_factory_lock = threading.Lock()
_previous_factory: Optional[Callable[..., logging.LogRecord]] = None
_FIELDS = frozenset(_EMPTY)
_make_record = logging.Logger.makeRecord  # the stdlib's, which refuses extra= over a field


def _make_record_keeping_extra(
    self: logging.Logger,
    name: str,
    level: int,
    fn: str,
    lno: int,
    msg: object,
    args: Any,
    exc_info: Any,
    func: Optional[str] = None,
    extra: Optional[Mapping[str, object]] = None,
    sinfo: Optional[str] = None,
) -> logging.LogRecord:
    """``Logger.makeRecord`` letting ``extra={"trace_id": ...}`` set a field the record
    factory already added (the stdlib raises KeyError into the logging call instead)."""
    if not extra or _FIELDS.isdisjoint(extra):
        return _make_record(self, name, level, fn, lno, msg, args, exc_info, func, extra, sinfo)
    rest = {key: value for key, value in extra.items() if key not in _FIELDS}
    record = _make_record(self, name, level, fn, lno, msg, args, exc_info, func, rest, sinfo)
    record.__dict__.update({key: extra[key] for key in _FIELDS if key in extra})
    return record


def install_log_correlation(tracer: Optional[Tracer] = None) -> None:
    """Add the trace fields to every log record the process creates, from any logger,
    whichever handler formats it (a wrapper of ``logging``'s record factory); a field a
    call passes in ``extra=`` wins (``Logger.makeRecord`` is wrapped so that it does not
    raise KeyError). Calling it again only changes the tracer (default: the global tracer
    when the record is made)."""
    global _previous_factory
    with _factory_lock:
        if _previous_factory is None:
            _previous_factory = logging.getLogRecordFactory()
        previous = _previous_factory
        if logging.Logger.makeRecord is _make_record:
            logging.Logger.makeRecord = _make_record_keeping_extra  # type: ignore[method-assign]

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            record.__dict__.update(trace_fields(tracer))
            return record

        factory.jaeger_lite = True  # type: ignore[attr-defined]
        logging.setLogRecordFactory(factory)


def uninstall_log_correlation() -> None:
    """Put back the record factory :func:`install_log_correlation` replaced."""
    global _previous_factory
    with _factory_lock:
        if _previous_factory is not None:
            if getattr(logging.getLogRecordFactory(), "jaeger_lite", False):
                logging.setLogRecordFactory(_previous_factory)
            _previous_factory = None
        if logging.Logger.makeRecord is _make_record_keeping_extra:
            logging.Logger.makeRecord = _make_record  # type: ignore[method-assign]


class StructlogProcessor:
    """A structlog processor adding the trace fields to the event dict:
    ``structlog.configure(processors=[StructlogProcessor(), ...])``."""

    def __init__(self, tracer: Optional[Tracer] = None) -> None:
        self.tracer = tracer

    def __call__(
        self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key, value in trace_fields(self.tracer).items():
            event_dict.setdefault(key, value)
        return event_dict


class LoguruPatcher:
    """A loguru patcher adding the trace fields to ``record["extra"]``:
    ``logger.configure(patcher=LoguruPatcher())``, then ``{extra[trace_id]}`` in formats."""

    def __init__(self, tracer: Optional[Tracer] = None) -> None:
        self.tracer = tracer

    def __call__(self, record: MutableMapping[str, Any]) -> None:
        extra = record.get("extra")
        if isinstance(extra, MutableMapping):
            for key, value in trace_fields(self.tracer).items():
                extra.setdefault(key, value)


class SpanLogHandler(logging.Handler):
    """Copies records (WARNING and above by default) into the active span as span logs:
    ``event="log"``, ``level``, ``logger``, ``message`` (and ``error.kind`` and ``stack``
    for a record with an exception). It does not mark the span as an error."""

    def __init__(self, tracer: Optional[Tracer] = None, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self.tracer = tracer

    def emit(self, record: logging.LogRecord) -> None:
        try:
            span = tracer_or_global(self.tracer).active_span
            if span is None or not span.is_sampled:
                return
            fields: dict[str, Any] = {
                "event": "log",
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
            }
            if record.exc_info and record.exc_info[0] is not None:
                fields["error.kind"] = record.exc_info[0].__name__
                fields["stack"] = logging.Formatter().formatException(record.exc_info)
            span.log_kv(fields)
        except Exception:  # logging must never raise into the application
            failed("copying a log record into the span")

"""Log correlation: the trace fields on stdlib records (filter and installer, format strings
and a JSON formatter), structlog and loguru; WARNING+ records copied into the span."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

import jaeger_lite
from jaeger_lite import Tracer
from jaeger_lite.integrations import (
    LoguruPatcher,
    SpanLogHandler,
    StructlogProcessor,
    TraceContextFilter,
    install_log_correlation,
    uninstall_log_correlation,
)

from ._integration_helpers import waiting_tracer


class JSONFormatter(logging.Formatter):
    """The shape of a typical JSON log formatter: chosen record attributes as a document."""

    def format(self, record: logging.LogRecord) -> str:
        keys = ("message", "trace_id", "span_id", "trace_sampled")
        record.message = record.getMessage()
        return json.dumps({key: getattr(record, key) for key in keys})


@pytest.fixture
def logger() -> Iterator[tuple[logging.Logger, io.StringIO, logging.Handler]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        logging.Formatter("%(trace_id)s|%(span_id)s|%(trace_sampled)s|%(message)s")
    )
    log = logging.getLogger("test.integrations.logs")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    yield log, stream, handler
    log.removeHandler(handler)
    uninstall_log_correlation()


def test_the_filter_adds_ids_inside_spans_and_empty_strings_outside(
    logger: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    """``%(trace_id)s`` works everywhere: the hex ids in a span, empty outside."""
    log, stream, handler = logger
    tracer, _ = waiting_tracer()
    handler.addFilter(TraceContextFilter(tracer))
    log.info("before")
    with tracer.start_active_span("work") as scope:
        log.info("inside")
    context = scope.span.context
    assert stream.getvalue().splitlines() == [
        "|||before",
        f"{context.trace_id_hex}|{context.span_id_hex}|True|inside",
    ]


def test_the_installer_covers_every_logger_and_json(
    logger: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    """One call: records of any logger carry the fields, for a JSON formatter too; the
    global tracer is read when the record is made; uninstalling takes them away."""
    log, stream, handler = logger
    handler.setFormatter(JSONFormatter())
    tracer, _ = waiting_tracer()
    install_log_correlation()
    install_log_correlation()  # idempotent
    jaeger_lite.set_global_tracer(tracer)  # read when each record is made
    child = log.getChild("deeper")
    with tracer.start_active_span("work") as scope:
        child.warning("inside")
    log.warning("outside")
    uninstall_log_correlation()
    record = logging.getLogger("x").makeRecord("x", logging.INFO, "f", 1, "m", (), None)
    assert not hasattr(record, "trace_id")
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside == {
        "message": "inside",
        "trace_id": scope.span.context.trace_id_hex,
        "span_id": scope.span.context.span_id_hex,
        "trace_sampled": True,
    }
    assert outside == {"message": "outside", "trace_id": "", "span_id": "", "trace_sampled": ""}


def test_unsampled_spans_say_so(
    logger: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    from jaeger_lite import ConstSampler

    log, stream, handler = logger
    tracer, _ = waiting_tracer(sampler=ConstSampler(False))
    handler.addFilter(TraceContextFilter(tracer))
    with tracer.start_active_span("work"):
        log.info("x")
    assert stream.getvalue().split("|")[2] == "False"


def test_structlog_processor() -> None:
    structlog = pytest.importorskip("structlog")
    tracer, _ = waiting_tracer()
    lines: list[dict[str, Any]] = []

    def capture(logger: Any, method: str, event_dict: dict[str, Any]) -> str:
        lines.append(dict(event_dict))
        return ""

    log = structlog.wrap_logger(
        structlog.PrintLogger(io.StringIO()), processors=[StructlogProcessor(tracer), capture]
    )
    with tracer.start_active_span("work") as scope:
        log.info("inside")
    log.info("outside")
    assert lines[0]["trace_id"] == scope.span.context.trace_id_hex
    assert lines[0]["span_id"] == scope.span.context.span_id_hex
    assert lines[1] == {"event": "outside", "trace_id": "", "span_id": "", "trace_sampled": ""}


def test_loguru_patcher() -> None:
    loguru = pytest.importorskip("loguru")
    tracer, _ = waiting_tracer()
    out = io.StringIO()
    log = loguru.logger.patch(LoguruPatcher(tracer))
    sink = log.add(out, format="{extra[trace_id]}/{extra[span_id]} {message}")
    try:
        with tracer.start_active_span("work") as scope:
            log.info("inside")
        log.info("outside")
    finally:
        loguru.logger.remove(sink)
    context = scope.span.context
    assert out.getvalue().splitlines() == [
        f"{context.trace_id_hex}/{context.span_id_hex} inside",
        "/ outside",
    ]


def test_span_log_handler_copies_warnings_into_the_span() -> None:
    """WARNING+ records become span logs (with the exception's kind); INFO does not."""
    tracer, reporter = waiting_tracer()
    log = logging.getLogger("test.integrations.spanlog")
    handler = SpanLogHandler(tracer)
    log.addHandler(handler)
    log.propagate = False
    try:
        with tracer.start_active_span("work"):
            log.info("not copied")
            log.warning("disk at %d%%", 91)
            try:
                raise OSError("read-only")
            except OSError:
                log.exception("write failed")
        log.error("outside: nowhere to go")
    finally:
        log.removeHandler(handler)
    (span,) = reporter.spans
    first, second = (entry.fields for entry in span.logs)
    assert first == {
        "event": "log",
        "level": "WARNING",
        "logger": "test.integrations.spanlog",
        "message": "disk at 91%",
    }
    assert second["level"] == "ERROR"
    assert second["error.kind"] == "OSError"
    assert "read-only" in second["stack"]
    assert "error" not in span.tags


class _Broken(Tracer):
    @property
    def active_span(self) -> Any:
        raise RuntimeError("misconfigured")


def test_a_broken_tracer_never_breaks_logging(
    logger: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    log, stream, handler = logger
    broken = _Broken("broken")
    handler.addFilter(TraceContextFilter(broken))
    span_logs = SpanLogHandler(broken)
    log.addHandler(span_logs)
    try:
        log.warning("still logged")
    finally:
        log.removeHandler(span_logs)
    assert stream.getvalue() == "|||still logged\n"


def test_extra_may_set_the_fields_once_installed(
    logger: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    """``extra={"trace_id": ...}`` (an application's own correlation) is not a KeyError
    raised into the logging call, as the stdlib's makeRecord raises for a field the record
    factory set: the caller's value wins, the other fields stay; uninstalling puts the
    stdlib's makeRecord back."""
    log, stream, _ = logger
    tracer, _ = waiting_tracer()
    original = logging.Logger.makeRecord
    install_log_correlation(tracer)
    with tracer.start_active_span("work") as scope:
        log.info("mine", extra={"trace_id": "from-the-caller", "order": 7})
        log.info("positional %s", "args", extra=None)
    adapter = logging.LoggerAdapter(log, {"span_id": "adapted"})
    adapter.info("adapter")
    uninstall_log_correlation()
    assert logging.Logger.makeRecord is original
    with pytest.raises(KeyError):  # the stdlib's own rule again: "message" is never allowed
        log.info("x", extra={"message": "no"})
    span_id = scope.span.context.span_id_hex
    assert stream.getvalue().splitlines() == [
        f"from-the-caller|{span_id}|True|mine",
        f"{scope.span.context.trace_id_hex}|{span_id}|True|positional args",
        "|adapted||adapter",
    ]

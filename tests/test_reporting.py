"""The simple reporters: in-memory, logging, null and composite."""

from __future__ import annotations

import logging
from typing import Any, Optional

import pytest

from jaeger_lite import (
    CompositeReporter,
    InMemoryReporter,
    LoggingReporter,
    NullReporter,
    ProbabilisticSampler,
    Reporter,
    Tracer,
)


class RecordingReporter(InMemoryReporter):
    def __init__(self, flush_result: bool = True) -> None:
        super().__init__()
        self.flush_result = flush_result
        self.flushes: list[Optional[float]] = []
        self.closes = 0

    def flush(self, timeout: Optional[float] = None) -> bool:
        self.flushes.append(timeout)
        return self.flush_result

    def close(self, timeout: Optional[float] = None) -> None:
        self.closes += 1

    def metrics(self) -> dict[str, int]:
        return {"spans_sent": len(self.spans)}


class FailingReporter(NullReporter):
    def report_span(self, span: Any) -> None:
        raise RuntimeError("down")


def test_reporters_satisfy_the_protocol() -> None:
    """Every built-in reporter is a Reporter."""
    for reporter in (InMemoryReporter(), LoggingReporter(), NullReporter(), CompositeReporter()):
        assert isinstance(reporter, Reporter)


def test_in_memory_reporter_keeps_spans_in_finish_order() -> None:
    """Spans are kept in the order they finished; clear() empties the list."""
    reporter = InMemoryReporter()
    tracer = Tracer("svc", reporter)
    a, b = tracer.start_span("a"), tracer.start_span("b")
    b.finish()
    a.finish()
    assert [s.operation_name for s in reporter.get_spans()] == ["b", "a"]
    reporter.clear()
    assert reporter.spans == []


def test_logging_reporter_logs_one_line_per_span(caplog: pytest.LogCaptureFixture) -> None:
    """The line names the service, the operation and the context."""
    tracer = Tracer("shop", LoggingReporter())
    with caplog.at_level(logging.INFO, logger="jaeger_lite"):
        span = tracer.start_span("checkout")
        span.finish()
    (record,) = [r for r in caplog.records if "Reporting span" in r.getMessage()]
    assert "shop.checkout" in record.getMessage()
    assert span.context.span_id_hex in record.getMessage()


def test_composite_reporter_survives_a_failing_member() -> None:
    """One reporter raising does not stop the others."""
    good = RecordingReporter()
    tracer = Tracer("svc", CompositeReporter(FailingReporter(), good))
    tracer.start_span("op").finish()
    assert len(good.spans) == 1


def test_composite_flush_asks_everyone_and_combines_results() -> None:
    """flush() is passed to every member (none skipped) and is True only if all are."""
    first, second = RecordingReporter(flush_result=False), RecordingReporter()
    composite = CompositeReporter(first, second)
    assert composite.flush(2.0) is False
    assert len(first.flushes) == len(second.flushes) == 1
    assert all(t is not None and t <= 2.0 for t in first.flushes + second.flushes)
    composite.close()
    assert first.closes == second.closes == 1


def test_composite_metrics_are_summed_into_tracer_metrics() -> None:
    """Members' metrics are added up and appear in tracer.metrics."""
    tracer = Tracer("svc", CompositeReporter(RecordingReporter(), RecordingReporter()))
    tracer.start_span("op").finish()
    assert tracer.metrics["spans_sent"] == 2


class OnlyReportSpan(Reporter):
    """A user's reporter as the smallest subclass: report_span only."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def report_span(self, span: Any) -> None:
        self.names.append(span.operation_name)


class DuckReporter:
    """A reporter written without the base class, with report_span alone."""

    def __init__(self) -> None:
        self.count = 0

    def report_span(self, span: Any) -> None:
        self.count += 1


@pytest.mark.parametrize("make_reporter", [OnlyReportSpan, DuckReporter])
def test_a_reporter_needs_only_report_span(make_reporter: Any) -> None:
    """The base class (or, for a duck-typed one, an adapter) supplies set_process, flush,
    close and metrics; the tracer property gives back the object that was passed."""
    reporter = make_reporter()
    tracer = Tracer("svc", reporter)
    tracer.start_span("op").finish()
    assert tracer.reporter is reporter
    assert tracer.flush(1.0) is True
    assert tracer.metrics["spans_sampled"] == 1
    tracer.close()


def test_an_object_without_report_span_is_refused() -> None:
    """Passing something that cannot take spans is API misuse, reported at once."""
    with pytest.raises(TypeError, match="report_span"):
        Tracer("svc", object())


@pytest.mark.parametrize(
    ("keyword", "given"), [("reporter", InMemoryReporter), ("sampler", ProbabilisticSampler)]
)
def test_a_class_instead_of_an_instance_is_refused(keyword: str, given: type) -> None:
    """``Tracer("svc", InMemoryReporter)`` (the class, not an instance) would be duck-typed
    into a reporter or sampler whose every call fails: API misuse, refused at once."""
    with pytest.raises(TypeError, match="instance is needed, got the class"):
        Tracer("svc", **{keyword: given})

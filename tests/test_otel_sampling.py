"""Sampling decisions for OpenTelemetry spans are jaeger_lite's: the tracer's sampler,
remote per-operation strategies included, decides by the span's name at start."""

from __future__ import annotations

from typing import Callable

import pytest

pytest.importorskip("opentelemetry.trace")

import jaeger_lite
import jaeger_lite.otel
from jaeger_lite import InMemoryReporter, RemoteSampler, Tracer

from ._strategy_server import StrategyServer


def test_remote_per_operation_strategies_decide_for_otel_spans(
    server: StrategyServer, remote: Callable[..., RemoteSampler]
) -> None:
    """The agent's per-operation rates apply to OpenTelemetry span names; children
    inherit the root's decision, whatever their names."""
    server.answer(
        {
            "operationSampling": {
                "defaultSamplingProbability": 0.0,
                "defaultLowerBoundTracesPerSecond": 0.0,
                "perOperationStrategies": [
                    {"operation": "GET /orders", "probabilisticSampling": {"samplingRate": 1.0}},
                    {"operation": "GET /health", "probabilisticSampling": {"samplingRate": 0.0}},
                ],
            }
        }
    )
    reporter = InMemoryReporter()
    tracer = Tracer("svc", reporter, remote(server.url))
    otel = jaeger_lite.otel.TracerProvider(tracer, set_propagator=False).get_tracer("t")
    for name in ("GET /orders", "GET /health", "GET /other"):
        with otel.start_as_current_span(name) as span:
            with otel.start_as_current_span("GET /health"):  # a child: inherits
                pass
            assert span.is_recording() is (name == "GET /orders")
    assert [s.operation_name for s in reporter.spans] == ["GET /health", "GET /orders"]
    sampled_root = reporter.spans[1]
    assert sampled_root.tags["sampler.type"] == "probabilistic"
    assert sampled_root.tags["sampler.param"] == 1.0
    assert reporter.spans[0].context.parent_id == sampled_root.context.span_id


def test_a_sampler_that_fails_leaves_otel_spans_unsampled() -> None:
    """A user sampler's bug: the span is not sampled, counted, and nothing raises."""

    class Broken(jaeger_lite.Sampler):
        def is_sampled(
            self, trace_id: int, operation_name: str = ""
        ) -> tuple[bool, dict[str, object]]:
            raise RuntimeError("bug")

    reporter = InMemoryReporter()
    tracer = Tracer("svc", reporter, Broken())
    otel = jaeger_lite.otel.TracerProvider(tracer, set_propagator=False).get_tracer("t")
    with otel.start_as_current_span("op") as span:
        assert not span.is_recording()
        assert span.get_span_context().is_valid
    assert tracer.metrics["sampler_errors"] == 1

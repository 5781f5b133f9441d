"""global_tracer(), set_global_tracer() and the no-op default."""

from __future__ import annotations

import pytest

import jaeger_lite
from jaeger_lite import Format, Tracer


def test_default_global_tracer_is_a_noop() -> None:
    """Before configuration, spans are unsampled and reported nowhere."""
    tracer = jaeger_lite.global_tracer()
    with tracer.start_active_span("op") as scope:
        scope.span.set_tag("k", "v")
    assert not scope.span.context.is_sampled
    assert scope.span.tags == {}


def test_noop_tracer_still_propagates_context() -> None:
    """Incoming context passes through an unconfigured service."""
    tracer = jaeger_lite.global_tracer()
    incoming = {"uber-trace-id": "0000000000000abc:0000000000000def:0:1"}
    context = tracer.extract(Format.HTTP_HEADERS, incoming)
    child = tracer.start_span("op", child_of=context)
    outgoing: dict[str, str] = {}
    tracer.inject(child.context, Format.HTTP_HEADERS, outgoing)
    assert outgoing["uber-trace-id"].startswith("0000000000000abc:")


def test_set_global_tracer_replaces_the_noop() -> None:
    """The tracer set globally is returned afterwards."""
    tracer = Tracer("svc")
    jaeger_lite.set_global_tracer(tracer)
    assert jaeger_lite.global_tracer() is tracer


def test_set_global_tracer_rejects_other_objects() -> None:
    """Only a jaeger_lite Tracer can be the global tracer."""
    with pytest.raises(TypeError):
        jaeger_lite.set_global_tracer(object())  # type: ignore[arg-type]


def test_reset_global_tracer_brings_back_the_noop() -> None:
    """After reset_global_tracer(), global_tracer() is the no-op tracer again."""
    jaeger_lite.set_global_tracer(Tracer("svc"))
    jaeger_lite.reset_global_tracer()
    span = jaeger_lite.global_tracer().start_span("op")
    assert not span.context.is_sampled

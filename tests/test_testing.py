"""jaeger_lite.testing: helpers for users' own tests."""

from __future__ import annotations

import pytest

import jaeger_lite
from jaeger_lite import follows_from
from jaeger_lite.testing import capture_spans, new_test_tracer


def test_capture_spans_installs_and_restores_the_global_tracer() -> None:
    """Inside the block the global tracer records; afterwards the old one is back."""
    before = jaeger_lite.global_tracer()
    with capture_spans() as captured:
        assert jaeger_lite.global_tracer() is captured.tracer
        with jaeger_lite.global_tracer().start_active_span("op"):
            pass
    assert [s.operation_name for s in captured.spans] == ["op"]
    assert jaeger_lite.global_tracer() is before


def test_relationship_and_tag_assertions() -> None:
    """one/children_of/roots/assert_* find spans and check their relations."""
    with capture_spans() as captured:
        tracer = captured.tracer
        with tracer.start_active_span("root", tags={"http.status_code": 200}) as root:
            with tracer.start_active_span("child"):
                pass
        tracer.start_span("job", references=[follows_from(root.span)]).finish()
    root_span, child, job = captured.one("root"), captured.one("child"), captured.one("job")
    captured.assert_child_of(child, root_span)
    captured.assert_follows_from(job, root_span)
    captured.assert_tags(root_span, **{"http.status_code": 200})
    assert captured.children_of(root_span) == [child]
    assert captured.roots() == [root_span]


def test_assertions_fail_with_useful_messages() -> None:
    """A failed lookup or relation raises AssertionError naming what was there."""
    with capture_spans() as captured:
        captured.tracer.start_span("a").finish()
        captured.tracer.start_span("b").finish()
    with pytest.raises(AssertionError, match="have \\['a', 'b'\\]"):
        captured.one("missing")
    with pytest.raises(AssertionError):
        captured.assert_child_of(captured.one("a"), captured.one("b"))
    with pytest.raises(AssertionError):
        captured.assert_tags(captured.one("a"), color="red")


def test_new_test_tracer_samples_everything() -> None:
    """The test tracer's reporter gets every finished span."""
    tracer, reporter = new_test_tracer()
    tracer.start_span("x").finish()
    assert len(reporter.spans) == 1


def test_capture_spans_leaves_opentracing_global_tracer_as_found() -> None:
    """opentracing.global_tracer() is what it was before the block, not the test tracer."""
    opentracing = pytest.importorskip("opentracing")
    before = opentracing.global_tracer()
    with capture_spans() as captured:
        assert opentracing.global_tracer() is captured.tracer
    assert opentracing.global_tracer() is before


def test_capture_spans_leaves_opentracing_unregistered_when_it_was() -> None:
    """A process with no OpenTracing tracer registered has none after the block either:
    putting the no-op tracer back with opentracing.set_global_tracer marked it registered,
    and code that registers its tracer only when none is then never did."""
    opentracing = pytest.importorskip("opentracing")
    before = opentracing.global_tracer(), opentracing.is_global_tracer_registered()
    try:
        opentracing.tracer, opentracing.is_tracer_registered = opentracing.Tracer(), False
        noop = opentracing.global_tracer()
        with capture_spans() as captured:
            assert opentracing.global_tracer() is captured.tracer
            assert opentracing.is_global_tracer_registered()
        assert opentracing.global_tracer() is noop
        assert not opentracing.is_global_tracer_registered()
        registered = opentracing.Tracer()
        opentracing.set_global_tracer(registered)
        with capture_spans():
            pass
        assert opentracing.global_tracer() is registered
        assert opentracing.is_global_tracer_registered()
    finally:
        opentracing.tracer, opentracing.is_tracer_registered = before

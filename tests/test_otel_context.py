"""One active span for both APIs: jaeger_lite's scopes live in OpenTelemetry's context, so
each API's spans are the parents of the other's, in threads, tasks and copied contexts."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from collections.abc import Iterator

import pytest

pytest.importorskip("opentelemetry.trace")

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

import jaeger_lite
import jaeger_lite.otel
from jaeger_lite import InMemoryReporter, Tracer
from jaeger_lite.testing import new_test_tracer

Env = tuple[trace.Tracer, Tracer, InMemoryReporter]


@pytest.fixture
def env() -> Iterator[Env]:
    tracer, reporter = new_test_tracer("svc")
    provider = jaeger_lite.otel.TracerProvider(tracer, set_propagator=False)
    yield provider.get_tracer("tests"), tracer, reporter
    tracer.close()


def parent_of(reporter: InMemoryReporter, name: str) -> int:
    (span,) = [s for s in reporter.spans if s.operation_name == name]
    return span.context.parent_id


def span_id(reporter: InMemoryReporter, name: str) -> int:
    (span,) = [s for s in reporter.spans if s.operation_name == name]
    return span.context.span_id


def test_the_provider_puts_the_tracer_on_the_shared_scope_manager() -> None:
    """A default scope manager is replaced; ours stays; a custom one is kept, with a warning."""
    tracer, _ = new_test_tracer()
    jaeger_lite.otel.TracerProvider(tracer, set_propagator=False)
    assert isinstance(tracer.scope_manager, jaeger_lite.otel.ScopeManager)
    manager = tracer.scope_manager
    jaeger_lite.otel.TracerProvider(tracer, set_propagator=False)
    assert tracer.scope_manager is manager


def test_a_custom_scope_manager_is_kept_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    """Each API then sees only its own active span; the log says so."""
    tracer, _ = new_test_tracer(scope_manager=jaeger_lite.ThreadLocalScopeManager())
    with caplog.at_level(logging.WARNING, logger="jaeger_lite"):
        jaeger_lite.otel.TracerProvider(tracer, set_propagator=False)
    assert isinstance(tracer.scope_manager, jaeger_lite.ThreadLocalScopeManager)
    assert "keeps its scope manager ThreadLocalScopeManager" in caplog.text


def test_get_current_span_sees_jaeger_lites_active_span(env: Env) -> None:
    """start_active_span makes the span current for OpenTelemetry too, until closed."""
    _, tracer, _ = env
    assert trace.get_current_span() is trace.INVALID_SPAN
    with tracer.start_active_span("work") as scope:
        current = trace.get_current_span()
        assert isinstance(current, jaeger_lite.otel.BridgeSpan)
        assert current.jaeger_span is scope.span
        assert current.get_span_context().span_id == scope.span.context.span_id
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_otel_spans_are_parents_of_jaeger_lite_spans(env: Env) -> None:
    """Inside start_as_current_span: start_active_span, @tracer.trace and active_span."""
    otel, tracer, reporter = env

    @tracer.trace("decorated")
    def decorated() -> None:
        pass

    with otel.start_as_current_span("otel-parent") as parent:
        assert tracer.active_span is parent.jaeger_span
        with tracer.start_active_span("jaeger-child"):
            pass
        decorated()
        tracer.start_span("plain").finish()
    parent_id = parent.get_span_context().span_id
    for name in ("jaeger-child", "decorated", "plain"):
        assert parent_of(reporter, name) == parent_id, name


def test_jaeger_lite_spans_are_parents_of_otel_spans(env: Env) -> None:
    """Inside start_active_span: start_as_current_span and start_span."""
    otel, tracer, reporter = env
    with tracer.start_active_span("jaeger-parent") as scope:
        with otel.start_as_current_span("otel-child"):
            with tracer.start_active_span("grandchild"):
                pass
        otel.start_span("otel-plain").end()
    parent_id = scope.span.context.span_id
    assert parent_of(reporter, "otel-child") == parent_id
    assert parent_of(reporter, "otel-plain") == parent_id
    assert parent_of(reporter, "grandchild") == span_id(reporter, "otel-child")


def test_closing_scopes_restores_the_previous_span_in_both_apis(env: Env) -> None:
    """Alternating nesting unwinds to the right span at every level."""
    otel, tracer, _ = env
    with tracer.start_active_span("a") as a:
        with otel.start_as_current_span("b") as b:
            with tracer.start_active_span("c") as c:
                assert trace.get_current_span().jaeger_span is c.span  # type: ignore[attr-defined]
            assert trace.get_current_span() is b
            assert tracer.active_span is b.jaeger_span
        assert tracer.active_span is a.span
        assert trace.get_current_span().jaeger_span is a.span  # type: ignore[attr-defined]
    assert tracer.active_span is None


def test_a_scope_closed_out_of_order_does_nothing(env: Env) -> None:
    """As with jaeger_lite's own scopes: only the active scope can be closed."""
    _, tracer, _ = env
    outer = tracer.start_active_span("outer")
    inner = tracer.start_active_span("inner")
    outer.close()
    assert tracer.active_span is inner.span and outer.span.duration is None
    inner.close()
    outer.close()
    assert tracer.active_span is None and outer.span.duration is not None


def test_asyncio_tasks_inherit_the_active_span_in_both_apis(env: Env) -> None:
    """A task created inside a span sees it through both APIs; its own spans stay in it."""
    otel, tracer, reporter = env

    async def child(name: str) -> tuple[object, object]:
        seen = (tracer.active_span, trace.get_current_span().get_span_context().span_id)
        with otel.start_as_current_span(name):
            await asyncio.sleep(0)
        return seen

    async def main() -> tuple[object, ...]:
        with tracer.start_active_span("request") as scope:
            results = await asyncio.gather(child("t1"), child("t2"))
            return scope.span, results

    root, results = asyncio.run(main())
    for active, current_id in results:
        assert active is root and current_id == root.context.span_id
    assert parent_of(reporter, "t1") == parent_of(reporter, "t2") == root.context.span_id


def test_new_threads_start_with_no_active_span_in_either_api(env: Env) -> None:
    """Without context propagation a thread starts empty for both APIs alike."""
    otel, tracer, _ = env
    seen: list[object] = []

    def run() -> None:
        seen.extend([tracer.active_span, trace.get_current_span()])

    with otel.start_as_current_span("request"):
        thread = threading.Thread(target=run)
        thread.start()
        thread.join(10)
    assert seen == [None, trace.INVALID_SPAN]


def test_copy_context_carries_the_span_to_a_thread_for_both_apis(env: Env) -> None:
    """contextvars.copy_context().run in another thread: both APIs see the span."""
    _, tracer, reporter = env
    seen: list[object] = []

    def run() -> None:
        seen.append(trace.get_current_span().jaeger_span)  # type: ignore[attr-defined]
        with tracer.start_active_span("in-thread"):
            pass

    with tracer.start_active_span("request") as scope:
        copied = contextvars.copy_context()
    thread = threading.Thread(target=copied.run, args=(run,))
    thread.start()
    thread.join(10)
    assert seen == [scope.span]
    assert parent_of(reporter, "in-thread") == scope.span.context.span_id


def test_a_remote_parent_made_current_continues_its_trace(env: Env) -> None:
    """An instrumentation may attach an extracted context: jaeger_lite's API sees a
    stand-in span and continues the remote trace; the stand-in records nothing."""
    otel, tracer, reporter = env
    remote = SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=TraceFlags(1))
    token = otel_context.attach(trace.set_span_in_context(NonRecordingSpan(remote)))
    try:
        stand_in = tracer.active_span
        assert isinstance(stand_in, jaeger_lite.otel.StandInSpan)
        assert stand_in.context.trace_id == 0xABC and stand_in.tracer is tracer
        stand_in.set_tag("ignored", 1)
        stand_in.finish()
        with tracer.start_active_span("jaeger"):
            pass
        with otel.start_as_current_span("otel"):
            pass
    finally:
        otel_context.detach(token)
    assert stand_in.tags == {}
    for name in ("jaeger", "otel"):
        (span,) = [s for s in reporter.spans if s.operation_name == name]
        assert (span.context.trace_id, span.context.parent_id) == (0xABC, 0xDEF), name
        assert span.is_sampled


def test_an_invalid_current_span_is_no_parent(env: Env) -> None:
    """INVALID_SPAN made current (code detaching from a trace): new traces in both APIs."""
    otel, tracer, reporter = env
    with tracer.start_active_span("outer"):
        token = otel_context.attach(trace.set_span_in_context(trace.INVALID_SPAN))
        try:
            assert tracer.active_span is None
            with tracer.start_active_span("jaeger"), otel.start_as_current_span("otel"):
                pass
        finally:
            otel_context.detach(token)
    assert parent_of(reporter, "jaeger") == 0
    assert parent_of(reporter, "otel") == span_id(reporter, "jaeger")


def test_another_tracers_span_activated_here_is_returned_as_it_is(env: Env) -> None:
    """An object that is not our span can still be activated (OpenTracing allows it):
    jaeger_lite's API gets it back; OpenTelemetry sees no valid span."""
    _, tracer, _ = env
    foreign = object()
    with tracer.scope_manager.activate(foreign, finish_on_close=False):
        assert tracer.active_span is foreign
        assert not trace.get_current_span().get_span_context().is_valid
    assert tracer.active_span is None


def test_a_tracer_built_with_the_shared_scope_manager_needs_no_provider() -> None:
    """Tracer(scope_manager=jaeger_lite.otel.ScopeManager()): shared from the start."""
    reporter = InMemoryReporter()
    tracer = Tracer("svc", reporter, scope_manager=jaeger_lite.otel.ScopeManager())
    with tracer.start_active_span("op") as scope:
        assert trace.get_current_span().jaeger_span is scope.span  # type: ignore[attr-defined]

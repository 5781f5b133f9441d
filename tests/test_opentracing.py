"""OpenTracing compatibility: opentracing's own harnesses run against jaeger_lite."""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Optional

import pytest

opentracing = pytest.importorskip("opentracing")
from opentracing.harness.api_check import APICompatibilityCheckMixin  # noqa: E402
from opentracing.harness.scope_check import ScopeCompatibilityCheckMixin  # noqa: E402

import jaeger_lite  # noqa: E402
from jaeger_lite import ContextVarsScopeManager, Span, ThreadLocalScopeManager, Tracer  # noqa: E402
from jaeger_lite.span import TracerSpan  # noqa: E402


def _is_parent(parent: Optional[Span], span: Span) -> bool:
    if parent is None:
        return span.context.parent_id == 0
    return (
        span.context.trace_id == parent.context.trace_id
        and span.context.parent_id == parent.context.span_id
    )


class _SlottedSpanChecks:
    """The harness checks that scopes and ``with span`` finish spans by replacing
    ``span.finish`` on the instance, which needs a ``__dict__``; our spans have
    ``__slots__`` only, so these four read the span's finished state instead."""

    tracer: Callable[[], Tracer]

    def test_start_active_span_not_finish_on_close(self) -> None:
        scope = self.tracer().start_active_span("Fry", finish_on_close=False)
        scope.close()
        assert scope.span.duration is None

    def test_start_active_span_finish_on_close(self) -> None:
        scope = self.tracer().start_active_span("Fry", finish_on_close=True)
        scope.close()
        assert scope.span.duration is not None

    def test_start_active_span_default_finish_on_close(self) -> None:
        scope = self.tracer().start_active_span("Fry")
        scope.close()
        assert scope.span.duration is not None

    def test_span_as_context_manager(self) -> None:
        tracer = self.tracer()
        with tracer.start_span(operation_name="antiquing") as span:
            assert span.duration is None
        assert span.duration is not None
        with pytest.raises(ValueError):
            with tracer.start_span(operation_name="antiquing") as span:
                raise ValueError
        assert span.duration is not None


def test_spans_keep_their_slots_and_pass_isinstance() -> None:
    """opentracing's base classes have no __slots__: ours are not subclassed from them (no
    __dict__, misspelt attributes fail) yet isinstance() with them holds."""
    tracer = Tracer("slots")
    with tracer.start_active_span("op") as scope:
        span = scope.span
        for obj, base in (
            (span, opentracing.Span),
            (span.context, opentracing.SpanContext),
            (scope, opentracing.Scope),
            (tracer.scope_manager, opentracing.ScopeManager),
            (tracer, opentracing.Tracer),
        ):
            assert isinstance(obj, base), base
        for obj in (span, span.context, scope, tracer.scope_manager):
            assert not hasattr(obj, "__dict__"), type(obj)
        with pytest.raises(AttributeError):
            span.operation_nmae = "typo"  # type: ignore[attr-defined]
        assert isinstance(span, Span) and type(span) is TracerSpan


class TestTracerAPI(_SlottedSpanChecks, APICompatibilityCheckMixin):
    """opentracing.harness.api_check against the default (contextvars) tracer."""

    def tracer(self) -> Tracer:
        return Tracer("harness")

    def is_parent(self, parent: Optional[Span], span: Span) -> bool:
        return _is_parent(parent, span)


class TestTracerAPIThreadLocal(_SlottedSpanChecks, APICompatibilityCheckMixin):
    """api_check against a tracer using the thread-local scope manager."""

    def tracer(self) -> Tracer:
        return Tracer("harness", scope_manager=ThreadLocalScopeManager())

    def is_parent(self, parent: Optional[Span], span: Span) -> bool:
        return _is_parent(parent, span)


class TestContextVarsScopeManager(ScopeCompatibilityCheckMixin):
    """scope_check for the contextvars scope manager, run inside an asyncio task."""

    def scope_manager(self) -> ContextVarsScopeManager:
        return ContextVarsScopeManager()

    def run_test(self, test_fn: Callable[[], Any]) -> None:
        async def run() -> None:
            test_fn()

        asyncio.run(run())


class TestContextVarsScopeManagerSync(ScopeCompatibilityCheckMixin):
    """scope_check for the contextvars scope manager in plain threads."""

    def scope_manager(self) -> ContextVarsScopeManager:
        return ContextVarsScopeManager()


class TestThreadLocalScopeManager(ScopeCompatibilityCheckMixin):
    """scope_check for the thread-local scope manager."""

    def scope_manager(self) -> ThreadLocalScopeManager:
        return ThreadLocalScopeManager()


def test_objects_are_instances_of_opentracing_classes() -> None:
    """Tracer, span, context, scope and scope manager subclass opentracing's classes."""
    tracer = Tracer("svc")
    with tracer.start_active_span("op") as scope:
        assert isinstance(tracer, opentracing.Tracer)
        assert isinstance(scope.span, opentracing.Span)
        assert isinstance(scope.span.context, opentracing.SpanContext)
        assert isinstance(scope, opentracing.Scope)
        assert isinstance(tracer.scope_manager, opentracing.ScopeManager)


def test_exceptions_are_opentracing_exceptions() -> None:
    """Our exception types are caught by opentracing's except clauses."""
    with pytest.raises(opentracing.UnsupportedFormatException):
        Tracer("svc").extract("unknown", {})
    assert issubclass(jaeger_lite.InvalidCarrierException, opentracing.InvalidCarrierException)
    assert issubclass(
        jaeger_lite.SpanContextCorruptedException, opentracing.SpanContextCorruptedException
    )


def test_set_global_tracer_also_sets_opentracing_global() -> None:
    """Existing code using opentracing.global_tracer() gets our tracer."""
    tracer = Tracer("svc")
    jaeger_lite.set_global_tracer(tracer)
    assert opentracing.global_tracer() is tracer


def test_opentracing_instrumentation_works_unchanged() -> None:
    """Code written against opentracing's API (start_child_span, Format, tags) works."""
    reporter = jaeger_lite.InMemoryReporter()
    tracer = Tracer("svc", reporter)
    opentracing.set_global_tracer(tracer)
    with opentracing.global_tracer().start_active_span("parent") as scope:
        child = opentracing.start_child_span(scope.span, "child")
        child.set_tag(opentracing.tags.SPAN_KIND, opentracing.tags.SPAN_KIND_RPC_CLIENT)
        headers: dict[str, str] = {}
        opentracing.global_tracer().inject(child.context, opentracing.Format.HTTP_HEADERS, headers)
        child.finish()
    remote = tracer.extract(opentracing.Format.HTTP_HEADERS, headers)
    assert remote is not None and remote.span_id == child.context.span_id
    assert [s.operation_name for s in reporter.spans] == ["child", "parent"]
    assert reporter.spans[0].tags["span.kind"] == "client"


def test_opentracing_references_are_accepted() -> None:
    """opentracing.follows_from/child_of references work with our tracer."""
    tracer = Tracer("svc")
    cause = tracer.start_span("cause")
    span = tracer.start_span("job", references=[opentracing.follows_from(cause.context)])
    assert span.context.trace_id == cause.context.trace_id
    assert span.references[0].type == opentracing.ReferenceType.FOLLOWS_FROM

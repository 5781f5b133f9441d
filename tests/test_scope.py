"""Scope managers: contextvars (threads, asyncio tasks) and thread-local."""

from __future__ import annotations

import asyncio
import contextvars
import threading

from jaeger_lite import ContextVarsScopeManager, ThreadLocalScopeManager, Tracer


def test_contextvars_manager_is_the_default() -> None:
    """A tracer without a scope manager uses contextvars."""
    assert isinstance(Tracer("svc").scope_manager, ContextVarsScopeManager)


def test_closing_restores_the_previous_scope(tracer: Tracer) -> None:
    """Nested scopes unwind to their parents."""
    with tracer.start_active_span("outer") as outer:
        with tracer.start_active_span("inner"):
            pass
        assert tracer.scope_manager.active is outer
    assert tracer.scope_manager.active is None


def test_only_the_active_scope_can_be_closed(tracer: Tracer) -> None:
    """Closing a scope out of order is a no-op; closing in order then works."""
    outer = tracer.start_active_span("outer")
    inner = tracer.start_active_span("inner")
    outer.close()
    assert tracer.scope_manager.active is inner and outer.span.duration is None
    inner.close()
    outer.close()
    assert tracer.scope_manager.active is None and outer.span.duration is not None


def test_close_twice_finishes_once(tracer: Tracer) -> None:
    """A scope closed twice does not disturb the scope active after it."""
    with tracer.start_active_span("outer") as outer:
        inner = tracer.start_active_span("inner")
        inner.close()
        inner.close()
        assert tracer.scope_manager.active is outer


def test_scope_exit_records_errors(tracer: Tracer) -> None:
    """An exception inside `with scope` marks the span."""
    try:
        with tracer.start_active_span("op") as scope:
            raise RuntimeError("x")
    except RuntimeError:
        pass
    assert scope.span.tags["error"] is True


def test_new_threads_do_not_inherit_the_active_span(tracer: Tracer) -> None:
    """A fresh thread starts with no active span (contextvars are per thread)."""
    seen: list[object] = []
    with tracer.start_active_span("main"):
        thread = threading.Thread(target=lambda: seen.append(tracer.active_span))
        thread.start()
        thread.join(5)
    assert seen == [None]


def test_copied_context_carries_the_active_span_into_a_thread(tracer: Tracer) -> None:
    """contextvars.copy_context().run hands the active span to another thread."""
    seen: list[object] = []
    with tracer.start_active_span("main") as scope:
        context = contextvars.copy_context()
        thread = threading.Thread(
            target=context.run, args=(lambda: seen.append(tracer.active_span),)
        )
        thread.start()
        thread.join(5)
    assert seen == [scope.span]


def test_asyncio_tasks_have_independent_active_spans(tracer: Tracer) -> None:
    """Concurrent tasks each see their own span; children parent correctly."""
    results: dict[str, tuple[int, int]] = {}

    async def worker(name: str, started: asyncio.Event, other: asyncio.Event) -> None:
        with tracer.start_active_span(name) as scope:
            started.set()
            await other.wait()  # interleave with the other task
            child = tracer.start_span(name + "-child")
            results[name] = (child.context.parent_id, scope.span.context.span_id)

    async def main() -> None:
        a, b = asyncio.Event(), asyncio.Event()
        await asyncio.gather(worker("a", a, b), worker("b", b, a))

    asyncio.run(main())
    for parent_id, span_id in results.values():
        assert parent_id == span_id
    assert len(results) == 2


def test_tasks_inherit_the_span_active_when_created(tracer: Tracer) -> None:
    """A task created inside a span parents its spans to it."""

    async def child() -> int:
        return tracer.start_span("child").context.parent_id

    async def main() -> tuple[int, int]:
        with tracer.start_active_span("parent") as scope:
            parent_id = await asyncio.create_task(child())
            return parent_id, scope.span.context.span_id

    parent_id, span_id = asyncio.run(main())
    assert parent_id == span_id


def test_scope_closed_in_another_context_restores_the_previous_one(tracer: Tracer) -> None:
    """Closing a scope from a different context does not raise and still unwinds."""
    outer = tracer.start_active_span("outer")
    inner = tracer.start_active_span("inner")
    contextvars.copy_context().run(inner.close)  # reset() would raise ValueError there
    assert inner.span.duration is not None
    inner_context_active = tracer.scope_manager.active
    assert inner_context_active is inner  # our own context was not touched
    outer.close()


def test_thread_local_manager_is_per_thread() -> None:
    """The thread-local manager keeps one active scope per thread."""
    tracer = Tracer("svc", scope_manager=ThreadLocalScopeManager())
    seen: list[object] = []
    with tracer.start_active_span("main") as scope:
        assert tracer.active_span is scope.span
        thread = threading.Thread(target=lambda: seen.append(tracer.active_span))
        thread.start()
        thread.join(5)
        with tracer.start_active_span("child") as child:
            assert child.span.context.parent_id == scope.span.context.span_id
    assert seen == [None]
    assert tracer.active_span is None

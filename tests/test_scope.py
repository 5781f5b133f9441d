"""Scope managers: contextvars (threads, asyncio tasks) and thread-local."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Iterator
from typing import Any, Callable, Optional

import pytest

from jaeger_lite import (
    ContextVarsScopeManager,
    InMemoryReporter,
    Scope,
    ScopeManager,
    ThreadLocalScopeManager,
    Tracer,
)
from jaeger_lite.testing import new_test_tracer


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


@pytest.mark.parametrize(
    "end",
    [
        pytest.param(lambda scope: scope.close(), id="close"),
        pytest.param(lambda scope: scope.__exit__(None, None, None), id="with-exit"),
    ],
)
def test_scope_closed_in_another_context_restores_the_previous_one(
    tracer: Tracer, end: Callable[[Scope], None]
) -> None:
    """Closing a scope from a different context does not raise and still unwinds; here,
    where it was active, the closed scope no longer counts: the one before it does."""
    outer = tracer.start_active_span("outer")
    inner = tracer.start_active_span("inner")
    seen: list[object] = []

    def in_another_context() -> None:
        end(inner)  # reset() would raise ValueError here
        seen.append(tracer.scope_manager.active)

    contextvars.copy_context().run(in_another_context)
    assert inner.span.duration is not None
    assert seen == [outer]  # unwound there to the scope active before inner
    assert tracer.scope_manager.active is outer
    assert tracer.active_span is outer.span
    outer.close()  # the active scope, as far as anyone can see: it closes
    assert outer.span.duration is not None
    assert tracer.scope_manager.active is None


def test_a_copied_context_keeps_a_scope_closed_in_its_own_context_active(tracer: Tracer) -> None:
    """A context copied while a scope was open (a task, copy_context()) keeps that scope
    after it closes where it was opened: active_span, manager.active and the parent of new
    spans all name its (finished) span there, as OpenTelemetry and opentracing's own
    ContextVarsScopeManager do; where it was closed, the scope before it is active."""
    with tracer.start_active_span("outer") as outer:
        with tracer.start_active_span("inner") as inner:
            copied = contextvars.copy_context()
        assert tracer.active_span is outer.span

    def in_the_copy() -> tuple[object, object, int, int]:
        with tracer.start_active_span("late") as late:
            late_parent = late.span.context.parent_id
        child = tracer.start_span("child")
        return tracer.active_span, tracer.scope_manager.active, late_parent, child.parent_id

    active_span, active_scope, late_parent, child_parent = copied.run(in_the_copy)
    assert inner.span.duration is not None  # finished, and still the parent there
    assert active_span is inner.span
    assert active_scope is inner
    assert late_parent == child_parent == inner.span.context.span_id
    assert tracer.active_span is None


def test_a_task_that_outlives_its_scope_keeps_its_span_active(tracer: Tracer) -> None:
    """Fire-and-forget work started inside a span: after the span's block is over, the
    task's active_span and the parent of its spans are still that span."""

    async def background(started: asyncio.Event) -> tuple[object, int]:
        await started.wait()
        with tracer.start_active_span("background") as scope:
            return tracer.active_span, scope.span.context.parent_id

    async def main() -> tuple[object, object, int]:
        started = asyncio.Event()
        with tracer.start_active_span("handler") as handler:
            task = asyncio.create_task(background(started))
        started.set()  # the task runs its body only once the handler's scope is closed
        background_span, parent_id = await asyncio.wait_for(task, 5)
        return handler.span, background_span, parent_id

    handler, background_span, parent_id = asyncio.run(main())
    assert background_span is not handler  # its own span was active inside its block
    assert parent_id == handler.context.span_id


def test_active_span_in_a_task_names_the_parent_of_its_spans(tracer: Tracer) -> None:
    """What active_span says in a task after the spawning scope closed is what the task's
    spans get as parent (they once disagreed: the outer span, against the closed one)."""

    async def background(started: asyncio.Event) -> tuple[Any, int]:
        await started.wait()
        seen = tracer.active_span
        return seen, tracer.start_span("work").parent_id

    async def main() -> tuple[Any, Any, int]:
        started = asyncio.Event()
        with tracer.start_active_span("outer"):
            with tracer.start_active_span("handler") as handler:
                task = asyncio.create_task(background(started))
        started.set()
        seen, parent_id = await asyncio.wait_for(task, 5)
        return handler.span, seen, parent_id

    handler, seen, parent_id = asyncio.run(main())
    assert seen is handler
    assert parent_id == seen.context.span_id


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


class _StackScope(Scope):
    """A user's own scope on the base class: only close() is written."""

    def close(self) -> None:
        manager = self.manager
        assert isinstance(manager, _StackScopeManager)
        if manager.stack and manager.stack[-1] is self:
            manager.stack.pop()
            if self._finish_on_close:
                self.span.finish()


class _StackScopeManager(ScopeManager):
    """A user's own scope manager: a plain stack (one thread)."""

    def __init__(self) -> None:
        self.stack: list[Scope] = []

    def activate(self, span: object, finish_on_close: bool) -> Scope:
        scope = _StackScope(self, span, finish_on_close)
        self.stack.append(scope)
        return scope

    @property
    def active(self) -> Optional[Scope]:
        return self.stack[-1] if self.stack else None


def test_a_scope_manager_of_ones_own_on_the_base_classes() -> None:
    """Scope and ScopeManager subclasses plug into the tracer: parents come from the
    user's manager, ``with`` closes the scope, records the error and finishes the span."""
    reporter = InMemoryReporter()
    manager = _StackScopeManager()
    tracer = Tracer("svc", reporter, scope_manager=manager)

    def traced() -> None:
        with tracer.start_active_span("outer") as outer:
            assert tracer.active_span is outer.span
            with tracer.start_active_span("inner") as inner:
                assert inner.span.context.parent_id == outer.span.context.span_id
            assert manager.active is outer
            raise KeyError(outer)

    with pytest.raises(KeyError) as raised:
        traced()
    outer = raised.value.args[0]
    assert manager.stack == []
    assert [span.operation_name for span in reporter.spans] == ["inner", "outer"]
    assert outer.span.tags["error"] is True


def _generator_holding_a_scope(tracer: Tracer) -> Iterator[int]:
    """What the README warns against: an active scope held across ``yield``."""
    with tracer.start_active_span("in-generator"):
        yield 1
        yield 2


MANAGERS = [ContextVarsScopeManager, ThreadLocalScopeManager]


@pytest.mark.parametrize("manager", MANAGERS, ids=["contextvars", "threadlocal"])
def test_scope_leaked_by_a_suspended_generator_ends_with_its_block(manager: Any) -> None:
    """A generator suspended inside `with start_active_span` leaves its scope active in
    the consumer. When the consumer's own block ends, its span still finishes, the leak
    is counted, and later traces are not children of the leaked span."""
    tracer, reporter = new_test_tracer("svc", scope_manager=manager())
    with tracer.start_active_span("request") as request:
        rows = _generator_holding_a_scope(tracer)
        next(rows)  # suspended inside its with-block: its scope is the active one now
        leaked = tracer.active_span
        assert leaked is not None and leaked.operation_name == "in-generator"
    assert request.span.finish_time is not None  # it used to stay open (close was a no-op)
    assert tracer.active_span is None
    with tracer.start_active_span("later") as later:
        assert later.span.context.parent_id == 0  # a root, not a child of the leak
    assert tracer.metrics["scopes_leaked"] == 1
    rows.close()  # the generator ends: its span finishes; nothing else changes
    assert leaked.finish_time is not None
    assert tracer.active_span is None
    assert tracer.metrics["scopes_leaked"] == 1
    assert sorted(s.operation_name for s in reporter.spans) == [
        "in-generator",
        "later",
        "request",
    ]


@pytest.mark.parametrize("manager", MANAGERS, ids=["contextvars", "threadlocal"])
def test_scope_leaked_and_finalised_elsewhere_never_parents_later_traces(manager: Any) -> None:
    """The leaking generator is finalised on another thread (as the garbage collector may
    do): its span finishes there, the leak is counted, and the scope it left active here
    parents nothing afterwards."""
    tracer, reporter = new_test_tracer("svc", scope_manager=manager())
    rows = _generator_holding_a_scope(tracer)
    next(rows)
    leaked = tracer.active_span
    assert leaked is not None
    closer = threading.Thread(target=rows.close)
    closer.start()
    closer.join(5)
    assert leaked.finish_time is not None
    assert tracer.metrics["scopes_leaked"] == 1
    assert tracer.active_span is None
    assert tracer.scope_manager.active is None
    with tracer.start_active_span("later") as later:
        assert later.span.context.parent_id == 0
    later_span = tracer.start_span("later-too")
    assert later_span.context.parent_id == 0


def test_closing_a_scope_that_is_not_active_is_still_a_no_op(tracer: Tracer) -> None:
    """close() keeps OpenTracing's rule (only the active scope closes); it is the end of
    a `with` block that unwinds a leak."""
    outer = tracer.start_active_span("outer")
    inner = tracer.start_active_span("inner")
    outer.close()
    assert tracer.scope_manager.active is inner
    assert tracer.metrics["scopes_leaked"] == 0
    inner.close()
    outer.close()


def test_executor_workers_start_roots_unless_given_the_context(tracer: Tracer) -> None:
    """As the README says: ThreadPoolExecutor.submit does not carry the active span into
    the worker (its spans are roots), submitting through copy_context().run does, and so
    does asyncio.to_thread."""
    from concurrent.futures import ThreadPoolExecutor

    def parent_id() -> int:
        return tracer.start_span("work").context.parent_id

    async def in_a_thread() -> int:
        return await asyncio.to_thread(parent_id)

    with tracer.start_active_span("request") as scope, ThreadPoolExecutor(1) as pool:
        plain = pool.submit(parent_id).result(timeout=10)
        copied = pool.submit(contextvars.copy_context().run, parent_id).result(timeout=10)
        threaded = asyncio.run(in_a_thread())
    assert plain == 0
    assert copied == threaded == scope.span.context.span_id

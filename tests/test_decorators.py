"""@tracer.trace and @jaeger_lite.trace on functions, methods, coroutines and generators."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Iterator

import pytest

import jaeger_lite
from jaeger_lite import ContextVarsScopeManager, InMemoryReporter, ThreadLocalScopeManager, Tracer
from jaeger_lite.testing import capture_spans


def test_function_runs_in_an_active_span_named_after_it(
    tracer: Tracer, reporter: InMemoryReporter
) -> None:
    """The span is named after __qualname__, is active during the call and is finished."""
    seen = []

    @tracer.trace()
    def work(x: int) -> int:
        seen.append(tracer.active_span)
        return x * 2

    assert work(21) == 42
    (span,) = reporter.spans
    assert span.operation_name.endswith("work")
    assert seen == [span]


def test_decorator_without_parentheses(tracer: Tracer, reporter: InMemoryReporter) -> None:
    """@tracer.trace works as a bare decorator."""

    @tracer.trace
    def work() -> str:
        return "ok"

    assert work() == "ok"
    assert len(reporter.spans) == 1


def test_operation_name_and_tags(tracer: Tracer, reporter: InMemoryReporter) -> None:
    """operation_name and tags are applied to every call's span."""

    @tracer.trace("custom", tags={"component": "test"})
    def work() -> None:
        pass

    work()
    work()
    assert [s.operation_name for s in reporter.spans] == ["custom", "custom"]
    assert all(s.tags["component"] == "test" for s in reporter.spans)


def test_wraps_metadata_is_kept(tracer: Tracer) -> None:
    """functools.wraps keeps name, docstring and signature."""

    @tracer.trace()
    def documented(a: int, b: str = "x") -> str:
        """Docstring."""
        return b * a

    assert documented.__name__ == "documented"
    assert documented.__doc__ == "Docstring."
    assert list(inspect.signature(documented).parameters) == ["a", "b"]


def test_parent_is_the_active_span(tracer: Tracer) -> None:
    """A traced call inside a span is its child."""

    @tracer.trace()
    def inner() -> int:
        return tracer.active_span.context.parent_id  # type: ignore[union-attr]

    with tracer.start_active_span("outer") as scope:
        assert inner() == scope.span.context.span_id


def test_errors_are_recorded_and_reraised(tracer: Tracer, reporter: InMemoryReporter) -> None:
    """The exception propagates unchanged and the span says error=true."""

    @tracer.trace()
    def fail() -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError):
        fail()
    (span,) = reporter.spans
    assert span.tags["error"] is True
    assert span.logs[-1].fields["error.kind"] == "KeyError"


def test_methods_are_traced(tracer: Tracer, reporter: InMemoryReporter) -> None:
    """Decorated methods get self and are named Class.method."""

    class Service:
        @tracer.trace()
        def handle(self, n: int) -> int:
            return n + 1

    assert Service().handle(1) == 2
    assert reporter.spans[0].operation_name.endswith("Service.handle")


def test_coroutine_span_covers_the_awaited_work(tracer: Tracer, reporter: InMemoryReporter) -> None:
    """The span of an async function lasts until the coroutine completes, and spans
    created after an await are its children."""

    @tracer.trace()
    async def handler() -> str:
        await asyncio.sleep(0)
        with tracer.start_active_span("after-await"):
            pass
        return "done"

    assert inspect.iscoroutinefunction(handler)
    assert asyncio.run(handler()) == "done"
    child, outer = reporter.spans
    assert child.operation_name == "after-await"
    assert child.context.parent_id == outer.context.span_id
    assert outer.finish_time >= child.finish_time  # type: ignore[operator]


def test_coroutine_span_starts_when_awaited_not_when_created(
    tracer: Tracer, reporter: InMemoryReporter
) -> None:
    """Creating the coroutine starts nothing; awaiting it does."""

    @tracer.trace()
    async def handler() -> None:
        pass

    coroutine = handler()
    assert tracer.metrics["spans_started"] == 0
    asyncio.run(coroutine)
    assert len(reporter.spans) == 1


def test_coroutine_errors_are_recorded(tracer: Tracer, reporter: InMemoryReporter) -> None:
    """Exceptions from a coroutine are recorded and re-raised."""

    @tracer.trace()
    async def fail() -> None:
        await asyncio.sleep(0)
        raise ValueError("async boom")

    with pytest.raises(ValueError):
        asyncio.run(fail())
    assert reporter.spans[0].tags["error"] is True


def test_generator_span_covers_the_whole_iteration(
    tracer: Tracer, reporter: InMemoryReporter
) -> None:
    """The span starts at the first item and finishes after the last; spans created in
    the body are children, while the consumer between items does not see it as active."""
    consumer_saw = []

    @tracer.trace()
    def numbers() -> Iterator[int]:
        for i in range(3):
            with tracer.start_active_span(f"item-{i}"):
                pass
            yield i

    assert inspect.isgeneratorfunction(numbers)
    gen = numbers()
    assert tracer.metrics["spans_started"] == 0
    values = []
    for value in gen:
        values.append(value)
        consumer_saw.append(tracer.active_span)
    assert values == [0, 1, 2]
    assert consumer_saw == [None, None, None]
    *items, outer = reporter.spans
    assert outer.operation_name.endswith("numbers")
    assert all(s.context.parent_id == outer.context.span_id for s in items)


@pytest.mark.parametrize("manager", [ContextVarsScopeManager, ThreadLocalScopeManager])
def test_a_scope_the_body_holds_across_yield_stays_in_the_body(manager: type) -> None:
    """A ``with start_active_span`` around a ``yield`` in a traced generator (sync and
    async): the consumer between items sees its own span, never the body's nor the
    generator's (the generator's span stayed active in the consumer after the loop), the
    body finds its scope again at the next step, and nothing is counted as leaked."""
    reporter = InMemoryReporter()
    tracer = Tracer("gen", reporter, scope_manager=manager())
    seen: list[object] = []

    @tracer.trace("rows")
    def rows() -> Iterator[int]:
        with tracer.start_active_span("query"):
            yield 1
            seen.append(("body", tracer.active_span))
            yield 2

    @tracer.trace("arows")
    async def arows() -> AsyncIterator[int]:
        with tracer.start_active_span("aquery"):
            yield 1
            await asyncio.sleep(0)
            seen.append(("body", tracer.active_span))
            yield 2

    async def consume_async() -> None:
        with tracer.start_active_span("aconsumer") as scope:
            async for _ in arows():
                seen.append(tracer.active_span is scope.span)  # noqa: PERF401 (in order)
            seen.append(tracer.active_span is scope.span)

    with tracer.start_active_span("consumer") as consumer:
        for _ in rows():
            seen.append(tracer.active_span is consumer.span)  # noqa: PERF401 (in order)
        seen.append(tracer.active_span is consumer.span)
    asyncio.run(consume_async())
    assert tracer.active_span is None
    spans = {span.operation_name: span for span in reporter.spans}
    query, aquery = spans["query"], spans["aquery"]
    assert seen == [True, ("body", query), True, True, True, ("body", aquery), True, True]
    assert query.context.parent_id == spans["rows"].context.span_id
    assert spans["rows"].context.parent_id == spans["consumer"].context.span_id
    assert aquery.context.parent_id == spans["arows"].context.span_id
    assert tracer.metrics["scopes_leaked"] == 0


def test_closing_early_ends_the_bodys_scopes_in_its_own_stack(
    tracer: Tracer, reporter: InMemoryReporter
) -> None:
    """close()/aclose() while the body holds a scope across its yield: the body's with
    block ends where its scope is active, so its span finishes and no leak is counted."""

    @tracer.trace("rows")
    def rows() -> Iterator[int]:
        with tracer.start_active_span("query"):
            yield 1
            yield 2

    @tracer.trace("arows")
    async def arows() -> AsyncIterator[int]:
        with tracer.start_active_span("aquery"):
            yield 1
            yield 2

    async def close_async() -> None:
        agen = arows()
        assert await agen.__anext__() == 1
        await agen.aclose()

    with tracer.start_active_span("consumer") as consumer:
        gen = rows()
        assert next(gen) == 1
        gen.close()
        assert tracer.active_span is consumer.span
    asyncio.run(close_async())
    names = [span.operation_name for span in reporter.spans]
    assert names == ["query", "rows", "consumer", "aquery", "arows"]
    assert tracer.metrics["scopes_leaked"] == 0


def test_generator_return_value_and_send(tracer: Tracer) -> None:
    """send() values and the return value pass through the wrapper."""

    @tracer.trace()
    def echo() -> Iterator[int]:
        received = yield 1
        yield received * 10  # type: ignore[operator]
        return "finished"  # type: ignore[misc]

    def run() -> object:
        gen = echo()
        assert next(gen) == 1
        assert gen.send(4) == 40
        return (yield from gen)

    outer = run()
    with pytest.raises(StopIteration) as stop:
        next(outer)
    assert stop.value.value == "finished"


def test_generator_errors_and_early_close(tracer: Tracer, reporter: InMemoryReporter) -> None:
    """An exception in the body is recorded; closing early finishes without an error."""

    @tracer.trace("failing")
    def failing() -> Iterator[int]:
        yield 1
        raise RuntimeError("gen boom")

    @tracer.trace("closed")
    def endless() -> Iterator[int]:
        while True:
            yield 1

    with pytest.raises(RuntimeError):
        list(failing())
    gen = endless()
    next(gen)
    gen.close()
    spans = {s.operation_name: s for s in reporter.spans}
    assert spans["failing"].tags["error"] is True
    assert "error" not in spans["closed"].tags and spans["closed"].duration is not None


def test_generator_throw_is_forwarded(tracer: Tracer) -> None:
    """An exception thrown into the wrapper reaches the wrapped generator."""

    @tracer.trace()
    def catcher() -> Iterator[str]:
        try:
            yield "first"
        except ValueError:
            yield "caught"

    gen = catcher()
    assert next(gen) == "first"
    assert gen.throw(ValueError("x")) == "caught"


def test_async_generator_span_covers_the_iteration(
    tracer: Tracer, reporter: InMemoryReporter
) -> None:
    """Async generators: span over the whole iteration, children inside, errors kept."""

    @tracer.trace()
    async def ticks() -> AsyncIterator[int]:
        for i in range(2):
            await asyncio.sleep(0)
            with tracer.start_active_span("tick"):
                pass
            yield i

    async def main() -> tuple[list[int], list[object]]:
        values, active = [], []
        async for value in ticks():
            values.append(value)
            active.append(tracer.active_span)
        return values, active

    assert inspect.isasyncgenfunction(ticks)
    values, active = asyncio.run(main())
    assert values == [0, 1] and active == [None, None]
    *children, outer = reporter.spans
    assert all(c.context.parent_id == outer.context.span_id for c in children)


def test_async_generator_errors_are_recorded(tracer: Tracer, reporter: InMemoryReporter) -> None:
    """An exception inside an async generator is recorded and re-raised."""

    @tracer.trace()
    async def broken() -> AsyncIterator[int]:
        yield 1
        raise ValueError("agen boom")

    async def main() -> None:
        async for _ in broken():
            pass

    with pytest.raises(ValueError):
        asyncio.run(main())
    assert reporter.spans[0].tags["error"] is True


def test_global_trace_uses_the_tracer_current_at_call_time() -> None:
    """@jaeger_lite.trace decorates before configuration and uses the global tracer."""

    @jaeger_lite.trace("job")
    def job() -> None:
        pass

    job()  # no global tracer yet: the no-op tracer, nothing recorded anywhere
    with capture_spans() as captured:
        job()
    assert [s.operation_name for s in captured.spans] == ["job"]


def test_decorator_above_classmethod_and_staticmethod(
    tracer: Tracer, reporter: InMemoryReporter
) -> None:
    """@tracer.trace written above @classmethod/@staticmethod traces the function inside
    (a plain wrapper called the classmethod object, or passed self to the static one)."""

    class Service:
        @tracer.trace()
        @classmethod
        def build(cls, n: int) -> tuple[type, int]:
            return cls, n

        @tracer.trace()
        @staticmethod
        def double(n: int) -> int:
            return n * 2

        @tracer.trace()
        @classmethod
        async def fetch(cls) -> type:
            await asyncio.sleep(0)
            return cls

        @tracer.trace  # bare: a classmethod object is not callable, yet no name either
        @classmethod
        def bare(cls) -> type:
            return cls

        @jaeger_lite.trace
        @classmethod
        def global_bare(cls) -> type:
            return cls

    assert Service.bare() is Service
    with capture_spans() as captured:
        assert Service().global_bare() is Service
    assert captured.one(Service.global_bare.__qualname__)
    (bare,) = reporter.spans
    assert bare.operation_name.endswith("Service.bare")
    reporter.clear()
    assert Service.build(1) == (Service, 1)
    assert Service().build(2) == (Service, 2)
    assert Service.double(3) == 6
    assert Service().double(4) == 8
    assert asyncio.run(Service().fetch()) is Service
    assert inspect.iscoroutinefunction(Service.fetch)
    assert [s.operation_name.rsplit(".", 2)[-2:] for s in reporter.spans] == [
        ["Service", "build"],
        ["Service", "build"],
        ["Service", "double"],
        ["Service", "double"],
        ["Service", "fetch"],
    ]


def test_partials_and_callable_objects_are_named_without_an_address(
    tracer: Tracer, reporter: InMemoryReporter
) -> None:
    """The default name of a functools.partial is its function's, of a callable object
    its class's: never a repr, whose address (and a partial's arguments) would make a new
    operation name in every process."""
    import functools

    def add(a: int, b: int) -> int:
        return a + b

    class Handler:
        def __call__(self, x: int) -> int:
            return x

    assert tracer.trace()(functools.partial(add, 1))(2) == 3
    assert tracer.trace()(functools.partial(functools.partial(add), b="secret-token"))(a="x") == (
        "xsecret-token"
    )
    assert tracer.trace()(Handler())(5) == 5
    names = [s.operation_name for s in reporter.spans]
    assert [n.rsplit(".", 1)[-1] for n in names] == ["add", "add", "Handler"]
    assert not any("0x" in n or "secret" in n or "functools" in n for n in names)


def test_decorator_above_property_traces_the_getter(
    tracer: Tracer, reporter: InMemoryReporter
) -> None:
    """@trace above @property (or functools.cached_property) stays a property whose getter
    runs in a span; a setter added later is not traced (it made a method of the property)."""
    import functools

    class Account:
        def __init__(self) -> None:
            self._balance = 0

        @tracer.trace()
        @property
        def balance(self) -> int:
            """The balance."""
            return self._balance

        @balance.setter
        def balance(self, value: int) -> None:
            self._balance = value

        @tracer.trace  # bare: a property object is not callable, yet no name either
        @property
        def bare(self) -> str:
            return "bare"

        @jaeger_lite.trace
        @functools.cached_property
        def cached(self) -> list[int]:
            return [1]

    account = Account()
    account.balance = 5
    assert account.balance == 5 and account.bare == "bare"
    assert isinstance(Account.__dict__["balance"], property)
    assert Account.balance.__doc__ == "The balance."
    assert [s.operation_name.rsplit(".", 2)[-2:] for s in reporter.spans] == [
        ["Account", "balance"],
        ["Account", "bare"],
    ]
    with capture_spans() as captured:
        assert account.cached is account.cached  # computed once, in one span
    assert [s.operation_name.rsplit(".", 1)[-1] for s in captured.spans] == ["cached"]


def test_decorating_what_cannot_be_called_is_a_type_error(tracer: Tracer) -> None:
    """A property without a getter, or any other object that cannot be called, is refused
    when decorated (it became a function that failed, or a decorator, at its first use)."""
    with pytest.raises(TypeError, match="getter"):
        tracer.trace()(property(None, lambda self, v: None))
    with pytest.raises(TypeError, match="int"):
        tracer.trace()(42)  # type: ignore[type-var]
    with pytest.raises(TypeError, match="operation_name"):
        jaeger_lite.trace(42)  # type: ignore[call-overload]


def test_a_function_returning_an_awaitable_is_traced_until_it_returns(
    tracer: Tracer, reporter: InMemoryReporter
) -> None:
    """A plain function that returns a coroutine or a Future: its span covers the call
    that makes the awaitable, not the awaiting, and the awaitable is returned unchanged
    (README: decorate the ``async def`` itself to trace the awaited work)."""

    async def fetch() -> int:
        return 7

    @tracer.trace()
    def start_fetch() -> object:
        return fetch()

    async def main() -> None:
        coro = start_fetch()
        assert inspect.iscoroutine(coro)
        assert len(reporter.spans) == 1  # finished already, before the await
        assert await coro == 7  # type: ignore[misc]

    asyncio.run(main())

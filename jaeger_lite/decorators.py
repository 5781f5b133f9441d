"""``@trace``: run each call of a function in an active span that covers the real work.

Coroutine functions are traced across their awaits, generators and async generators across
their whole iteration (the span is active only while the generator body runs, never in
the consumer between items). Errors are recorded on the span and re-raised unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, Generator, Mapping
from contextvars import Token
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Optional,
    TypeVar,
)

from .scope import ContextVarsScopeManager, Scope, ThreadLocalScopeManager
from .span import record_error

if TYPE_CHECKING:
    from .tracer import Tracer

__all__ = ["is_function", "traced"]

F = TypeVar("F", bound=Callable[..., Any])


def is_function(obj: Any) -> bool:
    """Whether ``@trace`` was used bare, on ``obj``: a callable, or a classmethod,
    staticmethod, property or cached_property object (not callable, nor a name)."""
    return callable(obj) or isinstance(
        obj, (classmethod, staticmethod, property, functools.cached_property)
    )


def traced(
    get_tracer: Callable[[], Tracer],
    operation_name: Optional[str],
    tags: Optional[Mapping[str, Any]],
) -> Callable[[F], F]:
    """Build a decorator; ``get_tracer`` is called per invocation, so decorating at import
    time works before the (global) tracer is configured. A name that is not a str, and
    an object that cannot be called, are refused here rather than failing at first use."""
    if operation_name is not None and not isinstance(operation_name, str):
        raise TypeError(
            f"@trace: operation_name must be a str, got {type(operation_name).__name__}"
        )

    def decorate(func: F) -> F:
        import inspect  # ~4 ms (ast, dis, tokenize): loaded by the first decoration, not at import

        if isinstance(func, (classmethod, staticmethod)):
            # Written above @classmethod/@staticmethod: trace the function inside and wrap
            # it again (a plain wrapper would bind self, or call a classmethod object).
            return type(func)(decorate(func.__func__))
        described: Any = func  # typed F (a callable), yet a descriptor object may come
        if isinstance(described, property):  # the getter is traced; setter, deleter kept
            if described.fget is None:
                raise TypeError("@trace above a property needs one with a getter")
            return described.getter(decorate(described.fget))  # type: ignore[return-value]
        if isinstance(described, functools.cached_property):
            return type(described)(decorate(described.func))  # type: ignore[return-value]
        if not callable(described):
            raise TypeError(f"@trace decorates callables, got {type(described).__name__}")
        name = operation_name or _default_name(func)
        span_tags = dict(tags) if tags else None

        if inspect.isasyncgenfunction(func):

            @functools.wraps(func)
            async def agen_wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
                # An async generator cannot "yield from", so the driving loop lives here
                # (and the wrapper stays an async generator function for introspection).
                tracer = get_tracer()
                agen = func(*args, **kwargs)
                span = tracer.start_span(name, tags=span_tags)
                steps = _Steps(tracer.scope_manager, span)
                send: Any = None
                throw: Optional[BaseException] = None
                try:
                    while True:
                        steps.resume()
                        try:
                            if throw is None:
                                value = await agen.asend(send)
                            else:
                                exc, throw = throw, None
                                value = await agen.athrow(exc)
                        except StopAsyncIteration:
                            return
                        finally:
                            steps.pause()
                        try:
                            send = yield value
                        except GeneratorExit:
                            steps.resume()  # the body's with blocks end in its own stack
                            try:
                                await agen.aclose()
                            finally:
                                steps.pause()
                            raise
                        except BaseException as exc:  # thrown in by the consumer: forward it
                            throw = exc
                except BaseException as exc:
                    record_error(span, exc, exc.__traceback__)
                    raise
                finally:
                    steps.end()
                    span.finish()

            return agen_wrapper  # type: ignore[return-value]

        if inspect.isgeneratorfunction(func):

            @functools.wraps(func)
            def gen_wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
                return (yield from _trace_gen(get_tracer(), name, span_tags, func(*args, **kwargs)))

            return gen_wrapper  # type: ignore[return-value]

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def coro_wrapper(*args: Any, **kwargs: Any) -> Any:
                with get_tracer().start_active_span(name, tags=span_tags):
                    return await func(*args, **kwargs)

            return coro_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with get_tracer().start_active_span(name, tags=span_tags):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def _default_name(func: Any) -> str:
    """The function's ``__qualname__``; for a ``functools.partial`` that of the function
    it wraps, for a callable object its class's: never a repr, whose address (and a
    partial's arguments) would make a new operation name in every process."""
    for _ in range(100):  # partials of partials are flattened; a loop bound all the same
        if not isinstance(func, functools.partial):
            break
        func = func.func
    name = getattr(func, "__qualname__", None)
    if name.__class__ is not str or not name:
        name = getattr(type(func), "__qualname__", None)
    return name if name.__class__ is str and name else "<callable>"


def _trace_gen(
    tracer: Tracer, name: str, tags: Optional[Mapping[str, Any]], gen: Generator[Any, Any, Any]
) -> Generator[Any, Any, Any]:
    """Drive ``gen`` step by step, activating the span only while its body runs."""
    span = tracer.start_span(name, tags=tags)
    steps = _Steps(tracer.scope_manager, span)
    send: Any = None
    throw: Optional[BaseException] = None
    try:
        while True:
            steps.resume()
            try:
                if throw is None:
                    value = gen.send(send)
                else:
                    exc, throw = throw, None
                    value = gen.throw(exc)
            except StopIteration as stop:
                return stop.value
            finally:
                steps.pause()
            try:
                send = yield value
            except GeneratorExit:
                steps.resume()  # the body's with blocks end in its own stack
                try:
                    gen.close()
                finally:
                    steps.pause()
                raise
            except BaseException as exc:  # thrown in by the consumer: forward it
                throw = exc
    except BaseException as exc:
        record_error(span, exc, exc.__traceback__)
        raise
    finally:
        steps.end()
        span.finish()


class _Steps:
    """A traced generator's own stack of active scopes: its span's scope and whatever the
    body leaves open across a ``yield`` (``with start_active_span(...)`` around it). The
    stack is active while a step of the body runs and set aside between steps, the
    consumer's own scope restored exactly: nothing of the body's leaks into the consumer,
    and the body finds its scopes again at the next step. Under a scope manager not of
    this package, the span is activated for each step and its scope closed after it."""

    __slots__ = ("_manager", "_saved", "_top", "scope")

    def __init__(self, manager: Any, span: Any) -> None:
        self._manager = manager
        self.scope: Scope = manager.activate(span, False)
        self._top: Optional[Scope] = self.scope
        self._saved: Any = None
        self._set_aside(self.scope)

    def _set_aside(self, scope: Scope) -> None:
        """Right after ``activate``: restore what was active before it."""
        manager = self._manager
        if isinstance(manager, ContextVarsScopeManager):  # by value: the token stays the
            manager._var.set(scope._previous_scope())  # scope's, should the body close it
        elif isinstance(manager, ThreadLocalScopeManager):
            manager._local.active = scope._previous_scope()
        else:
            scope.close()

    def resume(self) -> None:
        manager = self._manager
        if isinstance(manager, ContextVarsScopeManager):
            self._saved = manager._var.set(self._top)
        elif isinstance(manager, ThreadLocalScopeManager):
            self._saved = getattr(manager._local, "active", None)
            manager._local.active = self._top
        else:
            self.scope = manager.activate(self.scope.span, False)

    def pause(self) -> None:
        manager = self._manager
        if isinstance(manager, ContextVarsScopeManager):
            var = manager._var
            self._top = var.get()
            try:
                var.reset(self._saved)
            except ValueError:  # the body switched contexts (it cannot): restore by value
                old = self._saved.old_value
                var.set(None if old is Token.MISSING else old)
        elif isinstance(manager, ThreadLocalScopeManager):
            self._top = getattr(manager._local, "active", None)
            manager._local.active = self._saved
        else:
            self.scope.close()

    def end(self) -> None:
        """The body is over: its scope is closed wherever a context still holds it."""
        if isinstance(self._manager, (ContextVarsScopeManager, ThreadLocalScopeManager)):
            self.scope._closed = True
        self._top = None

"""Scope managers: which span is active in the current thread or asyncio task."""

from __future__ import annotations

import threading
from contextvars import ContextVar, Token
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Optional

from ._opentracing import opentracing_class
from .span import record_error

__all__ = ["ContextVarsScopeManager", "Scope", "ScopeManager", "ThreadLocalScopeManager"]

_new = object.__new__


class Scope:
    """The active period of a span; closing it restores the previously active scope."""

    # ``span`` is a plain slot rather than a property: ``scope.span`` is on every traced
    # call's path, and a slot read costs no function call. Treat it as read-only.
    __slots__ = ("_manager", "span", "_finish_on_close", "_closed")
    if not TYPE_CHECKING:
        __class__ = opentracing_class("Scope")  # isinstance(scope, opentracing.Scope)

    def __init__(self, manager: ScopeManager, span: Any, finish_on_close: bool) -> None:
        self._manager = manager
        self.span = span
        self._finish_on_close = finish_on_close
        self._closed = False

    @property
    def manager(self) -> ScopeManager:
        return self._manager

    def close(self) -> None:
        """Deactivate (only the active scope can be closed) and finish if asked to."""
        raise NotImplementedError

    def __enter__(self) -> Scope:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc_val: Optional[BaseException],
        exc_tb: Optional[TracebackType],
    ) -> None:
        if exc_val is not None:
            record_error(self.span, exc_val, exc_tb)
        self.close()


class ScopeManager:
    """Base class: ``activate(span, finish_on_close)`` and the ``active`` scope."""

    __slots__ = ()
    if not TYPE_CHECKING:
        __class__ = opentracing_class("ScopeManager")

    def activate(self, span: Any, finish_on_close: bool) -> Scope:
        raise NotImplementedError

    @property
    def active(self) -> Optional[Scope]:
        raise NotImplementedError

    def active_getter(self) -> Callable[[], Optional[Scope]]:
        """A function returning ``active``, as fast as the manager can make it: the tracer
        calls it for every span it starts. The default reads the property."""
        return lambda: self.active


class _ContextVarScope(Scope):
    """Made by :meth:`ContextVarsScopeManager.activate` only."""

    __slots__ = ("_token",)
    _token: Token[Optional[Scope]]

    def close(self) -> None:
        var = self._manager._var  # type: ignore[attr-defined]
        if self._closed or var.get() is not self:
            return
        self._closed = True
        try:
            var.reset(self._token)
        except ValueError:  # closed in another context (e.g. another task): restore by value
            previous = self._token.old_value
            var.set(None if previous is Token.MISSING else previous)
        if self._finish_on_close:
            self.span.finish()

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc_val: Optional[BaseException],
        exc_tb: Optional[TracebackType],
    ) -> None:
        # close() inlined: this runs once per traced call, and a frame costs ~50 ns.
        if exc_val is not None:
            record_error(self.span, exc_val, exc_tb)
        var = self._manager._var  # type: ignore[attr-defined]
        if self._closed or var.get() is not self:
            return
        self._closed = True
        try:
            var.reset(self._token)
        except ValueError:
            previous = self._token.old_value
            var.set(None if previous is Token.MISSING else previous)
        if self._finish_on_close:
            self.span.finish()


class ContextVarsScopeManager(ScopeManager):
    """Default manager: the active scope lives in a ``ContextVar``, so it is correct per
    thread and per asyncio task, and new tasks inherit their creator's active span."""

    __slots__ = ("_var",)

    def __init__(self) -> None:
        self._var: ContextVar[Optional[Scope]] = ContextVar("jaeger_lite_scope", default=None)

    def activate(self, span: Any, finish_on_close: bool) -> Scope:
        # Built here, not by an __init__: a class call runs __init__ in a nested C-level
        # frame, a cost every start_active_span would pay.
        scope: _ContextVarScope = _new(_ContextVarScope)
        scope._manager = self
        scope.span = span
        scope._finish_on_close = finish_on_close
        scope._closed = False
        scope._token = self._var.set(scope)
        return scope

    @property
    def active(self) -> Optional[Scope]:
        return self._var.get()

    def active_getter(self) -> Callable[[], Optional[Scope]]:
        return self._var.get  # the C method itself: the fastest lookup there is


class _ThreadLocalScope(Scope):
    """Made by :meth:`ThreadLocalScopeManager.activate` only."""

    __slots__ = ("_previous",)
    _previous: Optional[Scope]

    def close(self) -> None:
        local = self._manager._local  # type: ignore[attr-defined]
        if self._closed or getattr(local, "active", None) is not self:
            return
        self._closed = True
        local.active = self._previous
        if self._finish_on_close:
            self.span.finish()


class ThreadLocalScopeManager(ScopeManager):
    """Keeps the active scope per thread; for code that must not share it with asyncio
    tasks or ``contextvars.copy_context()`` callbacks."""

    __slots__ = ("_local",)

    def __init__(self) -> None:
        self._local = threading.local()

    def activate(self, span: Any, finish_on_close: bool) -> Scope:
        scope: _ThreadLocalScope = _new(_ThreadLocalScope)  # as in ContextVarsScopeManager
        scope._manager = self
        scope.span = span
        scope._finish_on_close = finish_on_close
        scope._closed = False
        local = self._local
        scope._previous = getattr(local, "active", None)
        local.active = scope
        return scope

    @property
    def active(self) -> Optional[Scope]:
        return getattr(self._local, "active", None)

    def active_getter(self) -> Callable[[], Optional[Scope]]:
        local = self._local
        return lambda: getattr(local, "active", None)


def active_scope_getter(manager: Any) -> Callable[[], Optional[Scope]]:
    """The fastest way to read ``manager.active`` (the tracer calls it for every span): the
    manager's own :meth:`ScopeManager.active_getter`, or the property of a foreign one."""
    if isinstance(manager, ScopeManager):
        return manager.active_getter()
    return lambda: manager.active

"""Scope managers: which span is active in the current thread or asyncio task.

**Leaks.** Generators run in their caller's context, so a generator suspended inside
``with tracer.start_active_span(...)`` leaves its scope active in the code that iterates
it. Three rules contain that (README, "Scopes, threads and asyncio"):

* the end of a ``with`` block whose scope is not the active one unwinds to what was active
  before it (the scopes above it were leaked: counted) and finishes its span; an explicit
  ``close()`` of a scope that is not active stays a no-op, as OpenTracing specifies;
* a scope whose ``with`` block ends where it is not active at all (a leaking generator
  finalised on another thread) finishes its span, is counted, and from then on carries
  the span of the last open scope before it (or None), so the context that still holds
  it parents no later trace under the leaked span: the tracer's lookups need no check;
* ``manager.active`` skips a leaked scope for the last open one before it, which carries
  the same span. A scope closed the ordinary way in another context stays active in a
  context copied while it was open (an asyncio task, ``copy_context()``): its finished
  span is what ``tracer.active_span`` returns there and what spans started there get as
  parent, as in OpenTelemetry and opentracing's own ``ContextVarsScopeManager``.

``scopes_leaked`` (in ``tracer.metrics``) counts each leaked scope once.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar, Token
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Optional

from ._metrics import Counter
from ._opentracing import opentracing_class
from .span import record_error

__all__ = [
    "ContextVarsScopeManager",
    "Scope",
    "ScopeManager",
    "ThreadLocalScopeManager",
    "CLOSED_ELSEWHERE",
    "held_scope",
    "live_scope",
]

_new = object.__new__
_MAX_DEPTH = 10_000  # scopes walked at most when unwinding a leak (chains are short)
#: ``Scope._closed`` of a scope closed outside the context that activated it (truthy).
CLOSED_ELSEWHERE = 2


class Scope:
    """The active period of a span; closing it restores the previously active scope."""

    # ``span`` is a plain slot rather than a property: ``scope.span`` is on every traced
    # call's path, and a slot read costs no function call. Treat it as read-only.
    # ``_closed``: False while open, True once closed, None once unwound as leaked (by
    # the end of an enclosing block) and not closed yet, CLOSED_ELSEWHERE once closed in a
    # context other than the one that activated it (which still holds it: see held_scope).
    __slots__ = ("_manager", "span", "_finish_on_close", "_closed")
    _closed: Optional[int]
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

    # -- leaks (see the module docstring) -------------------------------------------------

    def _previous_scope(self) -> Optional[Scope]:
        """The scope that was active when this one was activated."""
        raise NotImplementedError

    def _restore_previous(self) -> None:
        """Make the scope active before this one the active one again, here."""
        raise NotImplementedError

    def _is_live_active(self) -> bool:
        """Whether this open scope is the active one once closed scopes left above it
        (by a leak closed elsewhere) are skipped, as ``manager.active`` answers."""
        manager: Any = self._manager
        return self._closed is False and live_scope(manager._raw_active()) is self

    def _end_out_of_order(self) -> None:
        """The end of this scope's ``with`` block while another scope is active here, or
        while this one is not active here at all: the block is over either way."""
        if self._closed:
            return
        manager: Any = self._manager
        above: list[Scope] = []
        scope = manager._raw_active()
        for _ in range(_MAX_DEPTH):
            if scope is None or scope is self:
                break
            above.append(scope)
            scope = scope._previous_scope()
        if scope is self:  # the scopes above it were left active inside its block
            for leaked in above:
                if leaked._closed is False:
                    leaked._closed = None
                    manager._leaked.inc()
            self._closed = True
            self._restore_previous()
            if self._finish_on_close:
                self.span.finish()
            return
        # Left active in another context (its generator finalised elsewhere): leaked
        # itself. That context still holds this scope and may start spans under it, so
        # once its span is finished the scope points at the span of the last open scope
        # before it (None: no parent). Lookups then need no check of their own: the hot
        # path stays as it was. No code of the block reads ``span`` after this: its with
        # statement is over (a generator being closed runs nothing after it).
        if self._closed is False:
            manager._leaked.inc()
        self._closed = CLOSED_ELSEWHERE
        if self._finish_on_close:
            self.span.finish()
        live = live_scope(self._previous_scope())
        self.span = None if live is None else live.span


def held_scope(scope: Optional[Scope]) -> Optional[Scope]:
    """What ``manager.active`` answers for the scope this context holds: the scope itself
    while open, and once closed where it was activated (this context is a copy: a task);
    the last open scope before it when it was closed in another context or leaked."""
    if scope is None or scope._closed is not CLOSED_ELSEWHERE:
        return scope
    return live_scope(scope)


def live_scope(scope: Optional[Scope]) -> Optional[Scope]:
    """``scope``, or when it is closed (a leaked scope closed in another context) the
    last scope before it that is still open: a closed scope is never active."""
    for _ in range(_MAX_DEPTH):
        if scope is None or not scope._closed:
            return scope
        scope = scope._previous_scope()
    return None


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

    def leaked_scopes(self) -> int:
        """Scopes leaked so far (see the module docstring); 0 for managers that do not
        track them."""
        return 0

    def active_getter(self) -> Callable[[], Any]:
        """A function returning the active scope as fast as the manager can make it (the
        tracer calls it for every span it starts): an object with ``span`` and ``_closed``,
        or None. The default reads ``active`` and wraps what it finds, so scopes of one's
        own need no ``_closed``."""

        def found() -> Optional[_Found]:
            scope = self.active
            return None if scope is None else _Found(scope.span)

        return found


class _ContextVarScope(Scope):
    """Made by :meth:`ContextVarsScopeManager.activate` only."""

    __slots__ = ("_token",)
    _token: Token[Optional[Scope]]

    def close(self) -> None:
        var = self._manager._var  # type: ignore[attr-defined]
        if (self._closed or var.get() is not self) and not self._is_live_active():
            return
        self._closed = True
        self._restore_previous()
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
            self._end_out_of_order()  # a leak: never on the common path
            return
        self._closed = True
        try:
            var.reset(self._token)
        except ValueError:  # closed in a context other than its own, which still holds it
            self._closed = CLOSED_ELSEWHERE
            previous = self._token.old_value
            var.set(None if previous is Token.MISSING else previous)
        if self._finish_on_close:
            self.span.finish()

    def _previous_scope(self) -> Optional[Scope]:
        previous = self._token.old_value
        return None if previous is Token.MISSING else previous

    def _restore_previous(self) -> None:
        var = self._manager._var  # type: ignore[attr-defined]
        try:
            var.reset(self._token)
        except ValueError:  # closed in another context (e.g. another task): restore by value
            self._closed = CLOSED_ELSEWHERE
            var.set(self._previous_scope())


class ContextVarsScopeManager(ScopeManager):
    """Default manager: the active scope lives in a ``ContextVar``, so it is correct per
    thread and per asyncio task, and new tasks inherit their creator's active span."""

    __slots__ = ("_var", "_leaked")

    def __init__(self) -> None:
        self._var: ContextVar[Optional[Scope]] = ContextVar("jaeger_lite_scope", default=None)
        self._leaked = Counter()

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
        scope = self._var.get()
        return scope if scope is None or not scope._closed else held_scope(scope)

    def leaked_scopes(self) -> int:
        return self._leaked.value

    def _raw_active(self) -> Optional[Scope]:
        return self._var.get()

    def active_getter(self) -> Callable[[], Optional[Scope]]:
        return self._var.get  # the C method itself: the fastest lookup there is


class _ThreadLocalScope(Scope):
    """Made by :meth:`ThreadLocalScopeManager.activate` only."""

    __slots__ = ("_previous",)
    _previous: Optional[Scope]

    def close(self) -> None:
        local = self._manager._local  # type: ignore[attr-defined]
        if (
            self._closed or getattr(local, "active", None) is not self
        ) and not self._is_live_active():
            return
        self._closed = True
        local.active = self._previous
        if self._finish_on_close:
            self.span.finish()

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc_val: Optional[BaseException],
        exc_tb: Optional[TracebackType],
    ) -> None:
        if exc_val is not None:
            record_error(self.span, exc_val, exc_tb)
        local = self._manager._local  # type: ignore[attr-defined]
        if self._closed or getattr(local, "active", None) is not self:
            self._end_out_of_order()  # a leak: never on the common path
            return
        self.close()

    def _previous_scope(self) -> Optional[Scope]:
        return self._previous

    def _restore_previous(self) -> None:
        self._manager._local.active = self._previous  # type: ignore[attr-defined]


class ThreadLocalScopeManager(ScopeManager):
    """Keeps the active scope per thread; for code that must not share it with asyncio
    tasks or ``contextvars.copy_context()`` callbacks."""

    __slots__ = ("_local", "_leaked")

    def __init__(self) -> None:
        self._local = threading.local()
        self._leaked = Counter()

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
        scope = getattr(self._local, "active", None)
        return scope if scope is None or not scope._closed else held_scope(scope)

    def leaked_scopes(self) -> int:
        return self._leaked.value

    def _raw_active(self) -> Optional[Scope]:
        return getattr(self._local, "active", None)

    def active_getter(self) -> Callable[[], Optional[Scope]]:
        local = self._local
        return lambda: getattr(local, "active", None)


class _Found:
    """What the tracer's lookup returns for a scope of a foreign manager: its span, and
    ``_closed`` False (foreign scopes follow their own rules)."""

    __slots__ = ("span",)
    _closed = False

    def __init__(self, span: Any) -> None:
        self.span = span


def active_scope_getter(manager: Any) -> Callable[[], Any]:
    """The fastest way to read the active scope of ``manager`` (the tracer calls it for
    every span): the manager's own :meth:`ScopeManager.active_getter`, or for a manager
    not built on our base class its ``active`` property, wrapped. A scope's ``span`` is
    the parent of what starts under it, closed or not (see the module docstring)."""
    if isinstance(manager, ScopeManager):
        return manager.active_getter()

    def foreign() -> Optional[_Found]:
        scope = manager.active
        return None if scope is None else _Found(scope.span)

    return foreign

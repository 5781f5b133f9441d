"""The scope ``Tracer.start_active_span`` makes under the default scope manager: one that
holds the tracer's own :class:`~jaeger_lite.Span`, so its end can finish the span inline."""

from __future__ import annotations

from contextvars import Token
from types import TracebackType
from typing import Optional

from .scope import CLOSED_ELSEWHERE, _ContextVarScope
from .span import Span, record_error, report_failed

__all__ = ["KeptSpanScope", "SpanScope"]


class SpanScope(_ContextVarScope):
    """A :class:`ContextVarsScopeManager` scope around a span the tracer built (never a
    foreign span, so no type check): ``__exit__`` is ``_ContextVarScope.__exit__`` with
    ``Span.finish()`` inlined (keep all three in step): a Python call fewer on every traced
    call, and no type check (with the inlined activate, ~1,250 instructions; callgrind)."""

    __slots__ = ()
    span: Span
    # The tracer makes these with a class call and slot writes: with object's own
    # __init__ that is ~300 instructions cheaper than object.__new__(SpanScope) (callgrind).
    __init__ = object.__init__
    # finish_on_close=False makes a KeptSpanScope instead: this class never writes the
    # slot nor tests it at the block's end (~100 instructions a span; callgrind). Read
    # only on the rare paths (close(), a leak), where the class attribute answers.
    _finish_on_close = True

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc_val: Optional[BaseException],
        exc_tb: Optional[TracebackType],
    ) -> None:
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
        span = self.span
        try:
            del span._unfinished  # the claim, as in Span.finish
        except AttributeError:
            return
        owner = span._owner
        # The end time is read with the count, after the claim, as in Span.finish.
        if span._recording:
            span._recording = False
            duration = next(owner.sampled_clock) - span._start_ns
            span._duration_ns = duration if duration > 0 else 0
            inbox = owner.inbox  # as in Span.finish
            if inbox is not None and len(inbox) < inbox.room:
                inbox.append(span)
                return
            report = owner.report  # read, then called: see Span.finish
            if report is not None:
                try:
                    report(span)
                except Exception:  # a reporter's bug must not escape into user code
                    report_failed(owner)
        else:
            duration = next(owner.unsampled_clock) - span._start_ns
            span._duration_ns = duration if duration > 0 else 0


class KeptSpanScope(_ContextVarScope):
    """What ``start_active_span(..., finish_on_close=False)`` makes under the default
    manager: built as SpanScope is, ended by ``_ContextVarScope.__exit__``, which leaves
    the span open (``_finish_on_close`` is False here)."""

    __slots__ = ()
    __init__ = object.__init__  # as in SpanScope
    _finish_on_close = False  # as in SpanScope: never written

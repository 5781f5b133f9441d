"""``Tracer``: starts spans, activates them, and injects/extracts their contexts."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from itertools import starmap
from time import time_ns
from typing import Any, Callable, Optional, TypeVar, Union, overload

from . import _lifecycle  # also installs the fork and exit hooks
from ._baggage import BaggageLimits
from ._client_compat import client_tracer_keywords
from ._ids import MAX_ID, getrandbits, new_id
from ._log import LOG as _log
from ._metrics import Counter
from ._opentracing import TracerBase
from ._references import resolve_references
from ._safe import safe_str
from ._span_extras import inherit
from ._span_factory import DISCARD, SpanInbox, SpanOwner, max_logs_limit, new_span
from ._span_scope import KeptSpanScope, SpanScope
from ._span_start import SpanStarts
from ._tracer_lifecycle import TracerLifecycle
from ._values import normalize_value, seconds_to_ns
from .context import FLAG_SAMPLED, Reference, SpanContext
from .decorators import is_function, traced
from .propagation.base import Codec
from .propagation.registry import CodecRegistry
from .reporting.base import Reporter, as_reporter
from .reporting.simple import NullReporter
from .sampling.base import Sampler, as_sampler
from .sampling.local import ConstSampler
from .scope import (
    CLOSED_ELSEWHERE,
    ContextVarsScopeManager,
    Scope,
    ScopeManager,
    active_scope_getter,
    live_scope,
)
from .span import Span, TracerSpan

__all__ = ["Tracer"]


F = TypeVar("F", bound=Callable[..., Any])

DEBUG_ID_TAG = "jaeger-debug-id"


class Tracer(CodecRegistry, SpanStarts, TracerLifecycle, TracerBase):
    """Creates spans and moves their contexts across process boundaries.

    Without a ``reporter`` finished spans go nowhere (:class:`NullReporter`); without a
    ``sampler`` every trace is sampled (:class:`ConstSampler` ``(True)``).
    :func:`jaeger_lite.init_tracer` builds a tracer wired to a Jaeger agent or collector.

    ``propagation`` names the header formats of TEXT_MAP and HTTP_HEADERS: one of
    ``"jaeger"``, ``"b3"``, ``"b3-single"``, ``"w3c"``, a comma-separated string or a list
    of them (inject writes all, extract takes the first context found); ``codecs`` then
    replaces the codec of any format. ``strict_extract=True`` makes extract raise
    SpanContextCorruptedException for a present but malformed ``uber-trace-id`` (the only
    case that raises). Baggage is limited to ``baggage_max_items`` items, values of
    ``baggage_max_value_length`` characters and ``baggage_max_bytes`` UTF-8 bytes of keys
    and values in all, both when set and when extracted; drops are counted in
    ``metrics["baggage_dropped"]``. ``jaeger_headers`` renames the Jaeger headers (see
    :func:`~jaeger_lite.codecs_for_propagation`). Tag and log values are cut at
    ``max_tag_value_length`` characters, error stack traces at ``max_traceback_length``
    (keeping the innermost frames). A span keeps ``max_logs_per_span`` logs (None: all);
    later ones are dropped and counted in ``metrics["span_logs_dropped"]``. jaeger-client's
    own keywords (``generate_128bit_trace_id``, ``extra_codecs``, the header names,
    ``metrics_factory``, ...) are accepted too.
    """

    def __init__(
        self,
        service_name: str,
        reporter: Optional[Any] = None,
        sampler: Optional[Any] = None,
        *,
        tags: Optional[Mapping[str, Any]] = None,
        scope_manager: Optional[ScopeManager] = None,
        max_tag_value_length: int = 1024,
        trace_id_128bit: bool = False,
        codecs: Optional[Mapping[str, Codec]] = None,
        propagation: Union[str, Iterable[str]] = "jaeger",
        strict_extract: bool = False,
        baggage_max_items: int = 64,
        baggage_max_value_length: int = 2048,
        baggage_max_bytes: int = 8192,
        max_traceback_length: int = 4096,
        max_logs_per_span: Optional[int] = 1000,
        jaeger_headers: Optional[Mapping[str, str]] = None,
        **jaeger_client_keywords: Any,
    ) -> None:
        if jaeger_client_keywords:  # code written for jaeger-client's Tracer (see there)
            trace_id_128bit, codecs, jaeger_headers = client_tracer_keywords(
                jaeger_client_keywords, trace_id_128bit, codecs, jaeger_headers
            )
        if not isinstance(service_name, str) or not service_name.strip():
            raise ValueError("service_name must be a non-empty string")
        self.service_name = service_name
        max_tag_value_length = int(max_tag_value_length)
        # Process tags follow the tag value rules (they go into every batch).
        self.tags: Mapping[str, Any] = {
            key if key.__class__ is str else safe_str(key): normalize_value(
                value, max_tag_value_length
            )
            for key, value in (tags or {}).items()
        }
        # The objects given, for the properties; the base-class views, for our calls.
        self._given_reporter = reporter if reporter is not None else NullReporter()
        self._given_sampler = sampler if sampler is not None else ConstSampler(True)
        self._reporter: Reporter = as_reporter(self._given_reporter)
        self._sampler: Sampler = as_sampler(self._given_sampler)
        # A ConstSampler's answer never changes (it is made once, in its __init__): read
        # here, not asked for on each root span: a Python call fewer, ~500 instructions a
        # root span (callgrind, 3.11; a ProbabilisticSampler or a remote one is still asked).
        self._fixed_decision: Optional[tuple[bool, Optional[Mapping[str, Any]]]] = (
            self._sampler._result if type(self._sampler) is ConstSampler else None
        )
        self._scope_manager: ScopeManager = scope_manager or ContextVarsScopeManager()
        self._set_scope_manager(self._scope_manager)
        self._trace_id_bits = 128 if trace_id_128bit else 64
        self._wide_trace_ids = self._trace_id_bits == 128  # start_active_span's test
        self._baggage_dropped = Counter()
        self._baggage_limits = BaggageLimits(
            baggage_max_items, baggage_max_value_length, baggage_max_bytes, self._baggage_dropped
        )
        self._set_up_propagation(
            propagation,
            strict=strict_extract,
            limits=self._baggage_limits,
            jaeger_headers=jaeger_headers,
            codecs=codecs,
        )
        self._closed = False
        self._close_lock = threading.RLock()  # a signal handler may close during close

        self._owner = SpanOwner(
            self,
            self._reporter.report_span,
            max_tag_value_length=max_tag_value_length,
            max_traceback_length=int(max_traceback_length),
            baggage_limits=self._baggage_limits,
            max_logs=max_logs_limit(max_logs_per_span),
        )
        try:
            inbox = self._reporter.span_inbox()
        except Exception:  # a user reporter's bug: report_span it is
            inbox = None
        if inbox is DISCARD:
            self._owner.report = None
        elif isinstance(inbox, SpanInbox):
            self._owner.inbox = inbox
        self._started = Counter()
        # next() on it counts a start: ~250 instructions cheaper than inc() (see Counter).
        self._started_ticks = self._started.ticks
        # A clock that counts (see Counter): start_active_span's start time and count.
        self._started_clock = starmap(time_ns, self._started_ticks)
        self._sampler_errors = Counter()
        self._fork_base: dict[str, int] = {}  # the counts a forked child started from
        _lifecycle.track_tracer(self)
        self._reporter.set_process(service_name, self.tags)

    # -- spans ------------------------------------------------------------------------

    def start_span(
        self,
        operation_name: Optional[str] = None,
        child_of: Union[Span, SpanContext, None] = None,
        references: Optional[Sequence[Reference]] = None,
        tags: Optional[Mapping[str, Any]] = None,
        start_time: Optional[float] = None,
        ignore_active_span: bool = False,
    ) -> Span:
        """Start a span. Its parent is ``child_of``, else the first ChildOf in
        ``references`` (a FollowsFrom-only span continues that trace without a parent id),
        else the active span unless ``ignore_active_span``; otherwise it is a new root."""
        if operation_name.__class__ is not str:
            operation_name = "" if operation_name is None else safe_str(operation_name)
        start_ns = time_ns() if start_time is None else seconds_to_ns(start_time)
        refs: tuple[Reference, ...] = ()
        parent: Any = None
        is_child = True
        if child_of is not None or references:
            parent, refs, is_child = resolve_references(child_of, references)
        elif not ignore_active_span:
            scope = self._active_scope()
            if scope is not None:
                parent = scope.span

        if type(parent) is TracerSpan:  # the common case: a local child inherits the decision
            span = new_span(
                self._owner,
                operation_name,
                parent._trace_id,
                getrandbits(64) or 1,
                parent._span_id if is_child else 0,
                parent._flags,
                parent._baggage,
                parent._trace_state,
                refs,
                start_ns,
            )
        elif parent is None:  # a new trace
            span = self._new_trace(operation_name, refs, start_ns)
        else:
            span = self._start_from_context(operation_name, parent, refs, is_child, start_ns)
        next(self._started_ticks)
        if tags is not None:
            try:
                for key, value in tags.items():
                    span.set_tag(key, value)
            except Exception:  # not a mapping, or a foreign one that fails while read
                _log.debug("start_span tags must be a mapping; ignored", exc_info=True)
        return span

    def start_active_span(
        self,
        operation_name: Optional[str] = None,
        child_of: Union[Span, SpanContext, None] = None,
        references: Optional[Sequence[Reference]] = None,
        tags: Optional[Mapping[str, Any]] = None,
        start_time: Optional[float] = None,
        ignore_active_span: bool = False,
        finish_on_close: bool = True,
    ) -> Scope:
        """Start a span and make it active; use the returned scope as a context manager."""
        if (
            child_of is not None
            or start_time is not None
            or references is not None
            or tags is not None
            or operation_name.__class__ is not str
        ):
            # Anything but the common call goes the long way. Tested first, so the tests
            # jump forward a short way (an EXTENDED_ARG fewer before each: ~45-60
            # instructions a span; callgrind).
            span = self.start_span(
                operation_name, child_of, references, tags, start_time, ignore_active_span
            )
            return self._activate(span, finish_on_close)
        # The common call, a root or a child of the active span, built right here: no
        # start_span, _new_trace or new_span frames (the fields are new_span's; keep the
        # two in step). Saves ~3,000 instructions a root span, ~800 a child (whose start
        # was inlined already; callgrind, 3.11).
        # The getter is read, then called: self._active_scope() would be a LOAD_METHOD on
        # an instance attribute, which 3.11 cannot specialise (~100 instructions more a
        # root span, ~160 a child; callgrind).
        get_active = self._active_scope
        scope = None if ignore_active_span else get_active()
        if scope is None:
            # A flag read, not trace_id <= MAX_ID: 3.11 cannot specialise a comparison
            # of ints wider than a digit (~100 instructions a root span; callgrind).
            if self._wide_trace_ids:
                trace_id = getrandbits(128) or 1
                span_id = trace_id & MAX_ID or new_id()
            else:
                # As in Go, a root's span id is its trace id: for 64-bit ids the same
                # int object, 40 bytes less per held root span (bench_memory.py).
                trace_id = span_id = getrandbits(64) or 1
            decision = self._fixed_decision
            sampler_tags: Optional[Mapping[str, Any]]
            if decision is None:
                try:  # unpacked in the try: a sampler's answer that is no pair is its bug
                    sampled, sampler_tags = self._sampler.is_sampled(trace_id, operation_name)
                except Exception:  # a user sampler's bug must not break the application
                    sampled, sampler_tags = self._sampler_failed()
            else:
                sampled, sampler_tags = decision
            span = TracerSpan()
            span._trace_id = trace_id
            span._span_id = span_id
            span._parent_id = 0
            span._extras = None
            if sampled:
                span._flags = FLAG_SAMPLED
                span._recording = True
                # Samplers hand out a shared dict (sampler_tags()): dict.copy() is ~270
                # instructions cheaper than dict() (callgrind); any other mapping is copied.
                span._tags = (
                    sampler_tags.copy()
                    if sampler_tags.__class__ is dict
                    else self._copy_sampler_tags(span, sampler_tags)
                )
            else:
                span._flags = 0
                span._recording = False
                span._tags = None
        else:
            parent = scope.span
            if type(parent) is not TracerSpan:  # a foreign or stand-in parent: the long way
                span = self.start_span(operation_name)
                return self._activate(span, finish_on_close)
            span = TracerSpan()
            span._trace_id = parent._trace_id
            span._span_id = getrandbits(64) or 1
            span._parent_id = parent._span_id
            span._flags = flags = parent._flags
            extras = parent._extras
            span._extras = None if extras is None else inherit(extras)
            # flags & FLAG_SAMPLED (which is 1), the usual flags (1, 0) settled by
            # comparisons, which 3.11 specialises for small ints, and & (which it does
            # not) left to the rest, debug or foreign bits: ~100 instructions fewer a
            # sampled child span, ~20 an unsampled one (callgrind).
            if flags == 1 or (flags != 0 and flags & FLAG_SAMPLED):
                span._recording = True
                span._tags = {}
            else:
                span._recording = False
                span._tags = None
        span._owner = self._owner
        span._operation_name = operation_name
        # The start time and the spans_started count in one C call (see Counter): ~150
        # instructions fewer than time_ns() and next(ticks) (callgrind, 3.11).
        span._start_ns = next(self._started_clock)
        span._duration_ns = None
        span._log_fields = None
        span._unfinished = True
        var = self._scope_var
        if var is None:  # not the default scope manager: its own activate
            return self._activate(span, finish_on_close)
        # ContextVarsScopeManager.activate inlined (keep the two in step), making a
        # SpanScope, which finishes the span inline: two Python calls fewer, ~1,250
        # instructions a span (callgrind, 3.11); a KeptSpanScope for finish_on_close=False.
        made: Union[SpanScope, KeptSpanScope] = SpanScope() if finish_on_close else KeptSpanScope()
        made._manager = self._scope_manager
        made.span = span
        made._closed = False
        made._token = var.set(made)
        return made

    @property
    def active_span(self) -> Optional[Span]:
        scope = self._active_scope()
        if scope is None:
            return None
        # A closed scope held here is still active (a copied context: see jaeger_lite.scope)
        # unless it was closed in another context than its own.
        live = scope if scope._closed is not CLOSED_ELSEWHERE else live_scope(scope)
        span: Optional[Span] = None if live is None else live.span
        return span

    @property
    def scope_manager(self) -> ScopeManager:
        return self._scope_manager

    @scope_manager.setter
    def scope_manager(self, manager: ScopeManager) -> None:
        """Replace the scope manager; scopes already open close through their own. The
        OpenTelemetry bridge does this, so both APIs share one active span."""
        self._set_scope_manager(manager)

    def _set_scope_manager(self, manager: ScopeManager) -> None:
        self._scope_manager = manager
        self._active_scope = active_scope_getter(manager)
        self._activate = manager.activate
        # The default manager's activate is inlined in start_active_span (a subclass
        # may override it: only the exact class).
        self._scope_var = manager._var if type(manager) is ContextVarsScopeManager else None

    @property
    def sampler(self) -> Any:
        """The sampler given (or the default ``ConstSampler(True)``)."""
        return self._given_sampler

    @property
    def reporter(self) -> Any:
        """The reporter given (or the default ``NullReporter()``)."""
        return self._given_reporter

    # -- decorators -------------------------------------------------------------------

    @overload
    def trace(self, operation_name: F) -> F: ...

    @overload
    def trace(
        self, operation_name: Optional[str] = None, tags: Optional[Mapping[str, Any]] = None
    ) -> Callable[[F], F]: ...

    def trace(self, operation_name: Any = None, tags: Optional[Mapping[str, Any]] = None) -> Any:
        """Decorate a function, method, coroutine function, generator or async generator
        so each call runs in an active span named ``operation_name`` (default: the
        function's ``__qualname__``). Usable as ``@tracer.trace`` or ``@tracer.trace(...)``."""
        if is_function(operation_name):
            return traced(lambda: self, None, None)(operation_name)
        return traced(lambda: self, operation_name, tags)

    def __repr__(self) -> str:
        return f"<Tracer {self.service_name!r} sampler={self._sampler!r}>"


_NO_CONTEXT = SpanContext(0, 0)

_NO_BAGGAGE: Mapping[str, str] = _NO_CONTEXT.baggage

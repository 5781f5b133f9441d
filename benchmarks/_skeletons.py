"""The least any pure-Python tracer with jaeger_lite's API shape can do, for reference rows.

Not tracers: each does only the steps the benchmarked call cannot avoid, with none of the
rules (no sampler, counters, baggage limits, validation beyond the trace-id pattern, error
handling or OpenTracing base classes). Their cost bounds what any optimisation of
jaeger_lite can reach on the same interpreter.
"""

from __future__ import annotations

import random
import re
import struct
import time
from contextvars import ContextVar
from types import MappingProxyType, TracebackType
from typing import Any, Optional

_getrandbits = random.Random().getrandbits
_now = time.time  # a float: cheaper to take and subtract than time_ns's int (~350 instructions)
_active: ContextVar[Optional[SkeletonScope]] = ContextVar("skeleton", default=None)


class SkeletonSpan:
    """Ids, name, times and tags: what the wire needs from a span."""

    __slots__ = ("name", "trace_id", "span_id", "parent_id", "flags", "start", "duration", "tags")

    def set_tag(self, key: str, value: Any) -> SkeletonSpan:
        self.tags[key] = value
        return self


class SkeletonScope:
    """``with tracer.start_active_span(...) as scope``: activation undone on exit."""

    __slots__ = ("span", "token", "reporter")

    def __enter__(self) -> SkeletonScope:
        return self

    # Named parameters: ``*exc_info`` builds a tuple per call (~200 instructions more,
    # callgrind), and a skeleton slower than it need be flatters the ratios against it.
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc_val: Optional[BaseException],
        exc_tb: Optional[TracebackType],
    ) -> None:
        _active.reset(self.token)
        span = self.span
        span.duration = _now() - span.start
        self.reporter.report_span(span)


class SkeletonTracer:
    """``start_active_span``: a child of the active span or a new root, made active."""

    def __init__(self, reporter: Any) -> None:
        self.reporter = reporter

    def start_active_span(self, operation_name: str) -> SkeletonScope:
        # Class calls, not object.__new__: ~300 instructions cheaper each (callgrind, 3.11);
        # jaeger_lite cannot do so for its Span (Span() must raise TypeError).
        span = SkeletonSpan()
        span.name = operation_name
        span.start = _now()
        parent = _active.get()
        if parent is None:
            span.trace_id = span.span_id = _getrandbits(64)
            span.parent_id = 0
            span.flags = 1
        else:
            span.trace_id = parent.span.trace_id
            span.span_id = _getrandbits(64)
            span.parent_id = parent.span.span_id
            span.flags = parent.span.flags
        span.tags = {}
        scope = SkeletonScope()
        scope.span = span
        scope.reporter = self.reporter
        scope.token = _active.set(scope)
        return scope


_IDS = re.compile(r"([0-9a-fA-F]{1,32}):([0-9a-fA-F]{1,16}):[0-9a-fA-F]{0,16}:([0-9a-fA-F]{1,2})")
_URL_SAFE = re.compile(r"[A-Za-z0-9_.~-]*")
_PACK = struct.Struct(">QQQ").pack
_FLAGS = {f"{flags:x}": flags for flags in range(256)}
_FLAG_TEXT = tuple(f":{flags:x}" for flags in range(256))


class SkeletonCodec:
    """Jaeger HTTP headers: ``uber-trace-id`` and ``uberctx-*``, read case-insensitively."""

    def inject(self, context: Any, carrier: dict[str, str]) -> None:
        ids = _PACK(context._trace_id, context._span_id, context._parent_id)
        carrier["uber-trace-id"] = ids.hex(":", 8) + _FLAG_TEXT[context._flags]
        for key, value in context._baggage.items():
            if _URL_SAFE.fullmatch(value):  # the check every HTTP value needs
                carrier["uberctx-" + key] = value

    def extract(self, carrier: dict[str, str], make_context: Any) -> Any:
        trace = baggage = None
        for key in carrier:
            lower = key.lower()
            if lower == "uber-trace-id":
                trace = carrier[key]
            elif lower.startswith("uberctx-"):
                if baggage is None:
                    baggage = {}
                baggage[lower[8:]] = carrier[key]
        if trace is not None:
            match = _IDS.fullmatch(trace)
            if match is not None:
                trace_hex, span_hex, flags_hex = match.groups()
                frozen = MappingProxyType(baggage or {})
                return make_context(
                    int(trace_hex, 16), int(span_hex, 16), _FLAGS[flags_hex], frozen
                )
        return None


class SkeletonPropagator:
    """``tracer.inject``/``tracer.extract``: a codec looked up by format, errors contained."""

    def __init__(self, make_context: Any) -> None:
        self._codecs = {"http_headers": SkeletonCodec()}
        self._make_context = make_context

    def inject(self, context: Any, format: str, carrier: dict[str, str]) -> None:
        codec = self._codecs.get(format)
        try:
            codec.inject(context, carrier)  # type: ignore[union-attr]
        except Exception:
            pass

    def extract(self, format: str, carrier: dict[str, str]) -> Any:
        codec = self._codecs.get(format)
        try:
            return codec.extract(carrier, self._make_context)  # type: ignore[union-attr]
        except Exception:
            return None

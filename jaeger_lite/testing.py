"""Helpers for testing code instrumented with jaeger_lite (capture spans, assert on them).

Example::

    from jaeger_lite.testing import capture_spans

    def test_checkout_is_traced():
        with capture_spans() as captured:
            checkout()
        root = captured.one("checkout")
        captured.assert_child_of(captured.one("charge-card"), root)
        assert root.tags["http.status_code"] == 200
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ._global import installed_tracer, reset_global_tracer, set_global_tracer
from ._opentracing import (
    opentracing_global_state,
    restore_opentracing_global_state,
)
from .context import ReferenceType
from .reporting.simple import InMemoryReporter
from .sampling.local import ConstSampler
from .span import Span
from .tracer import Tracer

__all__ = ["CapturedSpans", "capture_spans", "new_test_tracer"]


def new_test_tracer(service_name: str = "test", **options: Any) -> tuple[Tracer, InMemoryReporter]:
    """A tracer that samples everything into a fresh :class:`InMemoryReporter`."""
    reporter = InMemoryReporter()
    options.setdefault("sampler", ConstSampler(True))
    return Tracer(service_name, reporter, **options), reporter


class CapturedSpans:
    """Finished spans of one test, with lookups and relationship assertions."""

    def __init__(self, tracer: Tracer, reporter: InMemoryReporter) -> None:
        self.tracer = tracer
        self.reporter = reporter

    @property
    def spans(self) -> list[Span]:
        """Finished spans in finish order."""
        return self.reporter.spans

    def named(self, operation_name: str) -> list[Span]:
        return [s for s in self.spans if s.operation_name == operation_name]

    def one(self, operation_name: str) -> Span:
        """The single finished span with that name (AssertionError otherwise)."""
        found = self.named(operation_name)
        names = sorted({s.operation_name for s in self.spans})
        assert len(found) == 1, (
            f"expected one {operation_name!r} span, got {len(found)} (have {names})"
        )
        return found[0]

    def roots(self) -> list[Span]:
        return [s for s in self.spans if s.context.parent_id == 0 and not s.references]

    def children_of(self, parent: Span) -> list[Span]:
        return [s for s in self.spans if _is_child(s, parent)]

    def assert_child_of(self, child: Span, parent: Span) -> None:
        assert _is_child(child, parent), f"{child!r} is not a child of {parent!r}"

    def assert_follows_from(self, span: Span, cause: Span) -> None:
        ok = any(
            ref.type == ReferenceType.FOLLOWS_FROM
            and ref.referenced_context.span_id == cause.context.span_id
            for ref in span.references
        )
        assert ok, f"{span!r} does not follow from {cause!r}"

    def assert_tags(self, span: Span, **expected: Any) -> None:
        """Assert tags by keyword; use ``**{"http.status_code": 200}`` for dotted names."""
        missing = {k: v for k, v in expected.items() if span.tags.get(k, _MISSING) != v}
        assert not missing, f"{span!r}: expected {missing}, have {dict(span.tags)}"

    def clear(self) -> None:
        self.reporter.clear()


_MISSING = object()


def _is_child(child: Span, parent: Span) -> bool:
    return (
        child.context.trace_id == parent.context.trace_id
        and child.context.parent_id == parent.context.span_id
    )


@contextlib.contextmanager
def capture_spans(service_name: str = "test", **options: Any) -> Iterator[CapturedSpans]:
    """Install a sampling, in-memory tracer (built by :func:`new_test_tracer`) as the
    global tracer for the block; afterwards the previous global tracer is back, and so is
    ``opentracing.global_tracer()`` (and ``is_global_tracer_registered()``) when
    opentracing is installed."""
    tracer, reporter = new_test_tracer(service_name, **options)
    previous = installed_tracer()
    previous_opentracing = opentracing_global_state()
    set_global_tracer(tracer)
    try:
        yield CapturedSpans(tracer, reporter)
    finally:
        if previous is not None:
            set_global_tracer(previous)
        else:
            reset_global_tracer()
        restore_opentracing_global_state(previous_opentracing)

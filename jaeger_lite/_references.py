"""How a new span finds its parent among ``child_of`` and ``references``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional, Union

from ._log import LOG as _log
from .context import Reference, ReferenceType, SpanContext
from .span import Span

__all__ = ["resolve_references"]


def as_references(references: Any) -> list[Any]:
    """``references`` as a list: a single reference (jaeger-client accepted one) becomes
    a list of it; what cannot be iterated, or fails while iterated, is no reference."""
    if isinstance(references, tuple) and hasattr(references, "referenced_context"):
        return [references]  # a lone Reference: a NamedTuple, not a list of them
    try:
        return list(references)
    except Exception:  # not iterable, or a foreign iterable that raises: ignored
        _log.debug("start_span references must be a list of references; ignored")
        return []


def resolve_references(
    child_of: Union[Span, SpanContext, None], references: Optional[Sequence[Reference]]
) -> tuple[Any, tuple[Reference, ...], bool]:
    """Return (parent span/context, explicit references, whether the parent is a ChildOf)."""
    refs: list[Reference] = []
    parent_context = _context_of(child_of)
    if parent_context is not None:
        refs.append(Reference(ReferenceType.CHILD_OF, parent_context))
    for ref in as_references(references) if references else ():
        context = _context_of(getattr(ref, "referenced_context", None))
        if context is not None:
            refs.append(Reference(getattr(ref, "type", ReferenceType.CHILD_OF), context))
    if child_of is not None:
        return child_of, tuple(refs), True
    for ref in refs:
        if ref.type == ReferenceType.CHILD_OF and ref.referenced_context.has_trace:
            return ref.referenced_context, tuple(refs), True
    for ref in refs:
        if ref.referenced_context.has_trace:
            return ref.referenced_context, tuple(refs), False
    return (refs[0].referenced_context if refs else None), tuple(refs), False


def _context_of(span_or_context: Any) -> Any:
    if isinstance(span_or_context, Span):
        return span_or_context.context
    if isinstance(span_or_context, SpanContext):
        return span_or_context
    return None

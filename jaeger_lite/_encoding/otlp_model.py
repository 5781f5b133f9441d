"""How a finished span maps onto OTLP: one set of rules for the protobuf and JSON writers.

The rules are the OpenTelemetry Collector's Jaeger→OTLP translator's (opentelemetry-
collector-contrib, ``pkg/translator/jaeger``), so a span reads the same in Jaeger v2
whether it went as Thrift or as OTLP; docs/otlp.md has the table. Most spans need none
of them: :func:`map_span` returns None for those, and the writers take the plain fields.
"""

from __future__ import annotations

import os
import platform
import socket
import sys
import uuid
from collections.abc import Mapping
from typing import Any, NamedTuple, Optional

from .._safe import safe_str
from .._version import __version__
from ..context import ReferenceType
from ..span import Span

__all__ = [
    "EVENT_NAME",
    "HAS_IS_REMOTE",
    "IS_REMOTE",
    "KINDS",
    "SCOPE_NAME",
    "STATUS_ERROR",
    "STATUS_OK",
    "Link",
    "Mapped",
    "map_span",
    "parent_flags",
    "remote_flags",
    "resource_attributes",
]

#: Jaeger's ``span.kind`` tag values and OTLP's SpanKind numbers.
KINDS = {"internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}
STATUS_OK, STATUS_ERROR = 1, 2
#: Span and Link flags beyond the W3C trace flags (bits 0-7): trace.proto's
#: SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK and SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK.
HAS_IS_REMOTE, IS_REMOTE = 0x100, 0x200
#: The log field that names an event (and leaves its attributes).
EVENT_NAME = "event"
#: The instrumentation scope of spans that name none (``otel.scope.name``).
SCOPE_NAME = "jaeger_lite"
REF_TYPE = "opentracing.ref_type"

# Tags that say something OTLP has a field for. http.status_code is checked apart: it
# only matters outside 100-399, and HTTP spans are common enough to keep off this path.
_SPECIAL = frozenset(
    {
        "span.kind",
        "error",
        "otel.status_code",
        "otel.status_description",
        "otel.scope.name",
        "otel.scope.version",
        "otel.library.name",
        "otel.library.version",
        "w3c.tracestate",
    }
)


class Link(NamedTuple):
    """A reference that is not the parent: a link with ``opentracing.ref_type``."""

    trace_id: int
    span_id: int
    trace_state: Optional[str]
    flags: int
    ref_type: str


class Mapped(NamedTuple):
    """What an OTLP Span has beyond a plain Jaeger span's fields."""

    attributes: Mapping[str, Any]  # the tags that stay attributes
    kind: int  # 0: unspecified (no span.kind tag)
    status: Optional[tuple[int, str]]  # (code, message); None: unset
    trace_state: Optional[str]
    parent_id: int
    links: tuple[Link, ...]
    scope: Optional[tuple[str, str]]  # (name, version); None: jaeger_lite's own


def map_span(span: Span) -> Optional[Mapped]:
    """The OTLP-specific parts of ``span``, or None when it has none (most spans): no
    special tag, no tracestate, no reference but its parent.

    The checks for None come first and cheapest: they run for every span (written out
    rather than in helpers, ~0.8 → ~0.3 µs a span with 3 tags and a log, CPython 3.11).
    """
    tags = span._tags
    if tags:
        if not _SPECIAL.isdisjoint(tags):
            return _map(span, True)
        code = tags.get("http.status_code")
        if code is not None and not (code.__class__ is int and 100 <= code < 400):
            return _map(span, True)
    if span._trace_state is not None:
        return _map(span, False)
    refs = span._references
    if refs and not _only_the_parent(span):
        return _map(span, False)
    return None


def _map(span: Span, special: bool) -> Mapped:
    attributes: dict[str, Any] = dict(span._tags or {})
    kind = 0
    scope = None
    trace_state = span._trace_state
    if special:
        value = attributes.get("span.kind")
        if value.__class__ is str and value in KINDS:
            kind = KINDS[value]
            del attributes["span.kind"]
        scope = _scope(attributes)
        value = attributes.pop("w3c.tracestate", None)
        if trace_state is None and value is not None:
            trace_state = safe_str(value)
    status = _status(attributes, kind, span)
    parent_id, links = _parent_and_links(span)
    return Mapped(attributes, kind, status, trace_state, parent_id, links, scope)


def _only_the_parent(span: Span) -> bool:
    refs = span._references
    if len(refs) != 1:
        return False
    ref_type, context = refs[0]
    return (
        ref_type == ReferenceType.CHILD_OF
        and span._parent_id != 0
        and context._span_id == span._parent_id
        and context._trace_id == span._trace_id
    )


def _error_log(span: Span) -> Optional[Mapping[str, Any]]:
    """The fields of the last ``event=error`` log, or None."""
    fields = span._log_fields
    if fields is None:
        return None
    found = None
    for _, log in span._logs or ((0, fields),):
        if log.get(EVENT_NAME) == "error":
            found = log
    return found


def _scope(attributes: dict[str, Any]) -> Optional[tuple[str, str]]:
    """``otel.scope.name``/``.version`` (or the older ``otel.library.*``), taken out."""
    for prefix in ("otel.scope.", "otel.library."):
        name = attributes.pop(prefix + "name", None)
        version = attributes.pop(prefix + "version", None) if name is not None else None
        if name is not None:
            for other in ("otel.scope.", "otel.library."):  # the older pair, if both came
                attributes.pop(other + "name", None)
                attributes.pop(other + "version", None)
            return safe_str(name), "" if version is None else safe_str(version)
    return None


def _status(attributes: dict[str, Any], kind: int, span: Span) -> Optional[tuple[int, str]]:
    """The translator's rule: ``error=true`` is ERROR; else ``otel.status_code`` OK/ERROR;
    else an HTTP status code of 400 and above.

    An ``event=error`` log alone is no ERROR: OpenTracing's ``error`` tag is what says the
    operation failed (and the translator reads only it), and an OpenTelemetry span's
    status is what ``set_status`` made it, whatever its events are named. The log gives
    the message of an OpenTracing error (``error=true`` without ``otel.status_code``).
    """
    if attributes.get("error") is True:
        del attributes["error"]
        message = attributes.pop("otel.status_description", None)
        if message is None and "otel.status_code" not in attributes:
            error_log = _error_log(span)
            message = None if error_log is None else _log_message(error_log)
        if message is None:
            message = attributes.get("http.status_message")
        attributes.pop("otel.status_code", None)
        return STATUS_ERROR, "" if message is None else safe_str(message)
    if "otel.status_code" in attributes:
        code = safe_str(attributes.pop("otel.status_code")).upper()
        message = attributes.pop("otel.status_description", None)
        number = {"OK": STATUS_OK, "ERROR": STATUS_ERROR}.get(code, 0)
        return number, "" if message is None else safe_str(message)
    number = _http_status(attributes.get("http.status_code"), kind)
    if number:
        message = attributes.get("http.status_message")
        return number, "" if message is None else safe_str(message)
    return None


def _log_message(fields: Mapping[str, Any]) -> Optional[Any]:
    for name in ("message", "error.object", "error.kind"):
        value = fields.get(name)
        if value:
            return value
    return None


def _http_status(value: Any, kind: int) -> int:
    """ERROR for an HTTP status outside 100-399 (4xx: client spans only), else 0."""
    if value.__class__ is str and value.strip().isdigit():
        value = int(value)
    if value.__class__ is not int:
        return 0
    if 400 <= value < 500 and kind in (KINDS["client"], KINDS["server"]):
        return STATUS_ERROR if kind == KINDS["client"] else 0
    return 0 if 100 <= value < 400 else STATUS_ERROR


def _parent_and_links(span: Span) -> tuple[int, tuple[Link, ...]]:
    """The parent: ``parentSpanId``, else the first ChildOf of this trace, else its first
    FollowsFrom (as Jaeger and the translator read a span). Every reference but a ChildOf
    naming the parent becomes a link marked ``child_of``/``follows_from``."""
    trace_id, parent_id = span._trace_id, span._parent_id
    refs = span._references
    if not parent_id:
        follows = 0
        for ref_type, context in refs:
            if context._trace_id != trace_id or not context._span_id:
                continue
            if ref_type == ReferenceType.CHILD_OF:
                parent_id = context._span_id
                break
            if not follows:
                follows = context._span_id
        parent_id = parent_id or follows
    links = tuple(
        Link(
            context._trace_id,
            context._span_id,
            context._trace_state,
            context._flags & 1 | remote_flags(context._is_remote),
            "follows_from" if ref_type == ReferenceType.FOLLOWS_FROM else "child_of",
        )
        for ref_type, context in refs
        if not (
            ref_type == ReferenceType.CHILD_OF
            and context._span_id == parent_id
            and context._trace_id == trace_id
        )
    )
    return parent_id, links


def remote_flags(is_remote: Optional[bool]) -> int:
    """The flags bits 8-9 for a context whose ``is_remote`` is this: none when not known."""
    if is_remote is None:
        return 0
    return HAS_IS_REMOTE | IS_REMOTE if is_remote else HAS_IS_REMOTE


def parent_flags(span: Span, parent_id: int) -> int:
    """Bits 8-9 of ``span``'s flags: whether its parent ``parent_id`` (as mapped) is remote.

    Only a span with a side object can have a remote parent: one started from a context
    records its ``is_remote`` there, and a parent taken from the references (no
    ``parent_id``) is looked up among them. A root's parent is not remote.
    """
    extras = span._extras
    if not parent_id or extras is None:
        return HAS_IS_REMOTE
    if parent_id == span._parent_id:
        return remote_flags(extras.parent_remote)
    for _, context in extras.references:
        if context._span_id == parent_id and context._trace_id == span._trace_id:
            return remote_flags(context._is_remote)
    return 0


def resource_attributes(service_name: str, tracer_tags: Mapping[str, Any]) -> dict[str, Any]:
    """``service.name``, the SDK's and the process's attributes, then the tracer's tags
    (which win; a Jaeger ``hostname`` tag is ``host.name``, as the translator has it).

    ``service.instance.id`` is new for every sender (a forked child makes its own).
    """
    attributes: dict[str, Any] = {
        "service.name": service_name,
        "telemetry.sdk.name": "jaeger_lite",
        "telemetry.sdk.language": "python",
        "telemetry.sdk.version": __version__,
        "service.instance.id": str(uuid.uuid4()),
        "host.name": socket.gethostname(),
        "process.pid": os.getpid(),
        "process.runtime.name": sys.implementation.name,
        "process.runtime.version": platform.python_version(),
    }
    for name, value in tracer_tags.items():
        attributes["host.name" if name == "hostname" else safe_str(name)] = value
    return attributes

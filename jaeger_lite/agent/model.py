"""Plain values for what the development agent received: spans, processes, batches.

The Thrift classes stay inside ``decode.py``; everything after it (trace assembly, rendering,
JSON output) works on these frozen values, with ids as unsigned integers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

#: A tag value as decoded: the Python type follows the Thrift ``TagType``.
TagValue = Union[str, bool, int, float, bytes]

CHILD_OF = "CHILD_OF"
FOLLOWS_FROM = "FOLLOWS_FROM"


@dataclass(frozen=True)
class Tag:
    """One key/value with its Jaeger JSON type name (string, bool, int64, float64, binary)."""

    key: str
    type: str
    value: TagValue


@dataclass(frozen=True)
class LogRecord:
    """A timestamped (µs since the epoch) set of fields."""

    timestamp: int
    fields: tuple[Tag, ...]


@dataclass(frozen=True)
class Ref:
    """A span reference: ``CHILD_OF`` or ``FOLLOWS_FROM`` to a span of some trace."""

    kind: str
    trace_id: int
    span_id: int


@dataclass(frozen=True)
class Process:
    """The emitting process: its service name and process tags."""

    service: str
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True)
class SpanRecord:
    """One received span, ids unsigned, times in µs, with the process that sent it."""

    trace_id: int
    span_id: int
    parent_id: int
    operation: str
    refs: tuple[Ref, ...]
    flags: int
    start: int
    duration: int
    tags: tuple[Tag, ...]
    logs: tuple[LogRecord, ...]
    process: Process
    warnings: tuple[str, ...] = ()

    def tag(self, key: str) -> Optional[TagValue]:
        """The value of the first tag named ``key``, or None."""
        for t in self.tags:
            if t.key == key:
                return t.value
        return None

    @property
    def is_error(self) -> bool:
        """True for ``error=true`` (bool or string) or an OpenTelemetry ERROR status."""
        value = self.tag("error")
        if value is True or (isinstance(value, str) and value.lower() == "true"):
            return True
        return self.tag("otel.status_code") == "ERROR"

    @property
    def error_message(self) -> str:
        """A short description of the error, from the error log or the status, else ''."""
        for log in self.logs:
            fields = {f.key: f.value for f in log.fields}
            if fields.get("event") == "error":
                for key in ("message", "error.object", "error.kind"):
                    if fields.get(key):
                        return str(fields[key])
        description = self.tag("otel.status_description")
        return str(description) if description else ""


@dataclass(frozen=True)
class ReceivedBatch:
    """A decoded ``Batch``: the process, its spans and the optional UDP metadata."""

    process: Process
    spans: tuple[SpanRecord, ...]
    seq_no: Optional[int] = None
    stats: Optional[dict[str, int]] = field(default=None)

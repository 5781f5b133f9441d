"""Traces as the JSON the Jaeger UI loads from a file ("Upload JSON" on the search page).

The shape is the query API's: ``{"data": [trace, ...]}`` with each trace holding
``traceID``, ``spans`` and ``processes`` (as in Jaeger's ``model/json``). The UI parses one
JSON document per file (JSON-per-line is accepted only for OTLP), so ``JsonFile`` keeps the
file a single document: it is written as ``{"data": [`` + one trace per line joined by
``,`` + ``]}`` and each new trace is appended by overwriting the closing ``]}``. A trace that
gets late spans is written again, whole, further down; the UI keeps the last trace with a
given id, so it shows all of its spans.
"""

from __future__ import annotations

import base64
import json
import math
import os
from collections import OrderedDict
from typing import Any

from .._ids import format_id, format_trace_id
from .collect import Trace
from .model import CHILD_OF, Process, SpanRecord, Tag

_HEAD = b'{"data": [\n'
_TAIL = b"\n]}\n"


def _value(tag: Tag) -> Any:
    value = tag.value
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")  # as Go's encoding/json writes []byte
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # NaN and Infinity are not JSON; JSON.parse would reject the file
    return value


def _tags(tags: tuple[Tag, ...]) -> list[dict[str, Any]]:
    return [{"key": t.key, "type": t.type, "value": _value(t)} for t in tags]


def _references(span: SpanRecord) -> list[dict[str, str]]:
    refs = [
        {"refType": r.kind, "traceID": format_trace_id(r.trace_id), "spanID": format_id(r.span_id)}
        for r in span.refs
    ]
    # Jaeger turns parentSpanId into a leading CHILD_OF reference unless a reference already
    # names that parent (model.MaybeAddParentSpanID); the UI builds its tree from references.
    if span.parent_id and not any(r.span_id == span.parent_id for r in span.refs):
        refs.insert(
            0,
            {
                "refType": CHILD_OF,
                "traceID": format_trace_id(span.trace_id),
                "spanID": format_id(span.parent_id),
            },
        )
    return refs


def trace_to_json(trace_id: int, spans: list[SpanRecord]) -> dict[str, Any]:
    """One trace in the Jaeger query API JSON shape."""
    process_ids: dict[Process, str] = {}
    for span in spans:
        process_ids.setdefault(span.process, f"p{len(process_ids) + 1}")
    return {
        "traceID": format_trace_id(trace_id),
        "spans": [
            {
                "traceID": format_trace_id(span.trace_id),
                "spanID": format_id(span.span_id),
                "flags": span.flags,
                "operationName": span.operation,
                "references": _references(span),
                "startTime": span.start,
                "duration": span.duration,
                "tags": _tags(span.tags),
                "logs": [
                    {"timestamp": log.timestamp, "fields": _tags(log.fields)} for log in span.logs
                ],
                "processID": process_ids[span.process],
                "warnings": list(span.warnings),
            }
            for span in spans
        ],
        "processes": {
            pid: {"serviceName": process.service, "tags": _tags(process.tags)}
            for process, pid in process_ids.items()
        },
        "warnings": [],
    }


def _dumps(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False, allow_nan=False).encode("utf-8")


class JsonFile:
    """A Jaeger UI trace file that grows by one trace per ``append``.

    An existing file is kept: if it is one of ours, new traces are appended after its
    traces; if it is some other ``{"data": [...]}`` document, it is rewritten in our layout
    (with its traces) on the first append. Anything else raises ``ValueError`` at once
    rather than being overwritten.
    """

    def __init__(self, path: str, *, remember: int = 1000) -> None:
        self.path = path
        self._remember = remember
        self._recent: OrderedDict[int, list[SpanRecord]] = OrderedDict()
        self._rewrite: list[Any] = []
        self._has_traces = False
        self._check_existing()

    def _check_existing(self) -> None:
        self._check_writable()
        try:
            with open(self.path, "rb") as f:
                content = f.read()
        except FileNotFoundError:
            return
        if not content.strip():
            return
        if content.startswith(_HEAD) and content.endswith(_TAIL) and len(content) > 15:
            self._has_traces = True
            return
        try:
            doc = json.loads(content)
        except ValueError:
            doc = None
        if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
            raise ValueError(
                f"{self.path} exists and is not a Jaeger JSON trace file; not overwriting it"
            )
        self._rewrite = doc["data"]

    def _check_writable(self) -> None:
        """Raise OSError (``filename`` the path) now if the file cannot be written, rather
        than at the first trace: the temporary file the first write makes is made here."""
        tmp = f"{self.path}.tmp{os.getpid()}"
        try:
            with open(tmp, "wb"):
                pass
            os.remove(tmp)
            if os.path.exists(self.path):
                with open(self.path, "r+b"):
                    pass
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, self.path) from exc

    def append(self, trace: Trace) -> None:
        """Write ``trace`` (merged with earlier spans of the same trace id) to the file."""
        spans = list(trace.spans)
        if trace.late and trace.trace_id in self._recent:
            spans = self._recent[trace.trace_id] + spans
        self._recent[trace.trace_id] = spans
        self._recent.move_to_end(trace.trace_id)
        while len(self._recent) > self._remember:
            self._recent.popitem(last=False)
        line = _dumps(trace_to_json(trace.trace_id, spans))
        if not self._has_traces:
            lines = [_dumps(t) for t in self._rewrite] + [line]
            tmp = f"{self.path}.tmp{os.getpid()}"
            with open(tmp, "wb") as f:
                f.write(_HEAD + b",\n".join(lines) + _TAIL)
            os.replace(tmp, self.path)
            self._rewrite = []
            self._has_traces = True
            return
        with open(self.path, "r+b") as f:
            f.seek(0, os.SEEK_END)
            end = f.tell()
            f.seek(end - len(_TAIL))
            if f.read(len(_TAIL)) != _TAIL:
                raise ValueError(f"{self.path} was changed by someone else; not appending")
            f.seek(end - len(_TAIL))
            f.write(b",\n" + line + _TAIL)

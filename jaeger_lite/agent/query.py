"""The subset of Jaeger's query API (``/api/...``) that the web UI, Grafana and scripts use.

Answers have Jaeger's shape: ``{"data": ..., "total": n, "limit": 0, "offset": 0,
"errors": null}``, traces as in Jaeger's ``model/json`` (the same JSON as ``--json``), and
an error is ``{"data": null, ..., "errors": [{"code": 400, "msg": "..."}]}`` with that HTTP
status: a bad parameter or an unknown trace never produces a stack trace. Parameters are
Jaeger's: durations as Go durations (``1.5ms``, ``2s``), times in µs since the epoch.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from typing import Any, Callable, Optional
from urllib.parse import parse_qs, unquote

from .._ids import format_trace_id
from .jsonout import trace_to_json
from .store import TraceQuery, TraceStore
from .tree import CHILD, parent_of

#: ``/api/traces`` without ``limit``, as Jaeger's query service.
DEFAULT_LIMIT = 100
#: The longest a ``/api/ui/changes`` request waits for news.
MAX_WAIT = 30.0

_UNITS_US = {"ns": 0.001, "us": 1, "µs": 1, "μs": 1, "ms": 1000, "s": 1_000_000}
_UNITS_US.update({"m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000})
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)")
_HEX_ID = re.compile(r"[0-9a-fA-F]{1,32}")
#: The longest duration Go's ``time.Duration`` holds (int64 ns, about 292 years), in µs.
_MAX_DURATION_US = (1 << 63) / 1000

Reply = tuple[int, dict[str, Any]]


class QueryError(ValueError):
    """A request the API cannot answer; ``code`` is the HTTP status to reply with."""

    def __init__(self, message: str, code: int = 400) -> None:
        super().__init__(message)
        self.code = code


def reply(data: Any, total: int = 0, errors: Optional[list[dict[str, Any]]] = None) -> Reply:
    """A successful answer in Jaeger's envelope."""
    return 200, {"data": data, "total": total, "limit": 0, "offset": 0, "errors": errors}


def error_reply(code: int, message: str) -> Reply:
    """An error in Jaeger's envelope."""
    doc = {"data": None, "total": 0, "limit": 0, "offset": 0}
    return code, {**doc, "errors": [{"code": code, "msg": message}]}


def parse_duration(text: str, name: str) -> int:
    """A Go duration (``1h30m``, ``1.5ms``, ``250us``; also ``2d``) in µs."""
    text = text.strip()
    if text == "0":
        return 0
    pos, total = 0, 0.0
    while pos < len(text):
        match = _DURATION_PART.match(text, pos)
        if match is None:
            raise QueryError(f"unable to parse param '{name}': invalid duration {text!r}")
        total += float(match.group(1)) * _UNITS_US[match.group(2)]
        pos = match.end()
    if pos == 0 or total >= _MAX_DURATION_US:  # Go's ParseDuration: overflow is invalid
        raise QueryError(f"unable to parse param '{name}': invalid duration {text!r}")
    return int(total)


def parse_trace_id(text: str) -> int:
    """A trace id in hex (up to 32 digits, leading zeros optional)."""
    if not _HEX_ID.fullmatch(text):
        raise QueryError(f"cannot parse traceID param: {text!r} is not 1-32 hex digits")
    return int(text, 16)


def _int(params: dict[str, list[str]], name: str, default: int, *, signed: bool = False) -> int:
    text = params.get(name, [""])[0].strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise QueryError(f"unable to parse param '{name}': not an integer: {text!r}") from None
    if value < 0 and not signed:
        raise QueryError(f"unable to parse param '{name}': negative: {value}")
    return value


def parse_tags(params: dict[str, list[str]]) -> tuple[tuple[str, str], ...]:
    """``tag=key:value`` (repeatable) and ``tags={"key": "value"}`` (JSON), as Jaeger."""
    tags: dict[str, str] = {}
    for item in params.get("tag", []):
        key, sep, value = item.partition(":")
        if not sep:
            raise QueryError(f"malformed 'tag' parameter, expecting key:value, received: {item}")
        tags[key] = value
    for text in params.get("tags", []):
        if not text.strip():
            continue
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise QueryError(f"malformed 'tags' parameter, cannot unmarshal JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise QueryError("malformed 'tags' parameter, expecting a JSON object")
        for key, value in doc.items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            if not isinstance(value, (str, int, float)):
                raise QueryError(f"malformed 'tags' parameter, value of {key!r} is not a scalar")
            tags[str(key)] = str(value)
    return tuple(tags.items())


def parse_trace_query(params: dict[str, list[str]], now_us: int) -> TraceQuery:
    """The ``/api/traces`` parameters as a ``TraceQuery``; raises ``QueryError``."""

    def first(name: str) -> str:
        return params.get(name, [""])[0].strip()

    min_duration, max_duration = (
        parse_duration(first(name), name) if first(name) else 0
        for name in ("minDuration", "maxDuration")
    )
    if min_duration and max_duration and max_duration < min_duration:
        raise QueryError("'maxDuration' should be greater than 'minDuration'")
    end = _int(params, "end", 0)
    start = _int(params, "start", 0)
    lookback = first("lookback")
    if not start and lookback and lookback != "custom":
        start = max(1, (end or now_us) - parse_duration(lookback, "lookback"))
    return TraceQuery(
        service=first("service"),
        operation=first("operation"),
        tags=parse_tags(params),
        min_duration=min_duration,
        max_duration=max_duration,
        start_min=start,
        start_max=end,
        limit=_int(params, "limit", DEFAULT_LIMIT),
    )


class QueryAPI:
    """Answers ``GET /api/...`` from a ``TraceStore``: ``(status, JSON document)``."""

    def __init__(self, store: TraceStore, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self._clock = clock

    def get(self, path: str, query: str) -> Reply:
        """Answer one request; never raises for anything a client can send."""
        try:
            return self._route(path, parse_qs(query, keep_blank_values=True))
        except QueryError as exc:
            return error_reply(exc.code, str(exc))

    def _route(self, path: str, params: dict[str, list[str]]) -> Reply:
        parts = [unquote(p) for p in path.strip("/").split("/")][1:]  # after "api"
        if parts == ["services"]:
            services = self.store.services()
            return reply(services, len(services))
        if len(parts) == 3 and parts[0] == "services" and parts[2] == "operations":
            names = sorted({name for name, _ in self.store.operations(parts[1])})
            return reply(names, len(names))
        if parts == ["operations"]:
            return self._operations(params)
        if parts == ["traces"]:
            return self._search(params)
        if len(parts) == 2 and parts[0] == "traces":
            return self._trace(parts[1])
        if parts == ["dependencies"]:
            return self._dependencies(params)
        if parts == ["ui", "changes"]:
            return self._changes(params)
        raise QueryError(f"no such API endpoint: /api/{'/'.join(parts)}", 404)

    def _operations(self, params: dict[str, list[str]]) -> Reply:
        service = params.get("service", [""])[0]
        if not service:
            raise QueryError("parameter 'service' is required")
        kind = params.get("spanKind", [""])[0].lower()
        data = [
            {"name": name, "spanKind": span_kind}
            for name, span_kind in self.store.operations(service)
            if not kind or span_kind == kind
        ]
        return reply(data, len(data))

    def _search(self, params: dict[str, list[str]]) -> Reply:
        query = parse_trace_query(params, int(self._clock() * 1_000_000))
        ids = [parse_trace_id(text.strip()) for text in params.get("traceID", [])]
        if not ids:
            found = self.store.find(query)
            return reply([trace_to_json(trace_id, spans) for trace_id, spans in found])
        data, errors = [], []
        for trace_id in ids:
            spans = self.store.get(trace_id)
            if spans is None:
                errors.append({"msg": "trace not found", "traceID": format_trace_id(trace_id)})
            else:
                data.append(trace_to_json(trace_id, spans))
        return reply(data, errors=errors or None)

    def _trace(self, text: str) -> Reply:
        spans = self.store.get(parse_trace_id(text))
        if spans is None:
            raise QueryError("trace not found", 404)
        return reply([trace_to_json(parse_trace_id(text), spans)])

    def _dependencies(self, params: dict[str, list[str]]) -> Reply:
        end_ms = _int(params, "endTs", 0)
        lookback_ms = _int(params, "lookback", 0)
        low = (end_ms - lookback_ms) * 1000 if end_ms and lookback_ms else 0
        high = end_ms * 1000 if end_ms else 0
        calls: Counter[tuple[str, str]] = Counter()
        for _, spans in self.store.all_traces():
            if (low and min(s.start for s in spans) < low) or (
                high and min(s.start for s in spans) > high
            ):
                continue
            service_of = {s.span_id: s.process.service for s in spans}
            for span in spans:
                parent_id, link = parent_of(span)
                parent_service = service_of.get(parent_id)
                if link == CHILD and parent_service and parent_service != span.process.service:
                    calls[(parent_service, span.process.service)] += 1
        data = [{"parent": p, "child": c, "callCount": n} for (p, c), n in sorted(calls.items())]
        return reply(data)

    def _changes(self, params: dict[str, list[str]]) -> Reply:
        """Not Jaeger's: how the UI learns of new spans without reloading (long polling)."""
        since = _int(params, "since", -1, signed=True)
        wait = float(min(_int(params, "wait", 0), int(MAX_WAIT)))
        version = self.store.wait_for_change(since, wait) if wait else self.store.version
        info = {"version": version, "traces": len(self.store), "evicted": self.store.evicted}
        return reply(info)

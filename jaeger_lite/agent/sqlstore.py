"""``SqliteSpanLog``: the agent's traces in a SQLite file (``--store FILE``), across restarts.

The ``TraceStore`` stays the one place that answers queries; this log only makes what it
holds survive a restart: each accepted span is one row (the ``SpanRecord`` as JSON, lossless
for every tag type), evicted traces are deleted, and at start-up the rows are replayed in
order. WAL mode with ``synchronous=NORMAL`` keeps a commit off the disk's flush path (a
crash may lose the last moments, never the file). One agent per file.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

from .model import LogRecord, Process, Ref, SpanRecord, Tag, TagValue

#: ``PRAGMA user_version`` of our files ("JL" and a schema number): anything else is refused.
SCHEMA = 0x4A4C_0001
_SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS spans (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    trace_id TEXT NOT NULL,
    span TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS spans_by_trace ON spans (trace_id);
"""


def _value_out(value: TagValue) -> Any:
    if isinstance(value, bytes):
        return {"b64": base64.b64encode(value).decode("ascii")}
    return value


def _value_in(value: Any) -> TagValue:
    if isinstance(value, dict):
        return base64.b64decode(value["b64"])
    if isinstance(value, (str, bool, int, float)):
        return value
    raise ValueError(f"not a tag value: {value!r}")


def _tags_out(tags: tuple[Tag, ...]) -> list[Any]:
    return [[t.key, t.type, _value_out(t.value)] for t in tags]


def _tags_in(rows: list[Any]) -> tuple[Tag, ...]:
    return tuple(Tag(str(key), str(kind), _value_in(value)) for key, kind, value in rows)


def span_to_text(span: SpanRecord) -> str:
    """The span as one line of JSON (NaN and infinities kept, ids as integers)."""
    doc = {
        "t": span.trace_id,
        "s": span.span_id,
        "p": span.parent_id,
        "o": span.operation,
        "r": [[r.kind, r.trace_id, r.span_id] for r in span.refs],
        "f": span.flags,
        "b": span.start,
        "d": span.duration,
        "g": _tags_out(span.tags),
        "l": [[entry.timestamp, _tags_out(entry.fields)] for entry in span.logs],
        "ps": span.process.service,
        "pt": _tags_out(span.process.tags),
        "w": list(span.warnings),
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def span_from_text(text: str) -> SpanRecord:
    """The inverse of ``span_to_text``; raises ``ValueError`` (or ``KeyError``) if damaged."""
    doc = json.loads(text)
    return SpanRecord(
        trace_id=int(doc["t"]),
        span_id=int(doc["s"]),
        parent_id=int(doc["p"]),
        operation=str(doc["o"]),
        refs=tuple(Ref(str(kind), int(tid), int(sid)) for kind, tid, sid in doc["r"]),
        flags=int(doc["f"]),
        start=int(doc["b"]),
        duration=int(doc["d"]),
        tags=_tags_in(doc["g"]),
        logs=tuple(LogRecord(int(ts), _tags_in(fields)) for ts, fields in doc["l"]),
        process=Process(str(doc["ps"]), _tags_in(doc["pt"])),
        warnings=tuple(str(w) for w in doc["w"]),
    )


class SqliteSpanLog:
    """A ``SpanLog`` in one SQLite file; raises ``ValueError`` at once for a file that is
    not one of ours (rather than touching it). Thread-safe."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(path, check_same_thread=False)
        except sqlite3.Error as exc:
            raise ValueError(f"cannot open {path}: {exc}") from None
        try:
            self._prepare()
        except (sqlite3.Error, ValueError) as exc:
            self._db.close()
            raise ValueError(f"{path} is not a jaeger-lite trace store: {exc}") from None
        #: Rows that could not be read back at start-up (skipped).
        self.damaged = 0

    def _prepare(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        tables = self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if version != SCHEMA and (version != 0 or tables):
            raise ValueError(f"unknown schema (user_version {version}); not touching it")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA_SQL)
        self._db.execute(f"PRAGMA user_version={SCHEMA}")

    def load(self) -> Iterator[SpanRecord]:
        """Every stored span in the order it was appended; unreadable rows are skipped."""
        with self._lock:
            rows = self._db.execute("SELECT span FROM spans ORDER BY seq").fetchall()
        for (text,) in rows:
            try:
                yield span_from_text(text)
            except (ValueError, KeyError, TypeError):
                self.damaged += 1

    def append(self, spans: list[SpanRecord]) -> None:
        """Persist spans in one transaction."""
        rows = [(f"{s.trace_id:x}", span_to_text(s)) for s in spans]
        with self._lock, self._db:
            self._db.executemany("INSERT INTO spans (trace_id, span) VALUES (?, ?)", rows)

    def forget(self, trace_ids: list[int]) -> None:
        """Delete every span of these traces in one transaction."""
        with self._lock, self._db:
            self._db.executemany(
                "DELETE FROM spans WHERE trace_id = ?", [(f"{t:x}",) for t in trace_ids]
            )

    def close(self) -> None:
        """Close the file (further calls raise ``sqlite3.ProgrammingError``)."""
        with self._lock:
            self._db.close()

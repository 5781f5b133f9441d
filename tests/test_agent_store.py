"""Tests for the agent's trace store (agent/store.py) and its SQLite file (agent/sqlstore.py)."""

from __future__ import annotations

import math
import sqlite3
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from jaeger_lite.agent.model import LogRecord, Process, Ref, SpanRecord, Tag
from jaeger_lite.agent.sqlstore import SqliteSpanLog, span_from_text, span_to_text
from jaeger_lite.agent.store import TraceQuery, TraceStore
from tests.agent_batches import NOW_US, record


def tagged(
    span: SpanRecord, *tags: Tag, service: str = "", logs: tuple[LogRecord, ...] = ()
) -> SpanRecord:
    process = Process(service) if service else span.process
    return replace(span, tags=span.tags + tags, process=process, logs=span.logs + logs)


def test_spans_from_several_batches_and_services_join_one_trace() -> None:
    """Batches arrive separately, from different processes: one trace holds them all."""
    store = TraceStore()
    store.add([record(7, 1, 0, "root", service="frontend")])
    store.add([record(9, 5, 0, "other", service="frontend")])
    store.add([record(7, 2, 1, "child", service="backend"), record(7, 3, 2, "db", service="db")])
    spans = store.get(7)
    assert spans is not None
    assert sorted(s.span_id for s in spans) == [1, 2, 3]
    assert store.services() == ["backend", "db", "frontend"]
    assert len(store) == 2


def test_oldest_quiet_trace_is_evicted_and_counted() -> None:
    """Beyond max_traces the trace longest without a new span goes, and is counted."""
    store = TraceStore(max_traces=2)
    store.add([record(1, 1, service="a")])
    store.add([record(2, 1, service="b")])
    store.add([record(1, 2, 1, service="a")])  # trace 1 is fresh again: trace 2 is the oldest
    store.add([record(3, 1, service="c")])
    assert store.get(2) is None
    assert store.get(1) is not None and store.get(3) is not None
    assert store.evicted == 1
    assert store.services() == ["a", "c"]  # b's only trace left: b leaves the list


def test_spans_beyond_the_per_trace_limit_are_counted() -> None:
    store = TraceStore(max_spans=2)
    store.add([record(1, i) for i in range(1, 5)])
    assert len(store.get(1) or []) == 2
    assert store.dropped_spans == 2


def test_operations_carry_span_kind() -> None:
    store = TraceStore()
    server = tagged(record(1, 1, 0, "GET /", service="api"), Tag("span.kind", "string", "server"))
    store.add([server, record(1, 2, 1, "query", service="api")])
    assert store.operations("api") == [("GET /", "server"), ("query", "")]
    assert store.operations("nobody") == []


def test_find_needs_one_span_matching_every_condition() -> None:
    """Service, operation, tags and duration must hold for the same span (Jaeger's rule)."""
    store = TraceStore()
    a = tagged(
        record(1, 1, 0, "checkout", duration=5000, service="shop"),
        Tag("http.status_code", "int64", 500),
    )
    b = tagged(record(1, 2, 1, "charge", duration=9000, service="pay"), Tag("error", "bool", True))
    store.add([a, b])
    assert [
        t for t, _ in store.find(TraceQuery(service="shop", tags=(("http.status_code", "500"),)))
    ] == [1]
    assert store.find(TraceQuery(service="shop", tags=(("error", "true"),))) == []
    assert [t for t, _ in store.find(TraceQuery(service="pay", tags=(("error", "true"),)))] == [1]
    assert store.find(TraceQuery(service="shop", min_duration=6000)) == []
    assert [
        t for t, _ in store.find(TraceQuery(service="pay", min_duration=6000, max_duration=9000))
    ] == [1]
    assert store.find(TraceQuery(service="pay", operation="checkout")) == []


def test_tags_match_process_tags_and_log_fields() -> None:
    store = TraceStore()
    entry = LogRecord(NOW_US, (Tag("event", "string", "retry"),))
    span = replace(
        record(1, 1), process=Process("svc", (Tag("hostname", "string", "web-1"),)), logs=(entry,)
    )
    store.add([span])
    assert len(store.find(TraceQuery(tags=(("hostname", "web-1"),)))) == 1
    assert len(store.find(TraceQuery(tags=(("event", "retry"),)))) == 1
    assert store.find(TraceQuery(tags=(("event", "other"),))) == []


def test_find_orders_newest_first_and_limits_and_filters_time() -> None:
    store = TraceStore()
    store.add([record(i, 1, start=i * 1_000_000) for i in range(1, 6)])
    assert [t for t, _ in store.find(TraceQuery(limit=3))] == [5, 4, 3]
    assert [t for t, _ in store.find(TraceQuery(limit=0))] == [5, 4, 3, 2, 1]
    window = TraceQuery(start_min=NOW_US + 2_000_000, start_max=NOW_US + 3_000_000)
    assert [t for t, _ in store.find(window)] == [3, 2]


def test_wait_for_change_wakes_on_new_spans() -> None:
    store = TraceStore()
    version = store.version
    assert store.wait_for_change(version, 0.01) == version  # nothing new: times out
    threading.Timer(0.05, store.add, args=([record(1, 1)],)).start()
    assert store.wait_for_change(version, 10) > version


# -- the SQLite file -----------------------------------------------------------------------


def odd_span() -> SpanRecord:
    """A span with every tag type and the awkward values (bytes, NaN, 128-bit ids)."""
    tags = (
        Tag("s", "string", "ünïcode <b>"),
        Tag("b", "bool", False),
        Tag("i", "int64", -(2**63)),
        Tag("f", "float64", math.inf),
        Tag("n", "float64", math.nan),
        Tag("x", "binary", b"\x00\xff"),
    )
    return SpanRecord(
        trace_id=(1 << 127) + 5,
        span_id=2**64 - 1,
        parent_id=3,
        operation="op",
        refs=(Ref("FOLLOWS_FROM", (1 << 127) + 5, 3),),
        flags=1,
        start=NOW_US,
        duration=12,
        tags=tags,
        logs=(LogRecord(NOW_US + 1, tags[:2]),),
        process=Process("svc", (Tag("hostname", "string", "h"),)),
        warnings=("clock skew",),
    )


def test_a_span_survives_the_file_format_exactly() -> None:
    span = odd_span()
    back = span_from_text(span_to_text(span))
    assert math.isnan(back.tags[4].value)  # type: ignore[arg-type]
    nan_free = lambda s: replace(s, tags=s.tags[:4] + s.tags[5:])  # noqa: E731
    assert nan_free(back) == nan_free(span)
    assert back.tags[5].value == b"\x00\xff"


def test_traces_survive_a_restart_within_the_bound(tmp_path: Path) -> None:
    path = str(tmp_path / "traces.db")
    store = TraceStore(max_traces=3, span_log=SqliteSpanLog(path))
    for trace_id in range(1, 5):  # trace 1 is evicted, and deleted from the file
        store.add([record(trace_id, 1, service=f"s{trace_id}"), record(trace_id, 2, 1)])
    store.add([odd_span()])  # evicts trace 2
    store.close()
    again = TraceStore(max_traces=3, span_log=SqliteSpanLog(path))
    assert sorted(t for t, _ in again.all_traces()) == [3, 4, odd_span().trace_id]
    assert again.get(odd_span().trace_id) is not None
    assert again.evicted == 0  # a restart is not an eviction
    rows = sqlite3.connect(path).execute("SELECT count(DISTINCT trace_id) FROM spans").fetchone()
    assert rows == (3,)
    again.close()


def test_a_lower_bound_at_restart_keeps_the_newest(tmp_path: Path) -> None:
    path = str(tmp_path / "traces.db")
    store = TraceStore(span_log=SqliteSpanLog(path))
    store.add([record(i, 1) for i in range(1, 6)])
    store.close()
    smaller = TraceStore(max_traces=2, span_log=SqliteSpanLog(path))
    assert sorted(t for t, _ in smaller.all_traces()) == [4, 5]
    smaller.close()
    assert sqlite3.connect(path).execute("SELECT count(*) FROM spans").fetchone() == (2,)


@pytest.mark.parametrize("content", [b"hello, not a database\n" * 10, None])
def test_a_file_that_is_not_a_store_is_refused_untouched(tmp_path: Path, content: object) -> None:
    path = tmp_path / "other.db"
    if content is None:  # somebody else's SQLite database
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE users (name TEXT)")
        db.commit()
        db.close()
    else:
        path.write_bytes(content)  # type: ignore[arg-type]
    before = path.read_bytes()
    with pytest.raises(ValueError, match="not a jaeger-lite trace store"):
        SqliteSpanLog(str(path))
    assert path.read_bytes() == before


def test_a_damaged_row_is_skipped(tmp_path: Path) -> None:
    path = str(tmp_path / "traces.db")
    log = SqliteSpanLog(path)
    log.append([record(1, 1)])
    log.close()
    db = sqlite3.connect(path)
    db.execute("INSERT INTO spans (trace_id, span) VALUES ('2', '{broken')")
    db.commit()
    db.close()
    again = SqliteSpanLog(path)
    store = TraceStore(span_log=again)
    assert [t for t, _ in store.all_traces()] == [1]
    assert again.damaged == 1
    store.close()


def test_a_failing_file_costs_a_counter_not_the_spans(tmp_path: Path) -> None:
    log = SqliteSpanLog(str(tmp_path / "traces.db"))
    store = TraceStore(span_log=log)
    log.close()  # every later write raises sqlite3.ProgrammingError
    store.add([record(1, 1)])
    assert store.get(1) is not None
    assert store.log_errors == 1
    assert "closed" in store.last_log_error

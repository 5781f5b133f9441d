"""dbapi.wrap on sqlite3 (the standard library's DB-API 2 driver): client spans with the
statement but never its parameters, errors recorded, the connection otherwise unchanged."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jaeger_lite import Tracer
from jaeger_lite.integrations import dbapi

from ._integration_helpers import WaitingReporter, waiting_tracer


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[Any, Tracer, WaitingReporter]]:
    tracer, reporter = waiting_tracer("shop")
    connection = dbapi.wrap(sqlite3.connect(str(tmp_path / "shop.db")), tracer)
    connection.execute("CREATE TABLE users (id INTEGER, name TEXT)")  # no span: no parent
    yield connection, tracer, reporter
    connection.close()


def test_statements_are_client_spans_without_parameters(
    db: tuple[Any, Tracer, WaitingReporter],
) -> None:
    """execute/executemany through the connection and a cursor; parameters never recorded."""
    connection, tracer, reporter = db
    with tracer.start_active_span("handler") as scope:
        connection.executemany("INSERT INTO users VALUES (?, ?)", [(1, "alice"), (2, "bob")])
        cursor = connection.cursor()
        rows = cursor.execute("  select name FROM users WHERE id = ?", (2,)).fetchall()
        assert rows == [("bob",)]
        assert list(cursor.execute("SELECT id FROM users ORDER BY id")) == [(1,), (2,)]
    insert, select, select_all, _ = reporter.spans
    assert [insert.operation_name, select.operation_name] == ["INSERT", "SELECT"]
    assert all(s.context.parent_id == scope.span.context.span_id for s in (insert, select))
    assert dict(select.tags) == {
        "span.kind": "client",
        "component": "sqlite3",
        "db.type": "sql",
        "db.instance": "shop.db",
        "db.statement": "  select name FROM users WHERE id = ?",
    }
    recorded = repr([dict(s.tags) for s in reporter.spans]) + repr([s.logs for s in reporter.spans])
    assert "alice" not in recorded and "bob" not in recorded


def test_leading_comments_do_not_name_the_span(db: tuple[Any, Tracer, WaitingReporter]) -> None:
    """The name is the first keyword after sqlcommenter-style leading comments (it was
    ``/*`` or ``--``); a statement of comments only is ``query``."""
    connection, tracer, reporter = db
    with tracer.start_active_span("handler"):
        connection.execute("/* controller='users',route='/u' */ SELECT id FROM users")
        connection.execute("-- report\n  /* nightly */ SELECT count(*) FROM users")
        connection.execute("/* nothing but a comment */")
    names = [span.operation_name for span in reporter.spans]
    assert names == ["SELECT", "SELECT", "query", "handler"]
    assert reporter.spans[0].tags["db.statement"].startswith("/* controller=")


def test_the_cursor_stays_the_drivers_in_and_out_of_spans(
    db: tuple[Any, Tracer, WaitingReporter],
) -> None:
    """``next(cursor)`` works as on sqlite3's cursor (it raised TypeError inside a span); a
    cursor from a statement run outside any span is still the traced one (it was the
    driver's, so its later statements went untraced); ``with cursor`` fails as the
    driver's does (TypeError, not AttributeError)."""
    connection, tracer, reporter = db
    outside = connection.execute("SELECT 1")
    assert next(outside) == (1,)
    with tracer.start_active_span("handler"):
        assert next(connection.execute("SELECT 2")) == (2,)
        assert outside.execute("SELECT 3").fetchone() == (3,)
    assert [s.tags.get("db.statement") for s in reporter.spans] == ["SELECT 2", "SELECT 3", None]
    with pytest.raises(TypeError, match="context manager"):
        with connection.cursor():
            pass


def test_long_statements_are_cut(tmp_path: Path) -> None:
    tracer, reporter = waiting_tracer()
    connection = dbapi.wrap(
        sqlite3.connect(":memory:"), tracer, max_statement_length=20, db_instance="cache"
    )
    with tracer.start_active_span("handler"):
        connection.execute("SELECT 1 " + "-- padding " * 20)
    span = reporter.spans[0]
    assert span.tags["db.statement"] == "SELECT 1 -- padding "
    assert span.tags["db.instance"] == "cache"


def test_a_failing_statement_is_an_error_and_reraised(
    db: tuple[Any, Tracer, WaitingReporter],
) -> None:
    connection, tracer, reporter = db
    with tracer.start_active_span("handler"), pytest.raises(sqlite3.OperationalError):
        connection.execute("SELECT * FROM missing_table")
    span = reporter.spans[0]
    assert span.tags["error"] is True
    assert span.logs[0].fields["error.kind"] == "OperationalError"


def test_the_connection_is_otherwise_the_drivers(db: tuple[Any, Tracer, WaitingReporter]) -> None:
    """Transactions, attributes and context managers behave as sqlite3's own."""
    connection, tracer, _ = db
    with connection:
        connection.execute("INSERT INTO users VALUES (3, 'carol')")
    assert connection.total_changes >= 1
    assert dbapi.wrap(connection) is connection
    cursor = connection.cursor()
    cursor.execute("SELECT id, name FROM users")
    assert [column[0] for column in cursor.description] == ["id", "name"]
    assert cursor.fetchone() == (3, "carol")
    with connection:
        connection.execute("DELETE FROM users")
        connection.rollback()
    assert connection.execute("SELECT count(*) FROM users").fetchone() == (1,)


class _Broken(Tracer):
    def start_span(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("misconfigured")


def test_a_broken_or_closed_tracer_never_breaks_a_query() -> None:
    closed, _ = waiting_tracer()
    closed.close()
    for tracer in (_Broken("broken"), closed):
        connection = dbapi.wrap(sqlite3.connect(":memory:"), tracer, root_spans=True)
        assert connection.execute("SELECT 41 + 1").fetchone() == (42,)
        connection.close()

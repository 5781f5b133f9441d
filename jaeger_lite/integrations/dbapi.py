"""DB-API 2 (PEP 249): a connection whose cursors trace ``execute``, ``executemany`` and
``callproc`` as client spans.

    connection = dbapi.wrap(sqlite3.connect("shop.db"))

Each span is named after the statement's first keyword (``SELECT``) and tagged
``span.kind=client``, ``component``, ``db.type``, ``db.instance``, ``db.statement`` (cut
at ``max_statement_length`` characters) and ``peer.service`` when given. Parameters are
never recorded. Everything else is the wrapped connection's and cursor's own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, Callable, Optional

from ..span import Span, record_error
from ..tracer import Tracer
from ._common import failed, tracer_or_global

__all__ = ["TracedConnection", "TracedCursor", "wrap"]


class _Settings:
    """What ``wrap()`` was told, shared by the connection and its cursors."""

    __slots__ = (
        "component", "db_instance", "db_type", "max_length", "peer_service", "root_spans",
        "tracer",
    )  # fmt: skip

    def __init__(
        self,
        tracer: Optional[Tracer],
        db_type: str,
        db_instance: Optional[str],
        peer_service: Optional[str],
        max_length: int,
        root_spans: bool,
        component: str,
    ) -> None:
        self.tracer = tracer
        self.db_type = db_type
        self.db_instance = db_instance
        self.peer_service = peer_service
        self.max_length = max_length
        self.root_spans = root_spans
        self.component = component


def wrap(
    connection: Any,
    tracer: Optional[Tracer] = None,
    *,
    db_type: str = "sql",
    db_instance: Optional[str] = None,
    peer_service: Optional[str] = None,
    max_statement_length: int = 1024,
    root_spans: bool = False,
) -> TracedConnection:
    """Trace the statements run through ``connection`` as children of the active span
    (outside any span only with ``root_spans=True``, as for HTTP clients). ``db_instance``
    defaults to what the driver tells (sqlite3: the main database file's name; psycopg:
    ``info.dbname``). ``tracer`` defaults to the global tracer at each statement."""
    if isinstance(connection, TracedConnection):
        return connection
    settings = _Settings(
        tracer=tracer,
        db_type=db_type,
        db_instance=db_instance if db_instance is not None else _instance_of(connection),
        peer_service=peer_service,
        max_length=int(max_statement_length),
        root_spans=bool(root_spans),
        component=type(connection).__module__.partition(".")[0] or "dbapi",
    )
    return TracedConnection(connection, settings)


class TracedConnection:
    """A DB-API connection whose cursors are traced; every other attribute is the driver's."""

    __slots__ = ("_connection", "_settings")

    def __init__(self, connection: Any, settings: _Settings) -> None:
        self._connection = connection
        self._settings = settings

    def cursor(self, *args: Any, **kwargs: Any) -> TracedCursor:
        return TracedCursor(self._connection.cursor(*args, **kwargs), self._settings)

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        """sqlite3's shortcut: a traced cursor's ``execute``."""
        return self.cursor().execute(statement, *args, **kwargs)

    def executemany(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        return self.cursor().executemany(statement, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def __enter__(self) -> TracedConnection:
        self._connection.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> Any:
        return self._connection.__exit__(*exc_info)


class TracedCursor:
    """A DB-API cursor whose statements are client spans."""

    __slots__ = ("_cursor", "_settings")

    def __init__(self, cursor: Any, settings: _Settings) -> None:
        self._cursor = cursor
        self._settings = settings

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        return self._traced(self._cursor.execute, statement, args, kwargs)

    def executemany(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        return self._traced(self._cursor.executemany, statement, args, kwargs)

    def callproc(self, procedure: Any, *args: Any, **kwargs: Any) -> Any:
        return self._traced(self._cursor.callproc, procedure, args, kwargs)

    def _traced(self, method: Callable[..., Any], statement: Any, args: Any, kwargs: Any) -> Any:
        span = _start(self._settings, statement)
        if span is None:  # still this cursor, so its later statements in a span are traced
            result = method(statement, *args, **kwargs)
            return self if result is self._cursor else result
        try:
            result = method(statement, *args, **kwargs)
        except BaseException as error:
            record_error(span, error, error.__traceback__)
            _finish(span)
            raise
        _finish(span)
        return self if result is self._cursor else result  # sqlite3 returns the cursor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cursor)

    def __next__(self) -> Any:  # next(cursor): sqlite3's cursors are their own iterators
        return next(self._cursor)

    def __enter__(self) -> TracedCursor:
        enter = getattr(type(self._cursor), "__enter__", None)
        if enter is None:  # as `with` says of the driver's own cursor
            name = type(self._cursor).__name__
            raise TypeError(f"'{name}' object does not support the context manager protocol")
        enter(self._cursor)
        return self

    def __exit__(self, *exc_info: Any) -> Any:
        return self._cursor.__exit__(*exc_info)


def _start(settings: _Settings, statement: Any) -> Optional[Span]:
    try:
        tracer = tracer_or_global(settings.tracer)
        if not settings.root_spans and tracer.active_span is None:
            return None
        text = statement if isinstance(statement, str) else _text(statement)
        span = tracer.start_span(_verb(text))
        if span.is_sampled:
            limit = settings.max_length
            span.set_tag("span.kind", "client")
            span.set_tag("component", settings.component)
            span.set_tag("db.type", settings.db_type)
            if settings.db_instance:
                span.set_tag("db.instance", settings.db_instance)
            span.set_tag("db.statement", text if len(text) <= limit else text[:limit])
            if settings.peer_service:
                span.set_tag("peer.service", settings.peer_service)
        return span
    except Exception:  # a closed, foreign or broken tracer: run the statement untraced
        failed("starting a database span")
        return None


def _finish(span: Span) -> None:
    try:
        span.finish()
    except Exception:  # a reporter's bug: the statement's result stands
        failed("finishing a database span")


def _verb(statement: str) -> str:
    """The statement's first keyword in upper case (bounded names: never the statement),
    after any leading ``/* ... */`` or ``-- ...`` comments (sqlcommenter-style tags)."""
    text = statement.lstrip(_SPACE)
    for _ in range(8):  # a few comments at most, then the name is "query"
        if text.startswith("/*"):
            end = text.find("*/", 2)
            text = "" if end == -1 else text[end + 2 :].lstrip(_SPACE)
        elif text.startswith("--"):
            end = text.find("\n", 2)
            text = "" if end == -1 else text[end + 1 :].lstrip(_SPACE)
        else:
            break
    words = text.split(None, 1)
    return words[0].upper()[:32] if words and not text.startswith(("/*", "--")) else "query"


_SPACE = " \t\r\n("


def _text(statement: Any) -> str:
    if isinstance(statement, (bytes, bytearray)):
        return bytes(statement).decode("utf-8", "replace")
    as_string = getattr(statement, "as_string", None)  # psycopg's sql.Composed needs a context
    return str(statement) if as_string is None else type(statement).__name__


def _instance_of(connection: Any) -> Optional[str]:
    info = getattr(connection, "info", None)
    name = getattr(info, "dbname", None)
    if isinstance(name, str):
        return name
    if type(connection).__module__.startswith("sqlite3"):
        try:
            rows = connection.execute("PRAGMA database_list").fetchall()
            main = next((row[2] for row in rows if row[1] == "main"), None)
            return (os.path.basename(main) or ":memory:") if isinstance(main, str) else None
        except Exception:  # a closed connection: no instance tag
            return None
    return None

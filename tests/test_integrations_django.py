"""The Django settings middleware on a real Django site (minimal settings configured in
the test, served by wsgiref on 127.0.0.1): spans named by the resolver's route."""

from __future__ import annotations

import http.client
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

import jaeger_lite
from jaeger_lite import Tracer
from jaeger_lite.integrations import WSGIMiddleware, dbapi

from ._integration_helpers import WAIT, WaitingReporter, waiting_tracer, wsgi_server

pytest.importorskip("django")
site = pytest.importorskip("tests._django_site")


@pytest.fixture
def traced() -> Iterator[tuple[str, Tracer, WaitingReporter]]:
    """The site served, the global tracer (the one Django's middleware uses) a test one."""
    tracer, reporter = waiting_tracer("inventory")
    jaeger_lite.set_global_tracer(tracer)
    database = sqlite3.connect(":memory:", check_same_thread=False)
    database.execute("CREATE TABLE stock (item TEXT, count INTEGER)")
    database.execute("INSERT INTO stock VALUES ('book', 3)")
    site.STATE["db"] = dbapi.wrap(database, tracer)
    with wsgi_server(site.application) as url:
        yield url, tracer, reporter
    database.close()


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=WAIT) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_spans_are_named_by_the_resolver_route(
    traced: tuple[str, Tracer, WaitingReporter],
) -> None:
    """/stock/book/ is ``GET /stock/<str:item>/``; its query is a child span."""
    url, _, reporter = traced
    assert fetch(f"{url}/stock/book/") == (200, b'{"item": "book", "count": 3}')
    server = reporter.wait_for(2)[-1]
    assert server.operation_name == "GET /stock/<str:item>/"
    assert server.tags["component"] == "django"
    assert server.tags["http.route"] == "/stock/<str:item>/"
    assert server.tags["http.url"] == f"{url}/stock/book/"
    assert server.tags["http.status_code"] == 200
    query = reporter.named("SELECT")
    assert query.context.parent_id == server.context.span_id
    assert query.tags["db.statement"] == "SELECT count FROM stock WHERE item = ?"


def test_an_included_route_has_its_prefix(traced: tuple[str, Tracer, WaitingReporter]) -> None:
    """Routes under include() are named with the whole pattern."""
    url, _, reporter = traced
    assert fetch(f"{url}/api/v1/items/7/") == (200, b"item 7")
    (span,) = reporter.wait_for(1)
    assert span.operation_name == "GET /api/v1/items/<int:pk>/"


def test_a_view_exception_is_an_error(traced: tuple[str, Tracer, WaitingReporter]) -> None:
    """Django answers the exception with a 500; the span has both."""
    url, _, reporter = traced
    assert fetch(f"{url}/fail/")[0] == 500
    (span,) = reporter.wait_for(1)
    assert span.tags["error"] is True
    assert span.tags["http.status_code"] == 500
    assert span.logs[0].fields["error.kind"] == "ValueError"


def test_a_streaming_response_ends_the_span_on_close(
    traced: tuple[str, Tracer, WaitingReporter],
) -> None:
    """A StreamingHttpResponse's span is open while the body streams."""
    url, _, reporter = traced
    release = site.STATE["release"]
    release.clear()
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=WAIT)
    connection.request("GET", "/stream/")
    response = connection.getresponse()
    assert response.read(6) == b"first;"
    assert reporter.spans == []
    release.set()
    assert response.read() == b"second"
    connection.close()
    (span,) = reporter.wait_for(1)
    assert span.operation_name == "GET /stream/"


def test_an_exception_in_a_streamed_body_is_recorded(
    traced: tuple[str, Tracer, WaitingReporter],
) -> None:
    """The view's iterator raises after the first chunk: the span has the exception (it
    had the 200 alone), and the span is active while the iterator runs, as under the WSGI
    middleware."""
    url, _, reporter = traced
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=WAIT)
    connection.request("GET", "/broken-stream/")
    response = connection.getresponse()
    assert (response.status, response.read(6)) == (200, b"first;")
    connection.close()
    (span,) = reporter.wait_for(1)
    assert span.operation_name == "GET /broken-stream/"
    assert site.STATE["stream_span"] is span
    assert span.tags["http.status_code"] == 200
    assert span.tags["error"] is True
    assert span.logs[0].fields["error.kind"] == "ConnectionError"
    # Before the first chunk nothing was sent: the server answers 500, the span has no 200.
    reporter.clear()
    assert fetch(f"{url}/broken-stream/?at=start")[0] == 500
    (span,) = reporter.wait_for(1)
    assert "http.status_code" not in span.tags
    assert span.tags["error"] is True


def test_skipped_and_unmatched_paths(traced: tuple[str, Tracer, WaitingReporter]) -> None:
    """JAEGER_LITE_SKIP_PATHS is served untraced; a 404 is named by the method."""
    url, _, reporter = traced
    assert fetch(f"{url}/health/") == (200, b"ok")
    assert fetch(f"{url}/nowhere/")[0] == 404
    (span,) = reporter.wait_for(1)
    assert span.operation_name == "GET"
    assert span.tags["http.status_code"] == 404


def test_under_the_wsgi_middleware_django_only_names_the_span() -> None:
    """WSGIMiddleware around Django's application: one span, named by Django's route."""
    tracer, reporter = waiting_tracer("inventory")
    jaeger_lite.set_global_tracer(tracer)
    with wsgi_server(WSGIMiddleware(site.application, tracer)) as url:
        assert fetch(f"{url}/api/v1/items/3/") == (200, b"item 3")
        (span,) = reporter.wait_for(1)
    assert span.operation_name == "GET /api/v1/items/<int:pk>/"
    assert span.tags["component"] == "wsgi"


class _Broken(Tracer):
    def start_active_span(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("misconfigured")


def test_a_broken_global_tracer_never_breaks_django() -> None:
    """Requests are answered as without tracing."""
    jaeger_lite.set_global_tracer(_Broken("broken"))
    with wsgi_server(site.application) as url:
        assert fetch(f"{url}/api/v1/items/5/") == (200, b"item 5")

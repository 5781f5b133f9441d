"""The Flask helper on a real Flask app (werkzeug's server on 127.0.0.1): spans named by the
URL rule, exceptions Flask answers with a 500 recorded, streamed responses covered."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Optional

import pytest

from jaeger_lite.integrations.flask import trace_app

from ._integration_helpers import WAIT, WaitingReporter, waiting_tracer

flask = pytest.importorskip("flask")
serving = pytest.importorskip("werkzeug.serving")


@pytest.fixture(scope="module")
def service() -> Iterator[tuple[str, WaitingReporter]]:
    tracer, reporter = waiting_tracer("flask-app")
    app = flask.Flask("traced")

    @app.before_request
    def check_login() -> Optional[tuple[str, int]]:  # registered before trace_app runs
        if flask.request.args.get("login") == "no":
            return "log in first", 401
        return None

    @app.route("/users/<int:user_id>")
    def user(user_id: int) -> str:
        span = tracer.active_span
        assert span is not None
        return f"user {user_id} in {span.context.trace_id_hex}"

    @app.route("/fail")
    def fail() -> str:
        raise KeyError("missing order")

    @app.route("/stream")
    def stream() -> flask.Response:
        def chunks() -> Iterator[str]:
            yield "a"
            yield "b"

        return flask.Response(chunks())

    assert trace_app(trace_app(app, tracer, skip_paths=["/health"]), tracer) is app
    server = serving.make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", reporter
    server.shutdown()
    thread.join(WAIT)


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=WAIT) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_spans_are_named_by_the_url_rule(service: tuple[str, WaitingReporter]) -> None:
    """GET /users/42 is the operation ``GET /users/<int:user_id>``, traced once."""
    url, reporter = service
    reporter.clear()
    status, body = fetch(f"{url}/users/42")
    (span,) = reporter.wait_for(1)
    assert (status, body) == (200, f"user 42 in {span.context.trace_id_hex}")
    assert span.operation_name == "GET /users/<int:user_id>"
    assert span.tags["http.route"] == "/users/<int:user_id>"
    assert span.tags["http.url"] == f"{url}/users/42"
    assert span.tags["http.status_code"] == 200


def test_a_request_answered_by_an_earlier_before_request_is_named(
    service: tuple[str, WaitingReporter],
) -> None:
    """A before_request function registered before trace_app answers the request itself
    (a login check's 401): the span is still named by the matched rule (it was ``GET``,
    the naming hook running after the one that answered)."""
    url, reporter = service
    reporter.clear()
    assert fetch(f"{url}/users/42?login=no") == (401, "log in first")
    (span,) = reporter.wait_for(1)
    assert span.operation_name == "GET /users/<int:user_id>"
    assert span.tags["http.status_code"] == 401


def test_an_exception_answered_with_500_is_recorded(service: tuple[str, WaitingReporter]) -> None:
    """Flask turns the exception into a 500; the span has the 500 and the exception."""
    url, reporter = service
    reporter.clear()
    assert fetch(f"{url}/fail")[0] == 500
    (span,) = reporter.wait_for(1)
    assert span.operation_name == "GET /fail"
    assert span.tags["error"] is True
    assert span.tags["http.status_code"] == 500
    (log,) = span.logs
    assert log.fields["error.kind"] == "KeyError"


def test_unmatched_and_skipped_paths(service: tuple[str, WaitingReporter]) -> None:
    """A 404 has no rule (the span is named by the method alone); /health is skipped."""
    url, reporter = service
    reporter.clear()
    assert fetch(f"{url}/health")[0] == 404
    assert fetch(f"{url}/nowhere/1")[0] == 404
    (span,) = reporter.wait_for(1)
    assert span.operation_name == "GET"
    assert "error" not in span.tags


def test_a_streamed_response_is_covered(service: tuple[str, WaitingReporter]) -> None:
    """The span of a streamed response ends after the body is sent."""
    url, reporter = service
    reporter.clear()
    assert fetch(f"{url}/stream") == (200, "ab")
    (span,) = reporter.wait_for(1)
    assert span.operation_name == "GET /stream"

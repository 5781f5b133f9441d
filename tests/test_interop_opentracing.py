"""jaeger_lite under OpenTracing instrumentation nobody here wrote: ``requests-opentracing``
on the client, ``flask-opentracing`` on a real Flask server (werkzeug on 127.0.0.1), both
written against the ``opentracing`` API only, plus the API's constants and managers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from jaeger_lite import (
    ContextVarsScopeManager,
    Format,
    InMemoryReporter,
    Span,
    ThreadLocalScopeManager,
    Tracer,
)

opentracing = pytest.importorskip("opentracing")
flask = pytest.importorskip("flask")
flask_opentracing = pytest.importorskip("flask_opentracing")
requests_opentracing = pytest.importorskip("requests_opentracing")
serving = pytest.importorskip("werkzeug.serving")


class Service:
    """A Flask app traced by flask-opentracing, served on 127.0.0.1 in a thread."""

    def __init__(self) -> None:
        self.reporter = InMemoryReporter()
        self.tracer = Tracer("server", self.reporter)
        app = flask.Flask("traced")
        # Every request is traced by the app's hooks; /fail also by the decorator, the
        # path on which flask-opentracing records the exception (error.object).
        flask_opentracing.FlaskTracing(self.tracer, True, app)
        decorator = flask_opentracing.FlaskTracing(self.tracer)

        @app.route("/hello")
        def hello() -> str:
            with self.tracer.start_active_span("db.query") as scope:
                scope.span.set_tag(opentracing.ext.tags.DATABASE_TYPE, "sql")
            return self.tracer.active_span.get_baggage_item("user-id") or "-"

        @app.route("/fail")
        @decorator.trace("path")
        def fail() -> str:
            raise ValueError("no such order")

        self.server = serving.make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def spans(self) -> dict[str, Span]:
        return {span.operation_name: span for span in self.reporter.spans}

    def all_spans(self, name: str) -> list[Span]:
        return [span for span in self.reporter.spans if span.operation_name == name]

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(10)


@pytest.fixture(scope="module")
def service() -> Iterator[Service]:
    running = Service()
    yield running
    running.stop()


@pytest.fixture
def client() -> tuple[Tracer, InMemoryReporter, Any]:
    reporter = InMemoryReporter()
    tracer = Tracer("client", reporter)
    return tracer, reporter, requests_opentracing.SessionTracing(tracer)


def test_request_continues_the_trace_with_baggage(service: Service, client: Any) -> None:
    """requests-opentracing injects, flask-opentracing extracts (werkzeug headers): one
    trace, the server span a child of the client span, baggage with a space arrives."""
    tracer, reporter, session = client
    service.reporter.clear()
    with tracer.start_active_span("checkout") as scope:
        scope.span.set_baggage_item("user-id", "ann o'neil+1")
        response = session.get(service.url + "/hello", timeout=10)
    assert response.status_code == 200
    assert response.text == "ann o'neil+1"
    request_span = next(s for s in reporter.spans if s.operation_name == "requests.get")
    server = service.spans()
    handler, query = server["hello"], server["db.query"]
    assert handler.context.trace_id == request_span.context.trace_id
    assert handler.context.parent_id == request_span.context.span_id
    assert query.context.parent_id == handler.context.span_id
    tags = handler.tags
    assert tags["component"] == "Flask" and tags["span.kind"] == "server"
    assert tags["http.method"] == "GET" and tags["http.status_code"] == 200
    assert request_span.tags["span.kind"] == "client"
    assert request_span.tags["http.status_code"] == 200


def test_failing_handler_is_marked_with_its_error_object(service: Service, client: Any) -> None:
    """An exception in a handler: flask-opentracing's error=true and error.object (the
    exception itself) are recorded, the client span gets the 500."""
    _, reporter, session = client
    service.reporter.clear()
    response = session.get(service.url + "/fail", timeout=10)
    assert response.status_code == 500
    by_hooks, by_decorator = sorted(service.all_spans("fail"), key=lambda s: "path" in s.tags)
    assert by_hooks.tags["http.status_code"] == 500
    assert by_decorator.tags["error"] is True and by_decorator.tags["path"] == "/fail"
    (log,) = by_decorator.logs
    assert log.fields["event"] == "error"
    assert log.fields["error.object"] == "no such order"  # str() of the exception object
    assert reporter.spans[0].tags["http.status_code"] == 500


def test_garbage_trace_header_starts_a_new_trace(service: Service) -> None:
    """A corrupt uber-trace-id reaching flask-opentracing yields a fresh root, not a 500."""
    import requests

    service.reporter.clear()
    response = requests.get(
        service.url + "/hello", headers={"uber-trace-id": "zz:\u00e9:0:1"}, timeout=10
    )
    assert response.status_code == 200
    assert service.spans()["hello"].context.parent_id == 0


def test_opentracing_constants_are_ours() -> None:
    """Format names equal OpenTracing's; ext.tags and logs keys are plain strings we keep."""
    assert Format.TEXT_MAP == opentracing.Format.TEXT_MAP
    assert Format.HTTP_HEADERS == opentracing.Format.HTTP_HEADERS
    assert Format.BINARY == opentracing.Format.BINARY
    tracer = Tracer("svc", InMemoryReporter())
    span = tracer.start_span("op")
    span.set_tag(opentracing.ext.tags.SAMPLING_PRIORITY, 1)
    span.log_kv({opentracing.logs.EVENT: "error", opentracing.logs.ERROR_OBJECT: KeyError("k")})
    assert span.context.is_debug
    assert span.logs[0].fields == {"event": "error", "error.object": "'k'"}


@pytest.mark.parametrize("manager", [ContextVarsScopeManager, ThreadLocalScopeManager])
def test_active_scope_is_per_thread(manager: type) -> None:
    """Each thread sees only its own active scope, on both managers."""
    tracer = Tracer("svc", InMemoryReporter(), scope_manager=manager())
    seen: dict[int, Any] = {}
    barrier = threading.Barrier(4)

    def work(n: int) -> None:
        with tracer.start_active_span(f"t{n}"):
            barrier.wait(10)  # all four active at once
            seen[n] = tracer.scope_manager.active.span.operation_name
        seen[-n - 1] = tracer.scope_manager.active

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert {n: seen[n] for n in range(4)} == {n: f"t{n}" for n in range(4)}
    assert all(seen[-n - 1] is None for n in range(4))


def test_active_scope_is_per_asyncio_task() -> None:
    """With the default manager each task sees its own span and inherits its creator's."""
    tracer = Tracer("svc", InMemoryReporter())

    async def child(n: int) -> tuple[str, str]:
        parent = tracer.scope_manager.active.span.operation_name
        with tracer.start_active_span(f"task{n}"):
            await asyncio.sleep(0)
            return parent, tracer.scope_manager.active.span.operation_name

    async def main() -> list[tuple[str, str]]:
        with tracer.start_active_span("main"):
            return await asyncio.gather(*(child(n) for n in range(3)))

    assert asyncio.run(main()) == [("main", f"task{n}") for n in range(3)]
    assert tracer.scope_manager.active is None

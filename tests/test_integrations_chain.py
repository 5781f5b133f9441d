"""One trace across real services, decoded from what reaches a development agent:

    customer ─▶ frontend (FastAPI, uvicorn) ─httpx async─▶ orders (Flask) ── SELECT (sqlite3)
                                            └─requests──▶ inventory (Django) ── SELECT (sqlite3)

Each service has its own tracer reporting over UDP; every span comes from an integration
(ASGI middleware, client instrumentation, Flask and Django helpers, the DB-API wrapper)."""

from __future__ import annotations

import io
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

import jaeger_lite
from jaeger_lite.agent import DevAgent
from jaeger_lite.agent.model import SpanRecord
from jaeger_lite.integrations import ASGIMiddleware, dbapi, instrument, uninstrument
from jaeger_lite.integrations.flask import trace_app

from ._integration_helpers import WAIT, asgi_server, wsgi_server

fastapi = pytest.importorskip("fastapi")
flask = pytest.importorskip("flask")
httpx = pytest.importorskip("httpx")
requests = pytest.importorskip("requests")
pytest.importorskip("uvicorn")
pytest.importorskip("django")
django_site = pytest.importorskip("tests._django_site")
concurrency = pytest.importorskip("starlette.concurrency")


def database(rows: list[tuple[str, int]]) -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:", check_same_thread=False)
    connection.execute("CREATE TABLE stock (item TEXT, count INTEGER)")
    connection.executemany("INSERT INTO stock VALUES (?, ?)", rows)
    return connection


def orders_app(tracer: jaeger_lite.Tracer) -> Any:
    app = flask.Flask("orders")
    db = dbapi.wrap(database([("book", 12)]), tracer)

    @app.route("/orders/<item>")
    def order(item: str) -> Any:
        if item == "gift-card":
            raise PermissionError("gift cards are not sold online")
        (price,) = db.execute("SELECT count FROM stock WHERE item = ?", (item,)).fetchone()
        return {"item": item, "price": price}

    return trace_app(app, tracer)


def frontend_app(orders: str, inventory: str) -> Any:
    app = fastapi.FastAPI()

    @app.get("/checkout/{item}")
    async def checkout(item: str) -> Any:
        async with httpx.AsyncClient(timeout=WAIT) as client:
            order = await client.get(f"{orders}/orders/{item}")
        if order.status_code != 200:
            return fastapi.responses.JSONResponse({"error": "orders failed"}, status_code=502)
        stock = await concurrency.run_in_threadpool(
            requests.get, f"{inventory}/stock/{item}/", timeout=WAIT
        )
        return {"price": order.json()["price"], "stock": stock.json()["count"]}

    return app


@pytest.fixture(scope="module")
def traces() -> Iterator[list[list[SpanRecord]]]:
    """Both customer requests run through the three services; the traces the agent got."""
    with DevAgent(compact_port=0, binary_port=None, http_port=None, out=io.StringIO()) as agent:

        def tracer(name: str) -> jaeger_lite.Tracer:
            return jaeger_lite.init_tracer(
                name,
                agent_host="127.0.0.1",
                agent_port=agent.compact_port,
                sampler_type="const",
                sampler_param=1,
                set_global=False,
            )

        frontend, orders, inventory = tracer("frontend"), tracer("orders"), tracer("inventory")
        jaeger_lite.set_global_tracer(inventory)  # the tracer Django's middleware uses
        django_site.STATE["db"] = dbapi.wrap(database([("book", 3)]), inventory)
        try:
            with wsgi_server(orders_app(orders)) as orders_url:
                with wsgi_server(django_site.application) as inventory_url:
                    peers = {orders_url[7:]: "orders", inventory_url[7:]: "inventory"}
                    instrument("httpx", "requests", tracer=frontend, peer_service=peers)
                    app = ASGIMiddleware(frontend_app(orders_url, inventory_url), frontend)
                    with asgi_server(app) as url:
                        book = fetch(f"{url}/checkout/book")
                        gift_card = fetch(f"{url}/checkout/gift-card")
            assert book == (200, b'{"price":12,"stock":3}')
            assert gift_card == (502, b'{"error":"orders failed"}')
        finally:
            uninstrument()
            jaeger_lite.reset_global_tracer()
            for each in (frontend, orders, inventory):
                each.close(WAIT)
        assert agent.wait_for_spans(10, timeout=WAIT)
        agent.flush()
        yield sorted((trace.spans for trace in agent.traces), key=len, reverse=True)


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=WAIT) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def by_name(spans: list[SpanRecord]) -> dict[str, SpanRecord]:
    named = {f"{s.process.service}: {s.operation}": s for s in spans}
    assert len(named) == len(spans), sorted(named)
    return named


def test_one_trace_across_three_services(traces: list[list[SpanRecord]]) -> None:
    """Seven spans, one trace, each the child of the span that caused it, with its tags."""
    ok, failed = traces
    spans = by_name(ok)
    assert sorted(spans) == [
        "frontend: GET /checkout/{item}",
        "frontend: GET inventory",
        "frontend: GET orders",
        "inventory: GET /stock/<str:item>/",
        "inventory: SELECT",
        "orders: GET /orders/<item>",
        "orders: SELECT",
    ]
    root = spans["frontend: GET /checkout/{item}"]
    chain = [
        (root, "frontend: GET orders"),
        (spans["frontend: GET orders"], "orders: GET /orders/<item>"),
        (spans["orders: GET /orders/<item>"], "orders: SELECT"),
        (root, "frontend: GET inventory"),
        (spans["frontend: GET inventory"], "inventory: GET /stock/<str:item>/"),
        (spans["inventory: GET /stock/<str:item>/"], "inventory: SELECT"),
    ]
    assert root.parent_id == 0
    for parent, child in chain:
        assert spans[child].parent_id == parent.span_id, child
        assert spans[child].trace_id == root.trace_id
    assert root.tag("span.kind") == "server" and root.tag("http.status_code") == 200
    assert root.tag("http.route") == "/checkout/{item}"
    client = spans["frontend: GET orders"]
    assert (client.tag("span.kind"), client.tag("component")) == ("client", "httpx")
    assert client.tag("peer.service") == "orders"
    assert spans["frontend: GET inventory"].tag("component") == "requests"
    query = spans["inventory: SELECT"]
    assert query.tag("db.statement") == "SELECT count FROM stock WHERE item = ?"
    assert query.tag("db.type") == "sql" and query.tag("db.instance") == ":memory:"
    assert not any(span.is_error for span in ok)


def test_a_failure_is_an_error_on_every_hop(traces: list[list[SpanRecord]]) -> None:
    """The orders exception (a 500), the client's 5xx and the frontend's 502 are errors."""
    _, failed = traces
    spans = by_name(failed)
    assert sorted(spans) == [
        "frontend: GET /checkout/{item}",
        "frontend: GET orders",
        "orders: GET /orders/<item>",
    ]
    assert all(span.is_error for span in failed)
    assert spans["orders: GET /orders/<item>"].error_message == "gift cards are not sold online"
    assert spans["frontend: GET orders"].tag("http.status_code") == 500
    assert spans["frontend: GET /checkout/{item}"].tag("http.status_code") == 502

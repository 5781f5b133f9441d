"""The jaeger_lite demo: three small services, two customer orders, traced end to end.

    make demo            # or: python examples/demo.py

    customer ──HTTP──▶ frontend ──HTTP──▶ inventory ── SELECT stock
                                 └─HTTP──▶ payments  (declines gift cards)
                                 ┄┄┄┄┄┄▶ send-receipt (background job: FollowsFrom)

Each service is a WSGI app on the stdlib's server with its own tracer, traced by
jaeger_lite.integrations: WSGIMiddleware runs each request in a server span continuing the
caller's trace, and instrument("urllib") makes the frontend's outgoing calls client spans
that carry the trace context and the ``customer-tier`` baggage in their headers. Frontend
and inventory report over UDP (compact Thrift, as to a Jaeger agent); payments reports over
HTTP (as to a Jaeger collector). The development agent stands in for Jaeger and prints
each trace as a tree of spans and as a time axis. Everything stops by itself.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.error
import urllib.request
from http import HTTPStatus
from socketserver import ThreadingMixIn
from typing import Any, Callable, Optional
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import jaeger_lite
from jaeger_lite import Tracer, follows_from
from jaeger_lite.agent import DevAgent, WebUI
from jaeger_lite.integrations import WSGIMiddleware, fail_request, instrument

Route = Callable[[Tracer, dict[str, str]], tuple[int, dict[str, Any]]]


class PaymentDeclined(Exception):
    """Raised by the payments service for orders it refuses."""


# -- a tiny traced HTTP service -----------------------------------------------------------


class Service:
    """A WSGI app whose requests run in server spans continuing the caller's trace."""

    def __init__(self, tracer: Tracer, routes: dict[str, Route]) -> None:
        self.tracer = tracer

        def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            params = dict(parse_qsl(environ["QUERY_STRING"]))
            try:
                status, body = routes[environ["PATH_INFO"]](tracer, params)
            except Exception as error:  # answered as a 500, recorded on the span
                fail_request(environ, error)
                status, body = 500, {"error": str(error)}
            data = json.dumps(body).encode()
            headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
            start_response(f"{status} {HTTPStatus(status).phrase}", headers)
            return [data]

        def route(environ: dict[str, Any]) -> Optional[str]:
            path = environ["PATH_INFO"]
            return path if path in routes else None  # our routes have no parameters

        # Spans are named after the route alone ("/checkout"; the default is "GET /checkout").
        traced = WSGIMiddleware(app, tracer, route=route, span_name=lambda method, r: r or method)
        self.server = make_server(
            "127.0.0.1", 0, traced, server_class=_ThreadingServer, handler_class=_QuietHandler
        )
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.tracer.close()  # flushes what is still queued


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    # Not daemons: server_close() in stop() waits for the request threads, whose spans end
    # once the reply is sent, so none finishes after tracer.close() and is dropped.
    daemon_threads = False


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # the traces tell the story


def call(url: str) -> tuple[int, dict[str, Any]]:
    """GET ``url``; instrument("urllib") makes it a client span and injects the context."""
    try:
        with urllib.request.urlopen(url) as reply:
            return reply.status, json.load(reply)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


# -- the three services -------------------------------------------------------------------


def reserve(tracer: Tracer, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """inventory: GET /reserve?item=... looks the stock up in its database."""
    db_tags = {"span.kind": "client", "db.type": "sql", "db.statement": "SELECT stock FROM items"}
    with tracer.start_active_span("SELECT stock", tags=db_tags):
        time.sleep(0.004)  # the query
    return 200, {"item": params.get("item"), "reserved": True}


def charge(tracer: Tracer, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """payments: GET /charge?item=... charges the card; gift cards are declined."""
    span = tracer.active_span
    assert span is not None
    tier = span.get_baggage_item("customer-tier")  # set by frontend, two hops away
    span.set_tag("customer.tier", tier or "unknown")
    time.sleep(0.006)
    if params.get("item") == "gift-card":
        raise PaymentDeclined("gift cards cannot be paid by card")
    return 200, {"charged": True}


def make_frontend(
    tracer: Tracer, inventory: str, payments: str, jobs: list[threading.Thread]
) -> Route:
    # The frontend's urllib calls become client spans named after the service they call.
    peers = {inventory[7:]: "inventory", payments[7:]: "payments"}  # host:port -> name
    instrument("urllib", tracer=tracer, peer_service=peers)

    @tracer.trace("price-order")  # a decorator-traced function: its own child span
    def price_order(item: str) -> float:
        time.sleep(0.002)
        return {"book": 12.5, "gift-card": 50.0}.get(item, 1.0)

    def send_receipt(cause: jaeger_lite.SpanContext, item: str) -> None:
        # Runs after the response: it follows from the checkout, which does not wait for it.
        with tracer.start_active_span("send-receipt", references=[follows_from(cause)]) as s:
            s.span.set_tag("email.item", item)
            time.sleep(0.003)

    def checkout(tracer: Tracer, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """frontend: GET /checkout?item=... reserves, prices and charges."""
        item = params.get("item", "book")
        span = tracer.active_span
        assert span is not None
        span.set_baggage_item("customer-tier", "gold")  # travels to every downstream service
        call(f"{inventory}/reserve?item={item}")
        total = price_order(item)
        status, _ = call(f"{payments}/charge?item={item}")
        if status != 200:
            return 502, {"item": item, "error": "payment failed"}
        job = threading.Thread(target=send_receipt, args=(span.context, item))
        job.start()
        jobs.append(job)
        return 200, {"item": item, "total": total}

    return checkout


def main() -> int:
    print("jaeger_lite demo: 3 services on 127.0.0.1, 2 orders (one declined)\n")
    # Only for the demo: the development agent stands in for Jaeger on free local ports.
    with DevAgent(compact_port=0, binary_port=None, http_port=0, quiet_after=0.5) as agent:
        print(agent.banner() + "\n")

        def tracer(name: str, **transport: Any) -> Tracer:
            if not transport:  # UDP to the agent, like most Jaeger clients
                transport = {"agent_host": "127.0.0.1", "agent_port": agent.compact_port}
            return jaeger_lite.init_tracer(
                name, sampler_type="const", sampler_param=1, set_global=False, **transport
            )

        jobs: list[threading.Thread] = []
        inventory = Service(tracer("inventory"), {"/reserve": reserve})
        payments = Service(tracer("payments", endpoint=agent.http_url), {"/charge": charge})
        frontend_tracer = tracer("frontend")
        frontend = Service(
            frontend_tracer,
            {"/checkout": make_frontend(frontend_tracer, inventory.url, payments.url, jobs)},
        )

        for item in ("book", "gift-card"):  # the customer: plain HTTP, no tracing
            try:
                with urllib.request.urlopen(f"{frontend.url}/checkout?item={item}") as reply:
                    status = reply.status
            except urllib.error.HTTPError as error:
                status = error.code
            print(f"customer: GET /checkout?item={item} -> {status}")
        print()

        for job in jobs:
            job.join(10)
        for service in (frontend, inventory, payments):
            service.stop()
        spans = 15  # 8 for the book order (with the receipt), 7 for the declined one
        if not agent.wait_for_spans(spans, timeout=10):
            print(f"demo: expected {spans} spans, the agent got {agent.stats.spans}")
            return 1
    print(agent.summary())
    return show_in_browser(agent)


def show_in_browser(agent: DevAgent) -> int:
    """End with the web UI's address: the same traces, searchable, as a waterfall.

    In a terminal the UI stays up (on Jaeger's port 16686 when free) until Ctrl-C; run from
    a script or a test, the demo just says where it was and exits.
    """
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    try:
        ui = WebUI(agent.store, port=16686 if interactive else 0).start()
    except OSError:  # 16686 taken (a Jaeger running?): any free port will do
        ui = WebUI(agent.store, port=0).start()
    try:
        if not interactive:
            print(f"\nweb UI: {ui.url} (kept open until Ctrl-C when run in a terminal)")
            return 0
        print(f"\nweb UI: {ui.url} (search these traces, open the waterfall) · Ctrl-C stops")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print()
        return 0
    finally:
        ui.stop()


if __name__ == "__main__":
    raise SystemExit(main())

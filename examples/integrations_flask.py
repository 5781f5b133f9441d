"""Flask: spans named by the URL rule, a requests client, and the database under them.

Run it:  python examples/integrations_flask.py       (needs: pip install flask requests)

trace_app() wraps the app's WSGI callable in the WSGI middleware and names each span after
the rule that matched (GET /orders/<int:order_id>); an exception Flask answers with a 500
is recorded on the span. The client uses requests, traced by instrument("requests"), and
the view's queries go through a DB-API connection wrapped by dbapi.wrap().
"""

import os
import sqlite3
import threading

import jaeger_lite
from jaeger_lite.integrations import dbapi, instrument, uninstrument

try:
    import flask
    import requests
    from werkzeug.serving import make_server
except ImportError:
    flask = None


def create_app(db):
    from jaeger_lite.integrations.flask import trace_app

    app = flask.Flask("orders")

    @app.route("/orders/<int:order_id>")
    def order(order_id):
        row = db.execute("SELECT item FROM orders WHERE id = ?", (order_id,)).fetchone()
        if row is None:
            raise LookupError(f"no order {order_id}")  # Flask answers 500; the span records it
        return {"id": order_id, "item": row[0]}

    return trace_app(app)  # the global tracer; options as WSGIMiddleware's


def main() -> None:
    tracer = jaeger_lite.init_tracer("orders", sampler_type="const")
    connection = sqlite3.connect(":memory:", check_same_thread=False)
    connection.execute("CREATE TABLE orders (id INTEGER, item TEXT)")
    connection.execute("INSERT INTO orders VALUES (1, 'book')")
    server = make_server("127.0.0.1", 0, create_app(dbapi.wrap(connection)), threaded=True)
    # A request's span ends once its reply is sent, on the server's thread: server_close()
    # below waits for those threads (not daemons), so no span finishes after tracer.close().
    server.daemon_threads = False
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"

    instrument("requests", peer_service="orders")
    with tracer.start_active_span("customer-session"):
        for order_id in (1, 2):
            reply = requests.get(f"{url}/orders/{order_id}", timeout=5)
            print(f"GET /orders/{order_id} -> {reply.status_code}")
    uninstrument()
    server.shutdown()
    server.server_close()
    tracer.close()


if __name__ == "__main__":
    if flask is None:
        print("this example needs Flask and requests: pip install flask requests")
        raise SystemExit(0)
    # --- only for this example: stands in for a real Jaeger agent -------------------
    import logging

    from jaeger_lite.agent import DevAgent

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # keep the output to the trace
    logging.getLogger("orders").disabled = True  # Flask's own report of the 500
    with DevAgent(compact_port=0, binary_port=None, http_port=None) as agent:
        os.environ.update(JAEGER_AGENT_HOST="127.0.0.1", JAEGER_AGENT_PORT=str(agent.compact_port))
        main()
        agent.wait_for_spans(7, timeout=5)
    print(agent.summary())

"""WSGI middleware and urllib instrumentation: a bare WSGI app traced, called by a traced client.

Run it:  python examples/integrations_wsgi.py

WSGIMiddleware wraps any WSGI application (here a bare one on the stdlib's wsgiref): each
request is a server span continuing the caller's trace, named by method and route
template, with the standard http.* tags; a health check is skipped. instrument("urllib")
makes every urllib.request call inside a span a client span and sends its context along.
"""

import os
import threading
import urllib.request
from wsgiref.simple_server import WSGIRequestHandler, make_server

import jaeger_lite
from jaeger_lite.integrations import WSGIMiddleware, instrument, set_route, uninstrument


def app(environ, start_response):
    """A bare WSGI app with one parameterised route: /users/<id>."""
    path = environ["PATH_INFO"]
    if path.startswith("/users/"):
        set_route(environ, "/users/{id}")  # the template, so every user is one operation
        body = f"user {path.rsplit('/', 1)[1]}".encode()
    else:
        body = b"ok"
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass  # the trace tells the story


def main() -> None:
    tracer = jaeger_lite.init_tracer("users", sampler_type="const")  # JAEGER_* from the env
    traced = WSGIMiddleware(app, skip_paths=["/health"])  # the global tracer, per request
    server = make_server("127.0.0.1", 0, traced, handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"

    instrument("urllib", peer_service="users")  # urllib.request calls inside a span: traced
    with tracer.start_active_span("nightly-report"):
        for path in ("/users/42", "/users/7?token=secret", "/health"):
            with urllib.request.urlopen(url + path, timeout=5) as reply:
                print(f"GET {path} -> {reply.status} {reply.read().decode()}")
    uninstrument()
    server.shutdown()
    server.server_close()
    tracer.close()


if __name__ == "__main__":
    # --- only for this example: stands in for a real Jaeger agent -------------------
    from jaeger_lite.agent import DevAgent

    with DevAgent(compact_port=0, binary_port=None, http_port=None) as agent:
        os.environ.update(JAEGER_AGENT_HOST="127.0.0.1", JAEGER_AGENT_PORT=str(agent.compact_port))
        main()
        agent.wait_for_spans(6, timeout=5)
    print(agent.summary())

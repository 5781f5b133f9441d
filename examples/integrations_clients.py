"""HTTP clients: one call traces requests, httpx, urllib3 and urllib.request; one undoes it.

Run it:  python examples/integrations_clients.py

instrument() patches the libraries that are installed (and skips the others): each
request made inside a span becomes a client span (span.kind=client, http.method, http.url
without credentials or secret query values, http.status_code, peer.service), and the
span's context goes out in the request headers, so the server continues the trace. 5xx
answers and exceptions (a timeout here) are errors. uninstrument() puts the libraries back.
"""

import os
import threading
import time
import urllib.request
from wsgiref.simple_server import WSGIRequestHandler, make_server

import jaeger_lite
from jaeger_lite.integrations import WSGIMiddleware, instrument, uninstrument


def backend(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        time.sleep(0.5)  # longer than the client waits
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"pong"]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass

    def handle_error(self):
        pass  # the client gave up on /slow: its broken pipe is expected


def calls(url):
    """One GET per installed client library: name -> a function of the URL."""
    found = {"urllib": lambda u: urllib.request.urlopen(u, timeout=5).status}
    try:
        import requests

        found["requests"] = lambda u: requests.get(u, timeout=5).status_code
    except ImportError:
        pass
    try:
        import httpx

        found["httpx"] = lambda u: httpx.get(u, timeout=5).status_code
    except ImportError:
        pass
    try:
        import urllib3

        found["urllib3"] = lambda u: urllib3.request("GET", u, timeout=5).status
    except (ImportError, AttributeError):  # urllib3.request() is urllib3 2's
        pass
    return found


def main() -> None:
    tracer = jaeger_lite.init_tracer("clients", sampler_type="const")
    server = make_server("127.0.0.1", 0, WSGIMiddleware(backend), handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"

    print("instrumented:", instrument(peer_service="backend"))  # all that are installed
    with tracer.start_active_span("ping-all"):
        for name, get in calls(url).items():
            print(f"{name}: GET /ping -> {get(url + '/ping')}")
        try:
            urllib.request.urlopen(url + "/slow", timeout=0.1)
        except OSError as error:  # the timeout: an error on the client span
            print(f"urllib: GET /slow -> timed out ({type(error).__name__})")
    uninstrument()
    server.shutdown()
    tracer.close()


if __name__ == "__main__":
    # --- only for this example: stands in for a real Jaeger agent -------------------
    from jaeger_lite.agent import DevAgent

    with DevAgent(compact_port=0, binary_port=None, http_port=None) as agent:
        os.environ.update(JAEGER_AGENT_HOST="127.0.0.1", JAEGER_AGENT_PORT=str(agent.compact_port))
        main()
        agent.wait_for_spans(11, timeout=5)
    print(agent.summary())

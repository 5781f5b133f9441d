"""The web UI: static pages from ``agent/ui/`` and the query API, read-only, over HTTP.

Served by the agent's listener thread (``Listeners.add_server``) or, outside an agent, by
``WebUI``. Safe by default: GET and HEAD only; every answer carries a Content-Security-Policy
that allows no inline script and nothing from another origin (so even a value that slipped
past the page's escaping could not run); no CORS headers (other sites cannot read traces);
and when bound to loopback, requests whose ``Host`` is not a loopback name are refused, so a
web page cannot reach the agent through DNS rebinding.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from importlib import resources
from typing import Any

from .httplimits import BoundedHTTPServer, DeadlineHandler
from .query import QueryAPI, error_reply
from .server import BindError, Listeners
from .store import TraceStore

DEFAULT_UI_PORT = 16686

#: The page and its assets; nothing else is served from the package.
STATIC = {
    "index.html": "text/html; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "util.js": "text/javascript; charset=utf-8",
    "trace.js": "text/javascript; charset=utf-8",
    "search.js": "text/javascript; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def read_static(name: str) -> bytes:
    """A file of the UI, from the installed package."""
    return (resources.files("jaeger_lite.agent") / "ui" / name).read_bytes()


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) means this machine only."""
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host.endswith(".localhost")


def _host_name(header: str) -> str:
    """The host part of a ``Host`` header (``[::1]:16686`` -> ``::1``)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class UIServer(BoundedHTTPServer):
    """An HTTP server answering with the UI and the query API of one store (a kept-alive
    connection idle for ``limits.head_timeout`` is closed: see ``httplimits``)."""

    label = "web UI"
    api: QueryAPI
    loopback_only: bool = True


class _Handler(DeadlineHandler):
    server: UIServer
    server_version = "jaeger-lite-agent"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # no access log on the terminal the traces are printed on

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, status: int, doc: Any) -> None:
        body = json.dumps(doc, ensure_ascii=False, allow_nan=False).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8")

    def send_error(self, code: int, message: Any = None, explain: Any = None) -> None:
        """Malformed requests (bad request line, headers too long): a JSON error too."""
        self.close_connection = True
        self._send_json(*error_reply(code, str(message or self.responses.get(code, ("",))[0])))

    def do_GET(self) -> None:
        # One boundary for everything a request can reach: a bug answers 500 in JSON,
        # with no traceback for the client and the server thread kept alive.
        try:
            self._get()
        except OSError:  # the browser went away (closed tab, long poll cut): nobody to answer
            self.close_connection = True
        except Exception as exc:
            self._send_json(*error_reply(500, f"internal error: {type(exc).__name__}"))

    do_HEAD = do_GET

    def _get(self) -> None:
        if self.server.loopback_only and not is_loopback(_host_name(self.headers.get("Host", ""))):
            self._send_json(*error_reply(403, "this agent answers only to localhost names"))
            return
        path, _, query = self.path.partition("?")
        if path == "/api" or path.startswith("/api/"):
            self._send_json(*self.server.api.get(path, query))
            return
        name = "index.html" if path in ("/", "/search") or path.startswith("/trace/") else path[1:]
        if name not in STATIC:
            self._send_json(*error_reply(404, "not found"))
            return
        self._send(200, read_static(name), STATIC[name])

    def _read_only(self) -> None:
        self._send_json(*error_reply(405, "read-only: only GET is served here"))
        self.close_connection = True

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _read_only


def make_server(api: QueryAPI, host: str, port: int) -> UIServer:
    """Bind the UI's HTTP server (not yet serving); port 0 picks a free one. Raises
    :class:`~jaeger_lite.agent.server.BindError` naming the listener, host and port."""
    try:
        family, _, _, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        server_class = type("_BoundUIServer", (UIServer,), {"address_family": family})
        server: UIServer = server_class(address, _Handler)
    except OSError as exc:
        raise BindError("ui", host, port, exc) from exc
    server.api = api
    server.loopback_only = is_loopback(host)
    server.timeout = 0.05  # bounds handle_request() if a wake-up was spurious
    return server


def ui_url(host: str, port: int) -> str:
    """The address to print for the UI."""
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - a wildcard bind is reached via loopback
        shown = "127.0.0.1"
    return f"http://{shown}:{port}/"


class WebUI:
    """The UI and API of a store served on their own thread (outside a ``DevAgent``, e.g.
    ``WebUI(agent.store)`` to keep showing an in-process agent's traces after it stopped);
    raises ``OSError`` when the port is taken."""

    def __init__(self, store: TraceStore, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._listeners = Listeners(lambda *args: False)
        self._server = make_server(QueryAPI(store), host, port)
        self._listeners.add_server(self._server)
        self.url = ui_url(host, int(self._server.server_address[1]))

    def start(self) -> WebUI:
        """Serve until ``stop``."""
        self._listeners.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._listeners.stop()

    def __enter__(self) -> WebUI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

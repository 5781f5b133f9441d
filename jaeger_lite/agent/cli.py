"""The ``jaeger-lite agent`` command: flags, start-up messages, Ctrl-C and the summary."""

from __future__ import annotations

import argparse
import errno
import signal
import socket
import sys
from types import FrameType
from typing import Optional, Union
from urllib.parse import urlsplit

from .devagent import (
    DEFAULT_BINARY_PORT,
    DEFAULT_COMPACT_PORT,
    DEFAULT_HTTP_PORT,
    DEFAULT_OTLP_PORT,
    DEFAULT_QUIET_AFTER,
    DEFAULT_SAMPLING_PORT,
    DevAgent,
)
from .server import BindError
from .store import DEFAULT_MAX_TRACES
from .web import DEFAULT_UI_PORT

DESCRIPTION = """\
Receive spans like a Jaeger agent (UDP compact Thrift, UDP binary Thrift, HTTP Thrift)
and an OpenTelemetry Collector (OTLP/HTTP, protobuf or JSON), and print each trace as a
tree of spans and a time axis once it has been quiet for a moment. Point any Jaeger
client or OpenTelemetry SDK at it. The traces are also served in a web UI (search, trace
view) and through Jaeger's query API at http://127.0.0.1:16686/. Ctrl-C stops it with a
summary."""


def parse_port(text: str) -> Optional[int]:
    """A port number; ``0`` or ``off`` turns the listener off (returned as None), and
    ``auto`` picks any free port (returned as 0, the socket API's "any port")."""
    word = text.strip().lower()
    if word in ("0", "off", "none", "-"):
        return None
    if word == "auto":
        return 0
    try:
        port = int(word)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number, 'auto' or 'off': {text!r}") from None
    if not 0 < port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range 1-65535: {port}")
    return port


def parse_host_port(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (IPv6 hosts in brackets: ``[::1]:6831``)."""
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 0 < int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def parse_forward(text: str) -> Union[tuple[str, int], str]:
    """``HOST:PORT`` (a Jaeger agent's compact UDP port) or an ``http(s)://`` OTLP URL (a
    base URL gets ``/v1/traces``)."""
    if "://" not in text:
        return parse_host_port(text)
    url = urlsplit(text)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT or an http(s):// URL, got {text!r}")
    return text if url.path not in ("", "/") else text.rstrip("/") + "/v1/traces"


def parse_seconds(text: str) -> float:
    """A non-negative number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value < 86_400:
        raise argparse.ArgumentTypeError(f"seconds out of range 0-86400: {text}")
    return value


def parse_rate(text: str) -> float:
    """A sampling rate between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"sampling rate out of range 0-1: {text}")
    return value


def parse_count(text: str) -> int:
    """A positive whole number."""
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the agent's flags on ``parser``."""
    ports = "0 (or 'off') turns the listener off; 'auto' picks a free port, printed at start-up"
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--compact-port", type=parse_port, default=DEFAULT_COMPACT_PORT, metavar="PORT",
        help=f"UDP port for compact Thrift (default {DEFAULT_COMPACT_PORT}); any port: {ports}",
    )  # fmt: skip
    parser.add_argument(
        "--binary-port", type=parse_port, default=DEFAULT_BINARY_PORT, metavar="PORT",
        help=f"UDP port for binary Thrift (default {DEFAULT_BINARY_PORT})",
    )  # fmt: skip
    parser.add_argument(
        "--http-port", type=parse_port, default=DEFAULT_HTTP_PORT, metavar="PORT",
        help=f"HTTP port for POST /api/traces (default {DEFAULT_HTTP_PORT})",
    )  # fmt: skip
    parser.add_argument(
        "--otlp-port", type=parse_port, default=DEFAULT_OTLP_PORT, metavar="PORT",
        help=f"HTTP port for OTLP/HTTP, POST /v1/traces (default {DEFAULT_OTLP_PORT})",
    )  # fmt: skip
    parser.add_argument(
        "--sampling-port", type=parse_port, default=DEFAULT_SAMPLING_PORT, metavar="PORT",
        help=f"HTTP port answering remote samplers (GET /sampling; default "
        f"{DEFAULT_SAMPLING_PORT})",
    )  # fmt: skip
    parser.add_argument(
        "--sampling-rate", type=parse_rate, default=1.0, metavar="RATE",
        help="probabilistic sampling rate served to every service (default 1.0: all traces)",
    )  # fmt: skip
    parser.add_argument(
        "--quiet-after", type=parse_seconds, default=DEFAULT_QUIET_AFTER, metavar="SECONDS",
        help="print a trace once no span of it arrived for this long "
        f"(default {DEFAULT_QUIET_AFTER:g})",
    )  # fmt: skip
    parser.add_argument(
        "--json", metavar="FILE",
        help="also append each trace to FILE in the JSON the Jaeger UI loads (Upload JSON)",
    )  # fmt: skip
    parser.add_argument(
        "--forward", type=parse_forward, metavar="HOST:PORT|URL",
        help="relay every compact datagram, unchanged, to a real agent (e.g. jaeger:6831; never"
        " this agent's own port), or every OTLP export to an OTLP/HTTP endpoint"
        " (e.g. http://collector:4318)",
    )  # fmt: skip
    parser.add_argument(
        "--forward-binary", type=parse_host_port, metavar="HOST:PORT",
        help="relay every binary datagram, unchanged, to a real agent (e.g. jaeger:6832)",
    )  # fmt: skip
    parser.add_argument(
        "--ui-port", type=parse_port, default=DEFAULT_UI_PORT, metavar="PORT",
        help=f"HTTP port of the web UI and Jaeger's query API (default {DEFAULT_UI_PORT})",
    )  # fmt: skip
    parser.add_argument(
        "--ui-host", default="127.0.0.1", metavar="HOST",
        help="address the web UI listens on (default 127.0.0.1: this machine only)",
    )  # fmt: skip
    parser.add_argument(
        "--max-traces", type=parse_count, default=DEFAULT_MAX_TRACES, metavar="N",
        help="traces kept for the web UI; the one longest without new spans is evicted "
        f"first (default {DEFAULT_MAX_TRACES:,})",
    )  # fmt: skip
    parser.add_argument(
        "--store", metavar="FILE",
        help="keep the web UI's traces in this SQLite file too, across restarts "
        "(same --max-traces bound)",
    )  # fmt: skip
    parser.add_argument("--no-color", action="store_true", help="plain text, no ANSI colours")


def _why(exc: Exception, args: argparse.Namespace) -> str:
    """Why the agent could not start, and what to do about it, for people."""
    if isinstance(exc, BindError):
        if exc.unresolved:
            return (
                f"--host {exc.host!r} does not resolve ({exc.reason})\n  give an address "
                "of this machine (default 127.0.0.1; 0.0.0.0 for every interface)"
            )
        if exc.errno == errno.EADDRNOTAVAIL:
            return f"{exc.strerror}\n  --host {exc.host!r} is not an address of this machine"
        flag = f"--{exc.listener}-port"
        return (
            f"{exc.strerror}\n  another program (another agent?) is using it; pick another "
            f"with {flag} (auto = any free port, off = no {exc.listener} listener)"
        )
    if isinstance(exc, OSError) and args.json and exc.filename == args.json:
        return f"cannot write --json {args.json}: {exc.strerror}"
    return str(exc)


def _ignore(signum: int, frame: Optional[FrameType]) -> None:
    """A Python-level handler that does nothing: the wake-up socket carries the signal."""


def run(args: argparse.Namespace) -> int:
    """Run the agent until Ctrl-C or SIGTERM; 0 on a clean stop, 1 if it cannot start."""
    try:
        agent = DevAgent(
            host=args.host,
            compact_port=args.compact_port,
            binary_port=args.binary_port,
            http_port=args.http_port,
            sampling_port=args.sampling_port,
            otlp_port=args.otlp_port,
            sampling_rate=args.sampling_rate,
            quiet_after=args.quiet_after,
            color=False if args.no_color else None,
            json_path=args.json,
            forward=args.forward if isinstance(args.forward, tuple) else None,
            forward_binary=args.forward_binary,
            ui_port=args.ui_port,
            ui_host=args.ui_host,
            max_traces=args.max_traces,
            store_path=args.store,
            forward_otlp=args.forward if isinstance(args.forward, str) else None,
        )
        agent.start()
    except (OSError, ValueError) as exc:
        print(f"jaeger-lite agent: cannot start: {_why(exc, args)}", file=sys.stderr)
        return 1
    # The signal handlers only wake the main thread through a socket (set_wakeup_fd):
    # raising from a handler could land while a lock is held and hang the shutdown.
    # Both are installed explicitly: a shell starts background jobs with SIGINT ignored,
    # and `kill -INT` must still stop the agent cleanly.
    wake_r, wake_w = socket.socketpair()
    wake_w.setblocking(False)
    previous_fd = signal.set_wakeup_fd(wake_w.fileno())
    previous = {sig: signal.signal(sig, _ignore) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        agent.write(agent.banner())
        if args.forward or args.forward_binary:
            targets = [
                t if isinstance(t, str) else f"{t[0]}:{t[1]}"
                for t in (args.forward, args.forward_binary)
                if t
            ]
            agent.write(f"forwarding unchanged to {' and '.join(targets)}")
        if args.json:
            agent.write(f"appending traces to {args.json} (Jaeger UI: Search > Upload JSON)")
        if args.store:
            agent.write(f"keeping traces in {args.store} ({len(agent.store)} loaded)")
        agent.write(f"traces print after {args.quiet_after:g}s without new spans · Ctrl-C stops")
        wake_r.recv(1)  # blocks until SIGINT or SIGTERM arrives
    finally:
        # A second Ctrl-C must not cut the final flush and summary short.
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        agent.stop()
        agent.write(agent.summary())
        signal.set_wakeup_fd(previous_fd)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        wake_r.close()
        wake_w.close()
    return 0

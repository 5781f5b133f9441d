"""A scripted sampling server on 127.0.0.1 and helpers shared by the remote sampling tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional, Union

from jaeger_lite import (
    PerOperationSampler,
    ProbabilisticSampler,
    RateLimitingSampler,
    RemoteSampler,
)

WAIT = 10.0  # upper bound for anything we wait on; normally milliseconds


class StrategyServer:
    """A stdlib HTTP server that answers every GET as the test scripted it."""

    def __init__(self) -> None:
        self.status = 200
        self.body = b"{}"
        self.raw: Optional[bytes] = None  # sent instead of an HTTP response
        self.hold: Optional[threading.Event] = None  # the handler waits on it first
        self.latency = 0.0  # seconds every answer takes (a slow or distant agent)
        self.paths: list[str] = []
        self.user_agents: list[Optional[str]] = []
        self.request_seen = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.paths.append(self.path)
                server.user_agents.append(self.headers.get("User-Agent"))
                server.request_seen.set()
                if server.hold is not None:
                    server.hold.wait(WAIT)
                if server.latency:
                    threading.Event().wait(server.latency)  # the agent's own delay
                try:
                    if server.raw is not None:
                        self.wfile.write(server.raw)
                        return
                    self.send_response(server.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(server.body)))
                    self.end_headers()
                    self.wfile.write(server.body)
                except OSError:  # the client gave up (timeout tests): nothing to answer
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/sampling"

    def answer(self, body: Union[dict[str, Any], bytes, str], status: int = 200) -> None:
        if isinstance(body, dict):
            body = json.dumps(body)
        self.body = body.encode() if isinstance(body, str) else body
        self.status = status

    def close(self) -> None:
        if self.hold is not None:
            self.hold.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def serve() -> Iterator[StrategyServer]:
    """Run a StrategyServer for one test (wrap in a fixture)."""
    srv = StrategyServer()
    yield srv
    srv.close()


def remote_factory() -> Iterator[Callable[..., RemoteSampler]]:
    """Factory for RemoteSamplers that are closed after the test. Unless ``wait=False`` it
    returns after the poller's first (immediate) poll, so the test's own refresh() calls
    do not race with it."""
    created: list[RemoteSampler] = []

    def make(endpoint: str, wait: bool = True, **options: Any) -> RemoteSampler:
        options.setdefault("refresh_interval", 3600.0)  # only the first, immediate poll
        options.setdefault("timeout", 5.0)
        sampler = RemoteSampler("test-service", sampling_endpoint=endpoint, **options)
        created.append(sampler)
        sampler.start()  # as the first sampling decision would
        if wait:
            assert sampler._wait_for_polls(1, WAIT)
        return sampler

    yield make
    for sampler in created:
        sampler.close()


def prob(rate: float) -> dict[str, Any]:
    return {"strategyType": "PROBABILISTIC", "probabilisticSampling": {"samplingRate": rate}}


def describe(sampler: object) -> tuple[Any, ...]:
    """The strategy a delegate sampler implements, for comparisons."""
    if isinstance(sampler, ProbabilisticSampler):
        return ("probabilistic", sampler.rate)
    if isinstance(sampler, RateLimitingSampler):
        return ("ratelimiting", sampler.max_traces_per_second)
    if isinstance(sampler, PerOperationSampler):
        return (
            "per_operation",
            sampler.default_sampling_probability,
            sampler.lower_bound,
            sampler.operations,
        )
    return ("other", sampler)


#: A per-operation strategy (the operationSampling object) used by several tests.
PER_OP = {
    "defaultSamplingProbability": 0.2,
    "defaultLowerBoundTracesPerSecond": 0.5,
    "perOperationStrategies": [
        {"operation": "GET /", "probabilisticSampling": {"samplingRate": 1.0}},
        {"operation": "POST /", "probabilisticSampling": {"samplingRate": 0.05}},
    ],
    "defaultUpperBoundTracesPerSecond": 0,
}

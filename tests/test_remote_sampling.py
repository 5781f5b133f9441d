"""Tests for jaeger_lite.remote_sampling against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import gc
import json
import os
import select
import socket
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional, Union
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jaeger_lite import (
    PerOperationSampler,
    ProbabilisticSampler,
    RateLimitingSampler,
    RemoteSampler,
    Tracer,
)
from jaeger_lite.remote_sampling import SamplingStrategy, parse_strategy

WAIT = 10.0  # upper bound for anything we wait on; normally milliseconds


class StrategyServer:
    """A stdlib HTTP server that answers every GET as the test scripted it."""

    def __init__(self) -> None:
        self.status = 200
        self.body = b"{}"
        self.raw: Optional[bytes] = None  # sent instead of an HTTP response
        self.hold: Optional[threading.Event] = None  # the handler waits on it first
        self.paths: list[str] = []
        self.request_seen = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.paths.append(self.path)
                server.request_seen.set()
                if server.hold is not None:
                    server.hold.wait(WAIT)
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


@pytest.fixture
def server() -> Iterator[StrategyServer]:
    srv = StrategyServer()
    yield srv
    srv.close()


@pytest.fixture
def remote() -> Iterator[Callable[..., RemoteSampler]]:
    """Factory for RemoteSamplers that are closed after the test. Unless ``wait=False`` it
    returns after the poller's first (immediate) poll, so the test's own refresh() calls
    do not race with it."""
    created: list[RemoteSampler] = []

    def make(endpoint: str, wait: bool = True, **options: Any) -> RemoteSampler:
        options.setdefault("refresh_interval", 3600.0)  # only the first, immediate poll
        options.setdefault("timeout", 5.0)
        sampler = RemoteSampler("test-service", sampling_endpoint=endpoint, **options)
        created.append(sampler)
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


PER_OP = {
    "defaultSamplingProbability": 0.2,
    "defaultLowerBoundTracesPerSecond": 0.5,
    "perOperationStrategies": [
        {"operation": "GET /", "probabilisticSampling": {"samplingRate": 1.0}},
        {"operation": "POST /", "probabilisticSampling": {"samplingRate": 0.05}},
    ],
    "defaultUpperBoundTracesPerSecond": 0,
}
PER_OP_EXPECTED = ("per_operation", 0.2, 0.5, {"GET /": 1.0, "POST /": 0.05})

GOOD_ANSWERS = {
    "proto probabilistic": (prob(0.25), ("probabilistic", 0.25)),
    "legacy probabilistic": (
        {"strategyType": 0, "probabilisticSampling": {"samplingRate": 0.25}},
        ("probabilistic", 0.25),
    ),
    "proto rate limiting": (
        {"strategyType": "RATE_LIMITING", "rateLimitingSampling": {"maxTracesPerSecond": 5}},
        ("ratelimiting", 5.0),
    ),
    "legacy rate limiting": (
        {"strategyType": 1, "rateLimitingSampling": {"maxTracesPerSecond": 7}},
        ("ratelimiting", 7.0),
    ),
    "proto per operation": (
        {
            "strategyType": "PROBABILISTIC",
            "probabilisticSampling": {"samplingRate": 0.9},
            "operationSampling": PER_OP,
        },
        PER_OP_EXPECTED,
    ),
    "legacy per operation": ({"strategyType": 0, "operationSampling": PER_OP}, PER_OP_EXPECTED),
    "operationSampling wins over strategyType": (
        {
            "strategyType": "RATE_LIMITING",
            "rateLimitingSampling": {"maxTracesPerSecond": 5},
            "operationSampling": PER_OP,
        },
        PER_OP_EXPECTED,
    ),
    "omitted zero rate": ({"probabilisticSampling": {}}, ("probabilistic", 0.0)),
    "omitted zero rate limit": (
        {"strategyType": "RATE_LIMITING", "rateLimitingSampling": {}},
        ("ratelimiting", 0.0),
    ),
    "omitted per-operation zeros": (
        {"operationSampling": {"perOperationStrategies": [{"probabilisticSampling": {}}]}},
        ("per_operation", 0.0, 0.0, {"": 0.0}),
    ),
    "empty per-operation": ({"operationSampling": {}}, ("per_operation", 0.0, 0.0, {})),
    "strategyType omitted, rate limiting": (
        {"rateLimitingSampling": {"maxTracesPerSecond": 2}},
        ("ratelimiting", 2.0),
    ),
    "snake_case names": (
        {"strategy_type": "RATE_LIMITING", "rate_limiting_sampling": {"max_traces_per_second": 3}},
        ("ratelimiting", 3.0),
    ),
    "numbers as strings": (
        {"probabilisticSampling": {"samplingRate": "0.5"}},
        ("probabilistic", 0.5),
    ),
    "lower-case enum": (
        {"strategyType": "rate_limiting", "rateLimitingSampling": {"maxTracesPerSecond": 4}},
        ("ratelimiting", 4.0),
    ),
}


@pytest.mark.parametrize("name", list(GOOD_ANSWERS))
def test_follows_each_response_shape(
    name: str, server: StrategyServer, remote: Callable[..., RemoteSampler]
) -> None:
    """Every documented answer shape becomes the matching sampler."""
    body, expected = GOOD_ANSWERS[name]
    server.answer(body)
    sampler = remote(server.url)
    assert sampler.refresh() is True
    assert describe(sampler.sampler) == expected


BAD_ANSWERS: dict[str, tuple[Union[dict[str, Any], list[Any], str], int, str]] = {
    "500": (prob(0.5), 500, "failed"),
    "404": (prob(0.5), 404, "failed"),
    "malformed JSON": ('{"strategyType": "PROBABILISTIC", ', 200, "invalid"),
    "not an object": ("[1, 2]", 200, "invalid"),
    "empty object": ({}, 200, "invalid"),
    "rate above 1": (prob(1.5), 200, "invalid"),
    "negative rate": (prob(-0.1), 200, "invalid"),
    "NaN rate": ('{"probabilisticSampling": {"samplingRate": NaN}}', 200, "invalid"),
    "boolean rate": (prob(True), 200, "invalid"),  # type: ignore[arg-type]
    "string rate": (prob("half"), 200, "invalid"),  # type: ignore[arg-type]
    "negative rate limit": (
        {"strategyType": "RATE_LIMITING", "rateLimitingSampling": {"maxTracesPerSecond": -1}},
        200,
        "invalid",
    ),
    "unknown strategy type": (
        {"strategyType": "ADAPTIVE", "probabilisticSampling": {"samplingRate": 0.1}},
        200,
        "invalid",
    ),
    "sub-object of the wrong type": ({"probabilisticSampling": [0.5]}, 200, "invalid"),
    "per-operation list of the wrong type": (
        {"operationSampling": {"perOperationStrategies": {"op": 0.5}}},
        200,
        "invalid",
    ),
    "operation name of the wrong type": (
        {
            "operationSampling": {
                "perOperationStrategies": [
                    {"operation": 7, "probabilisticSampling": {"samplingRate": 0.5}}
                ]
            }
        },
        200,
        "invalid",
    ),
    "per-operation rate out of range": (
        {
            "operationSampling": {
                "perOperationStrategies": [
                    {"operation": "op", "probabilisticSampling": {"samplingRate": 2}}
                ]
            }
        },
        200,
        "invalid",
    ),
    "per-operation entry without a rate": (
        {"operationSampling": {"perOperationStrategies": [{"operation": "op"}]}},
        200,
        "invalid",
    ),
}


@pytest.mark.parametrize("name", list(BAD_ANSWERS))
def test_keeps_the_sampler_on_a_bad_answer(
    name: str, server: StrategyServer, remote: Callable[..., RemoteSampler]
) -> None:
    """A failed or unusable answer keeps the previous sampler and is counted."""
    server.answer(prob(0.25))
    sampler = remote(server.url)
    assert sampler.refresh() is True
    before, counts = sampler.sampler, sampler.metrics()
    body, status, outcome = BAD_ANSWERS[name]
    server.answer(body if isinstance(body, (dict, str)) else json.dumps(body), status)
    assert sampler.refresh() is False
    assert sampler.sampler is before
    key = f"sampler_polls_{outcome}"
    assert sampler.metrics()[key] == counts[key] + 1


def test_keeps_the_sampler_on_a_timeout(
    server: StrategyServer, remote: Callable[..., RemoteSampler]
) -> None:
    """An agent slower than the timeout counts as a failure and changes nothing."""
    server.answer(prob(0.25))
    initial = ProbabilisticSampler(0.75)
    server.hold = threading.Event()
    try:
        sampler = remote(server.url, initial=initial, timeout=0.2)
        assert sampler.refresh() is False
        assert sampler.sampler is initial
        assert sampler.metrics()["sampler_polls_failed"] >= 1
    finally:
        server.hold.set()


def test_keeps_the_sampler_when_nothing_listens(remote: Callable[..., RemoteSampler]) -> None:
    """A dead port is a counted failure; the initial sampler stays."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    initial = ProbabilisticSampler(0.75)
    sampler = remote(f"http://127.0.0.1:{port}/sampling", initial=initial)
    assert sampler.refresh() is False
    assert sampler.sampler is initial
    assert sampler.metrics()["sampler_polls_failed"] >= 1


def test_keeps_the_sampler_on_a_non_http_answer(
    server: StrategyServer, remote: Callable[..., RemoteSampler]
) -> None:
    """Garbage instead of an HTTP response is a counted failure."""
    server.raw = b"SSH-2.0-OpenSSH\r\n\r\n"
    initial = ProbabilisticSampler(0.75)
    sampler = remote(server.url, initial=initial)
    assert sampler.refresh() is False
    assert sampler.sampler is initial


def test_request_has_exactly_one_service_parameter(
    server: StrategyServer, remote: Callable[..., RemoteSampler]
) -> None:
    """The service name replaces any `service` in the endpoint; other parameters stay."""
    server.answer(prob(0.5))
    sampler = RemoteSampler(
        "my service",
        sampling_endpoint=server.url + "?service=other&x=1",
        refresh_interval=3600.0,
    )
    try:
        assert sampler.refresh() is True
    finally:
        sampler.close()
    parts = urlsplit(server.paths[-1])
    assert parts.path == "/sampling"
    assert parse_qs(parts.query) == {"service": ["my service"], "x": ["1"]}


def test_polls_at_once_on_start(
    server: StrategyServer, remote: Callable[..., RemoteSampler]
) -> None:
    """The first poll does not wait for the refresh interval."""
    server.answer(prob(0.5))
    sampler = remote(server.url, refresh_interval=3600.0)
    assert sampler._wait_for_polls(1, WAIT)
    assert describe(sampler.sampler) == ("probabilistic", 0.5)


def test_polls_every_refresh_interval(
    server: StrategyServer, remote: Callable[..., RemoteSampler]
) -> None:
    """The poller keeps following the server's answer."""
    server.answer(prob(0.5))
    sampler = remote(server.url, refresh_interval=0.05)
    server.answer(prob(0.125))
    polls = sampler.metrics()["sampler_polls_ok"]
    assert sampler._wait_for_polls(polls + 2, WAIT)
    assert describe(sampler.sampler) == ("probabilistic", 0.125)


def test_follows_changes_and_keeps_the_last_good_one(
    server: StrategyServer, remote: Callable[..., RemoteSampler]
) -> None:
    """Good answers replace the sampler in turn; a bad one keeps the latest."""
    sampler = remote(server.url)
    server.answer(prob(0.5))
    assert sampler.refresh()
    server.answer({"strategyType": 1, "rateLimitingSampling": {"maxTracesPerSecond": 3}})
    assert sampler.refresh()
    server.answer("oops", 503)
    assert not sampler.refresh()
    assert describe(sampler.sampler) == ("ratelimiting", 3.0)
    assert sampler.metrics()["sampler_updates"] == 2


def test_rate_limit_update_keeps_the_bucket(
    server: StrategyServer, remote: Callable[..., RemoteSampler]
) -> None:
    """A new rate limit updates the existing limiter in place."""
    server.answer({"strategyType": 1, "rateLimitingSampling": {"maxTracesPerSecond": 3}})
    sampler = remote(server.url)
    assert sampler.refresh()
    limiter = sampler.sampler
    server.answer({"strategyType": 1, "rateLimitingSampling": {"maxTracesPerSecond": 9}})
    assert sampler.refresh()
    assert sampler.sampler is limiter
    assert describe(limiter) == ("ratelimiting", 9.0)


def test_per_operation_update_keeps_limiters(
    server: StrategyServer, remote: Callable[..., RemoteSampler]
) -> None:
    """A new per-operation strategy updates the sampler: spent credit stays spent."""
    server.answer({"operationSampling": {**PER_OP, "defaultLowerBoundTracesPerSecond": 1}})
    sampler = remote(server.url)
    assert sampler.refresh()
    per_op = sampler.sampler
    high = (1 << 63) - 1  # fails every probability below 1
    assert sampler.is_sampled(high, "POST /")[1]["sampler.type"] == "lowerbound"
    assert sampler.is_sampled(high, "POST /")[0] is False
    changed = {**PER_OP, "defaultLowerBoundTracesPerSecond": 1, "defaultSamplingProbability": 0}
    server.answer({"operationSampling": changed})
    assert sampler.refresh()
    assert sampler.sampler is per_op
    assert describe(per_op)[1] == 0.0
    assert sampler.is_sampled(high, "POST /")[0] is False


def test_max_operations_is_passed_on(
    server: StrategyServer, remote: Callable[..., RemoteSampler]
) -> None:
    """The per-operation sampler honours the remote sampler's max_operations."""
    server.answer({"operationSampling": {"defaultSamplingProbability": 0}})
    sampler = remote(server.url, max_operations=3)
    assert sampler.refresh()
    for i in range(10):
        sampler.is_sampled(1, f"op{i}")
    assert len(describe(sampler.sampler)[3]) == 3


def test_close_stops_the_poller_promptly(
    server: StrategyServer, remote: Callable[..., RemoteSampler]
) -> None:
    """close() ends the thread without waiting out the refresh interval."""
    server.answer(prob(0.5))
    sampler = remote(server.url, refresh_interval=3600.0)
    thread = sampler._thread
    assert thread is not None and thread.is_alive()
    sampler.close()
    assert not thread.is_alive()


def test_close_during_a_poll_discards_its_answer(
    server: StrategyServer, remote: Callable[..., RemoteSampler]
) -> None:
    """A poll in flight blocks neither is_sampled nor close, and its answer is ignored."""
    server.answer(prob(1.0))
    server.hold = threading.Event()
    initial = ProbabilisticSampler(0.0)
    sampler = remote(server.url, wait=False, initial=initial)
    assert server.request_seen.wait(WAIT)
    assert sampler.is_sampled(5, "op")[0] is False  # answered while the poll waits
    sampler.close()
    server.hold.set()
    thread = sampler._thread
    assert thread is not None
    thread.join(WAIT)
    assert not thread.is_alive()
    assert sampler.sampler is initial


def test_tracer_close_stops_the_poller(
    server: StrategyServer, remote: Callable[..., RemoteSampler]
) -> None:
    """Tracer.close() closes its RemoteSampler."""
    server.answer(prob(0.5))
    sampler = remote(server.url)
    thread = sampler._thread
    Tracer("svc", sampler=sampler).close()
    assert thread is not None and not thread.is_alive()


def test_dropped_sampler_ends_its_thread(server: StrategyServer) -> None:
    """A sampler garbage-collected without close() does not leave its thread behind."""
    server.answer(prob(0.5))
    sampler = RemoteSampler("svc", sampling_endpoint=server.url, refresh_interval=3600.0)
    assert sampler._wait_for_polls(1, WAIT)
    thread = sampler._thread
    del sampler
    gc.collect()
    assert thread is not None
    thread.join(WAIT)
    assert not thread.is_alive()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_runs_its_own_poller(
    server: StrategyServer, remote: Callable[..., RemoteSampler]
) -> None:
    """After fork the child polls on its own thread; the parent's poller is unaffected."""
    server.answer(prob(0.5))
    sampler = remote(server.url)
    parent_thread = sampler._thread
    server.answer(prob(0.125))
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads
        pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        result = b"0"
        try:
            polled = sampler._wait_for_polls(2, WAIT)
            thread = sampler._thread
            if (
                polled
                and thread is not None
                and thread.is_alive()
                and describe(sampler.sampler) == ("probabilistic", 0.125)
            ):
                result = b"1"
            sampler.close()
        finally:
            os.write(write_end, result)
            os._exit(0)
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 2 * WAIT)
        result = os.read(read_end, 1) if ready else b"timeout"
    finally:
        os.close(read_end)
        if not ready:
            os.kill(pid, 9)
        os.waitpid(pid, 0)
    assert result == b"1"
    assert sampler._thread is parent_thread and parent_thread.is_alive()
    assert describe(sampler.sampler) == ("probabilistic", 0.5)  # the child's poll was its own


@pytest.mark.parametrize(
    "options",
    [
        {"sampling_endpoint": "udp://127.0.0.1:5778"},
        {"sampling_endpoint": "127.0.0.1:5778"},
        {"refresh_interval": 0},
        {"timeout": -1},
        {"max_operations": 0},
    ],
)
def test_rejects_bad_options(options: dict[str, Any]) -> None:
    """Unusable options are a ValueError naming the option."""
    with pytest.raises(ValueError, match=next(iter(options))):
        RemoteSampler("svc", **options)


def test_metrics_names() -> None:
    """metrics() exposes the four poll counters."""
    sampler = RemoteSampler("svc", sampling_endpoint="http://127.0.0.1:9/", refresh_interval=3600)
    try:
        assert set(sampler.metrics()) == {
            "sampler_polls_ok",
            "sampler_polls_failed",
            "sampler_polls_invalid",
            "sampler_updates",
        }
    finally:
        sampler.close()


# -- parsing without a server ----------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "strategyType",
                    "probabilisticSampling",
                    "rateLimitingSampling",
                    "operationSampling",
                    "samplingRate",
                    "maxTracesPerSecond",
                    "defaultSamplingProbability",
                    "defaultLowerBoundTracesPerSecond",
                    "perOperationStrategies",
                    "operation",
                    "other",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@given(JSON)
def test_parse_returns_a_valid_strategy_or_raises_value_error(doc: Any) -> None:
    """Any JSON document parses to an in-range strategy or a ValueError, nothing else."""
    try:
        body = json.dumps(doc)
    except ValueError:
        return
    try:
        strategy = parse_strategy(body)
    except ValueError:
        return
    assert isinstance(strategy, SamplingStrategy)
    assert strategy.kind in ("probabilistic", "ratelimiting", "per_operation")
    assert strategy.param >= 0.0 and strategy.lower_bound >= 0.0
    if strategy.kind != "ratelimiting":
        assert strategy.param <= 1.0
    assert all(0.0 <= rate <= 1.0 for _, rate in strategy.operations)


@given(st.binary(max_size=64))
def test_parse_of_random_bytes_never_crashes(body: bytes) -> None:
    """Random bytes give a ValueError or a strategy, never another exception."""
    try:
        parse_strategy(body)
    except ValueError:
        pass


def test_parse_of_deep_nesting_is_a_value_error() -> None:
    """Pathologically nested JSON is refused cleanly."""
    with pytest.raises(ValueError):
        parse_strategy("[" * 100_000 + "]" * 100_000)

"""RemoteSampler's life: polling, updates in place, close, garbage collection, fork."""

from __future__ import annotations

import gc
import os
import threading
import warnings
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import pytest

from jaeger_lite import ProbabilisticSampler, RemoteSampler, Tracer

from ._fork import child_verdict
from ._strategy_server import (
    PER_OP,
    WAIT,
    StrategyServer,
    describe,
    prob,
)


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
    assert child_verdict(pid, read_end, 2 * WAIT) == b"1"
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

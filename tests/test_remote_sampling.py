"""RemoteSampler's life: polling, updates in place, close, garbage collection, fork."""

from __future__ import annotations

import gc
import os
import socket
import threading
import time
import warnings
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import pytest

from jaeger_lite import ConstSampler, ProbabilisticSampler, RemoteSampler, Tracer

from ._fork import child_verdict
from ._strategy_server import (
    PER_OP,
    WAIT,
    StrategyServer,
    describe,
    prob,
)
from ._wire_helpers import expected_user_agent


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
    assert server.user_agents[-1] == expected_user_agent()  # the OTLP exporters' rule too


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
    # Tagged as every Jaeger client tags it: the operation's rate, not the lower bound.
    assert sampler.is_sampled(high, "POST /") == (
        True,
        {"sampler.type": "lowerbound", "sampler.param": 0.05},
    )
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
    sampler.start()
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
    """After fork the child polls on its own thread, from its first sampling decision;
    the parent's poller is unaffected."""
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
            started_lazily = sampler._thread is None  # until the child's first decision
            sampler.is_sampled(1, "op")
            polled = started_lazily and sampler._wait_for_polls(2, WAIT)
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


def _sampler_threads(sampler: RemoteSampler) -> list[threading.Thread]:
    thread = sampler._thread
    return [thread] if thread is not None and thread.is_alive() else []


def test_no_thread_until_the_first_decision(server: StrategyServer) -> None:
    """Creating a RemoteSampler starts nothing; the first sampling decision starts the
    poller (README: no background thread until the first span)."""
    server.answer(prob(0.5))
    names = {t.name for t in threading.enumerate()}
    sampler = RemoteSampler("svc", sampling_endpoint=server.url, refresh_interval=3600.0)
    try:
        assert _sampler_threads(sampler) == []
        assert {t.name for t in threading.enumerate()} == names
        assert not server.paths
        sampler.is_sampled(1, "op")
        assert len(_sampler_threads(sampler)) == 1
    finally:
        sampler.close()


def test_first_decisions_follow_the_served_strategy(server: StrategyServer) -> None:
    """A short program's first traces follow the strategy the agent serves: the first
    decision waits (briefly) for the first answer. The initial 0.1% used to apply until
    it arrived, so the first traces were almost never sampled."""
    server.answer(prob(1.0))
    server.latency = 0.1  # an agent a little slower than the program's first trace
    sampler = RemoteSampler("svc", sampling_endpoint=server.url, refresh_interval=3600.0)
    try:
        trace_ids = [(i * 0x9E3779B97F4A7C15) % (1 << 64) for i in range(1, 21)]  # spread out
        decisions = [sampler.is_sampled(trace_id, "op")[0] for trace_id in trace_ids]
        assert decisions == [True] * 20
        assert describe(sampler.sampler) == ("probabilistic", 1.0)
    finally:
        sampler.close()


def test_first_decision_does_not_wait_for_a_dead_agent() -> None:
    """Nothing listens at the endpoint: the refused poll ends the wait at once and the
    initial sampler decides."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sampler = RemoteSampler(
        "svc",
        sampling_endpoint=f"http://127.0.0.1:{port}/sampling",
        initial=ConstSampler(False),
        first_poll_wait=5.0,
    )
    try:
        started = time.monotonic()
        assert sampler.is_sampled(1, "op")[0] is False
        assert time.monotonic() - started < 2.0
        assert sampler.metrics()["sampler_polls_failed"] == 1
    finally:
        sampler.close()


def test_first_decision_waits_at_most_first_poll_wait(server: StrategyServer) -> None:
    """An agent that does not answer holds the first decision for ``first_poll_wait`` at
    most; the strategy applies once it comes."""
    server.hold = threading.Event()
    server.answer(prob(1.0))
    sampler = RemoteSampler(
        "svc",
        sampling_endpoint=server.url,
        initial=ConstSampler(False),
        first_poll_wait=0.2,
        refresh_interval=3600.0,
    )
    try:
        started = time.monotonic()
        assert sampler.is_sampled(1, "op")[0] is False
        assert 0.15 < time.monotonic() - started < 2.0
        started = time.monotonic()
        assert sampler.is_sampled(2, "op")[0] is False  # later decisions never wait
        assert time.monotonic() - started < 0.1
        server.hold.set()
        assert sampler._wait_for_polls(1, WAIT)
        assert sampler.is_sampled(3, "op")[0] is True
    finally:
        sampler.close()

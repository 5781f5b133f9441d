"""Remote sampling answers: every Jaeger response shape, and every way an answer goes bad."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from typing import Any, Callable, Union

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jaeger_lite import ProbabilisticSampler, RemoteSampler
from jaeger_lite.sampling.strategy import SamplingStrategy, parse_strategy

from ._strategy_server import PER_OP, StrategyServer, describe, prob

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
    with contextlib.suppress(ValueError):
        parse_strategy(body)


def test_parse_of_deep_nesting_is_a_value_error() -> None:
    """Pathologically nested JSON is refused cleanly."""
    with pytest.raises(ValueError):
        parse_strategy("[" * 100_000 + "]" * 100_000)

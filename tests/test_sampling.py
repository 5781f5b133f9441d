"""Tests for jaeger_lite.sampling: const, probabilistic, rate limiting, per-operation."""

from __future__ import annotations

import os
import threading
import warnings
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jaeger_lite import (
    ConstSampler,
    GuaranteedThroughputSampler,
    PerOperationSampler,
    ProbabilisticSampler,
    RateLimitingSampler,
    Sampler,
)

from ._fork import child_verdict

MASK = (1 << 63) - 1


def go_boundary(rate: float) -> int:
    """jaeger-client-go's boundary, derived with exact arithmetic: floor(rate * 2**63)."""
    return int(Fraction(rate) * (1 << 63))


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def admitted(sampler: Sampler, calls: int, trace_id: int = MASK) -> int:
    return sum(sampler.is_sampled(trace_id, "op")[0] for _ in range(calls))


# -- const and probabilistic -----------------------------------------------------------


def test_const_sampler_tags() -> None:
    """ConstSampler reports its decision as sampler.param (a bool)."""
    assert ConstSampler(True).is_sampled(1, "op") == (
        True,
        {"sampler.type": "const", "sampler.param": True},
    )
    assert ConstSampler(False).is_sampled(1, "op")[0] is False


@pytest.mark.parametrize("rate", [0.0, 1e-3, 0.1, 1 / 3, 0.5, 0.999, 1.0])
def test_probabilistic_matches_go_boundary(rate: float) -> None:
    """Ids at the boundary are sampled, the next id is not (Go's <= rule)."""
    sampler = ProbabilisticSampler(rate)
    boundary = go_boundary(rate)
    assert sampler.is_sampled(min(boundary, MASK), "op")[0] is True
    if boundary < MASK:
        assert sampler.is_sampled(boundary + 1, "op")[0] is False
    if boundary > 0:
        assert sampler.is_sampled(boundary - 1, "op")[0] is True


def test_probabilistic_ignores_the_top_bit_and_the_high_half() -> None:
    """Only the low 63 bits decide: the sign bit and a 128-bit id's high half are masked."""
    sampler = ProbabilisticSampler(0.5)
    below, above = go_boundary(0.5), go_boundary(0.5) + 1
    assert sampler.is_sampled((1 << 63) | below, "op")[0] is True
    assert sampler.is_sampled((1 << 63) | above, "op")[0] is False
    assert sampler.is_sampled((0xDEAD << 64) | below, "op")[0] is True
    assert sampler.is_sampled((0xDEAD << 64) | above, "op")[0] is False


def test_probabilistic_rate_one_samples_every_id() -> None:
    """Rate 1.0 samples even the largest 63-bit id."""
    assert ProbabilisticSampler(1.0).is_sampled(MASK, "op")[0] is True
    assert ProbabilisticSampler(0.0).is_sampled(1, "op")[0] is False


@given(st.integers(1, (1 << 64) - 1), st.floats(0.0, 1.0))
def test_probabilistic_agrees_with_go_rule(trace_id: int, rate: float) -> None:
    """For any id and rate the decision is Go's, and two samplers agree."""
    expected = trace_id & MASK <= go_boundary(rate)
    assert ProbabilisticSampler(rate).is_sampled(trace_id, "a")[0] is expected
    assert ProbabilisticSampler(rate).is_sampled(trace_id, "b")[0] is expected


def test_probabilistic_tags() -> None:
    """A probabilistic decision carries the rate as a float sampler.param."""
    assert ProbabilisticSampler(1).is_sampled(5, "op")[1] == {
        "sampler.type": "probabilistic",
        "sampler.param": 1.0,
    }


@pytest.mark.parametrize("rate", [-0.1, 1.5, float("nan")])
def test_probabilistic_rejects_bad_rates(rate: float) -> None:
    """Rates outside [0, 1] are a ValueError."""
    with pytest.raises(ValueError):
        ProbabilisticSampler(rate)


# -- rate limiting ---------------------------------------------------------------------


def test_rate_limiter_starts_full() -> None:
    """A new limiter admits a full bucket (rate credits) at once, then nothing."""
    sampler = RateLimitingSampler(5, clock=FakeClock())
    assert admitted(sampler, 20) == 5


def test_rate_limiter_capacity_is_at_least_one() -> None:
    """Below one trace per second the bucket still holds one credit."""
    clock = FakeClock()
    sampler = RateLimitingSampler(0.5, clock=clock)
    assert admitted(sampler, 3) == 1
    clock.advance(1.0)
    assert admitted(sampler, 3) == 0
    clock.advance(1.0)
    assert admitted(sampler, 3) == 1
    clock.advance(3600.0)  # idle time does not accumulate past the capacity
    assert admitted(sampler, 3) == 1


def test_rate_limiter_admits_rate_over_simulated_time() -> None:
    """Under constant overload it admits capacity + rate * elapsed traces."""
    clock = FakeClock()
    rate, step, steps = 10.0, 1 / 64, 640  # 64 calls per second for 10 s
    sampler = RateLimitingSampler(rate, clock=clock)
    total = 0
    for _ in range(steps):
        total += admitted(sampler, 1)
        clock.advance(step)
    elapsed = (steps - 1) * step  # the last call happens one step before the end
    assert total == int(rate) + int(rate * elapsed)


def test_rate_limiter_under_capacity_admits_everything() -> None:
    """Traffic below the rate is always sampled."""
    clock = FakeClock()
    sampler = RateLimitingSampler(2, clock=clock)
    for _ in range(100):
        assert admitted(sampler, 1) == 1
        clock.advance(0.5)


def test_rate_limiter_zero_samples_nothing() -> None:
    """A rate of 0 never samples (documented difference from Go's one free trace)."""
    clock = FakeClock()
    sampler = RateLimitingSampler(0, clock=clock)
    assert admitted(sampler, 5) == 0
    clock.advance(100.0)
    assert admitted(sampler, 5) == 0


def test_rate_limiter_clock_stepping_back_grants_nothing() -> None:
    """A clock that goes backwards does not add or remove credit."""
    clock = FakeClock()
    sampler = RateLimitingSampler(1, clock=clock)
    assert admitted(sampler, 1) == 1
    clock.advance(-50.0)
    assert admitted(sampler, 1) == 0
    clock.advance(1.0)
    assert admitted(sampler, 1) == 1


def test_rate_limiter_tags() -> None:
    """Rate-limited decisions are tagged ratelimiting with the rate as a float."""
    sampler = RateLimitingSampler(3, clock=FakeClock())
    assert sampler.is_sampled(1, "op") == (
        True,
        {"sampler.type": "ratelimiting", "sampler.param": 3.0},
    )


def test_rate_limiter_is_thread_safe() -> None:
    """Threads racing on a frozen clock share exactly the bucket's credits."""
    sampler = RateLimitingSampler(50, clock=FakeClock())
    counts: list[int] = []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        counts.append(admitted(sampler, 500))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sum(counts) == 50


def test_rate_limiter_update_keeps_proportional_credit() -> None:
    """update() rescales the balance to the new capacity instead of refilling it."""
    clock = FakeClock()
    sampler = RateLimitingSampler(10, clock=clock)
    assert admitted(sampler, 5) == 5  # half the bucket left
    sampler.update(20)
    assert sampler.max_traces_per_second == 20.0
    assert admitted(sampler, 100) == 10
    clock.advance(0.5)
    assert sampler.is_sampled(1, "op") == (
        True,
        {"sampler.type": "ratelimiting", "sampler.param": 20.0},
    )
    assert admitted(sampler, 100) == 9


@pytest.mark.parametrize("rate", [-1, float("inf"), float("nan")])
def test_rate_limiter_rejects_bad_rates(rate: float) -> None:
    """Negative or non-finite rates are a ValueError."""
    with pytest.raises(ValueError):
        RateLimitingSampler(rate)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_rate_limiter_lock_held_at_fork_is_fresh_in_child() -> None:
    """A limiter whose lock was held during fork() still works in the child."""
    sampler = RateLimitingSampler(5, clock=FakeClock())
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads
        with sampler._lock:
            pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.write(write_end, b"1" if sampler.take() else b"0")
        finally:
            os._exit(0)
    os.close(write_end)
    assert child_verdict(pid, read_end, 10.0) == b"1"


# -- guaranteed throughput and per operation -------------------------------------------

LOW_ID = 1  # passes any non-zero probability
HIGH_ID = MASK  # fails any probability below 1.0


def test_lower_bound_samples_when_probability_fails() -> None:
    """With probability 0 the lower bound still samples lower_bound traces per second."""
    clock = FakeClock()
    sampler = GuaranteedThroughputSampler(1.0, 0.0, clock=clock)
    decision = sampler.is_sampled(HIGH_ID, "op")
    assert decision == (True, {"sampler.type": "lowerbound", "sampler.param": 0.0})
    assert sampler.is_sampled(HIGH_ID, "op")[0] is False
    clock.advance(1.0)
    assert sampler.is_sampled(HIGH_ID, "op")[0] is True


def test_probabilistic_pass_is_tagged_probabilistic_and_charges_the_limiter() -> None:
    """A probabilistic pass uses the probabilistic tags and spends the limiter's credit."""
    sampler = GuaranteedThroughputSampler(1.0, 0.5, clock=FakeClock())
    assert sampler.is_sampled(LOW_ID, "op") == (
        True,
        {"sampler.type": "probabilistic", "sampler.param": 0.5},
    )
    assert sampler.is_sampled(HIGH_ID, "op")[0] is False  # the credit is gone


def test_guaranteed_throughput_update_keeps_the_limiter() -> None:
    """update() changes the rate but not the spent credit."""
    clock = FakeClock()
    sampler = GuaranteedThroughputSampler(1.0, 0.0, clock=clock)
    assert sampler.is_sampled(HIGH_ID, "op")[0] is True
    sampler.update(1.0, 0.25)
    assert sampler.sampling_rate == 0.25
    assert sampler.is_sampled(HIGH_ID, "op")[0] is False
    assert sampler.is_sampled(LOW_ID, "op")[1]["sampler.param"] == 0.25


def test_per_operation_uses_listed_rates_then_the_default() -> None:
    """Listed operations use their rate; others the default probability."""
    sampler = PerOperationSampler(0.0, 0.0, {"always": 1.0}, clock=FakeClock())
    assert sampler.is_sampled(HIGH_ID, "always") == (
        True,
        {"sampler.type": "probabilistic", "sampler.param": 1.0},
    )
    assert sampler.is_sampled(LOW_ID, "other")[0] is False
    assert sampler.operations == {"always": 1.0, "other": 0.0}


def test_per_operation_lower_bound_is_per_operation() -> None:
    """Each operation has its own lower-bound limiter."""
    clock = FakeClock()
    sampler = PerOperationSampler(0.0, 1.0, clock=clock)
    for op in ("a", "b", "c"):
        assert sampler.is_sampled(HIGH_ID, op) == (
            True,
            {"sampler.type": "lowerbound", "sampler.param": 0.0},
        )
        assert sampler.is_sampled(HIGH_ID, op)[0] is False
    clock.advance(1.0)
    assert sampler.is_sampled(HIGH_ID, "a")[0] is True


def test_per_operation_cap_shares_the_default_sampler() -> None:
    """Past max_operations new operations get the default probability, no lower bound."""
    sampler = PerOperationSampler(0.5, 1.0, max_operations=2, clock=FakeClock())
    assert sampler.is_sampled(HIGH_ID, "a")[0] is True
    assert sampler.is_sampled(HIGH_ID, "b")[0] is True
    assert sampler.is_sampled(HIGH_ID, "c")[0] is False  # a new op would get a full bucket
    assert sampler.is_sampled(LOW_ID, "c") == (
        True,
        {"sampler.type": "probabilistic", "sampler.param": 0.5},
    )
    assert set(sampler.operations) == {"a", "b"}


def test_per_operation_cap_bounds_the_listed_operations_too(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A strategy listing more than max_operations (adaptive sampling of unbounded names)
    makes at most max_operations samplers, as jaeger-client-java does: known operations
    keep theirs, new ones fill the room left, the rest get the default probability."""
    sampler = PerOperationSampler(0.0, 1.0, max_operations=3, clock=FakeClock())
    assert sampler.is_sampled(HIGH_ID, "known")[0] is True  # its credit is spent
    listed = {f"op{i}": 1.0 for i in range(1000)}
    with caplog.at_level("WARNING", logger="jaeger_lite"):
        sampler.update(0.0, 1.0, {**listed, "known": 1.0})
    assert sampler.operations == {"known": 1.0, "op0": 1.0, "op1": 1.0}
    assert "lists 1001 operations, over max_operations=3: 998 of them" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="jaeger_lite"):
        sampler.update(0.1, 1.0, listed)  # the next strategy: no second warning
    assert caplog.text == ""
    assert sampler.is_sampled(HIGH_ID, "op999") == (  # the default, with no lower bound
        False,
        {"sampler.type": "probabilistic", "sampler.param": 0.1},
    )


def test_per_operation_update_keeps_limiters() -> None:
    """An update changes rates but an operation's spent credit stays spent."""
    clock = FakeClock()
    sampler = PerOperationSampler(0.0, 1.0, {"listed": 0.0}, clock=clock)
    assert sampler.is_sampled(HIGH_ID, "listed")[0] is True
    assert sampler.is_sampled(HIGH_ID, "learned")[0] is True
    sampler.update(0.1, 1.0, {"listed": 0.2, "new": 0.3})
    assert sampler.operations == {"listed": 0.2, "new": 0.3, "learned": 0.1}
    assert sampler.is_sampled(HIGH_ID, "listed")[0] is False
    assert sampler.is_sampled(HIGH_ID, "learned")[0] is False
    assert sampler.is_sampled(HIGH_ID, "new")[0] is True  # a new limiter starts full
    assert sampler.is_sampled(LOW_ID, "listed")[1] == {
        "sampler.type": "probabilistic",
        "sampler.param": 0.2,
    }


def test_per_operation_update_changes_lower_bound_tags() -> None:
    """A new sampling rate shows up in the lowerbound tag of existing operations (its
    sampler.param is the rate); a new lower bound changes the limiter, not the tag."""
    clock = FakeClock()
    sampler = PerOperationSampler(0.0, 1.0, {"op": 0.0, "learned": 0.1}, clock=clock)
    sampler.update(0.2, 2.0, {"op": 0.25})
    assert sampler.lower_bound == 2.0
    assert [sampler.is_sampled(HIGH_ID, op)[1] for op in ("op", "learned")] == [
        {"sampler.type": "lowerbound", "sampler.param": 0.25},
        {"sampler.type": "lowerbound", "sampler.param": 0.2},
    ]
    sampler.update(0.2, 3.0, {"op": 0.25})
    assert sampler.is_sampled(HIGH_ID, "op")[1]["sampler.param"] == 0.25


@pytest.mark.parametrize(("lower_bound", "rate"), [(1.0, 0.0), (2.0, 0.25), (0.5, 0.001)])
def test_lower_bound_tags_as_jaeger_client_writes_them(lower_bound: float, rate: float) -> None:
    """A lowerbound decision carries the sampling rate as sampler.param, as
    jaeger-client's GuaranteedThroughputProbabilisticSampler writes it (Go and Java too);
    Jaeger's adaptive sampling records that tag as the probability the client applied."""
    from jaeger_client.sampler import GuaranteedThroughputProbabilisticSampler

    theirs = GuaranteedThroughputProbabilisticSampler("op", lower_bound, rate)
    theirs.lower_bound_sampler.rate_limiter.balance = 1.0  # theirs starts at a random balance
    ours = GuaranteedThroughputSampler(lower_bound, rate, clock=FakeClock())
    # MASK fails both clients' probabilistic rules below a rate of 0.5.
    assert ours.is_sampled(MASK, "op") == theirs.is_sampled(MASK, "op")
    assert ours.is_sampled(MASK, "op")[1]["sampler.param"] == rate


def test_per_operation_invalid_update_changes_nothing() -> None:
    """An update with an out-of-range rate raises and leaves the sampler as it was."""
    sampler = PerOperationSampler(0.1, 1.0, {"op": 0.5}, clock=FakeClock())
    with pytest.raises(ValueError):
        sampler.update(0.2, 1.0, {"op": 0.7, "bad": 1.5})
    assert sampler.operations == {"op": 0.5}
    assert sampler.default_sampling_probability == 0.1


def test_per_operation_learning_is_thread_safe() -> None:
    """Threads learning the same operations create one sampler each, within the cap."""
    sampler = PerOperationSampler(0.0, 1.0, max_operations=50, clock=FakeClock())
    start = threading.Barrier(8)
    sampled: list[int] = []

    def worker() -> None:
        start.wait()
        sampled.append(sum(sampler.is_sampled(HIGH_ID, f"op{i}")[0] for i in range(100)))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(sampler.operations) == 50
    assert sum(sampled) == 50  # one lower-bound credit per learned operation


def test_samplers_satisfy_the_protocol() -> None:
    """Every sampler is a Sampler."""
    for sampler in (
        ConstSampler(True),
        ProbabilisticSampler(0.5),
        RateLimitingSampler(1),
        GuaranteedThroughputSampler(1, 0.5),
        PerOperationSampler(0.5, 1),
    ):
        assert isinstance(sampler, Sampler)
        sampler.close()

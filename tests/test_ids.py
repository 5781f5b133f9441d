"""Id generation (fork-safe, unaffected by random.seed) and id conversions."""

from __future__ import annotations

import os
import random

import pytest

from jaeger_lite import Tracer
from jaeger_lite._encoding.common import i64
from jaeger_lite._ids import format_id, format_trace_id, new_id, to_unsigned


def test_ids_are_non_zero_64_bit() -> None:
    """new_id draws from [1, 2**64)."""
    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(0 < i < 2**64 for i in ids)


def test_random_seed_does_not_make_ids_repeat() -> None:
    """An application's random.seed() does not touch our generator."""
    random.seed(42)
    first = [new_id() for _ in range(5)]
    random.seed(42)
    second = [new_id() for _ in range(5)]
    assert first != second


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_draws_different_ids_than_the_parent() -> None:
    """After fork the child is reseeded, so parent and child never share ids."""
    tracer = Tracer("svc")
    tracer.start_span("warm-up")  # generator state exists before the fork
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report its next ids and leave without running pytest teardown
        os.close(read_fd)
        ids = " ".join(str(tracer.start_span("c").context.trace_id) for _ in range(20))
        os.write(write_fd, ids.encode())
        os._exit(0)
    os.close(write_fd)
    parent_ids = {tracer.start_span("p").context.trace_id for _ in range(20)}
    chunks = []
    while True:
        chunk = os.read(read_fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    child_ids = {int(x) for x in b"".join(chunks).split()}
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert len(child_ids) == 20
    assert not (parent_ids & child_ids)


def test_hex_formatting() -> None:
    """Trace ids print as 16 or 32 digits, span ids as 16."""
    assert format_trace_id(1) == "0000000000000001"
    assert format_trace_id(2**64) == "00000000000000010000000000000000"
    assert format_id(2**64 - 1) == "ffffffffffffffff"


@pytest.mark.parametrize(
    "value", [0, 1, 2**63 - 1, 2**63, 2**64 - 1], ids=["0", "1", "2^63-1", "2^63", "2^64-1"]
)
def test_signed_unsigned_round_trip(value: int) -> None:
    """Ids >= 2**63 become negative i64 on the wire and come back unchanged."""
    signed = i64(value)
    assert -(2**63) <= signed < 2**63
    assert to_unsigned(signed) == value


def test_the_largest_id_is_minus_one_on_the_wire() -> None:
    """2**64 - 1 is -1 as an i64."""
    assert i64(2**64 - 1) == -1

"""Inline sends (``Sender.inline_send``): a turn sends the full batches itself through
``try_send``, which declines rather than waits; and the tracer's direct appends to a
reporter's inbox (``span_inbox``), which must never bypass a reporter's own
``report_span``."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from jaeger_lite import InMemoryReporter, NullReporter, RemoteReporter, Tracer, UDPSender
from jaeger_lite.reporting.remote import WAKE_EVERY
from jaeger_lite.span import Span
from tests._wire_helpers import UDPAgent, accounted, tag_dict


@pytest.fixture
def agent() -> Iterator[UDPAgent]:
    agent = UDPAgent()
    yield agent
    agent.close()


def make(tracer: Tracer, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        with tracer.start_active_span("op") as scope:
            scope.span.set_tag("i", i)
            scope.span.set_tag("pad", "x" * 200)  # ~300 spans a datagram


def numbers(spans: Sequence[Any]) -> list[int]:
    return [tag_dict(span.tags)["i"] for span in spans]


class WhoSends(UDPSender):
    """Records the threads that call try_send and send (send() itself is not overridden,
    so inline sending stays on)."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(host, port)
        self.inline: list[tuple[int, bool]] = []  # (thread, sent)

    def try_send(self, spans: Sequence[bytes]) -> bool:
        sent = super().try_send(spans)
        self.inline.append((threading.get_ident(), sent))
        return sent


def test_turns_send_full_datagrams_on_the_reporting_thread(agent: UDPAgent) -> None:
    sender = WhoSends("127.0.0.1", agent.port)
    assert sender.inline_send
    reporter = RemoteReporter(sender, flush_interval=60)
    tracer = Tracer("svc", reporter)
    count = 10 * WAKE_EVERY
    thread = threading.Thread(target=make, args=(tracer, count))
    thread.start()
    thread.join()
    # No flush, a minute's interval, the worker never woken: the datagrams are out.
    datagrams = agent.wait_for_datagrams(3)
    assert len(datagrams) >= 3
    assert sender.inline and {who for who, _ in sender.inline} == {thread.ident}
    assert all(sent for _, sent in sender.inline)
    assert reporter.flush(5)  # the last, partial datagram: the worker's
    assert numbers(agent.wait_for_spans(count)) == list(range(count))
    reporter.close(5)
    metrics = tracer.metrics
    assert metrics["spans_sent"] == count == accounted(metrics)
    assert metrics["batches_sent"] == len(agent.wait_for_datagrams(len(datagrams)))


def test_a_host_name_is_connected_by_the_worker_then_sent_to_inline(agent: UDPAgent) -> None:
    """A name needs a lookup, which only the worker does: until it has connected, try_send
    declines and the worker is woken to send; then turns send themselves."""
    sender = WhoSends("localhost", agent.port)
    reporter = RemoteReporter(sender, flush_interval=60)
    tracer = Tracer("svc", reporter)
    make(tracer, 3 * WAKE_EVERY)  # full batches: the first try_send declines
    assert sender.inline and sender.inline[0][1] is False
    assert agent.wait_for_datagrams(1)  # sent by the woken worker
    assert reporter.flush(5)  # the worker is done: connected, and the send lock is free
    assert sender._sock is not None
    before = len(sender.inline)
    make(tracer, 6 * WAKE_EVERY, start=3 * WAKE_EVERY)
    assert any(sent for _, sent in sender.inline[before:])
    assert reporter.flush(5)
    assert numbers(agent.wait_for_spans(9 * WAKE_EVERY)) == list(range(9 * WAKE_EVERY))
    reporter.close(5)
    assert accounted(tracer.metrics) == 9 * WAKE_EVERY


def test_flush_sends_on_the_calling_thread(agent: UDPAgent) -> None:
    """A flush with a short queue encodes and sends it itself: one datagram, sent by the
    caller, and the worker not woken (each wake-up is a thread hand-off of ~0.1 ms)."""
    sender = WhoSends("127.0.0.1", agent.port)
    reporter = RemoteReporter(sender, flush_interval=60)
    tracer = Tracer("svc", reporter)
    make(tracer, 10)
    woken = []
    set_wake = reporter._wake.set
    reporter._wake.set = lambda: woken.append(1) or set_wake()  # type: ignore[method-assign]
    assert reporter.flush(5)
    assert sender.inline == [(threading.get_ident(), True)] and woken == []
    assert numbers(agent.wait_for_spans(10)) == list(range(10))
    make(tracer, 3, start=10)
    assert reporter.flush(5) and woken == []
    assert numbers(agent.wait_for_spans(13)) == list(range(13))
    reporter.close(5)
    assert tracer.metrics["spans_sent"] == 13 == accounted(tracer.metrics)


def test_flush_hands_over_to_the_worker_when_try_send_declines(agent: UDPAgent) -> None:
    class Declines(UDPSender):
        def try_send(self, spans: Sequence[bytes]) -> bool:
            return False

    reporter = RemoteReporter(Declines("127.0.0.1", agent.port), flush_interval=60)
    tracer = Tracer("svc", reporter)
    make(tracer, 10)
    assert reporter.flush(5)  # the worker's send()
    assert numbers(agent.wait_for_spans(10)) == list(range(10))
    reporter.close(5)
    assert accounted(tracer.metrics) == 10


def test_threads_that_report_and_flush_at_once_lose_nothing(agent: UDPAgent) -> None:
    """Flushes on four threads race each other, the turns and the worker for the locks:
    every flush returns True having seen its own spans handed over, and every span arrives
    exactly once."""
    reporter = RemoteReporter(UDPSender("127.0.0.1", agent.port), flush_interval=60)
    tracer = Tracer("svc", reporter)
    failures: list[str] = []

    def work(base: int) -> None:
        for round_no in range(40):
            make(tracer, 7, start=base + 7 * round_no)
            if not reporter.flush(5):
                failures.append(f"flush timed out ({base}, {round_no})")
            elif reporter.metrics()["spans_sent"] < 7 * (round_no + 1):
                failures.append(f"flush returned before its spans went ({base}, {round_no})")

    threads = [threading.Thread(target=work, args=(1000 * i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    expected = sorted(1000 * i + k for i in range(4) for k in range(280))
    assert sorted(numbers(agent.wait_for_spans(len(expected)))) == expected
    reporter.close(5)
    assert tracer.metrics["spans_sent"] == len(expected) == accounted(tracer.metrics)


def fill(sock: socket.socket) -> None:
    """Fill a non-blocking Unix datagram socket (unlike UDP, it blocks when full)."""
    while True:
        try:
            sock.send(b"x" * 4096)
        except BlockingIOError:
            return


def drain(sock: socket.socket) -> None:
    while True:
        try:
            sock.recv(65536, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return


def test_try_send_declines_on_a_full_socket_buffer_and_the_worker_waits() -> None:
    """On a full send buffer try_send does nothing and says so (seqNo and counters as they
    were); send() waits up to a second for room, then counts the batch as failed."""
    sender = UDPSender("127.0.0.1", 9)  # never used: a local datagram pair stands in
    sender.set_process("svc", {})
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        ours.setblocking(False)
        fill(ours)
        sender._sock = ours
        before = (sender._seq_no, sender.metrics())
        assert sender.try_send([b"\x00"]) is False
        assert (sender._seq_no, sender.metrics()) == before
        drain(theirs)
        assert sender.try_send([b"\x00"]) is True
        assert sender.metrics()["spans_sent"] == 1 and sender._seq_no == before[0] + 1
        fill(ours)
        started = time.monotonic()
        sender.send([b"\x00"])  # the worker's way: waits, then counts
        assert 0.5 < time.monotonic() - started < 5
        assert sender.metrics()["spans_dropped_send_failed"] == 1
        assert sender._sock is None  # dropped: the next send connects afresh
    finally:
        sender._sock = None
        ours.close()
        theirs.close()


def test_a_raising_try_send_hands_sending_to_the_worker(
    agent: UDPAgent, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(UDPSender):
        def try_send(self, spans: Sequence[bytes]) -> bool:
            raise RuntimeError("bug")

    reporter = RemoteReporter(Broken("127.0.0.1", agent.port), flush_interval=60)
    tracer = Tracer("svc", reporter)
    with caplog.at_level(logging.WARNING, logger="jaeger_lite"):
        make(tracer, 8 * WAKE_EVERY)
    assert "try_send" in caplog.text
    assert reporter.flush(5)
    assert numbers(agent.wait_for_spans(8 * WAKE_EVERY)) == list(range(8 * WAKE_EVERY))
    reporter.close(5)
    assert accounted(tracer.metrics) == 8 * WAKE_EVERY


def test_a_reporter_that_overrides_report_span_still_gets_every_span() -> None:
    """The tracer appends to a reporter's inbox only while report_span is the class's own:
    an override in a subclass or on the instance is called for every span."""

    class Counting(InMemoryReporter):
        calls = 0

        def report_span(self, span: Span) -> None:
            Counting.calls += 1
            super().report_span(span)

    seen: list[Span] = []

    class OnInstance(NullReporter):  # as a benchmark's collector might
        def __init__(self) -> None:
            self.report_span = seen.append  # type: ignore[method-assign,assignment]

    on_instance = OnInstance()
    counting = Counting()
    for reporter in (counting, on_instance):
        tracer = Tracer("svc", reporter)
        for _ in range(300):
            with tracer.start_active_span("op"):
                pass
    assert Counting.calls == 300 and len(counting.spans) == 300
    assert len(seen) == 300


def test_in_memory_and_null_reporters_take_spans_by_their_inbox() -> None:
    memory = InMemoryReporter()
    assert memory.span_inbox() is not None and NullReporter().span_inbox() is not None
    tracer = Tracer("svc", memory)
    for i in range(WAKE_EVERY * 3):
        with tracer.start_active_span("op") as scope:
            scope.span.set_tag("i", i)
    assert [span.tags["i"] for span in memory.spans] == list(range(WAKE_EVERY * 3))
    memory.clear()
    tracer.start_span("after").finish()
    assert [span.operation_name for span in memory.spans] == ["after"]

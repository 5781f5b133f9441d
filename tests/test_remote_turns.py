"""RemoteReporter's turns: spans encoded on the reporting thread (``Sender.inline_encode``),
sent by the worker; bounds, drops, flush, close, fork and failing encoders around them."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pytest

from jaeger_lite import RemoteReporter, Sender, Tracer, UDPSender
from jaeger_lite.reporting.remote import TURN_MAX, WAKE_BYTES, WAKE_EVERY
from jaeger_lite.span import Span
from tests._wire_helpers import UDPAgent, accounted, free_udp_port, tag_dict


@pytest.fixture
def agent() -> Iterator[UDPAgent]:
    agent = UDPAgent()
    yield agent
    agent.close()


def make(tracer: Tracer, count: int, name: str = "op", start: int = 0) -> None:
    """Finish ``count`` spans tagged i = start, start + 1, ..."""
    for i in range(start, start + count):
        with tracer.start_span(name) as span:
            span.set_tag("i", i)
            span.set_tag("component", "test")


def numbers(spans: Iterable[Any]) -> list[int]:
    return [tag_dict(span.tags)["i"] for span in spans]


class ThreadsUDP(UDPSender):
    """A UDPSender that records which threads encode and send."""

    def __init__(self, port: int) -> None:
        super().__init__("127.0.0.1", port)
        self.encoders: set[int] = set()
        self.senders: set[int] = set()
        self.encoded = 0

    def encode_spans(self, spans: Iterable[Span]) -> list[bytes]:
        self.encoders.add(threading.get_ident())
        out = super().encode_spans(spans)
        self.encoded += len(out)
        return out

    def send(self, spans: Sequence[bytes]) -> None:
        self.senders.add(threading.get_ident())
        super().send(spans)


class GateUDP(UDPSender):
    """A UDPSender whose send() waits for the gate (to hold encoded spans on purpose)."""

    def __init__(self, port: int) -> None:
        super().__init__("127.0.0.1", port)
        self.gate = threading.Event()
        self.entered = threading.Event()

    def send(self, spans: Sequence[bytes]) -> None:
        self.entered.set()
        self.gate.wait(10)
        super().send(spans)


@contextlib.contextmanager
def held_by_another_thread(lock: Any) -> Iterator[None]:
    """Hold ``lock`` on another thread (the turn lock is re-entrant for its holder)."""
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            taken.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(5)
    try:
        yield
    finally:
        release.set()
        thread.join(5)


def test_builtin_senders_encode_inline_and_user_senders_do_not() -> None:
    from jaeger_lite import HTTPSender, OTLPSender

    assert UDPSender.inline_encode and HTTPSender.inline_encode and OTLPSender.inline_encode
    assert Sender.inline_encode is False


def test_turns_encode_on_the_reporting_thread_and_the_worker_sends(agent: UDPAgent) -> None:
    """Turns (at spans WAKE_EVERY, 2 * WAKE_EVERY, ...) are encoded by the thread that
    reported the spans; a sender that overrides send() is sent to by the worker only."""
    sender = ThreadsUDP(agent.port)
    assert not sender.inline_send  # its send() is its own
    reporter = RemoteReporter(sender, flush_interval=60)
    tracer = Tracer("svc", reporter)
    count = 3 * WAKE_EVERY + 1
    thread = threading.Thread(target=make, args=(tracer, count))
    thread.start()
    thread.join()
    assert thread.ident is not None
    # Three turns encoded all but the last span there; nothing woke the worker (far
    # under WAKE_BYTES).
    assert sender.encoders == {thread.ident}
    assert sender.encoded == count - 1
    assert reporter.metrics()["queue_length"] == count
    assert not sender.senders
    assert reporter.flush(5)
    worker = reporter._worker
    assert worker is not None and sender.senders == {worker.ident}
    assert numbers(agent.wait_for_spans(count)) == list(range(count))
    reporter.close()


def test_the_worker_wakes_by_encoded_size(agent: UDPAgent) -> None:
    """Past WAKE_BYTES of encoded spans the worker sends without a flush or its interval."""
    reporter = RemoteReporter(UDPSender("127.0.0.1", agent.port), flush_interval=60)
    tracer = Tracer("svc", reporter)
    count = WAKE_BYTES // 25  # a span of these encodes to more than 25 bytes
    make(tracer, count)
    assert agent.wait_for_datagrams(1)  # no flush() yet, and the interval is a minute
    assert reporter.flush(5)
    assert numbers(agent.wait_for_spans(count)) == list(range(count))
    reporter.close()


def test_flush_and_close_encode_what_is_still_raw(agent: UDPAgent) -> None:
    """Spans between turns (under WAKE_EVERY) are encoded by flush() and close()."""
    reporter = RemoteReporter(UDPSender("127.0.0.1", agent.port), flush_interval=60)
    tracer = Tracer("svc", reporter)
    make(tracer, WAKE_EVERY + 5)
    assert reporter.flush(5)
    make(tracer, 2 * WAKE_EVERY + 7, start=WAKE_EVERY + 5)
    reporter.close(5)
    total = 3 * WAKE_EVERY + 12
    assert numbers(agent.wait_for_spans(total)) == list(range(total))
    metrics = tracer.metrics
    assert metrics["spans_sent"] == total and metrics["queue_length"] == 0
    assert accounted(metrics) == metrics["spans_sampled"]


def test_a_turn_takes_at_most_turn_max(agent: UDPAgent) -> None:
    """A backlog (a turn that found the lock taken) is taken TURN_MAX spans a turn."""
    sender = ThreadsUDP(agent.port)
    reporter = RemoteReporter(sender, flush_interval=60)
    tracer = Tracer("svc", reporter)
    with held_by_another_thread(reporter._turn_lock):  # "encoding": these turns pass
        make(tracer, 3 * WAKE_EVERY)
    assert sender.encoded == 0
    # Past WAKE_EVERY queued, every span reported tries a turn: each takes TURN_MAX.
    make(tracer, 1, start=3 * WAKE_EVERY)
    assert sender.encoded == TURN_MAX
    make(tracer, 1, start=3 * WAKE_EVERY + 1)
    assert sender.encoded == 3 * WAKE_EVERY + 2
    assert reporter.flush(5)
    assert numbers(agent.wait_for_spans(3 * WAKE_EVERY + 2)) == list(range(3 * WAKE_EVERY + 2))
    reporter.close()


def test_encoded_spans_count_against_the_queue_and_drops_are_exact(agent: UDPAgent) -> None:
    """A stuck send: encoded-but-unsent spans fill the queue, new ones are dropped and
    counted, and after the release sent + dropped = finished, exactly."""
    sender = GateUDP(agent.port)
    reporter = RemoteReporter(sender, queue_size=3 * WAKE_EVERY, flush_interval=60)
    tracer = Tracer("svc", reporter)
    # The third turn finds half the queue held and wakes the worker, which sends at once
    # (not waiting for a full datagram) and then waits in send().
    make(tracer, 2 * WAKE_EVERY + 1)
    assert sender.entered.wait(5)
    make(tracer, 1000, start=2 * WAKE_EVERY + 1)
    metrics = reporter.metrics()
    assert metrics["queue_length"] == 3 * WAKE_EVERY
    assert metrics["spans_dropped_queue_full"] == 1000 + 2 * WAKE_EVERY + 1 - 3 * WAKE_EVERY
    sender.gate.set()
    assert reporter.flush(5)
    reporter.close(5)
    assert numbers(agent.wait_for_spans(3 * WAKE_EVERY)) == list(range(3 * WAKE_EVERY))
    metrics = tracer.metrics
    assert metrics["spans_sent"] == 3 * WAKE_EVERY
    assert accounted(metrics) == metrics["spans_sampled"] == 1000 + 2 * WAKE_EVERY + 1


def test_a_failed_send_counts_every_span_of_the_batch() -> None:
    """No agent: every span of every encoded batch is counted as failed."""
    reporter = RemoteReporter(UDPSender("127.0.0.1", free_udp_port()), flush_interval=60)
    tracer = Tracer("svc", reporter)
    make(tracer, 5 * WAKE_EVERY + 3)
    assert reporter.flush(5)
    reporter.close(5)
    metrics = tracer.metrics
    assert metrics["spans_sent"] + metrics["spans_dropped_send_failed"] == 5 * WAKE_EVERY + 3
    assert accounted(metrics) == metrics["spans_sampled"]


class FlakyUDP(UDPSender):
    """Cannot encode spans named "bad"; with ``worker_only``, encode_spans raises on any
    thread but the reporter's worker."""

    def __init__(self, port: int, worker_only: bool = False) -> None:
        super().__init__("127.0.0.1", port)
        self.worker_only = worker_only
        self.refused = 0  # encode_spans calls refused off the worker (worker_only)

    def encode_spans(self, spans: Iterable[Span]) -> list[bytes]:
        if self.worker_only and threading.current_thread().name != "jaeger_lite-reporter":
            self.refused += 1
            raise RuntimeError("not on the worker")
        spans = list(spans)
        if any(span.operation_name == "bad" for span in spans):
            raise ValueError("bad span")
        return super().encode_spans(spans)

    def encode(self, span: Span) -> bytes:
        if span.operation_name == "bad":
            raise ValueError("bad span")
        return super().encode(span)


def test_an_inline_encode_that_raises_costs_a_counter_not_the_application(
    agent: UDPAgent,
) -> None:
    """encode_spans raising during a turn never reaches the reporting code; the worker
    encodes those spans one by one and only the ones that cannot be encoded are lost."""
    reporter = RemoteReporter(FlakyUDP(agent.port), flush_interval=60)
    tracer = Tracer("svc", reporter)
    make(tracer, 100)
    make(tracer, 1, name="bad")
    make(tracer, 2 * WAKE_EVERY, start=100)
    assert reporter.flush(5)
    assert reporter._inline_errors.value == 1
    expected = list(range(100 + 2 * WAKE_EVERY))
    assert numbers(agent.wait_for_spans(len(expected))) == expected
    reporter.close(5)
    metrics = tracer.metrics
    assert metrics["spans_dropped_encode_error"] == 1
    assert accounted(metrics) == metrics["spans_sampled"] == len(expected) + 1


def test_a_sender_that_encodes_only_on_the_worker_still_delivers(agent: UDPAgent) -> None:
    """Every turn's encode raises: each costs a counter, the worker encodes, none is lost.
    (A turn that finds the worker encoding the last failed chunk one by one skips, so the
    number of turns that ran, 1 to 4, is counted by the sender.)"""
    sender = FlakyUDP(agent.port, worker_only=True)
    reporter = RemoteReporter(sender, flush_interval=60)
    tracer = Tracer("svc", reporter)
    make(tracer, 4 * WAKE_EVERY)
    assert reporter.flush(5)
    assert 1 <= sender.refused <= 4
    assert reporter._inline_errors.value == sender.refused
    assert numbers(agent.wait_for_spans(4 * WAKE_EVERY)) == list(range(4 * WAKE_EVERY))
    metrics = reporter.metrics()
    assert metrics["spans_dropped_encode_error"] == 0
    reporter.close()


class WorkerRecorder(Sender):
    """A user sender (no inline_encode): records the threads that encode."""

    batch_bytes = 1000

    def __init__(self) -> None:
        super().__init__()
        self.encoders: set[int] = set()
        self.sent: list[bytes] = []

    def encode(self, span: Span) -> bytes:
        self.encoders.add(threading.get_ident())
        return span.operation_name.encode()

    def send(self, spans: Sequence[bytes]) -> None:
        self.sent.extend(spans)


def test_a_user_sender_without_inline_encode_is_encoded_on_the_worker() -> None:
    sender = WorkerRecorder()
    reporter = RemoteReporter(sender)
    tracer = Tracer("svc", reporter)
    for i in range(3 * WAKE_EVERY + 1):
        tracer.start_span(f"op{i}").finish()
    assert reporter.flush(5)
    worker = reporter._worker
    assert worker is not None and sender.encoders == {worker.ident}
    assert sender.sent == [f"op{i}".encode() for i in range(3 * WAKE_EVERY + 1)]
    reporter.close()


def test_a_duck_typed_sender_may_declare_inline_encode() -> None:
    class Duck:
        batch_bytes = 1000
        inline_encode = True

        def __init__(self) -> None:
            self.encoders: set[int] = set()
            self.sent: list[bytes] = []

        def encode(self, span: Span) -> bytes:
            self.encoders.add(threading.get_ident())
            return b"x"

        def send(self, spans: Sequence[bytes]) -> None:
            self.sent.extend(spans)

    duck = Duck()
    reporter = RemoteReporter(duck, flush_interval=60)
    tracer = Tracer("svc", reporter)
    for _ in range(WAKE_EVERY):
        tracer.start_span("op").finish()
    assert duck.encoders == {threading.get_ident()}
    assert reporter.flush(5)
    assert len(duck.sent) == WAKE_EVERY
    reporter.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_fork_during_a_turn(agent: UDPAgent) -> None:
    """A fork while a turn holds the lock, with spans raw, encoded and unsent: the child
    starts empty with a lock of its own and sends exactly its own spans; the parent
    still sends all of its own."""
    reporter = RemoteReporter(UDPSender("127.0.0.1", agent.port), flush_interval=60)
    tracer = Tracer("svc", reporter)
    make(tracer, WAKE_EVERY + 10, name="parent")  # one turn encoded, 10 raw
    with reporter._turn_lock:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                make(tracer, 2 * WAKE_EVERY + 3, name="child")
                code = 0 if tracer.flush(5) else 2
            finally:
                os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    children = agent.wait_for_spans(2 * WAKE_EVERY + 3)
    assert {span.operationName for span in children} == {"child"}
    assert numbers(children) == list(range(2 * WAKE_EVERY + 3))
    assert reporter.flush(5)
    spans = agent.wait_for_spans(3 * WAKE_EVERY + 13)
    parents = [span for span in spans if span.operationName == "parent"]
    assert numbers(parents) == list(range(WAKE_EVERY + 10))
    reporter.close()

"""The guarantees of README "Reliability": flush and close return in bounded time whatever
the sender does, and every finished sampled span is sent or counted, exactly."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any, Callable, Optional

import pytest

from jaeger_lite import RemoteReporter, Tracer, UDPSender
from jaeger_lite.reporting.remote import WAKE_EVERY
from jaeger_lite.senders.base import Sender
from jaeger_lite.span import Span
from tests._wire_helpers import UDPAgent, accounted, free_udp_port


class GateSender(Sender):
    """A real Sender (it counts what it sends) whose send() waits for ``gate``."""

    batch_bytes = 65000

    def __init__(self, *, blocked: bool = True) -> None:
        super().__init__()
        self.gate = threading.Event()
        if not blocked:
            self.gate.set()
        self.entered = threading.Event()
        self.left = threading.Event()
        self.closed = False

    def encode(self, span: Span) -> bytes:
        return span.operation_name.encode()

    def send(self, spans: Sequence[bytes]) -> None:
        self.entered.set()
        self.gate.wait(30)
        self._spans_sent += len(spans)
        self._batches += 1
        self.left.set()

    def close(self) -> None:
        self.closed = True


def finish(tracer: Tracer, count: int) -> None:
    for i in range(count):
        tracer.start_span(f"op{i}").finish()


def identity(metrics: dict[str, int]) -> int:
    """Spans sent or counted as dropped, once close() is over (nothing is held then)."""
    assert metrics["queue_length"] == 0
    return accounted(metrics)


# -- flush and close racing ------------------------------------------------------------------


def _pause_at_line(
    code: Any, line: int, paused: threading.Event, resume: threading.Event
) -> Callable[..., Any]:
    """A sys.settrace function that stops the thread at the ``line``-th line event of
    ``code`` until ``resume`` is set: an interleaving chosen, not hoped for."""
    seen = 0

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal seen
        if event == "line":
            seen += 1
            if seen == line:
                paused.set()
                resume.wait(5)
        return local

    def global_(frame: FrameType, event: str, arg: Any) -> Optional[Callable[..., Any]]:
        return local if frame.f_code is code else None

    return global_


def _close_while_flush_stands_at(line: int) -> bool:
    """Run flush(None) stopped at its ``line``-th line, complete close() meanwhile, let
    flush go on; assert both end. False when flush() has fewer lines than that."""
    reporter = RemoteReporter(GateSender(blocked=False))
    tracer = Tracer("svc", reporter)
    finish(tracer, 3)
    paused, resume, ended = threading.Event(), threading.Event(), threading.Event()

    def run() -> None:
        sys.settrace(_pause_at_line(RemoteReporter.flush.__code__, line, paused, resume))
        try:
            reporter.flush(None)
        finally:
            sys.settrace(None)
            ended.set()

    flusher = threading.Thread(target=run, daemon=True)
    flusher.start()
    for _ in range(500):  # until flush() stands at the line, or ran out of lines
        if paused.wait(0.01) or ended.is_set():
            break
    closer = threading.Thread(target=reporter.close, daemon=True)
    closer.start()
    closer.join(0.3)  # flush may hold a lock at this line: then close waits for it
    resume.set()
    closer.join(5)
    flusher.join(5)
    assert not closer.is_alive(), f"close() hung with flush() paused at line {line}"
    assert not flusher.is_alive(), f"flush() hung when close() completed at its line {line}"
    assert reporter.metrics()["spans_sent"] == 3
    return paused.is_set()


def test_flush_never_hangs_whichever_line_close_completes_at() -> None:
    """close() completes while flush() stands at each of its lines in turn; flush(None)
    still returns (it hung when close finished between its closed-check and its
    registration: 4 of 300 rounds in production-like runs)."""
    line = 1
    while _close_while_flush_stands_at(line):
        line += 1
        assert line < 60, "flush() has no end?"
    assert line > 3


def test_flush_after_close_returns_at_once() -> None:
    """flush(timeout=None) on a closed reporter returns promptly, True when all was sent."""
    reporter = RemoteReporter(GateSender(blocked=False))
    tracer = Tracer("svc", reporter)
    finish(tracer, 5)
    reporter.close()
    started = time.monotonic()
    assert reporter.flush(None) is True
    assert time.monotonic() - started < 1


# -- close in bounded time ---------------------------------------------------------------------


def test_close_returns_in_time_when_the_sender_blocks_and_counts_what_it_gave_up() -> None:
    """A send that never returns: close(timeout) returns after ``timeout``, and the spans
    inside that send and still queued are counted as spans_dropped_close_timeout, so
    spans_sampled = sent + counted drops exactly."""
    sender = GateSender()
    reporter = RemoteReporter(sender)
    tracer = Tracer("svc", reporter)
    finish(tracer, WAKE_EVERY)  # wakes the worker, which blocks in send()
    assert sender.entered.wait(5)
    finish(tracer, 40)  # queued behind the stuck send
    started = time.monotonic()
    reporter.close(0.2)
    assert time.monotonic() - started < 2
    metrics = tracer.metrics
    assert metrics["spans_sent"] == 0
    assert metrics["spans_dropped_close_timeout"] == WAKE_EVERY + 40
    assert identity(metrics) == metrics["spans_sampled"] == WAKE_EVERY + 40
    assert not sender.closed  # its send is still running on the worker thread
    # flush() after that close does not wait for the stuck send.
    started = time.monotonic()
    assert reporter.flush(None) is False
    assert time.monotonic() - started < 1
    # The abandoned send finishes late: its spans move to sent, the rest stay dropped.
    sender.gate.set()
    worker = reporter._worker
    assert worker is not None
    worker.join(5)
    assert not worker.is_alive()
    metrics = tracer.metrics
    assert metrics["spans_sent"] == WAKE_EVERY
    assert metrics["spans_dropped_close_timeout"] == 40
    assert identity(metrics) == metrics["spans_sampled"]


def test_flush_waiting_when_close_gives_up_returns_false() -> None:
    """A flush() waiting (no timeout) when close() gives up on a stuck send returns False."""
    sender = GateSender()
    reporter = RemoteReporter(sender)
    tracer = Tracer("svc", reporter)
    finish(tracer, 3)
    results: list[bool] = []
    flusher = threading.Thread(target=lambda: results.append(reporter.flush(None)), daemon=True)
    flusher.start()
    assert sender.entered.wait(5)
    reporter.close(0.1)
    flusher.join(5)
    assert results == [False]
    sender.gate.set()


# -- the accounting identity, exactly ----------------------------------------------------------


@pytest.mark.parametrize("flushes", [100])
def test_identity_with_a_dead_agent(flushes: int) -> None:
    """Nothing listens: every span is a counted send failure, from the first batch on
    (Linux reports a refusal on the next send: half of them used to count as sent)."""
    reporter = RemoteReporter(UDPSender("127.0.0.1", free_udp_port()))
    tracer = Tracer("svc", reporter)
    for _ in range(flushes):
        finish(tracer, 10)
        assert tracer.flush(5)
    tracer.close(5)
    metrics = tracer.metrics
    assert metrics["spans_sent"] == 0
    assert metrics["spans_dropped_send_failed"] == 10 * flushes
    assert identity(metrics) == metrics["spans_sampled"] == 10 * flushes


def test_identity_with_a_restarting_agent() -> None:
    """The agent goes away and comes back on its port: what it received is exactly
    spans_sent, and the rest is counted as failed."""
    agent = UDPAgent()
    port = agent.port
    reporter = RemoteReporter(UDPSender("127.0.0.1", port))
    tracer = Tracer("svc", reporter)
    received = 0
    for round_ in range(6):
        up = round_ % 2 == 0
        for _ in range(5):
            finish(tracer, 20)
            assert tracer.flush(5)
        if up:
            received += len(agent.wait_for_spans(100))
            agent.close()
        else:
            agent = UDPAgent(port=port)
    tracer.close(5)
    agent.close()
    metrics = tracer.metrics
    assert received == metrics["spans_sent"] == 300
    assert metrics["spans_dropped_send_failed"] == 300
    assert identity(metrics) == metrics["spans_sampled"] == 600


def test_identity_with_a_full_queue_and_a_stuck_sender() -> None:
    """A sender stuck long enough to fill the queue, then released: sent + queue-full drops
    + closed drops = sampled, exactly."""
    sender = GateSender()
    reporter = RemoteReporter(sender, queue_size=200)
    tracer = Tracer("svc", reporter)
    finish(tracer, WAKE_EVERY)
    assert sender.entered.wait(5)
    finish(tracer, 1000)
    sender.gate.set()
    assert tracer.flush(5)
    tracer.close(5)
    finish(tracer, 7)
    metrics = tracer.metrics
    assert metrics["spans_dropped_queue_full"] > 0
    assert metrics["spans_dropped_closed"] == 7
    assert metrics["spans_dropped_close_timeout"] == 0
    assert identity(metrics) == metrics["spans_sampled"] == WAKE_EVERY + 1007


# -- close() from the worker's own thread ----------------------------------------------------


class ClosingSender(GateSender):
    """A sender whose first send() closes the reporter (as a sender that gives up on its
    transport might): close() runs on the reporter's own worker thread."""

    batch_bytes = 3  # one span a batch: close() is called with spans still to send

    def __init__(self) -> None:
        super().__init__(blocked=False)
        self.reporter: Optional[RemoteReporter] = None
        self.errors: list[BaseException] = []
        self.closes = 0

    def send(self, spans: Sequence[bytes]) -> None:
        reporter, self.reporter = self.reporter, None
        if reporter is not None:
            try:
                reporter.close(5)
            except BaseException as exc:  # what the test looks for
                self.errors.append(exc)
        super().send(spans)

    def close(self) -> None:
        self.closes += 1
        super().close()


def test_close_called_by_the_sender_on_the_worker_finishes_the_close() -> None:
    """The worker cannot join itself: close() raised RuntimeError into the sender (its
    batch counted as failed though sent), and the close never finished: the sender was
    never closed, close_done never set. Now the worker sends what is left and finishes
    the close itself; spans reported later are dropped as closed."""
    sender = ClosingSender()
    reporter = RemoteReporter(sender, flush_interval=30)
    tracer = Tracer("svc", reporter)
    sender.reporter = reporter
    finish(tracer, 5)  # op0..op4: 3 bytes each, one batch each
    assert tracer.flush(5) is True  # close() releases the flush
    worker = reporter._worker
    assert worker is not None
    worker.join(5)
    assert not worker.is_alive()
    assert sender.errors == []
    assert sender.closes == 1
    finish(tracer, 2)
    tracer.close(5)  # already closed: returns at once
    assert sender.closes == 1
    metrics = tracer.metrics
    assert (metrics["spans_sent"], metrics["spans_dropped_closed"]) == (5, 2)
    assert metrics["spans_dropped_send_failed"] == 0
    assert identity(metrics) == metrics["spans_sampled"] == 7


# -- close() from a signal handler -------------------------------------------------------------

_ROOT = str(Path(__file__).resolve().parent.parent)

_SIGTERM_DURING_CLOSE = """
import os, signal, socket, threading, time
from jaeger_lite import ConstSampler, HTTPSender, RemoteReporter, Tracer
collector = socket.create_server(("127.0.0.1", 0))  # connections complete, never answered
url = f"http://127.0.0.1:{collector.getsockname()[1]}/api/traces"
tracer = Tracer("svc", RemoteReporter(HTTPSender(url, timeout=1.5)), ConstSampler(True))
def on_term(signum, frame):
    start = time.monotonic()
    tracer.close()
    print("handler", round(time.monotonic() - start, 1), flush=True)
signal.signal(signal.SIGTERM, on_term)
for i in range(5):
    tracer.start_span("op").finish()
threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM)).start()
tracer.close(5)
m = tracer.metrics
print("main", m["spans_dropped_send_failed"], m["queue_length"], flush=True)
"""

_SIGTERM_DURING_A_TURN = """
import os, signal, sys
from jaeger_lite import ConstSampler, RemoteReporter, Tracer
from jaeger_lite.reporting._turns import Encoding
from jaeger_lite.senders.base import Sender
class Inline(Sender):
    batch_bytes = 1000
    inline_encode = True
    def encode(self, span):
        return b"x" * 10
    def send(self, spans):
        self._spans_sent += len(spans)
        os.write(1, b"sent %d\\n" % len(spans))
tracer = Tracer("svc", RemoteReporter(Inline(), flush_interval=30), ConstSampler(True))
def on_term(signum, frame):
    tracer.close()  # no timeout: waits for ever if it waits for the worker
    print("closed", tracer.metrics["spans_sampled"], flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, on_term)
code = Encoding._encode_turn.__code__
def local(frame, event, arg):  # the signal arrives while the turn holds the turn lock
    if event == "line" and frame.f_lineno > code.co_firstlineno + 8:
        sys.settrace(None)
        signal.raise_signal(signal.SIGTERM)
    return local
sys.settrace(lambda frame, event, arg: local if frame.f_code is code else None)
for i in range(300):
    tracer.start_span("op").finish()
print("not reached", flush=True)
"""


def _run_child(code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter (a hang is killed after 20 s and fails)."""
    env = {**os.environ, "PYTHONPATH": _ROOT}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=20
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split("\n")[:-1]


def test_a_sigterm_handler_closing_during_close_returns_at_once() -> None:
    """The main thread is in close(5) waiting on a collector that never answers; SIGTERM's
    handler calls tracer.close(). The handler ran on the main thread, which held the
    tracer's close lock: it waited for ever. Now it returns at once (the close under way
    goes on), and the spans count as failed, once."""
    lines = _run_child(_SIGTERM_DURING_CLOSE)
    assert lines == ["handler 0.0", "main 5 0"]


def test_a_sigterm_handler_closing_during_a_turn_does_not_wait_for_the_worker() -> None:
    """SIGTERM lands while the reporting thread encodes a turn (holding the turn lock the
    worker needs to drain); the handler calls tracer.close() with no timeout, then exits.
    close() waited for a worker that waited for the interrupted thread: for ever. Now it
    leaves the drain to the worker, and exit waits for that: the 128 spans of the turn
    (all the spans finished before the signal) are sent."""
    lines = _run_child(_SIGTERM_DURING_A_TURN)
    assert lines[0] == "closed 128"
    assert sum(int(line.split()[1]) for line in lines[1:]) == 128
    assert all(line.startswith("sent ") for line in lines[1:])


_CLOSE_WITHOUT_FILE_DESCRIPTORS = """
import asyncio, os, resource, socket
from jaeger_lite import ConstSampler, RemoteReporter, Tracer, UDPSender
agent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
agent.bind(("127.0.0.1", 0))
resource.setrlimit(resource.RLIMIT_NOFILE, (64, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
tracer = Tracer("svc", RemoteReporter(UDPSender("127.0.0.1", agent.getsockname()[1])),
                ConstSampler(True))
held = []
try:
    while True:  # every descriptor taken: no socket, no module file can be opened
        held.append(os.open(os.devnull, os.O_RDONLY))
except OSError:
    pass
for i in range(300):
    tracer.start_span("op").finish()
future = tracer.close(5)
for fd in held:
    os.close(fd)
asyncio.run(asyncio.sleep(0))
async def main():
    return await future
m = tracer.metrics
print(future.done(), future.result(), asyncio.run(main()), m["spans_sampled"],
      m["spans_sent"], m["spans_dropped_send_failed"], m["queue_length"])
"""


def test_close_without_file_descriptors_closes_and_returns_a_done_future() -> None:
    """The process is out of file descriptors (RLIMIT_NOFILE reached) when it closes the
    tracer. close() imports its Future's module lazily, and the import (a file to open)
    raised OSError EMFILE into the caller before anything was closed. Now the spans are
    counted as failed sends, the reporter is closed, and close() returns a done Future."""
    assert _run_child(_CLOSE_WITHOUT_FILE_DESCRIPTORS) == ["True None None 300 0 300 0"]


class SlowSender(GateSender):
    """Sends after a pause, on the worker only (no inline path to take a shortcut)."""

    def send(self, spans: Sequence[bytes]) -> None:
        time.sleep(0.1)
        super().send(spans)


class ClosingSubclass(RemoteReporter):
    """A user's reporter that adds to close() and calls the base class's."""

    def close(self, timeout: Optional[float] = None) -> None:
        super().close(timeout)


def test_close_and_the_exit_flush_still_wait_when_called_the_ordinary_way() -> None:
    """The check that keeps close() and flush() from waiting inside the reporter's own
    code (a signal handler, the worker) must not catch their ordinary callers: the exit
    hook's flush (it calls flush()) and a subclass's close() calling the base class's."""
    reporter = RemoteReporter(SlowSender(blocked=False), flush_interval=30)
    tracer = Tracer("svc", reporter)
    finish(tracer, 3)
    assert reporter._flush_at_exit(5) is True
    assert tracer.metrics["spans_sent"] == 3
    tracer.close(5)
    subclass = ClosingSubclass(SlowSender(blocked=False), flush_interval=30)
    tracer = Tracer("svc", subclass)
    finish(tracer, 3)
    tracer.close(5)
    metrics = tracer.metrics
    assert (metrics["spans_sent"], metrics["queue_length"]) == (3, 0)

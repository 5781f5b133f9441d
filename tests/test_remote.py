"""RemoteReporter: batching, flush/close, accounting, threads, fork and exit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from jaeger_lite import RemoteReporter, Tracer, UDPSender
from jaeger_lite.reporting.remote import DEFAULT_QUEUE_SIZE, EXIT_TIMEOUT, WAKE_EVERY
from jaeger_lite.span import Span
from tests._fork import child_verdict
from tests._strategy_server import StrategyServer
from tests._wire_helpers import (
    Collector,
    UDPAgent,
    accounted,
    free_udp_port,
    tag_dict,
    unsigned,
)


@pytest.fixture
def agent() -> Iterator[UDPAgent]:
    agent = UDPAgent()
    yield agent
    agent.close()


def udp_tracer(port: int, **options: Any) -> tuple[Tracer, RemoteReporter]:
    reporter = RemoteReporter(UDPSender("127.0.0.1", port), **options)
    return Tracer("svc", reporter), reporter


def make(tracer: Tracer, count: int, name: str = "op") -> None:
    """Finish ``count`` spans with 3 tags and 1 log each."""
    for i in range(count):
        with tracer.start_span(name) as span:
            span.set_tag("i", i)
            span.set_tag("component", "test")
            span.set_tag("ok", True)
            span.log_kv({"event": "e", "n": i})


class BlockingSender:
    """A sender whose send() waits until released (to fill the queue on purpose)."""

    batch_bytes = 65000

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.sent: list[bytes] = []

    def encode(self, span: Span) -> bytes:
        return span.operation_name.encode()

    def send(self, spans: Sequence[bytes]) -> None:
        self.entered.set()
        self.release.wait(10)
        self.sent.extend(spans)

    def close(self) -> None:
        self.release.set()


def test_flush_delivers_everything_reported_before(agent: UDPAgent) -> None:
    """flush() returns True once all earlier spans were sent; the agent has them all."""
    tracer, reporter = udp_tracer(agent.port)
    make(tracer, 10)
    assert tracer.flush(5)
    spans = agent.wait_for_spans(10)
    assert len(spans) == 10
    assert tag_dict(spans[3].tags)["i"] == 3
    tracer.close()


def test_worker_sends_after_flush_interval_without_flush(agent: UDPAgent) -> None:
    """A few spans (under WAKE_EVERY) go out by themselves after flush_interval."""
    tracer, _ = udp_tracer(agent.port, flush_interval=0.05)
    make(tracer, 3)
    assert len(agent.wait_for_spans(3, timeout=5)) == 3
    tracer.close()


def test_flush_times_out_when_the_sender_is_stuck() -> None:
    """flush(timeout) returns False if the sender has not finished in time."""
    sender = BlockingSender()
    reporter = RemoteReporter(sender)
    tracer = Tracer("svc", reporter)
    make(tracer, 1)
    assert not reporter.flush(0.05)
    sender.release.set()
    assert reporter.flush(5)
    reporter.close()


def test_close_drains_and_is_idempotent(agent: UDPAgent) -> None:
    """close() sends what is queued; a second close does nothing; later spans are dropped."""
    tracer, reporter = udp_tracer(agent.port)
    make(tracer, 5)
    reporter.close(5)
    reporter.close(5)
    make(tracer, 2)
    assert len(agent.wait_for_spans(5)) == 5
    metrics = tracer.metrics
    assert metrics["spans_sent"] == 5
    assert metrics["spans_dropped_closed"] == 2
    assert reporter.flush(1)


def test_full_queue_drops_and_accounts_for_every_span() -> None:
    """Overload: spans beyond queue_size are dropped, counted, and nothing is lost silently."""
    sender = BlockingSender()
    reporter = RemoteReporter(sender, queue_size=50, flush_interval=0.01)
    tracer = Tracer("svc", reporter)
    make(tracer, WAKE_EVERY)  # wakes the worker, which then blocks in send()
    assert sender.entered.wait(5)
    make(tracer, 500)
    metrics = reporter.metrics()
    assert metrics["spans_dropped_queue_full"] > 0
    assert metrics["queue_length"] <= 50
    sender.release.set()
    assert reporter.flush(5)
    metrics = tracer.metrics
    assert len(sender.sent) + metrics["spans_dropped_queue_full"] == metrics["spans_sampled"]
    reporter.close()


def test_agent_down_accounts_for_every_span() -> None:
    """With nobody listening, finished spans = sent + counted drops."""
    tracer, reporter = udp_tracer(free_udp_port(), queue_size=300)
    for _ in range(5):
        make(tracer, 200)
        assert tracer.flush(5)
    metrics = tracer.metrics
    assert metrics["spans_dropped_send_failed"] > 0
    assert accounted(metrics) == metrics["spans_sampled"] == 1000
    tracer.close()


def test_sender_exception_is_counted_not_raised() -> None:
    """A custom sender that raises loses its batch, counted; the worker keeps going."""

    class Broken(BlockingSender):
        def send(self, spans: Sequence[bytes]) -> None:
            raise RuntimeError("bug")

    reporter = RemoteReporter(Broken())
    tracer = Tracer("svc", reporter)
    make(tracer, 3)
    assert reporter.flush(5)
    make(tracer, 2)
    assert reporter.flush(5)
    assert reporter.metrics()["spans_dropped_send_failed"] == 5
    reporter.close()


def test_a_sender_raising_system_exit_leaves_the_worker_running() -> None:
    """sys.exit() inside a custom sender's send(), on the worker: its batch is counted as
    failed and the worker goes on. It used to end the worker thread, and the spans of that
    batch stayed held: every later flush() waited out its timeout (flush(None) for ever)."""

    class Exiting(BlockingSender):
        calls = 0

        def send(self, spans: Sequence[bytes]) -> None:
            Exiting.calls += 1
            if Exiting.calls == 1:
                raise SystemExit(3)
            self.sent.extend(spans)

    sender = Exiting()
    reporter = RemoteReporter(sender)
    tracer = Tracer("svc", reporter)
    make(tracer, 3)
    assert reporter.flush(5)
    make(tracer, 2)
    assert reporter.flush(5)
    assert reporter.metrics()["spans_dropped_send_failed"] == 3 and len(sender.sent) == 2
    reporter.close()


@pytest.mark.untraced
def test_eight_threads_all_delivered(agent: UDPAgent) -> None:
    """8 threads x 2,000 spans arrive in full with distinct span ids."""
    tracer, _ = udp_tracer(agent.port)
    threads = [threading.Thread(target=make, args=(tracer, 2000)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert tracer.flush(20)
    spans = agent.wait_for_spans(16_000, timeout=20)
    assert len(spans) == 16_000
    assert len({s.spanId for s in spans}) == 16_000
    assert tracer.metrics["spans_sent"] == 16_000
    tracer.close()


@pytest.mark.untraced
def test_burst_of_50000_spans_with_defaults(agent: UDPAgent) -> None:
    """50,000 spans created as fast as one thread can, default settings: all delivered."""
    tracer = Tracer("svc", RemoteReporter(UDPSender("127.0.0.1", agent.port)))
    make(tracer, 50_000)
    assert tracer.flush(30)
    assert len(agent.wait_for_spans(50_000, timeout=30)) == 50_000
    metrics = tracer.metrics
    assert metrics["spans_dropped_queue_full"] == 0
    assert max(len(d) for d in agent.datagrams) <= 65000
    assert DEFAULT_QUEUE_SIZE >= 50_000
    tracer.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
# Forking while the worker (and the test's receiver) run is the point of this test.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_forked_child_reports_its_own_spans(agent: UDPAgent) -> None:
    """Tracer made before fork: the child sends its spans (own ids, client-uuid, seqNo)."""
    tracer, reporter = udp_tracer(agent.port)
    make(tracer, 3, "parent-before")
    assert tracer.flush(5)
    make(tracer, 2, "parent-queued")  # still queued at fork: the child must not send them
    pid = os.fork()
    if pid == 0:  # child: report, flush, exit without running the parent's test teardown
        code = 1
        try:
            make(tracer, 4, "child")
            code = 0 if tracer.flush(5) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    make(tracer, 1, "parent-after")
    assert tracer.flush(5)
    spans = agent.wait_for_spans(10)
    names = sorted(s.operationName for s in spans)
    assert names == ["child"] * 4 + ["parent-after"] + ["parent-before"] * 3 + ["parent-queued"] * 2
    batches = agent.batches()
    by_uuid: dict[str, list[Any]] = {}
    for batch in batches:
        by_uuid.setdefault(tag_dict(batch.process.tags)["client-uuid"], []).append(batch)
    assert len(by_uuid) == 2  # parent and child are separate clients
    child = next(b for b in by_uuid.values() if b[0].spans[0].operationName == "child")
    assert child[0].seqNo == 1
    child_ids = {unsigned(s.spanId) for b in child for s in b.spans}
    parent_ids = {unsigned(s.spanId) for s in spans if s.operationName != "child"}
    assert len(child_ids) == 4 and not child_ids & parent_ids
    tracer.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_counts_from_zero_and_its_identity_holds(agent: UDPAgent) -> None:
    """The reporter of a forked child starts its counters afresh; the tracer's kept the
    parent's (spans_sampled 5 + 4 against 4 accounted for): a prefork worker looked as if
    it lost every span its parent had made. Now both count the child's spans only."""
    tracer, _ = udp_tracer(agent.port)
    make(tracer, 5, "parent")
    assert tracer.flush(5)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report, close, write its verdict, exit at once
        verdict = b"E"
        try:
            make(tracer, 4, "child")
            tracer.close(5)
            m = tracer.metrics
            counts = (m["spans_started"], m["spans_finished"], m["spans_sampled"], accounted(m))
            verdict = b"Y" if counts == (4, 4, 4, 4) and m["spans_sent"] == 4 else b"N"
        finally:
            os.write(write_end, verdict)
            os._exit(0)
    os.close(write_end)
    assert child_verdict(pid, read_end, 20) == b"Y"
    metrics = tracer.metrics
    assert (metrics["spans_sampled"], accounted(metrics), metrics["spans_sent"]) == (5, 5, 5)
    tracer.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_fork_in_the_middle_of_an_encode(agent: UDPAgent) -> None:
    """A fork that lands while the parent's worker is half-way through encoding a span
    leaves the child no stale encoder state: its spans of that very trace are exact."""
    tracer, reporter = udp_tracer(agent.port)
    parent = tracer.start_span("parent")
    # An encoder caught between caching a trace id and the bytes it stands for.
    encoder = reporter._sender._encoder  # type: ignore[attr-defined]
    encoder._trace_id, encoder._trace_fields = parent._trace_id, b"\x16\x02\x16\x00"
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            tracer.start_span("child", child_of=parent).finish()
            code = 0 if tracer.flush(5) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    (child,) = agent.wait_for_spans(1)
    assert unsigned(child.traceIdLow) == parent.context.trace_id
    tracer.close()


def run_script(
    body: str, port: int, timeout: float = 20.0
) -> tuple[subprocess.CompletedProcess[str], float]:
    script = textwrap.dedent(
        f"""
        import jaeger_lite
        reporter = jaeger_lite.RemoteReporter(jaeger_lite.UDPSender("127.0.0.1", {port}))
        tracer = jaeger_lite.Tracer("exit-test", reporter)
        """
    ) + textwrap.dedent(body)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout
    )
    return result, time.monotonic() - started


def test_spans_are_drained_at_interpreter_exit(agent: UDPAgent) -> None:
    """Spans still queued when the program ends are sent by the atexit drain."""
    result, _ = run_script(
        """
        for i in range(7):
            tracer.start_span("at-exit").finish()
        """,
        agent.port,
    )
    assert result.returncode == 0, result.stderr
    assert [s.operationName for s in agent.wait_for_spans(7)] == ["at-exit"] * 7


MULTIPROCESSING_WORK = """
import multiprocessing, os

tracer.start_span("parent").finish()
assert tracer.flush(5)  # the parent's worker thread runs when it forks


def work(count):
    for _ in range(count):
        tracer.start_span("child").finish()  # queued, never flushed by the task
    return os.getpid()


ctx = multiprocessing.get_context("fork")
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_multiprocessing_fork_process_delivers_its_spans(agent: UDPAgent) -> None:
    """A multiprocessing (fork) child ends with os._exit, skipping atexit: its spans
    still arrive."""
    result, _ = run_script(
        MULTIPROCESSING_WORK
        + """
process = ctx.Process(target=work, args=(5,))
process.start()
process.join(10)
assert process.exitcode == 0
""",
        agent.port,
    )
    assert result.returncode == 0, result.stderr
    names = sorted(s.operationName for s in agent.wait_for_spans(6))
    assert names == ["child"] * 5 + ["parent"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_multiprocessing_fork_pool_delivers_its_spans(agent: UDPAgent) -> None:
    """Pool workers (fork) that are closed and joined deliver every span of their tasks."""
    result, _ = run_script(
        MULTIPROCESSING_WORK
        + """
pool = ctx.Pool(2)
pids = pool.map(work, [3] * 4)
pool.close()
pool.join()
print(len(set(pids)))
""",
        agent.port,
    )
    assert result.returncode == 0, result.stderr
    names = sorted(s.operationName for s in agent.wait_for_spans(13))
    assert names == ["child"] * 12 + ["parent"]
    uuids = {tag_dict(b.process.tags)["client-uuid"] for b in agent.batches()}
    assert len(uuids) == 1 + int(result.stdout)  # the parent and each worker that served


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_while_the_reporter_is_busy_and_its_lock_held(agent: UDPAgent) -> None:
    """Forks while a thread reports spans nonstop and another holds the reporter's lock:
    no child hangs, every child delivers its own spans, the parent loses none."""
    result, _ = run_script(
        """
        import os, signal, threading, warnings
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads
        stop = threading.Event()
        finished = [0]

        def busy():
            while not stop.is_set():
                tracer.start_span("parent").finish()
                finished[0] += 1
                if finished[0] % 2000 == 0:  # about forks, not overload: keep the queue short
                    tracer.flush(10)

        def hold_lock():
            while not stop.is_set():
                with reporter._lock:
                    pass

        threads = [threading.Thread(target=busy), threading.Thread(target=hold_lock)]
        for thread in threads:
            thread.start()
        held, release = threading.Event(), threading.Event()

        def hold_during_fork():
            with reporter._lock:
                held.set()
                release.wait(10)

        statuses = []
        for i in range(12):
            holder = None
            if i % 2:  # every other fork happens while the lock is certainly held
                holder = threading.Thread(target=hold_during_fork)
                held.clear(); release.clear()
                holder.start()
                held.wait(10)
            pid = os.fork()
            if pid == 0:
                signal.alarm(10)  # a hung child dies instead of hanging the test
                for _ in range(5):
                    tracer.start_span("child").finish()
                os._exit(0 if tracer.flush(5) else 3)
            if holder is not None:
                release.set()
                holder.join()
            statuses.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
        stop.set()
        for thread in threads:
            thread.join()
        tracer.close(10)
        assert tracer.metrics["spans_dropped_queue_full"] == 0, tracer.metrics
        print(finished[0], statuses)
        """,
        agent.port,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    parent_count, statuses = result.stdout.split(" ", 1)
    assert statuses.strip() == str([0] * 12)
    spans = agent.wait_for_spans(int(parent_count) + 60)
    names = [s.operationName for s in spans]
    assert names.count("child") == 60
    assert names.count("parent") == int(parent_count)
    uuids = {tag_dict(b.process.tags)["client-uuid"] for b in agent.batches()}
    assert len(uuids) == 13


def test_background_threads_import_nothing(agent: UDPAgent) -> None:
    """The first sends (UDP to a name, HTTP) and the first sampling poll import no module
    on a background thread: a fork during such an import would leave the child's thread
    stuck on the import lock forever."""
    collector = Collector()
    strategies = StrategyServer()
    strategies.answer({"strategyType": 0, "probabilisticSampling": {"samplingRate": 0.5}})
    try:
        result, _ = run_script(
            f"""
            import sys
            jaeger_lite.HTTPSender, jaeger_lite.RemoteSampler  # lazy names: loaded here
            before = set(sys.modules)
            http = jaeger_lite.RemoteReporter(jaeger_lite.HTTPSender({collector.url!r}))
            udp = jaeger_lite.RemoteReporter(jaeger_lite.UDPSender("localhost", {agent.port}))
            for reporter in (http, udp):
                jaeger_lite.Tracer("imports", reporter).start_span("op").finish()
                assert reporter.flush(5)
            sampler = jaeger_lite.RemoteSampler("svc", sampling_endpoint={strategies.url!r})
            sampler.is_sampled(1, "op")  # the first decision starts the poller
            assert sampler._wait_for_polls(1, 5)
            print(sorted(set(sys.modules) - before))
            """,
            agent.port,
        )
    finally:
        collector.stop()
        strategies.close()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_spans_of_threads_that_outlive_main_are_drained_at_exit(agent: UDPAgent) -> None:
    """A non-daemon thread still finishing spans after the main thread is done: the exit
    budget is not spent while the interpreter waits for it, so its spans go too."""
    result, _ = run_script(
        """
        import threading
        import jaeger_lite._lifecycle
        jaeger_lite._lifecycle.EXIT_TIMEOUT = 0.2
        tracer.start_span("main").finish()
        assert tracer.flush(5)  # the reporter's worker thread is running

        def late():
            threading.Event().wait(0.5)  # outlives the exit budget
            for _ in range(3):
                tracer.start_span("late").finish()

        threading.Thread(target=late).start()  # the interpreter waits for it at exit
        """,
        agent.port,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(s.operationName for s in agent.wait_for_spans(4)) == ["late"] * 3 + ["main"]


def test_exit_is_bounded_when_the_agent_is_unreachable() -> None:
    """With nobody listening the atexit drain still ends promptly."""
    result, elapsed = run_script(
        """
        for i in range(20000):
            tracer.start_span("lost").finish()
        """,
        free_udp_port(),
    )
    assert result.returncode == 0, result.stderr
    assert elapsed < 15


def test_exit_is_bounded_when_the_collector_hangs() -> None:
    """A collector that never answers cannot hold interpreter exit past EXIT_TIMEOUT."""
    with socket.socket() as listener:  # accepts connections (backlog), never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/api/traces"
        result, elapsed = run_script(
            f"""
            reporter = jaeger_lite.RemoteReporter(jaeger_lite.HTTPSender({url!r}, timeout=30))
            tracer = jaeger_lite.Tracer("exit-test", reporter)
            tracer.start_span("stuck").finish()
            reporter.flush(0.01)
            """,
            free_udp_port(),
        )
    assert result.returncode == 0, result.stderr
    assert EXIT_TIMEOUT <= elapsed < EXIT_TIMEOUT + 8


def test_tracer_metrics_include_reporter_counters(agent: UDPAgent) -> None:
    """tracer.metrics merges the reporter's and the sender's counters."""
    tracer, _ = udp_tracer(agent.port)
    make(tracer, 4)
    assert tracer.flush(5)
    metrics = tracer.metrics
    assert metrics["spans_queued"] == metrics["spans_sent"] == 4
    assert metrics["batches_sent"] >= 1
    assert metrics["bytes_sent"] > 0
    assert metrics["queue_length"] == 0
    tracer.close()


def test_process_bigger_than_a_datagram_drops_spans_as_too_large(agent: UDPAgent) -> None:
    """Tracer tags too big for one datagram: every span is counted as too large, nothing is
    sent, nothing raised, and the counters still add up."""
    reporter = RemoteReporter(UDPSender("127.0.0.1", agent.port, max_packet_size=1024))
    tracer = Tracer("svc", reporter, tags={f"t{i}": "x" * 1000 for i in range(3)})
    make(tracer, 5)
    assert tracer.flush(5)
    metrics = tracer.metrics
    assert metrics["spans_dropped_too_large"] == 5
    assert metrics["queue_length"] == 0
    assert accounted(metrics) == metrics["spans_sampled"] == 5
    tracer.close()


class Recorder(BlockingSender):
    """Records the batches it is sent; a span encodes as its operation name."""

    batch_bytes = 1000

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[bytes]] = []

    def encode(self, span: Span) -> bytes:
        return span.operation_name.encode()

    def send(self, spans: Sequence[bytes]) -> None:
        self.batches.append(list(spans))


def test_span_over_batch_bytes_left_open_then_more_spans() -> None:
    """A span bigger than batch_bytes that ends one wake-up's drain (so it waits in the open
    batch) and more spans in the next: each is handed over once, in order, and the
    counters come back to zero."""
    sender = Recorder()
    reporter = RemoteReporter(sender)
    tracer = Tracer("svc", reporter)
    first = ["a0", "a1", "huge" + "y" * 1500]
    second = ["b0", "b1", "b2"]
    for name in first:
        tracer.start_span(name).finish()
    reporter._drain(force=False)  # what a wake-up does when no flush is waiting
    for name in second:
        tracer.start_span(name).finish()
    reporter._drain(force=False)
    assert reporter.flush(5)
    assert [s.decode() for batch in sender.batches for s in batch] == first + second
    metrics = reporter.metrics()
    assert metrics["queue_length"] == 0
    assert metrics["spans_dropped_encode_error"] == 0
    reporter.close()


def test_bad_arguments_raise() -> None:
    """A queue_size under 1 or a non-positive flush_interval is API misuse."""
    with pytest.raises(ValueError):
        RemoteReporter(BlockingSender(), queue_size=0)
    with pytest.raises(ValueError):
        RemoteReporter(BlockingSender(), flush_interval=0)


def test_batches_respect_batch_bytes_and_keep_order() -> None:
    """Spans of mixed sizes are cut into batches of at most batch_bytes, in order."""

    sender = Recorder()
    reporter = RemoteReporter(sender)
    tracer = Tracer("svc", reporter)
    names = [f"{i:04d}" + "x" * (i * 37 % 700) for i in range(400)] + ["huge" + "y" * 1500]
    for name in names:
        tracer.start_span(name).finish()
    assert reporter.flush(5)
    assert [s.decode() for batch in sender.batches for s in batch] == names
    for batch in sender.batches:
        assert len(batch) == 1 or sum(map(len, batch)) <= 1000
    assert len(sender.batches) <= 2 * sum(map(len, names)) // 1000 + 2  # filled, not 1 each
    reporter.close()

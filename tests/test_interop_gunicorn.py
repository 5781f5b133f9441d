"""jaeger_lite under a real prefork server: gunicorn ``--preload`` with sync workers.

The tracer is made in the master before it forks (the classic jaeger-client trap), and the
master has already sent spans and holds a queued one at fork time; workers retire after
20 requests (``--max-requests``) and are replaced by new forks. One gunicorn run serves
the whole module: real HTTP requests on 127.0.0.1, then SIGTERM; each test checks one
property of what reached the UDP receiver.
"""

from __future__ import annotations

import collections
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests._wire_helpers import UDPAgent, decode_emit_batch, tag_dict, unsigned

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="gunicorn needs os.fork")

WORKERS = 3
REQUESTS = 90
WAIT = 20.0

APP = """
import os
import socket
import jaeger_lite

tracer = jaeger_lite.init_tracer(
    "prefork",
    agent_host="127.0.0.1",
    agent_port=int(os.environ["AGENT_PORT"]),
    sampler_type="const",
    sampler_param=1,
    set_global=False,
)
tracer.start_span("master-boot", tags={"pid": os.getpid()}).finish()
assert tracer.flush(5)  # the master's reporter thread now runs, and will at fork time
tracer.start_span("master-queued", tags={"pid": os.getpid()}).finish()  # queued at fork


def app(environ, start_response):
    if environ["PATH_INFO"] == "/hold":  # block this worker until the test lets go
        address = ("127.0.0.1", int(os.environ["BARRIER_PORT"]))
        with socket.create_connection(address, timeout=20) as barrier:
            barrier.recv(1)
    with tracer.start_active_span("request", tags={"pid": os.getpid()}) as scope:
        context = scope.span.context
        with tracer.start_active_span("inner"):
            pass
        body = f"{os.getpid()} {context.trace_id} {context.span_id}".encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]
"""

CONF = """
import os


def _record(event, pid):
    # One short O_APPEND write a line: lines from several processes never interleave.
    with open(os.environ["WORKER_LOG"], "a") as log:
        log.write(f"{event} {pid}\\n")


def post_fork(server, worker):
    _record("fork", os.getpid())


def post_worker_init(worker):  # gunicorn calls it after the worker's signal handlers
    _record("ready", os.getpid())


def worker_exit(server, worker):
    _record("exit", os.getpid())


def on_exit(server):
    import os
    from app import tracer

    # The master still reports after its workers came and went.
    tracer.start_span("master-exit", tags={"pid": os.getpid()}).finish()
    tracer.close(5)
"""


@dataclass
class Run:
    """What one gunicorn run produced."""

    responses: list[tuple[int, int, int]]  # (worker pid, trace id, span id)
    master_pid: int
    returncode: int
    stderr: str
    stop_seconds: float
    batches: list[Any]  # decoded Batch objects, in arrival order


def _get(url: str) -> tuple[int, int, int]:
    with urllib.request.urlopen(url, timeout=WAIT) as response:
        pid, trace_id, span_id = response.read().split()
        return int(pid), int(trace_id), int(span_id)


def _wait_until_no_worker_boots(worker_log: Path) -> None:
    """Wait until WORKERS workers run and none is booting: gunicorn loses a SIGTERM that
    reaches a fresh worker before its signal handlers are set (they are still the
    master's), and that worker then runs until the graceful timeout's SIGKILL."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        events: dict[str, set[str]] = collections.defaultdict(set)
        for line in worker_log.read_text().splitlines():
            event, pid = line.split()
            events[event].add(pid)
        if events["fork"] == events["ready"] and len(events["ready"] - events["exit"]) == WORKERS:
            return
        time.sleep(0.01)
    raise AssertionError(f"workers never settled: {worker_log.read_text()}")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    pytest.importorskip("gunicorn")
    app_dir: Path = tmp_path_factory.mktemp("gunicorn_app")
    (app_dir / "app.py").write_text(textwrap.dedent(APP))
    (app_dir / "gunicorn_conf.py").write_text(textwrap.dedent(CONF))
    worker_log = app_dir / "workers.log"
    agent = UDPAgent()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)  # requests queue here until the workers have booted
    port = listener.getsockname()[1]
    barrier = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    barrier.bind(("127.0.0.1", 0))
    barrier.listen(WORKERS)
    barrier.settimeout(WAIT)
    env = dict(
        os.environ,
        AGENT_PORT=str(agent.port),
        BARRIER_PORT=str(barrier.getsockname()[1]),
        WORKER_LOG=str(worker_log),
        PYTHONPATH=os.pathsep.join([str(app_dir), str(Path(__file__).resolve().parent.parent)]),
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--preload",
            f"--workers={WORKERS}",
            "--worker-class=sync",
            f"--bind=fd://{listener.fileno()}",
            "--graceful-timeout=10",
            # Workers retire after 20 requests and the master forks new ones mid-run: a
            # retiring worker must deliver its spans on the way out.
            "--max-requests=20",
            "--config=python:gunicorn_conf",
            "app:app",
        ],
        cwd=app_dir,
        env=env,
        pass_fds=(listener.fileno(),),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        with ThreadPoolExecutor(WORKERS * 2) as pool:
            # WORKERS requests that each hold a sync worker until all are held: every
            # worker serves one, whatever the order in which they boot and accept.
            held = [pool.submit(_get, url + "hold") for _ in range(WORKERS)]
            waiting = [barrier.accept()[0] for _ in range(WORKERS)]
            for conn in waiting:
                conn.sendall(b"x")
                conn.close()
            responses = [future.result() for future in held]
            responses += pool.map(_get, [url] * (REQUESTS - WORKERS))
        _wait_until_no_worker_boots(worker_log)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=WAIT)
        stop_seconds = time.monotonic() - started
        expected = 2 * REQUESTS + 3  # request + inner per request, three master spans
        agent.wait_for_spans(expected, WAIT)
        yield Run(
            responses,
            proc.pid,
            proc.returncode,
            stderr,
            stop_seconds,
            [decode_emit_batch(d) for d in agent.datagrams],
        )
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        listener.close()
        barrier.close()
        agent.close()


def _spans(run: Run) -> list[tuple[str, Any]]:
    """(client-uuid, span) for every span received."""
    return [
        (tag_dict(batch.process.tags)["client-uuid"], span)
        for batch in run.batches
        for span in batch.spans
    ]


def test_gunicorn_stops_cleanly(run: Run) -> None:
    """SIGTERM: workers and master exit promptly, with status 0 and no traceback."""
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    assert run.stop_seconds < 10.0, run.stderr


def test_every_worker_served_and_reported(run: Run) -> None:
    """Each worker answered requests, and every request span arrived exactly once."""
    pids = {pid for pid, _, _ in run.responses}
    assert len(pids) > WORKERS and run.master_pid not in pids  # some were replaced
    sent = collections.Counter(
        unsigned(s.spanId) for _, s in _spans(run) if s.operationName == "request"
    )
    assert sorted(sent) == sorted(span_id for _, _, span_id in run.responses)
    assert set(sent.values()) == {1}  # nothing duplicated
    inner = [s for _, s in _spans(run) if s.operationName == "inner"]
    assert len(inner) == REQUESTS


def test_each_worker_has_its_own_client_uuid(run: Run) -> None:
    """client-uuid differs per process: one uuid per worker pid, none the master's."""
    pid_by_uuid: dict[str, set[int]] = collections.defaultdict(set)
    for uuid, span in _spans(run):
        if span.operationName != "inner":  # every other span is tagged with its pid
            pid_by_uuid[uuid].add(tag_dict(span.tags)["pid"])
    assert all(len(pids) == 1 for pids in pid_by_uuid.values())
    pids = [next(iter(p)) for p in pid_by_uuid.values()]
    assert sorted(pids) == sorted({pid for pid, _, _ in run.responses} | {run.master_pid})


def test_seq_no_counts_from_one_per_process(run: Run) -> None:
    """seqNo is 1, 2, ... for each client-uuid (master and every worker)."""
    seq: dict[str, list[int]] = collections.defaultdict(list)
    for batch in run.batches:
        seq[tag_dict(batch.process.tags)["client-uuid"]].append(batch.seqNo)
    assert len(seq) == len({pid for pid, _, _ in run.responses}) + 1
    for uuid, numbers in seq.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), (uuid, numbers)


def test_ids_are_distinct_across_workers(run: Run) -> None:
    """Workers reseed their id generator: no span id or trace id repeats."""
    span_ids = [unsigned(s.spanId) for _, s in _spans(run)]
    assert len(span_ids) == len(set(span_ids))
    trace_ids = [trace_id for _, trace_id, _ in run.responses]
    assert len(trace_ids) == len(set(trace_ids))


def test_master_reports_before_and_after_forking(run: Run) -> None:
    """The master's spans (sent, queued at fork, at exit) arrive once each, as the master."""
    master = [(uuid, s) for uuid, s in _spans(run) if s.operationName.startswith("master-")]
    assert sorted(s.operationName for _, s in master) == [
        "master-boot",
        "master-exit",
        "master-queued",
    ]
    assert {tag_dict(s.tags)["pid"] for _, s in master} == {run.master_pid}
    assert len({uuid for uuid, _ in master}) == 1


def test_nothing_was_dropped(run: Run) -> None:
    """Every batch's ClientStats says no span was dropped or failed."""
    for batch in run.batches:
        stats = batch.stats
        assert (
            stats.fullQueueDroppedSpans,
            stats.tooLargeDroppedSpans,
            stats.failedToEmitSpans,
        ) == (0, 0, 0)

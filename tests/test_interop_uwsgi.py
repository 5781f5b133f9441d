"""jaeger_lite under a real uWSGI: a master and three workers, preforked (uWSGI's default:
the app is loaded once in the master, which then forks its workers).

uWSGI forks in C and runs Python's at-fork hooks only with ``--py-call-osafterfork``, so
jaeger_lite's fork hooks (new reporter state, reseeded ids) also run as
``uwsgi.post_fork_hook``. The master has sent a span and holds a queued one at fork time.
The reporter's flush interval is a minute: what the workers finish arrives on their way out
at SIGINT. Skips when there is no ``uwsgi`` binary (it is not in requirements/test.txt).
"""

from __future__ import annotations

import collections
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests._wire_helpers import UDPAgent, decode_emit_batch, tag_dict, unsigned

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="uWSGI needs fork")

WORKERS = 3
REQUESTS = 60
WAIT = 30.0

APP = """
import os
import jaeger_lite

tracer = jaeger_lite.init_tracer(
    "uwsgi-prefork",
    agent_host="127.0.0.1",
    agent_port=int(os.environ["AGENT_PORT"]),
    sampler_type="const",
    sampler_param=1,
    reporter_flush_interval=60.0,
    set_global=False,
)
tracer.start_span("master-boot", tags={"pid": os.getpid()}).finish()
assert tracer.flush(5)  # the master's reporter thread now runs, and will at fork time
tracer.start_span("master-queued", tags={"pid": os.getpid()}).finish()  # queued at fork


def app(environ, start_response):
    with tracer.start_active_span("request", tags={"pid": os.getpid()}) as scope:
        context = scope.span.context
        with tracer.start_active_span("inner", tags={"pid": os.getpid()}):
            pass
        body = f"{os.getpid()} {context.trace_id} {context.span_id}".encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]
"""


@dataclass
class Run:
    responses: list[tuple[int, int, int]]  # (worker pid, trace id, span id)
    master_pid: int
    returncode: int
    log: str
    batches: list[Any]


def _uwsgi() -> str:
    beside = Path(sys.executable).with_name("uwsgi")  # a venv's own uwsgi
    found = str(beside) if beside.exists() else shutil.which("uwsgi")
    if found is None:
        pytest.skip("uwsgi is not installed")
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> tuple[int, int, int]:
    deadline = time.monotonic() + WAIT
    while True:
        try:
            with urllib.request.urlopen(url, timeout=WAIT) as response:
                pid, trace_id, span_id = response.read().split()
                return int(pid), int(trace_id), int(span_id)
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:  # uWSGI still starting, or gone
                raise
            time.sleep(0.05)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    uwsgi = _uwsgi()
    app_dir: Path = tmp_path_factory.mktemp("uwsgi_app")
    (app_dir / "app.py").write_text(textwrap.dedent(APP))
    log_path = app_dir / "uwsgi.log"
    agent = UDPAgent()
    port = _free_port()
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ, AGENT_PORT=str(agent.port), PYTHONPATH=root)
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [
                uwsgi,
                f"--http-socket=127.0.0.1:{port}",
                "--master",
                f"--processes={WORKERS}",
                f"--home={sys.prefix}",
                f"--chdir={app_dir}",
                "--wsgi-file=app.py",
                "--callable=app",
                "--need-app",
                "--disable-logging",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}/"
        with ThreadPoolExecutor(2 * WORKERS) as pool:
            responses = list(pool.map(_get, [url] * REQUESTS))
        # A worker still busy with a request when SIGINT comes skips Python's atexit (uWSGI's
        # choice: its spans are lost); the last client has its answer, let the worker end it.
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)  # uWSGI's shutdown (SIGTERM reloads it)
        try:
            proc.wait(WAIT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"uWSGI did not stop:\n{log_path.read_text(errors='replace')}")
        agent.wait_for_spans(2 * REQUESTS + 2, 10.0)
        yield Run(
            responses,
            proc.pid,
            proc.returncode,
            log_path.read_text(errors="replace"),
            [decode_emit_batch(d) for d in agent.datagrams],
        )
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        agent.close()


def _spans(run: Run) -> list[tuple[str, Any]]:
    return [
        (tag_dict(batch.process.tags)["client-uuid"], span)
        for batch in run.batches
        for span in batch.spans
    ]


def test_uwsgi_stops_cleanly(run: Run) -> None:
    assert run.returncode == 0, run.log
    assert "Traceback" not in run.log, run.log


def test_every_request_span_arrives_once(run: Run) -> None:
    """The workers report although the master's reporter ran when it forked them."""
    pids = {pid for pid, _, _ in run.responses}
    assert len(pids) > 1 and run.master_pid not in pids
    sent = collections.Counter(
        unsigned(s.spanId) for _, s in _spans(run) if s.operationName == "request"
    )
    assert sorted(sent) == sorted(span_id for _, _, span_id in run.responses), run.log
    assert set(sent.values()) == {1}
    assert len([s for _, s in _spans(run) if s.operationName == "inner"]) == REQUESTS


def test_ids_are_distinct_across_workers(run: Run) -> None:
    """Each worker reseeds its ids: no span id or trace id repeats."""
    span_ids = [unsigned(s.spanId) for _, s in _spans(run)]
    assert len(span_ids) == len(set(span_ids))
    trace_ids = [trace_id for _, trace_id, _ in run.responses]
    assert len(trace_ids) == len(set(trace_ids))


def test_each_worker_has_its_own_client_uuid(run: Run) -> None:
    pids_by_uuid: dict[str, set[int]] = collections.defaultdict(set)
    for uuid, span in _spans(run):
        pids_by_uuid[uuid].add(tag_dict(span.tags)["pid"])
    assert all(len(pids) == 1 for pids in pids_by_uuid.values())
    worker_pids = {pid for pid, _, _ in run.responses}
    assert worker_pids <= {next(iter(p)) for p in pids_by_uuid.values()}


def test_master_spans_are_the_masters(run: Run) -> None:
    """The span queued at fork time is not sent by the workers (nor twice)."""
    master = [s for _, s in _spans(run) if s.operationName.startswith("master-")]
    names = collections.Counter(s.operationName for s in master)
    assert names["master-boot"] == 1 and names["master-queued"] <= 1
    assert {tag_dict(s.tags)["pid"] for s in master} == {run.master_pid}


C_FORK = """
import ctypes, json, os, sys, types

previous = []
uwsgi = types.ModuleType("uwsgi")  # what uWSGI's embedded module offers the app
uwsgi.post_fork_hook = lambda: previous.append(os.getpid())
sys.modules["uwsgi"] = uwsgi

import jaeger_lite
from jaeger_lite import _ids

tracer = jaeger_lite.init_tracer(
    "c-fork", agent_host="127.0.0.1", agent_port=int(sys.argv[1]),
    sampler_type="const", sampler_param=1, set_global=False,
)
tracer.start_span("parent", tags={"pid": os.getpid()}).finish()
assert tracer.flush(5)  # the reporter's thread runs at fork time
read_end, write_end = os.pipe()
# fork() in C, holding the GIL, as uWSGI forks its workers: no Python at-fork hook runs
pid = ctypes.PyDLL(None).fork()
if pid == 0:
    uwsgi.post_fork_hook()  # what uWSGI calls in each new worker
    span = tracer.start_span("child", tags={"pid": os.getpid()})
    span.finish()
    flushed = tracer.flush(5)
    ids = [_ids.new_id() for _ in range(4)]
    os.write(write_end, json.dumps(
        {"ids": ids, "span": span.span_id, "flushed": flushed, "previous": previous}
    ).encode())
    os._exit(0)
os.close(write_end)
os.waitpid(pid, 0)
child = json.loads(os.read(read_end, 65536))
print(json.dumps({"child": child, "child_pid": pid, "ids": [_ids.new_id() for _ in range(4)]}))
"""


def test_a_fork_in_c_runs_the_hooks_through_uwsgi_post_fork_hook(tmp_path: Path) -> None:
    """No uWSGI needed: fork() called from C (no Python at-fork hook runs, as in uWSGI's
    workers), then ``uwsgi.post_fork_hook()`` as uWSGI calls it. The child draws ids of
    its own, reports through a reporter of its own, and the hook set before still runs."""
    script = tmp_path / "c_fork.py"
    script.write_text(textwrap.dedent(C_FORK))
    agent = UDPAgent()
    try:
        root = str(Path(__file__).resolve().parent.parent)
        proc = subprocess.run(
            [sys.executable, str(script), str(agent.port)],
            env=dict(os.environ, PYTHONPATH=root),
            capture_output=True,
            text=True,
            timeout=WAIT,
        )
        assert proc.returncode == 0, proc.stderr
        seen = json.loads(proc.stdout)
        spans = agent.wait_for_spans(2, 10.0)
        batches = [decode_emit_batch(d) for d in agent.datagrams]
    finally:
        agent.close()
    child = seen["child"]
    assert child["flushed"] is True
    assert child["previous"] == [seen["child_pid"]]  # chained, once
    assert not set(child["ids"]) & set(seen["ids"])  # reseeded: not the parent's sequence
    assert sorted(s.operationName for s in spans) == ["child", "parent"]
    assert [unsigned(s.spanId) for s in spans if s.operationName == "child"] == [child["span"]]
    uuids = {tag_dict(b.process.tags)["client-uuid"] for b in batches}
    assert len(uuids) == 2  # the child is a client of its own


def _tgkill(pid: int, tid: int, signum: int) -> None:
    """Send ``signum`` to one thread of another process, as the kernel may deliver it."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(234, pid, tid, signum) != 0:  # SYS_tgkill on x86-64
        raise OSError(ctypes.get_errno(), "tgkill")


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.uname().machine != "x86_64", reason="tgkill"
)
def test_a_stop_signal_landing_on_the_reporter_thread(tmp_path: Path) -> None:
    """uWSGI's SIGINT handler is C: it runs on whichever thread the kernel picks. On the
    reporter's thread it exited the worker from there, and the spans it held were lost.
    jaeger_lite's threads block the stop signals, so the kernel picks another thread."""
    uwsgi = _uwsgi()
    (tmp_path / "app.py").write_text(textwrap.dedent(APP))
    agent = UDPAgent()
    port = _free_port()
    root = str(Path(__file__).resolve().parent.parent)
    log_path = tmp_path / "uwsgi.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [
                uwsgi,
                f"--http-socket=127.0.0.1:{port}",
                "--master",
                "--processes=1",
                f"--home={sys.prefix}",
                f"--chdir={tmp_path}",
                "--wsgi-file=app.py",
                "--callable=app",
                "--need-app",
                "--disable-logging",
            ],
            env=dict(os.environ, AGENT_PORT=str(agent.port), PYTHONPATH=root),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}/"
        pid = _get(url)[0]  # the worker's first span starts its reporter thread
        threads = [int(t) for t in os.listdir(f"/proc/{pid}/task") if int(t) != pid]
        assert threads, "the worker has no reporter thread"
        for tid in threads:
            _tgkill(pid, tid, signal.SIGINT)
        time.sleep(0.5)
        second = _get(url)  # the worker is still there
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        proc.wait(WAIT)
        spans = agent.wait_for_spans(5, 10.0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        agent.close()
    log_text = log_path.read_text(errors="replace")
    assert second[0] == pid and "died" not in log_text, log_text
    names = collections.Counter(s.operationName for s in spans)
    assert names["request"] == 2 and names["inner"] == 2, (names, log_text)


def test_own_threads_block_stop_signals() -> None:
    """The reporter's thread blocks SIGINT and SIGTERM (read from /proc); the thread that
    made the tracer does not."""
    if not sys.platform.startswith("linux"):
        pytest.skip("Linux: /proc and the native thread id")
    import jaeger_lite

    agent = UDPAgent()
    tracer = jaeger_lite.Tracer(
        "signals",
        reporter=jaeger_lite.RemoteReporter(jaeger_lite.UDPSender("127.0.0.1", agent.port)),
    )
    try:
        tracer.start_span("first").finish()  # starts the reporter's thread
        worker = tracer._reporter._worker  # type: ignore[attr-defined]
        assert worker is not None and worker.native_id is not None
        deadline = time.monotonic() + WAIT
        blocked = 0
        while time.monotonic() < deadline:  # the thread blocks them first thing it runs
            status = Path(f"/proc/self/task/{worker.native_id}/status").read_text()
            blocked = int(status.split("SigBlk:")[1].split()[0], 16)
            if blocked:
                break
            time.sleep(0.01)
        for signum in (signal.SIGINT, signal.SIGTERM):
            assert blocked & (1 << (signum - 1)), hex(blocked)
            assert signum not in signal.pthread_sigmask(signal.SIG_BLOCK, [])
    finally:
        tracer.close(5)
        agent.close()

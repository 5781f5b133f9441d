"""jaeger_lite under gevent and eventlet, as gunicorn's ``-k gevent`` / ``-k eventlet``
workers run it with ``--preload``: the tracer is made in the master, which forks, and the
child patches ``threading``, ``socket`` and ``time`` only then. So the reporter's and the
remote sampler's locks (made by the fork hooks, before the patch) are the OS's, and the
worker thread and the poller are greenlets. Hundreds of greenlets then report at once.

Each case runs in a subprocess (the test process itself must stay unpatched): the child
writes one JSON line of what it saw, and the spans go to a real UDP receiver here. Skips
when gevent or eventlet is not installed (neither is in requirements/test.txt).
"""

from __future__ import annotations

import collections
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests._strategy_server import StrategyServer
from tests._wire_helpers import UDPAgent, tag_dict, unsigned

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

GREENLETS = 200
DEPTH = 3  # spans per greenlet: a root and two nested children
WAIT = 60.0  # the child gives up (and prints its stack) after WAIT / 2

SCRIPT = """
import faulthandler, json, os, sys, time

import jaeger_lite

LIB, SAMPLING = sys.argv[1], sys.argv[2]
options = (
    {"sampler_type": "remote", "sampling_endpoint": SAMPLING, "sampler_param": 1}
    if SAMPLING
    else {"sampler_type": "const", "sampler_param": 1}
)
tracer = jaeger_lite.init_tracer(
    "green", agent_host="127.0.0.1", agent_port=int(os.environ["AGENT_PORT"]),
    set_global=False, **options,
)
pid = os.fork()  # the master forks a worker, as gunicorn --preload does
if pid:
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))

faulthandler.dump_traceback_later(WAIT / 2, exit=True)  # a hung child ends, with its stack
if LIB == "gevent":
    from gevent import monkey

    monkey.patch_all()
    import gevent

    spawn, sleep = gevent.spawn, gevent.sleep

    def join(greenlets):
        gevent.joinall(greenlets, timeout=WAIT / 4)
else:
    import eventlet

    eventlet.monkey_patch()
    spawn, sleep = eventlet.spawn, eventlet.sleep

    def join(greenlets):
        for greenlet in greenlets:
            greenlet.wait()

mixed = []
gaps = []


def request(number):
    with tracer.start_active_span("root", tags={"g": number}) as root:
        sleep(0.001 * (number % 3))  # every greenlet's span is open at once
        with tracer.start_active_span("child", tags={"g": number}) as child:
            sleep(0.001)
            with tracer.start_active_span("leaf", tags={"g": number}) as leaf:
                sleep(0.001)
                if tracer.active_span is not leaf.span or leaf.span.trace_id != root.span.trace_id:
                    mixed.append(number)
            if tracer.active_span is not child.span:
                mixed.append(number)


def ticker():  # how long the hub went without running: a blocked hub shows here
    last = time.monotonic()
    for _ in range(50):
        sleep(0.01)
        now = time.monotonic()
        gaps.append(now - last)
        last = now


greenlets = [spawn(ticker)] + [spawn(request, n) for n in range(GREENLETS)]
join(greenlets)
started = time.monotonic()
tracer.close(5)
closed = time.monotonic() - started
print(json.dumps({
    "mixed": mixed, "max_gap": max(gaps), "close": closed, "metrics": tracer.metrics,
}), flush=True)
"""


@pytest.mark.parametrize("sampling", ["const", "remote"])
@pytest.mark.parametrize("lib", ["gevent", "eventlet"])
def test_greenlets_after_a_preload_fork(tmp_path: Path, lib: str, sampling: str) -> None:
    """No deadlock and no blocked hub: the first spans of 200 greenlets at once start the
    worker (and the remote sampler's poller) cooperatively; every span arrives once, each
    greenlet's spans in its own trace, and the counters add up."""
    if importlib.util.find_spec(lib) is None:
        pytest.skip(f"{lib} is not installed")
    script = tmp_path / "green.py"
    prelude = f"WAIT = {WAIT}\nGREENLETS = {GREENLETS}\n"
    script.write_text(prelude + textwrap.dedent(SCRIPT))
    agent = UDPAgent()
    strategies = StrategyServer() if sampling == "remote" else None
    try:
        if strategies is not None:
            strategies.answer(
                {"strategyType": "PROBABILISTIC", "probabilisticSampling": {"samplingRate": 1.0}}
            )
        root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ, AGENT_PORT=str(agent.port), PYTHONPATH=root)
        endpoint = strategies.url if strategies is not None else ""
        proc = subprocess.run(
            [sys.executable, "-W", "ignore", str(script), lib, endpoint],
            env=env,
            capture_output=True,
            text=True,
            timeout=WAIT,
        )
        assert proc.returncode == 0, proc.stderr
        seen = json.loads(proc.stdout.splitlines()[-1])
        expected = GREENLETS * DEPTH
        agent.wait_for_spans(expected, 10.0)
        batches = agent.batches()
    finally:
        agent.close()
        if strategies is not None:
            strategies.close()
    assert seen["mixed"] == []
    assert seen["max_gap"] < 2.0, seen  # the hub ran: nothing held it for a flush interval
    assert seen["close"] < 5.0, seen
    metrics = seen["metrics"]
    dropped = sum(v for k, v in metrics.items() if k.startswith("spans_dropped"))
    assert metrics["spans_sampled"] == expected
    assert metrics["spans_sent"] + dropped + metrics["queue_length"] == expected
    assert metrics["spans_sent"] == expected, metrics
    spans = [span for batch in batches for span in batch.spans]
    assert len(spans) == expected
    assert len({unsigned(s.spanId) for s in spans}) == expected
    traces: dict[int, set[int]] = collections.defaultdict(set)
    for span in spans:
        traces[tag_dict(span.tags)["g"]].add(unsigned(span.traceIdLow))
    assert len(traces) == GREENLETS and all(len(ids) == 1 for ids in traces.values())
    assert len({next(iter(ids)) for ids in traces.values()}) == GREENLETS

"""The agent's HTTP limits (agent/httplimits.py) against real clients on 127.0.0.1: a
deadline for each whole request, however slowly its bytes trickle, and a cap on the
connections served at once, so slow clients cannot hold the agent's threads."""

from __future__ import annotations

import dataclasses
import http.client
import io
import select
import socket
import time
from collections.abc import Iterator
from typing import Optional

import pytest

from jaeger_lite.agent import DevAgent, httplimits
from tests.agent_batches import batch, body, span

WAIT = 5.0
SLOW_HEAD = b"POST /api/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 200


def limited(monkeypatch: pytest.MonkeyPatch, **changes: float) -> None:
    """Servers made from now on take these limits (the defaults are seconds long)."""
    monkeypatch.setattr(httplimits, "LIMITS", dataclasses.replace(httplimits.LIMITS, **changes))


@pytest.fixture
def agent(monkeypatch: pytest.MonkeyPatch) -> Iterator[DevAgent]:
    limited(monkeypatch, head_timeout=1.0, body_floor=0.5, body_rate=2000)
    with DevAgent(
        compact_port=None,
        binary_port=None,
        http_port=0,
        otlp_port=0,
        sampling_port=0,
        ui_port=0,
        out=io.StringIO(),
    ) as a:
        yield a


def port_of(agent: DevAgent, listener: str) -> int:
    url = {"http": agent.http_url, "otlp": agent.otlp_url, "sampling": agent.sampling_url}.get(
        listener, agent.ui_url
    )
    assert url is not None
    return int(url.split(":")[2].split("/")[0])


def post(port: int, data: bytes, timeout: float = WAIT) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/api/traces", data, {"Content-Type": "application/x-thrift"})
        return conn.getresponse().status
    finally:
        conn.close()


def closed_by_peer(conn: socket.socket, wait: float) -> bool:
    """Whether the agent closed ``conn`` (EOF or reset) within ``wait`` seconds."""
    if not select.select([conn], [], [], wait)[0]:
        return False
    try:
        return conn.recv(4096) == b""
    except ConnectionResetError:
        return True


def trickle(conn: socket.socket, data: bytes, every: float, limit: float) -> Optional[float]:
    """Send ``data`` a byte at a time, ``every`` seconds apart, until the agent closes the
    connection; the seconds that took, or None if it was still open after ``limit``."""
    began = time.monotonic()
    for byte in data:
        if time.monotonic() - began > limit:
            return None
        try:
            conn.send(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - began
        if closed_by_peer(conn, every):
            return time.monotonic() - began
    return None


@pytest.mark.parametrize("listener", ["http", "otlp", "sampling", "ui"])
def test_a_slowloris_head_is_cut_at_the_deadline_while_others_are_served(
    agent: DevAgent, listener: str
) -> None:
    """A byte every 0.2 s never trips a timeout per read; the 1 s deadline of the whole
    request head cuts it, and a normal request on the same port is answered meanwhile."""
    port = port_of(agent, listener)
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as slow:
        slow.send(SLOW_HEAD[:5])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
        conn.request("GET", "/sampling?service=x" if listener == "sampling" else "/")
        assert conn.getresponse().status in (200, 405)  # answered, not stuck behind it
        conn.close()
        took = trickle(slow, SLOW_HEAD[5:], every=0.2, limit=6.0)
    assert took is not None and took < 1.0 + 1.5, took


def test_a_slow_body_is_cut_at_its_deadline_a_steady_one_is_taken(agent: DevAgent) -> None:
    """The body's deadline is 0.5 s plus its declared length at 2,000 B/s: 200 declared
    bytes trickled at 10 B/s are cut off; 2,000 bytes sent over 1 s (more than the floor,
    within their 1.5 s) are taken."""
    port = port_of(agent, "http")
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as slow:
        slow.sendall(
            b"POST /api/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-thrift\r\n"
            b"Content-Length: 200\r\n\r\n"
        )
        took = trickle(slow, b"\0" * 200, every=0.1, limit=6.0)
    assert took is not None and 0.3 < took < 0.6 + 1.5, took

    data = body(batch("steady", [span(7, 1, tags={"pad": "p" * 1850})]))
    assert 1950 < len(data) <= 2000  # deadline: 0.5 s + about 1 s
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as conn:
        conn.sendall(
            b"POST /api/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-thrift\r\n"
            b"Content-Length: %d\r\n\r\n" % len(data)
        )
        for i in range(4):
            time.sleep(0.25)
            conn.sendall(data[i * 500 : (i + 1) * 500])
        assert select.select([conn], [], [], WAIT)[0]
        assert conn.recv(4096).startswith(b"HTTP/1.0 202 ")
    assert agent.wait_for_spans(1, WAIT)


def test_connections_over_the_cap_are_refused_at_once_until_slots_free(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With 4 connections served, a fifth is answered 503 at once, not queued;
    once the slow four are cut at their deadline, the next request is served."""
    limited(monkeypatch, head_timeout=1.0, max_connections=4)
    with DevAgent(compact_port=None, binary_port=None, http_port=0, out=io.StringIO()) as a:
        assert a.http_port is not None
        slow = [socket.create_connection(("127.0.0.1", a.http_port), timeout=WAIT) for _ in "1234"]
        try:
            for conn in slow:
                conn.sendall(SLOW_HEAD[:20])
            time.sleep(0.2)  # the listener thread has accepted all four
            began = time.monotonic()
            conn = http.client.HTTPConnection("127.0.0.1", a.http_port, timeout=WAIT)
            conn.request("POST", "/api/traces", b"x", {"Content-Type": "application/x-thrift"})
            refused = conn.getresponse()
            assert (refused.status, refused.getheader("Retry-After")) == (503, "1")
            assert refused.read() == b"too many connections; retry\n"
            assert time.monotonic() - began < 0.5
            conn.close()
            assert all(closed_by_peer(conn, 1.0 + 1.5) for conn in slow)
        finally:
            for conn in slow:
                conn.close()
        assert post(a.http_port, body(batch("s", [span(1, 1)]))) == 202
        assert a.wait_for_spans(1, WAIT)


def test_many_slow_clients_do_not_stop_a_normal_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """40 silent connections (under the default cap of 64) leave a normal request answered
    at once; 100 (over it) leave it refused quickly, then answered once they are cut."""
    limited(monkeypatch, head_timeout=2.0)
    assert httplimits.LIMITS.max_connections == 64
    data = body(batch("s", [span(1, 1)]))
    with DevAgent(compact_port=None, binary_port=None, http_port=0, out=io.StringIO()) as a:
        assert a.http_port is not None
        slow = [socket.create_connection(("127.0.0.1", a.http_port), timeout=WAIT)]
        try:
            slow += [socket.create_connection(("127.0.0.1", a.http_port)) for _ in range(39)]
            began = time.monotonic()
            assert post(a.http_port, data) == 202 and time.monotonic() - began < 1.0
            slow += [socket.create_connection(("127.0.0.1", a.http_port)) for _ in range(60)]
            served, deadline = 0, time.monotonic() + 2.0 + 3.0
            for _ in range(100):  # retry as a client told "Retry-After" would
                try:
                    served = post(a.http_port, data, timeout=1.0)
                except OSError:
                    served = 0
                if served == 202 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            assert served == 202, served
        finally:
            for conn in slow:
                conn.close()
        assert a.wait_for_spans(2, WAIT)


def test_the_default_limits_are_the_documented_ones() -> None:
    """README's agent section states these numbers."""
    assert httplimits.HTTPLimits() == httplimits.HTTPLimits(
        head_timeout=5.0,
        body_floor=10.0,
        body_rate=1024 * 1024,
        max_connections=64,
        write_timeout=30.0,
    )

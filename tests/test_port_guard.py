"""The port guard (tests/_port_guard.py): it blocks and reports what the suite used to do
(spans to localhost:6831, polls of 127.0.0.1:5778) and lets loopback ephemeral ports be."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from jaeger_lite import RemoteSampler, init_tracer

from ._port_guard import GUARD, WELL_KNOWN_PORTS, ForbiddenAddress, why_forbidden
from ._strategy_server import WAIT
from ._wire_helpers import UDPAgent

ROOT = Path(__file__).resolve().parent.parent
SELFTEST = "PORT_GUARD_SELFTEST"  # not JAEGER_*: conftest.py clears those


def _assert_the_guard_blocks_6831() -> None:
    """Checked before a test makes a real forbidden call: a guard that is not installed
    fails here, before anything could reach a developer's agent."""
    sys.audit("socket.connect", None, ("127.0.0.1", 40000))
    with pytest.raises(ForbiddenAddress), GUARD.expecting():
        sys.audit("socket.connect", None, ("127.0.0.1", 6831))


@pytest.mark.parametrize(
    ("event", "host", "port", "udp"),
    [
        pytest.param("socket.connect", "127.0.0.1", 40000, False, id="ipv4-loopback"),
        pytest.param("socket.sendto", "127.0.0.2", 40000, True, id="ipv4-loopback-net"),
        pytest.param("socket.connect", "::1", 40000, False, id="ipv6-loopback"),
        pytest.param("socket.connect", "::ffff:127.0.0.1", 40000, False, id="ipv4-mapped"),
        pytest.param("http.client.connect", "localhost", 40000, False, id="localhost"),
        pytest.param("socket.connect", "0.0.0.0", 40000, False, id="this-host"),  # noqa: S104
        pytest.param("socket.connect", "192.0.2.1", 9, True, id="udp-route-probe"),
        pytest.param("socket.bind", "0.0.0.0", 0, True, id="bind-ephemeral"),  # noqa: S104
        pytest.param("socket.connect", "/run/app.sock", None, False, id="unix-socket"),
    ],
)
def test_allowed(event: str, host: str, port: int, udp: bool) -> None:
    """Loopback on ordinary ports, binding port 0, UNIX sockets and the UDP route probe
    (a connect that sends nothing, to an unrouted address) are allowed."""
    assert why_forbidden(event, host, port, udp) is None


@pytest.mark.parametrize(
    ("event", "host", "port", "udp", "reason"),
    [
        pytest.param("socket.connect", "127.0.0.1", 6831, True, "well-known", id="agent"),
        pytest.param("http.client.connect", "127.0.0.1", 5778, False, "well-known", id="sampler"),
        pytest.param("socket.connect", "::1", 14268, False, "well-known", id="collector"),
        pytest.param("socket.bind", "127.0.0.1", 4317, False, "well-known", id="bind-otlp"),
        pytest.param("http.client.connect", "agent.local", 40000, False, "loopback", id="name"),
        pytest.param("socket.sendto", "10.0.0.1", 40000, True, "loopback", id="lan"),
        pytest.param("socket.connect", "192.0.2.1", 40000, False, "loopback", id="tcp-test-net"),
        pytest.param("socket.sendto", "192.0.2.1", 40000, True, "loopback", id="udp-send"),
    ],
)
def test_forbidden(event: str, host: str, port: int, udp: bool, reason: str) -> None:
    """Well-known tracing ports anywhere and any address off this host are forbidden."""
    assert reason in (why_forbidden(event, host, port, udp) or "")


def test_the_hook_raises_before_anything_is_sent() -> None:
    """The hook itself blocks the call (an OSError), so a forbidden datagram never leaves."""
    with GUARD.expecting() as caught, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        with pytest.raises(ForbiddenAddress):
            sys.audit("socket.sendto", sock, ("127.0.0.1", 6831))
        with pytest.raises(ForbiddenAddress):
            sock.sendto(b"x", ("198.51.100.7", 40000))
    assert len(caught) == 2 and "6831" in caught[0] and "198.51.100.7" in caught[1]


def test_the_old_default_tracer_is_caught_on_the_reporter_thread() -> None:
    """init_tracer() with the defaults and a finished span (what test_init_tracer.py and
    test_client_config.py did) is blocked on the reporter thread, recorded, and counted
    as a failed send."""
    _assert_the_guard_blocks_6831()
    with GUARD.expecting() as caught:
        tracer = init_tracer("svc", sampler_type="const", set_global=False)
        tracer.start_span("op").finish()
        tracer.flush(WAIT)
        tracer.close(WAIT)
    assert len(caught) == 1
    assert "socket.connect to 127.0.0.1:6831 on thread 'jaeger_lite-reporter'" in caught[0]
    assert tracer.reporter.metrics()["spans_dropped_send_failed"] == 1  # type: ignore[attr-defined]


def test_the_old_remote_sampler_poll_is_caught() -> None:
    """The default remote sampler's poll of 127.0.0.1:5778 is blocked and recorded."""
    with pytest.raises(ForbiddenAddress), GUARD.expecting():
        sys.audit("http.client.connect", None, "127.0.0.1", 5778)
    with GUARD.expecting() as caught:
        sampler = RemoteSampler("svc", sampling_endpoint="http://127.0.0.1:5778/sampling")
        try:
            sampler.start()  # the poller starts at the first decision otherwise
            assert sampler._wait_for_polls(1, WAIT)
        finally:
            sampler.close()
    assert caught and all("127.0.0.1:5778" in message for message in caught)


def test_loopback_ports_a_test_opened_are_not_caught() -> None:
    """Datagrams to a UDP agent on port 0 of 127.0.0.1 and ::1 pass the guard."""
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            agent = UDPAgent(family)
        except OSError:  # no IPv6 loopback here
            continue
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as sock:
                sock.sendto(b"datagram", (host, agent.port))
            assert agent.wait_for_datagrams(1) == [b"datagram"]
        finally:
            agent.close()


def test_ephemeral_ports_never_land_on_a_well_known_port() -> None:
    """The kernel's ephemeral range (what bind to port 0 draws from) holds none of the
    guarded ports, so the guard cannot catch a port a test opened itself."""
    range_file = Path("/proc/sys/net/ipv4/ip_local_port_range")
    if not range_file.exists():
        pytest.skip("not Linux: the BSDs and macOS use 49152-65535")
    low, high = (int(part) for part in range_file.read_text().split())
    assert not [port for port in WELL_KNOWN_PORTS if low <= port <= high]


@pytest.mark.skipif(SELFTEST not in os.environ, reason="run by the test below, in a child")
def test_selftest_violation() -> None:
    """The shape of the old tests: a default tracer sends a span on its reporter thread."""
    _assert_the_guard_blocks_6831()
    tracer = init_tracer("svc", sampler_type="const", set_global=False)
    tracer.start_span("op").finish()
    tracer.close(WAIT)


def test_a_violation_on_another_thread_fails_its_test() -> None:
    """conftest.py turns a violation recorded on the reporter thread into a failed test."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_port_guard.py::test_selftest_violation"],
        cwd=ROOT,
        env={**os.environ, SELFTEST: "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "reached a port it does not own" in result.stdout
    assert "socket.connect to 127.0.0.1:6831 on thread 'jaeger_lite-reporter'" in result.stdout

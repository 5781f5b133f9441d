"""Shared fixtures: the port guard (no test reaches a port it did not open), a sampling
tracer with an in-memory reporter, global-state hygiene, and a sampling-strategy server with
RemoteSamplers pointed at it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import warnings
from collections.abc import Iterator
from typing import Any, Callable

import pytest

import jaeger_lite
from jaeger_lite._global import installed_tracer
from jaeger_lite._opentracing import get_opentracing_global_tracer, set_opentracing_global_tracer
from jaeger_lite.testing import new_test_tracer

from ._port_guard import GUARD
from ._strategy_server import StrategyServer, remote_factory, serve
from ._wire_helpers import UDPAgent

GUARD.install()

# A developer's shell may point JAEGER_*/OTEL_* at a real agent or collector, or name a
# proxy (HTTP_PROXY, NO_PROXY, ...; REQUEST_METHOD turns the CGI rule on): tests see only
# the variables they set themselves (with monkeypatch, or in a subprocess's env).
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "request_method")
for _name in [
    n for n in os.environ if n.startswith(("JAEGER_", "OTEL_")) or n.lower() in _PROXY_VARIABLES
]:
    del os.environ[_name]


@pytest.fixture(autouse=True)
def _no_real_ports() -> Iterator[None]:
    """Fails a test that reached (or tried to) a non-loopback address or a well-known
    tracing port, from any thread, up to the end of its teardown (tests/_port_guard.py).
    Defined first, so its check runs after every other fixture's teardown."""
    leftover = GUARD.take()
    if leftover:  # a thread an earlier test left running: fail loudly here, not nowhere
        pytest.fail(
            "a thread left by an earlier test reached a port it does not own:\n"
            + "\n".join(leftover),
            pytrace=False,
        )
    yield
    violations = GUARD.take()
    if violations:
        pytest.fail("reached a port it does not own:\n" + "\n".join(violations), pytrace=False)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A violation after the last test (a leaked thread) still fails the run."""
    violations = GUARD.take()
    if violations:
        print("\nport guard: reached a port it does not own:\n" + "\n".join(violations))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _coverage_paused_for_untraced_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    """Under `make test` (coverage run), a test marked ``untraced`` runs without the line
    tracer: its 50,000-span bursts would take four to ten times longer (past their deadlines
    on a busy machine), or its threads start at once and CPython 3.11 can refuse to install
    the tracer in one of them. Their code is covered by the other tests."""
    cov = _running_coverage() if request.node.get_closest_marker("untraced") else None
    if cov is None:
        yield
        return
    cov.stop()
    try:
        yield
    finally:
        with warnings.catch_warnings():  # a restart finds the package imported: expected
            warnings.simplefilter("ignore")
            cov.start()


def _running_coverage() -> Any:
    try:
        import coverage
    except ImportError:  # not installed: not measuring either
        return None
    return coverage.Coverage.current()


@pytest.fixture
def tracer_and_reporter() -> Iterator[tuple[jaeger_lite.Tracer, jaeger_lite.InMemoryReporter]]:
    """A tracer that samples everything into an InMemoryReporter."""
    tracer, reporter = new_test_tracer("test-service")
    yield tracer, reporter
    tracer.close()


@pytest.fixture
def tracer(
    tracer_and_reporter: tuple[jaeger_lite.Tracer, jaeger_lite.InMemoryReporter],
) -> jaeger_lite.Tracer:
    return tracer_and_reporter[0]


@pytest.fixture
def reporter(
    tracer_and_reporter: tuple[jaeger_lite.Tracer, jaeger_lite.InMemoryReporter],
) -> jaeger_lite.InMemoryReporter:
    return tracer_and_reporter[1]


@pytest.fixture(autouse=True)
def _restore_global_tracers() -> Iterator[None]:
    """Each test leaves jaeger_lite's and opentracing's global tracers as it found them."""
    previous = installed_tracer()
    previous_opentracing = get_opentracing_global_tracer()
    yield
    if previous is None:
        jaeger_lite.reset_global_tracer()
    else:
        jaeger_lite.set_global_tracer(previous)
    if previous_opentracing is not None:
        set_opentracing_global_tracer(previous_opentracing)


@pytest.fixture
def tracers() -> Iterator[list[jaeger_lite.Tracer]]:
    """Tracers created by a test, closed afterwards (threads, sockets)."""
    created: list[jaeger_lite.Tracer] = []
    yield created
    for tracer in created:
        tracer.close(1.0)


@pytest.fixture
def server() -> Iterator[StrategyServer]:
    yield from serve()


@pytest.fixture
def udp_agent() -> Iterator[UDPAgent]:
    """A UDP agent stand-in on a loopback port of this test's own."""
    agent = UDPAgent()
    yield agent
    agent.close()


@pytest.fixture
def jaeger_env(
    monkeypatch: pytest.MonkeyPatch, udp_agent: UDPAgent, server: StrategyServer
) -> UDPAgent:
    """JAEGER_AGENT_HOST/PORT and JAEGER_SAMPLING_ENDPOINT name this test's own UDP agent
    and strategy server, so a tracer built from the defaults sends and polls there."""
    monkeypatch.setenv("JAEGER_AGENT_HOST", "127.0.0.1")
    monkeypatch.setenv("JAEGER_AGENT_PORT", str(udp_agent.port))
    monkeypatch.setenv("JAEGER_SAMPLING_ENDPOINT", server.url)
    return udp_agent


@pytest.fixture
def remote() -> Iterator[Callable[..., jaeger_lite.RemoteSampler]]:
    """RemoteSamplers closed after the test; they return after their first poll unless
    created with ``wait=False``."""
    yield from remote_factory()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and its key, made for this run."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def hung_resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """getaddrinfo hangs for names (addresses still resolve): a resolver that never answers
    cannot be made on loopback, so this one seam is replaced; sockets stay real."""
    real = socket.getaddrinfo
    release = threading.Event()
    asked: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        flags = args[3] if len(args) > 3 else kwargs.get("flags", 0)
        if flags & socket.AI_NUMERICHOST or host in ("127.0.0.1", "::1"):
            return real(host, port, *args, **kwargs)
        asked.append(host)
        release.wait(10)
        raise socket.gaierror(socket.EAI_AGAIN, "resolver gave up")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield asked
    release.set()

"""Shared fixtures: a sampling tracer with an in-memory reporter, global-state hygiene, and
a sampling-strategy server with RemoteSamplers pointed at it."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from typing import Callable

import pytest

import jaeger_lite
from jaeger_lite._global import installed_tracer
from jaeger_lite._opentracing import get_opentracing_global_tracer, set_opentracing_global_tracer
from jaeger_lite.testing import new_test_tracer

from ._strategy_server import StrategyServer, remote_factory, serve


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

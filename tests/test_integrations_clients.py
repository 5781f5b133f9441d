"""instrument(): client spans for requests, httpx (sync and async), urllib3 and
urllib.request against a real traced server on 127.0.0.1: the injected context reaches it,
5xx answers and timeouts are errors, and switching off puts the libraries back."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any, Callable

import pytest

from jaeger_lite import Tracer
from jaeger_lite.integrations import WSGIMiddleware, instrument, instrumented, uninstrument

from ._integration_helpers import WAIT, WaitingReporter, waiting_tracer, wsgi_server

requests = pytest.importorskip("requests")
httpx = pytest.importorskip("httpx")
urllib3 = pytest.importorskip("urllib3")
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402

RELEASE = threading.Event()


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    path = environ["PATH_INFO"]
    if path == "/slow":
        RELEASE.wait(WAIT)
    if path == "/moved":
        start_response("302 Found", [("Location", "/ok"), ("Content-Length", "0")])
        return [b""]
    status = "500 Internal Server Error" if path == "/boom" else "200 OK"
    start_response(status, [("Content-Type", "text/plain")])
    return [path.encode()]


def get_requests(url: str, timeout: float) -> int:
    return int(requests.get(url, timeout=timeout).status_code)


def get_httpx(url: str, timeout: float) -> int:
    with httpx.Client(timeout=timeout) as client:
        return int(client.get(url).status_code)


def get_httpx_async(url: str, timeout: float) -> int:
    async def run() -> int:
        async with httpx.AsyncClient(timeout=timeout) as client:
            return int((await client.get(url)).status_code)

    return asyncio.run(run())


def get_urllib3(url: str, timeout: float) -> int:
    with urllib3.PoolManager(timeout=timeout, retries=False) as pool:
        return int(pool.request("GET", url).status)


def get_urllib(url: str, timeout: float) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as error:
        error.close()
        return int(error.code)


CLIENTS: dict[str, tuple[str, Callable[[str, float], int]]] = {
    "requests": ("requests", get_requests),
    "httpx": ("httpx", get_httpx),
    "httpx-async": ("httpx", get_httpx_async),
    "urllib3": ("urllib3", get_urllib3),
    "urllib": ("urllib", get_urllib),
}


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, WaitingReporter]]:
    tracer, reporter = waiting_tracer("server")
    with wsgi_server(WSGIMiddleware(app, tracer)) as url:
        yield url, reporter
    RELEASE.set()


@pytest.fixture
def client() -> Iterator[tuple[Tracer, WaitingReporter]]:
    tracer, reporter = waiting_tracer("client")
    yield tracer, reporter
    uninstrument()


@pytest.mark.parametrize("name", CLIENTS)
def test_the_client_span_is_the_parent_of_the_server_span(
    name: str, server: tuple[str, WaitingReporter], client: tuple[Tracer, WaitingReporter]
) -> None:
    """One client span per request, between the caller's span and the server's."""
    url, server_spans = server
    tracer, reporter = client
    library, get = CLIENTS[name]
    assert instrument(library, tracer=tracer) == [library]
    with tracer.start_active_span("caller") as scope:
        assert get(f"{url}/ok?api_key=s3cret", WAIT) == 200
    caller, span = reporter.wait_for(2)[::-1]
    (served,) = server_spans.in_trace(caller.context.trace_id)
    assert scope.span is caller
    assert span.context.parent_id == caller.context.span_id
    assert served.context.parent_id == span.context.span_id  # the injected context arrived
    assert span.operation_name == "GET"
    assert dict(span.tags) == {
        "span.kind": "client",
        "component": library,
        "http.method": "GET",
        "http.url": f"{url}/ok?api_key=REDACTED",
        "http.status_code": 200,
    }


@pytest.mark.parametrize("name", CLIENTS)
def test_a_5xx_answer_is_an_error(
    name: str, server: tuple[str, WaitingReporter], client: tuple[Tracer, WaitingReporter]
) -> None:
    url, _ = server
    tracer, reporter = client
    library, get = CLIENTS[name]
    instrument(library, tracer=tracer, peer_service="inventory")
    with tracer.start_active_span("caller"):
        assert get(f"{url}/boom", WAIT) == 500
    span = reporter.wait_for(2)[0]
    assert span.operation_name == "GET inventory"
    assert span.tags["peer.service"] == "inventory"
    assert span.tags["http.status_code"] == 500
    assert span.tags["error"] is True


@pytest.mark.parametrize("name", CLIENTS)
def test_a_timeout_is_an_error(
    name: str, server: tuple[str, WaitingReporter], client: tuple[Tracer, WaitingReporter]
) -> None:
    """The library's timeout exception reaches the caller and is recorded on the span."""
    url, _ = server
    tracer, reporter = client
    library, get = CLIENTS[name]
    instrument(library, tracer=tracer)
    RELEASE.clear()
    try:
        with tracer.start_active_span("caller"), pytest.raises(Exception) as raised:
            get(f"{url}/slow", 0.2)
    finally:
        RELEASE.set()
    span = reporter.wait_for(2)[0]
    assert span.tags["error"] is True
    assert "http.status_code" not in span.tags
    assert span.logs[0].fields["error.kind"] == type(raised.value).__name__


def follow_httpx(url: str) -> int:
    with httpx.Client(timeout=WAIT, follow_redirects=True) as client:
        return int(client.get(url).status_code)


def follow_urllib3(url: str) -> int:
    with urllib3.PoolManager(timeout=WAIT) as pool:
        return int(pool.request("GET", url).status)


FOLLOW: dict[str, tuple[str, Callable[[str], int]]] = {
    "requests": ("requests", lambda url: get_requests(url, WAIT)),
    "httpx": ("httpx", follow_httpx),
    "urllib3": ("urllib3", follow_urllib3),
    "urllib": ("urllib", lambda url: get_urllib(url, WAIT)),
}


@pytest.mark.parametrize("name", FOLLOW)
def test_each_redirect_hop_is_a_span_of_its_own(
    name: str, server: tuple[str, WaitingReporter], client: tuple[Tracer, WaitingReporter]
) -> None:
    """A followed redirect is two client spans, one after the other, each with its own URL
    and status, each the parent of the server span it reached (requests followed redirects
    inside the first span: one span of the first URL tagged with the last status, two
    server spans under it)."""
    url, server_spans = server
    tracer, reporter = client
    library, follow = FOLLOW[name]
    instrument(library, tracer=tracer)
    with tracer.start_active_span("caller"):
        assert follow(f"{url}/moved") == 200
    spans = reporter.wait_for(3)
    (caller,) = [s for s in spans if s.operation_name == "caller"]
    hops = sorted((s for s in spans if s is not caller), key=lambda s: s.start_time)
    assert hops[0].finish_time is not None
    assert hops[0].finish_time <= hops[1].start_time + 1e-6  # one after the other
    assert [(s.tags["http.url"], s.tags["http.status_code"]) for s in hops] == [
        (f"{url}/moved", 302),
        (f"{url}/ok", 200),
    ]
    assert {s.context.parent_id for s in hops} == {caller.context.span_id}
    served = server_spans.in_trace(caller.context.trace_id, 2)
    assert sorted((s.tags["http.url"], s.context.parent_id) for s in served) == sorted(
        (s.tags["http.url"], s.context.span_id) for s in hops
    )


STALE = "1:2:0:1"  # a context the caller forwarded by hand, in its own spelling
SEND_STALE: dict[str, tuple[str, Callable[[str], Any]]] = {
    "requests": (
        "requests",
        lambda url: requests.get(url, headers={"Uber-Trace-Id": STALE}, timeout=WAIT),
    ),
    "httpx": ("httpx", lambda url: httpx.get(url, headers=[("Uber-Trace-Id", STALE)])),
    "urllib3": (
        "urllib3",
        lambda url: urllib3.PoolManager(timeout=WAIT).request(
            "GET", url, headers={"Uber-Trace-Id": STALE}
        ),
    ),
    "urllib3-pool": (
        "urllib3",
        lambda url: urllib3.connection_from_url(
            url, headers={"UBER-TRACE-ID": STALE}, timeout=WAIT
        ).urlopen("GET", "/ok"),
    ),
    "urllib": (
        "urllib",
        lambda url: urllib.request.urlopen(
            urllib.request.Request(url, headers={"Uber-Trace-Id": STALE}), timeout=WAIT
        ).close(),
    ),
}


@pytest.mark.parametrize("name", SEND_STALE)
def test_the_injected_context_replaces_the_callers_in_any_case(
    name: str, server: tuple[str, WaitingReporter], client: tuple[Tracer, WaitingReporter]
) -> None:
    """A caller's own ``Uber-Trace-Id`` (or the pool's default one) is replaced, never
    sent next to ours: urllib3 sent both, and the server read the two as one corrupt value
    (a new trace)."""
    url, server_spans = server
    tracer, reporter = client
    library, send = SEND_STALE[name]
    instrument(library, tracer=tracer)
    with tracer.start_active_span("caller"):
        send(f"{url}/ok")
    span, caller = reporter.wait_for(2)
    (served,) = server_spans.in_trace(caller.context.trace_id)
    assert served.context.parent_id == span.context.span_id


def test_requests_over_urllib3_is_one_span(
    server: tuple[str, WaitingReporter], client: tuple[Tracer, WaitingReporter]
) -> None:
    """With both instrumented, a requests call is not traced again by urllib3 below it."""
    url, _ = server
    tracer, reporter = client
    assert sorted(instrument("requests", "urllib3", tracer=tracer)) == ["requests", "urllib3"]
    with tracer.start_active_span("caller"):
        get_requests(f"{url}/ok", WAIT)
    assert [s.tags.get("component") for s in reporter.wait_for(2)] == ["requests", None]


def test_no_active_span_no_client_span_unless_root_spans(
    server: tuple[str, WaitingReporter], client: tuple[Tracer, WaitingReporter]
) -> None:
    """Outside a span nothing is traced (a reporter's own calls never loop), unless asked."""
    url, _ = server
    tracer, reporter = client
    instrument("httpx", tracer=tracer)
    get_httpx(f"{url}/ok", WAIT)
    assert reporter.spans == []
    instrument("httpx", tracer=tracer, root_spans=True)
    get_httpx(f"{url}/ok", WAIT)
    (span,) = reporter.wait_for(1)
    assert span.context.parent_id == 0


def test_instrument_is_idempotent_and_uninstrument_restores() -> None:
    """Two calls patch once; uninstrument puts the library's own functions back."""
    original = requests.sessions.Session.send
    instrument("requests")
    instrument("requests")
    patched = requests.sessions.Session.send
    assert patched is not original and patched.__wrapped__ is original
    assert instrumented() == ["requests"]
    uninstrument("requests")
    uninstrument("requests")
    assert requests.sessions.Session.send is original
    assert instrumented() == []
    with pytest.raises(ValueError, match="unknown libraries"):
        instrument("aiohttp")


class _Broken(Tracer):
    def start_span(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("misconfigured")


@pytest.mark.parametrize("name", CLIENTS)
def test_a_broken_or_closed_tracer_never_breaks_a_request(
    name: str, server: tuple[str, WaitingReporter]
) -> None:
    url, _ = server
    library, get = CLIENTS[name]
    closed, _ = waiting_tracer()
    closed.close()
    try:
        for tracer in (_Broken("broken"), closed):
            instrument(library, tracer=tracer, root_spans=True)
            assert get(f"{url}/ok", WAIT) == 200
    finally:
        uninstrument()

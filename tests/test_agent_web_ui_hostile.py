"""The web UI against hostile span data, in a real browser (headless Chromium).

A sender controls every string the UI shows: service and operation names, tag keys and
values, log fields, process tags. Markup in any of them must stay text and never run;
a right-to-left override must not reorder the text around it (a trace id shown reversed);
and a very long unbroken name must not make the page thousands of pixels wide.
"""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from jaeger_lite.agent import DevAgent
from tests._browser import browser, checked_page
from tests.agent_batches import batch, message, span

PAYLOADS = [
    '<img src=x onerror="window.__pwned = 1">',
    "</script><script>window.__pwned = 2</script>",
    "javascript:window.__pwned = 3",
    '"><svg onload="window.__pwned = 4">',
]
HOSTILE = "".join(PAYLOADS)
RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE, left unterminated
LONG = "x" * 3000
MARKUP_TRACE = 0xFEDCBA9876543210F123456789ABCDEF
RTL_TRACE = MARKUP_TRACE + 1
LONG_TRACE = MARKUP_TRACE + 2


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from browser()


@pytest.fixture(scope="module")
def agent() -> Iterator[DevAgent]:
    running = DevAgent(
        compact_port=0, binary_port=None, http_port=None, ui_port=0, out=io.StringIO()
    ).start()
    fields = {p: p for p in PAYLOADS}
    markup = batch(
        HOSTILE,
        [
            span(
                MARKUP_TRACE,
                1,
                0,
                HOSTILE,
                0,
                5000,
                tags={**fields, "error": True},
                logs=[(100, {"event": HOSTILE, **fields})],
            ),
            span(MARKUP_TRACE, 2, 1, PAYLOADS[2], 10, 1000),
            span(MARKUP_TRACE, 3, 0x99, PAYLOADS[0], 20, 1000),  # an orphan
        ],
        **fields,
    )
    rtl = batch(RLO + "svc", [span(RTL_TRACE, 1, 0, RLO + "op", 0, 10)])
    long = batch(
        LONG,
        [span(LONG_TRACE, 1, 0, LONG, 0, 10, tags={LONG: LONG}, logs=[(1, {LONG: LONG})])],
        **{LONG: LONG},
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        for b in (markup, rtl, long):
            udp.sendto(message(b), ("127.0.0.1", running.compact_port))
    assert running.wait_for_spans(5, 15), running.stats
    yield running
    running.stop()


page = pytest.fixture(name="page")(checked_page)  # a fresh page; JS errors fail the test


def open_ui(page: Any, agent: DevAgent, fragment: str, selector: str) -> None:
    assert agent.ui_url is not None
    page.goto(agent.ui_url + fragment)
    page.wait_for_selector("html[data-ready=true]")
    page.wait_for_selector(selector)


def open_every_span(page: Any) -> None:
    for row in page.locator(".span-row").all():
        row.click()
    assert page.locator(".span-detail").count() == page.locator(".span-row").count()


def assert_nothing_ran(page: Any) -> None:
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img, svg svg, script:not([src])").count() == 0
    assert page.locator("script").count() == 4  # the page's own


def test_markup_in_every_field_stays_text_in_every_view(page: Any, agent: DevAgent) -> None:
    open_ui(page, agent, "#/search", ".result")
    page.select_option("#service", HOSTILE)
    page.wait_for_function("() => document.querySelectorAll('#operation option').length === 4")
    assert page.locator("#operation option").all_text_contents()[1:] == sorted(
        [HOSTILE, PAYLOADS[2], PAYLOADS[0]]
    )
    page.click("#find")
    page.wait_for_function("() => document.querySelectorAll('#results .result').length === 1")
    assert page.text_content(".result .trace-name") == f"{HOSTILE}: {HOSTILE}"
    assert page.text_content(".result .chip") == f"{HOSTILE} (3)"
    assert_nothing_ran(page)
    page.click(".result .result-title")
    page.wait_for_selector(".span-row")
    open_every_span(page)
    detail = page.locator(".span-detail").first
    for payload in PAYLOADS:
        cell = f"tr[data-key='{payload}'] td"
        assert detail.locator(f".span-tags {cell}").text_content() == payload
        assert detail.locator(f".process-tags {cell}").text_content() == payload
        assert detail.locator(f".log-fields {cell}").text_content() == payload
    assert page.text_content(".trace-title h2") == f"{HOSTILE}: {HOSTILE}"
    assert_nothing_ran(page)


def test_a_right_to_left_override_stays_inside_its_name(page: Any, agent: DevAgent) -> None:
    """Unterminated U+202E in a service or an operation name reorders that name only: the
    other name and the trace id after it are drawn where and as they are."""
    open_ui(page, agent, f"#/search?service={RLO}svc", ".result")
    title = page.locator(".result .result-title")
    assert title.locator(".trace-name").text_content() == f"{RLO}svc: {RLO}op"
    name_box = title.locator(".trace-name").bounding_box()
    id_box = title.locator(".trace-id").bounding_box()
    assert id_box["x"] >= name_box["x"] + name_box["width"]  # the id stays after the name
    service, operation = title.locator("bdi").all()
    assert service.bounding_box()["x"] < operation.bounding_box()["x"]
    title.click()
    page.wait_for_selector(".span-row")
    service, operation = page.locator(".trace-title h2 bdi").all()
    assert service.bounding_box()["x"] < operation.bounding_box()["x"]


@pytest.mark.parametrize("view", ["search", "trace"])
def test_a_very_long_name_does_not_widen_the_page(page: Any, agent: DevAgent, view: str) -> None:
    if view == "search":
        open_ui(page, agent, "#/search", ".result")
        page.wait_for_function("() => document.querySelectorAll('#results .result').length === 3")
    else:
        open_ui(page, agent, f"#/trace/{LONG_TRACE:032x}", ".span-row")
        open_every_span(page)
        row = page.locator(".span-row").first
        assert row.locator(".operation-name").bounding_box()["width"] < 1280
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1]


def test_a_trace_link_with_a_malformed_escape_says_so(page: Any, agent: DevAgent) -> None:
    """``#/trace/%E0%A4%A`` (a link cut short) shows the agent's answer, not a dead page."""
    open_ui(page, agent, "#/trace/%E0%A4%A", ".error-text")
    assert "not 1-32 hex digits" in page.text_content(".error-text")


#: Service names a browser would resolve away as path segments, and one that decodes to one.
DOT_SERVICES = {".": "one-dot", "..": "two-dots", "%2E%2E": "escaped-dots"}


def test_services_named_dot_and_dot_dot_list_their_operations(page: Any) -> None:
    """Choosing the service "." or ".." lists its operations: the page asks for them with
    the name in the query string (in a path, Chromium resolves even %2E%2E away)."""
    with DevAgent(
        compact_port=0, binary_port=None, http_port=None, ui_port=0, out=io.StringIO()
    ) as dots:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            for trace_id, (service, operation) in enumerate(DOT_SERVICES.items(), 0xD07):
                b = batch(service, [span(trace_id, 1, 0, operation, 0, 10)])
                udp.sendto(message(b), ("127.0.0.1", dots.compact_port))
        assert dots.wait_for_spans(len(DOT_SERVICES), 15), dots.stats
        open_ui(page, dots, "#/search", ".result")
        for service, operation in DOT_SERVICES.items():
            page.select_option("#service", service)
            page.wait_for_function(
                "op => [...document.querySelectorAll('#operation option')]"
                ".map((o) => o.value).join('|') === '|' + op",
                arg=operation,
            )
        open_ui(page, dots, "#/search?service=..&operation=two-dots", ".result")
        page.wait_for_function("() => document.querySelectorAll('#results .result').length === 1")
        assert page.input_value("#operation") == "two-dots"
        assert page.text_content(".result .trace-name") == "..: two-dots"

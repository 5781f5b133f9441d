"""The agent's web UI in a real browser (headless Chromium driven by playwright).

Traces reach a real ``DevAgent`` from real tracers over UDP and HTTP; the page is loaded
from the agent's UI port and everything is read back from the DOM the page built.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jaeger_lite.agent import DevAgent, JsonFile, trace_to_json
from jaeger_lite.agent.collect import Trace
from jaeger_lite.agent.tree import build_tree
from tests._browser import ARTIFACTS, DOCS, browser, checked_page
from tests._web_traces import XSS, Sent, checkout, lone_span, orphan, tracer

HOSTILE_OP = '<img src="x" onerror="window.__xss = 3">'


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from browser()


def parallel(agent: DevAgent, start: float) -> Sent:
    """root 0-100ms with A 10-90ms, B 20-50ms (inside A's time) and C 0-5ms: the root's
    end waits for A, then for C; B is never on the critical path."""
    tr = tracer(agent, "worker")
    ms = 0.001
    root = tr.start_span("fan-out", start_time=start)
    spans = {"fan-out": root}
    for name, begin, end in (("A", 10, 90), ("B", 20, 50), ("C", 0, 5)):
        child = tr.start_span(name, child_of=root, start_time=start + begin * ms)
        child.finish(start + end * ms)
        spans[name] = child
    root.finish(start + 100 * ms)
    tr.close()
    return Sent(root.context.trace_id, 4, span_ids={k: s.context.span_id for k, s in spans.items()})


@pytest.fixture(scope="module")
def agent() -> Iterator[tuple[DevAgent, dict[str, Sent]]]:
    running = DevAgent(
        compact_port=0, binary_port=0, http_port=0, ui_port=0, quiet_after=0.2, out=io.StringIO()
    ).start()
    now = time.time()
    sent = {
        "ok": checkout(running, now - 60),
        "declined": checkout(running, now - 30, declined=True, hostile=True),
        "slow": lone_span(running, "reports", "monthly", now - 20, 1.5, user="ann"),
        "hostile": lone_span(running, "web", HOSTILE_OP, now - 15, 0.002),
        "orphan": orphan(running, now - 10),
        "parallel": parallel(running, now - 5),
    }
    assert running.wait_for_spans(sum(s.spans for s in sent.values()), 15), running.stats
    yield running, sent
    running.stop()


page = pytest.fixture(name="page")(checked_page)  # a fresh page; JS errors fail the test


def hex_id(sent: Sent) -> str:
    return f"{sent.trace_id:016x}"


def open_ui(page: Any, agent: DevAgent, fragment: str = "") -> None:
    assert agent.ui_url is not None
    page.goto(agent.ui_url + fragment)
    page.wait_for_selector("html[data-ready=true]")


def open_trace(page: Any, agent: DevAgent, sent: Sent) -> None:
    open_ui(page, agent, f"#/trace/{hex_id(sent)}")
    page.wait_for_selector(".span-row")


def wait_for_results(page: Any, expected: list[str]) -> None:
    """Until the result list holds exactly these trace ids, in this order."""
    page.wait_for_function(
        """expected => {
            const results = document.querySelectorAll('#results .result');
            const ids = [...results].map(r => r.dataset.traceId);
            return JSON.stringify(ids) === JSON.stringify(expected);
        }""",
        arg=expected,
    )


def row(page: Any, agent: DevAgent, sent: Sent, operation: str) -> Any:
    return page.locator(f'.span-row[data-span-id="{sent.span_ids[operation]:016x}"]')


def test_search_finds_a_trace_by_service_tag_and_duration(page: Any, agent: Any) -> None:
    running, sent = agent
    open_ui(page, running)
    wait_for_results(
        page, [hex_id(sent[k]) for k in ("parallel", "orphan", "hostile", "slow", "declined", "ok")]
    )
    page.select_option("#service", "payments")
    page.fill("#tags", "http.status_code=500")
    page.click("#find")
    wait_for_results(page, [hex_id(sent["declined"])])
    assert "service=payments" in page.evaluate("location.hash")
    page.select_option("#service", "reports")
    page.fill("#tags", "")
    page.fill("#minDuration", "1s")
    page.click("#find")
    wait_for_results(page, [hex_id(sent["slow"])])
    page.fill("#minDuration", "1.6s")
    page.click("#find")
    wait_for_results(page, [])
    assert "No trace matches" in page.text_content("#results")


def test_a_result_shows_name_services_duration_and_errors(page: Any, agent: Any) -> None:
    running, sent = agent
    open_ui(page, running, "#/search?service=payments")
    wait_for_results(page, [hex_id(sent["declined"]), hex_id(sent["ok"])])
    item = page.locator(f'.result[data-trace-id="{hex_id(sent["declined"])}"]')
    assert item.locator(".trace-name").text_content() == "frontend: /checkout"
    assert item.locator(".result-duration").text_content() == "21.0ms"
    assert item.locator(".error-count").text_content() == "2 errors"
    chips = item.locator(".chip").all_text_contents()
    assert chips == ["frontend (4)", "inventory (2)", "payments (1)"]


def test_waterfall_rows_follow_the_tree_and_bars_scale_with_duration(page: Any, agent: Any) -> None:
    running, sent = agent
    spans = running.store.get(sent["ok"].trace_id)
    order: list[str] = []
    stack = list(reversed(build_tree(spans)))
    while stack:
        node = stack.pop()
        order.append(f"{node.span.span_id:016x}")
        stack.extend(reversed(node.children))
    open_trace(page, running, sent["ok"])
    # Every row's id and the geometry of its bar and timeline, read in one round trip.
    drawn = page.evaluate(
        """() => [...document.querySelectorAll('.span-row')].map(row => {
            const line = row.querySelector('.row-timeline').getBoundingClientRect();
            const bar = row.querySelector('.span-bar').getBoundingClientRect();
            return {id: row.dataset.spanId, x: bar.x - line.x, width: bar.width, line: line.width};
        })"""
    )
    assert [r["id"] for r in drawn] == order
    assert len(drawn) == len(spans) == 8
    start = min(s.start for s in spans)
    total = max(s.start + s.duration for s in spans) - start
    by_id = {f"{s.span_id:016x}": s for s in spans}
    for r in drawn:
        span = by_id[r["id"]]
        assert r["width"] == pytest.approx(span.duration / total * r["line"], abs=1.0)
        assert r["x"] == pytest.approx((span.start - start) / total * r["line"], abs=1.0)


def test_clicking_a_span_shows_its_tags_process_logs_and_references(page: Any, agent: Any) -> None:
    running, sent = agent
    open_trace(page, running, sent["ok"])
    row(page, running, sent["ok"], "SELECT stock").click()
    detail = page.locator(".span-detail")
    tags = detail.locator(".span-tags tr[data-key='db.statement'] td")
    assert tags.text_content() == "SELECT stock FROM items"
    assert detail.locator(".log-entry .log-time").text_content() == "+5.00ms"  # from trace start
    fields = detail.locator(".log-fields td").all_text_contents()
    assert fields == ["rows", "3"]
    assert detail.locator(".process-tags tr[data-key='hostname']").count() == 1
    reference = detail.locator(".reference").text_content()
    assert f"CHILD_OF {sent['ok'].span_ids['/reserve']:016x}" in reference
    facts = detail.locator(".facts").text_content()
    assert f"{sent['ok'].span_ids['SELECT stock']:016x}" in facts and "4.00ms" in facts
    row(page, running, sent["ok"], "SELECT stock").click()
    assert page.locator(".span-detail").count() == 0


def test_a_script_in_a_tag_value_shows_as_text_and_never_runs(page: Any, agent: Any) -> None:
    running, sent = agent
    open_ui(page, running, "#/search?service=web")
    wait_for_results(page, [hex_id(sent["hostile"])])
    assert page.locator(".result .trace-name").text_content() == f"web: {HOSTILE_OP}"
    open_trace(page, running, sent["declined"])
    row(page, running, sent["declined"], "SELECT stock").click()
    cell = page.locator(".span-tags tr[data-key='note'] td")
    assert cell.text_content() == XSS
    assert page.evaluate("window.__xss") is None
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator("script").count() == 4  # the page's own four, nothing injected


def test_collapsing_hides_the_descendants(page: Any, agent: Any) -> None:
    running, sent = agent
    open_trace(page, running, sent["ok"])
    visible = page.locator(".span-row:visible")
    assert visible.count() == 8
    row(page, running, sent["ok"], "GET inventory/reserve").locator(".toggle").click()
    assert visible.count() == 6  # /reserve and SELECT stock folded away
    row(page, running, sent["ok"], "GET inventory/reserve").locator(".toggle").click()
    assert visible.count() == 8
    page.click("#collapse-all")
    assert visible.count() == 1
    page.click("#expand-all")
    assert visible.count() == 8


def test_errors_follows_from_and_orphans_are_drawn_as_such(page: Any, agent: Any) -> None:
    running, sent = agent
    open_trace(page, running, sent["ok"])
    receipt = row(page, running, sent["ok"], "send-receipt")
    assert receipt.get_attribute("data-link") == "follows"
    outline = "el => getComputedStyle(el).outlineStyle"
    assert receipt.locator(".span-bar").evaluate(outline) == "dashed"
    assert (
        row(page, running, sent["ok"], "price-order").locator(".span-bar").evaluate(outline)
        == "none"
    )
    open_trace(page, running, sent["declined"])
    charge = row(page, running, sent["declined"], "/charge")
    assert "error" in (charge.get_attribute("class") or "")
    assert charge.locator(".error-marker").count() == 1
    assert row(page, running, sent["declined"], "price-order").locator(".error-marker").count() == 0
    open_trace(page, running, sent["orphan"])
    consume = page.locator(f'.span-row[data-span-id="{0x100:016x}"]')
    assert consume.get_attribute("data-link") == "orphan"
    assert "parent not received" in consume.text_content()
    assert (
        page.locator(f'.span-row[data-span-id="{0x101:016x}"]').get_attribute("data-link")
        == "child"
    )


def test_the_critical_path_is_highlighted(page: Any, agent: Any) -> None:
    running, sent = agent
    open_trace(page, running, sent["parallel"])
    marked = {
        name: "critical"
        in (row(page, running, sent["parallel"], name).get_attribute("class") or "")
        for name in ("fan-out", "A", "B", "C")
    }
    assert marked == {"fan-out": True, "A": True, "B": False, "C": True}
    a_bar = row(page, running, sent["parallel"], "A").locator(".span-bar").bounding_box()
    a_path = row(page, running, sent["parallel"], "A").locator(".critical-segment").bounding_box()
    assert a_path["width"] == pytest.approx(a_bar["width"], abs=1.0)  # all of A waits
    assert row(page, running, sent["parallel"], "fan-out").locator(".critical-segment").count() == 2


def test_new_traces_appear_without_reloading(page: Any) -> None:
    """A page left open on the search shows a trace that arrives later (own agent: the
    module's stays as the other tests expect it)."""
    with DevAgent(
        compact_port=0, binary_port=None, http_port=None, ui_port=0, out=io.StringIO()
    ) as running:
        first = lone_span(running, "early", "first", time.time() - 1, 0.002)
        open_ui(page, running)
        wait_for_results(page, [hex_id(first)])
        page.evaluate("window.__same_page = true")
        fresh = lone_span(running, "latecomer", "fresh", time.time(), 0.003)
        wait_for_results(page, [hex_id(fresh), hex_id(first)])
        assert page.evaluate("window.__same_page") is True
        assert page.locator("#service option[value=latecomer]").count() == 1


def test_clicking_a_point_of_the_scatter_plot_opens_its_trace(page: Any, agent: Any) -> None:
    running, sent = agent
    open_ui(page, running)
    page.click(f'circle[data-trace-id="{hex_id(sent["slow"])}"]')
    page.wait_for_selector(".trace-title h2")
    assert page.text_content(".trace-title h2") == "reports: monthly"
    assert page.evaluate("location.hash") == f"#/trace/{hex_id(sent['slow'])}"


def test_download_is_the_json_file_format(page: Any, agent: Any, tmp_path: Path) -> None:
    """The file holds what --json writes for the trace, and JsonFile can append to it."""
    running, sent = agent
    open_trace(page, running, sent["ok"])
    with page.expect_download() as download:
        page.click("#download-json")
    path = tmp_path / "trace.json"
    download.value.save_as(path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith('{"data": [\n') and text.endswith("\n]}\n")
    spans = running.store.get(sent["ok"].trace_id)
    assert json.loads(text) == {"data": [trace_to_json(sent["ok"].trace_id, spans)]}
    JsonFile(str(path)).append(
        Trace(sent["slow"].trace_id, running.store.get(sent["slow"].trace_id))
    )
    assert len(json.loads(path.read_text(encoding="utf-8"))["data"]) == 2


def json_file(agent: DevAgent, path: Path, *sent: Sent) -> Path:
    """A --json file (written by JsonFile, as the agent does) holding these traces."""
    out = JsonFile(str(path))
    for s in sent:
        out.append(Trace(s.trace_id, agent.store.get(s.trace_id) or []))
    return path


def test_a_json_file_opens_by_upload(page: Any, agent: Any, tmp_path: Path) -> None:
    running, sent = agent
    path = json_file(running, tmp_path / "two.json", sent["ok"], sent["slow"])
    open_ui(page, running)
    page.set_input_files("#file-input", str(path))
    wait_for_results(page, [hex_id(sent["slow"]), hex_id(sent["ok"])])
    assert page.is_visible("#file-banner") and page.text_content("#file-name") == "two.json"
    page.click(f'.result[data-trace-id="{hex_id(sent["ok"])}"] .result-title')
    page.wait_for_selector(".span-row")
    assert page.locator(".span-row").count() == 8
    assert page.text_content(".trace-title .badge") == "from two.json"


def test_a_file_opened_while_the_first_search_is_still_answering_stays(
    page: Any, agent: Any, tmp_path: Path
) -> None:
    """The page's own first search answers after the file is open (its /api/traces
    request held back 1.5 s in the page): the file's traces stay on screen."""
    running, sent = agent
    # The counter moves in a task queued once the late answer's JSON is read: the code
    # awaiting it (the search, and its drawing if it draws) has run by then.
    page.add_init_script(
        """(() => {
            const realFetch = window.fetch;
            const late = (url, options) => realFetch(url, options).then(response => {
                const json = response.json.bind(response);
                response.json = () => json().then(doc => {
                    setTimeout(() => { window.__lateAnswers = (window.__lateAnswers || 0) + 1; });
                    return doc;
                });
                return response;
            });
            window.fetch = (url, options) => String(url).startsWith('/api/traces')
                ? new Promise(done => setTimeout(done, 1500)).then(() => late(url, options))
                : realFetch(url, options);
        })()"""
    )
    path = json_file(running, tmp_path / "one-of-two.json", sent["ok"], sent["slow"])
    open_ui(page, running)
    page.set_input_files("#file-input", str(path))
    wait_for_results(page, [hex_id(sent["slow"]), hex_id(sent["ok"])])
    page.wait_for_function("() => window.__lateAnswers >= 1")  # came, and was handled
    assert page.text_content("#file-name") == "one-of-two.json"
    ids = page.eval_on_selector_all(".result", "rs => rs.map(r => r.dataset.traceId)")
    assert ids == [hex_id(sent["slow"]), hex_id(sent["ok"])]


def test_a_json_file_opens_by_drag_and_drop(page: Any, agent: Any, tmp_path: Path) -> None:
    running, sent = agent
    text = json_file(running, tmp_path / "one.json", sent["slow"]).read_text(encoding="utf-8")
    open_ui(page, running)
    page.evaluate(
        """text => {
            const data = new DataTransfer();
            data.items.add(new File([text], 'dropped.json', {type: 'application/json'}));
            document.body.dispatchEvent(new DragEvent('drop', {dataTransfer: data, bubbles: true}));
        }""",
        text,
    )
    page.wait_for_selector(".span-row")
    assert page.text_content(".trace-title h2") == "reports: monthly"
    page.evaluate(
        """() => {
            const data = new DataTransfer();
            data.items.add(new File(['{"nope": 1}'], 'bad.json'));
            document.body.dispatchEvent(new DragEvent('drop', {dataTransfer: data, bubbles: true}));
        }"""
    )
    page.wait_for_selector("#status.status-error")
    assert "Cannot open bad.json" in page.text_content("#status")


def test_an_unknown_trace_says_so(page: Any, agent: Any) -> None:
    running, _ = agent
    open_ui(page, running, "#/trace/00000000000000ff")
    page.wait_for_selector(".error-text")
    assert "trace not found" in page.text_content(".error-text")


def screenshot(page: Any, name: str, *, full_page: bool) -> Path:
    """Save a test artifact; UPDATE_SCREENSHOTS=1 also refreshes the copy under docs/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=full_page)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(path, DOCS / name)
    return path


def test_screenshots_of_the_trace_view_and_search(chromium: Any) -> None:
    """The pictures in the README: a demo-like agent, the declined checkout opened."""
    with DevAgent(
        compact_port=0, binary_port=None, http_port=0, ui_port=0, out=io.StringIO()
    ) as running:
        now = time.time()
        sent = [
            checkout(running, now - 300 + i * 20, scale=0.6 + (i % 5) * 0.35) for i in range(12)
        ]
        declined = checkout(running, now - 40, declined=True, scale=1.2)
        assert running.wait_for_spans(sum(s.spans for s in sent) + declined.spans, 15)
        context = chromium.new_context(viewport={"width": 1280, "height": 760})
        page = context.new_page()
        open_ui(page, running)
        wait_for_results(page, [hex_id(declined)] + [hex_id(s) for s in reversed(sent)][:19])
        search = screenshot(page, "web-ui-search.png", full_page=False)
        open_trace(page, running, declined)
        row(page, running, declined, "/charge").click()
        trace = screenshot(page, "web-ui-trace.png", full_page=True)
        context.close()
    for path in (search, trace):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000

"""The agent's Jaeger query API and web server (agent/query.py, agent/web.py) over real HTTP.

The JSON is checked field by field against the shape of Jaeger's query service: the
envelope of ``cmd/query/app/http_handler.go`` (``structuredResponse``) and the trace model
of ``model/json/model.go`` (Trace, Span, Reference, Process, Log, KeyValue).
"""

from __future__ import annotations

import dataclasses
import http.client
import io
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional
from urllib.parse import quote, urlsplit

import pytest

from jaeger_lite.agent import DevAgent, web
from tests._web_traces import Sent, checkout, lone_span, orphan, send_datagram, since_now_us
from tests.agent_batches import batch, body, span

HEX16 = re.compile(r"[0-9a-f]{16}")
TRACE_ID = re.compile(r"[0-9a-f]{16}|[0-9a-f]{32}")
TAG_TYPES = {"string": str, "bool": bool, "int64": int, "float64": (int, float), "binary": str}

#: Jaeger's structuredResponse: every answer, good or bad.
ENVELOPE = {"data", "total", "limit", "offset", "errors"}
#: model/json: required keys (and their JSON types); optional ones may be left out.
TRACE = {"traceID": str, "spans": list, "processes": dict, "warnings": (list, type(None))}
SPAN = {
    "traceID": str, "spanID": str, "flags": int, "operationName": str, "references": list,
    "startTime": int, "duration": int, "tags": list, "logs": list, "processID": str,
    "warnings": (list, type(None)),
}  # fmt: skip
SPAN_OPTIONAL = {"process", "parentSpanID"}
REFERENCE = {"refType": str, "traceID": str, "spanID": str}
PROCESS = {"serviceName": str, "tags": list}
LOG = {"timestamp": int, "fields": list}
KEY_VALUE = {"key": str, "type": str, "value": object}


def check_fields(obj: Any, shape: dict[str, Any], optional: frozenset[str] = frozenset()) -> None:
    assert isinstance(obj, dict), obj
    assert set(shape) <= set(obj) <= set(shape) | optional, (sorted(obj), sorted(shape))
    for key, kind in shape.items():
        assert isinstance(obj[key], kind), (key, obj[key])


def check_key_values(items: list[Any]) -> None:
    for kv in items:
        check_fields(kv, KEY_VALUE)
        assert kv["type"] in TAG_TYPES, kv
        assert isinstance(kv["value"], TAG_TYPES[kv["type"]]), kv


def check_trace(trace: dict[str, Any]) -> None:
    """One trace as Jaeger's query service writes it, every nested object included."""
    check_fields(trace, TRACE)
    assert TRACE_ID.fullmatch(trace["traceID"])
    for pid, process in trace["processes"].items():
        check_fields(process, PROCESS)
        check_key_values(process["tags"])
        assert isinstance(pid, str)
    for s in trace["spans"]:
        check_fields(s, SPAN, frozenset(SPAN_OPTIONAL))
        assert s["traceID"] == trace["traceID"] and HEX16.fullmatch(s["spanID"])
        assert s["processID"] in trace["processes"]
        check_key_values(s["tags"])
        for ref in s["references"]:
            check_fields(ref, REFERENCE)
            assert ref["refType"] in ("CHILD_OF", "FOLLOWS_FROM")
            assert TRACE_ID.fullmatch(ref["traceID"]) and HEX16.fullmatch(ref["spanID"])
        for entry in s["logs"]:
            check_fields(entry, LOG)
            check_key_values(entry["fields"])


def send_http(agent: DevAgent, b: Any) -> None:
    """POST a Batch, written by thrift's own classes, to the agent's collector port."""
    conn = http.client.HTTPConnection("127.0.0.1", agent.http_port or 0, timeout=10)
    try:
        conn.request("POST", "/api/traces", body(b), {"Content-Type": "application/x-thrift"})
        assert conn.getresponse().status == 202
    finally:
        conn.close()


class Client:
    """GETs (or other methods) against the agent's UI port, with the Host header we choose."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "", parts.port or 0

    def request(
        self, path: str, method: str = "GET", host: Optional[str] = None, body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            headers = {"Host": host or f"127.0.0.1:{self.port}"}
            conn.request(method, path, body=body or None, headers=headers)
            reply = conn.getresponse()
            return reply.status, dict(reply.getheaders()), reply.read()
        finally:
            conn.close()

    def json(self, path: str, status: int = 200) -> dict[str, Any]:
        code, headers, body = self.request(path)
        assert code == status, body
        assert headers["Content-Type"].startswith("application/json")
        doc = json.loads(body)
        check_fields(
            doc, {"data": object, "total": int, "limit": int, "offset": int, "errors": object}
        )
        return doc


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[DevAgent, Client, dict[str, Sent]]]:
    agent = DevAgent(
        compact_port=0, binary_port=0, http_port=0, ui_port=0, quiet_after=0.2, out=io.StringIO()
    ).start()
    now = time.time()
    sent = {
        "ok": checkout(agent, now - 60),
        "declined": checkout(agent, now - 30, declined=True),
        "slow": lone_span(agent, "reports", "monthly", now - 20, 1.5, user="ann"),
        "orphan": orphan(agent, now - 10),
    }
    # A fourth service joins the first trace over a third transport (binary UDP, written
    # by thrift itself), as a child of the checkout's root span.
    ok = sent["ok"]
    at = since_now_us(now - 60) + 500
    cache = span(ok.trace_id, 0xCAC4E, ok.span_ids["/checkout"], "GET cache", at, 300)
    send_datagram(agent, batch("cache", [cache], hostname="cache-1"), "binary")
    total = sum(s.spans for s in sent.values()) + 1
    assert agent.wait_for_spans(total, 15), agent.stats
    assert agent.ui_url is not None
    yield agent, Client(agent.ui_url), sent
    agent.stop()


def test_spans_from_three_transports_join_one_trace(served: Any) -> None:
    """UDP compact (frontend, inventory), HTTP (payments), UDP binary (cache): one trace."""
    _, client, sent = served
    doc = client.json(f"/api/traces/{sent['ok'].trace_id:016x}")
    (trace,) = doc["data"]
    services = {p["serviceName"] for p in trace["processes"].values()}
    assert services == {"frontend", "inventory", "payments", "cache"}
    assert len(trace["spans"]) == sent["ok"].spans + 1


def test_a_trace_has_jaegers_shape_field_by_field(served: Any) -> None:
    _, client, sent = served
    for key in ("ok", "declined", "orphan"):
        doc = client.json(f"/api/traces/{sent[key].trace_id:x}")
        assert doc["errors"] is None and doc["total"] == 0
        (trace,) = doc["data"]
        check_trace(trace)
    by_op = {s["operationName"]: s for s in trace["spans"]}  # the orphan trace
    assert by_op["consume"]["references"] == [
        {"refType": "CHILD_OF", "traceID": f"{0xABC0FF:016x}", "spanID": f"{0x77:016x}"}
    ]


def test_follows_from_and_logs_come_through(served: Any) -> None:
    _, client, sent = served
    (trace,) = client.json(f"/api/traces/{sent['ok'].trace_id:x}")["data"]
    by_op = {s["operationName"]: s for s in trace["spans"]}
    assert [r["refType"] for r in by_op["send-receipt"]["references"]] == ["FOLLOWS_FROM"]
    (log,) = by_op["SELECT stock"]["logs"]
    assert {f["key"]: f["value"] for f in log["fields"]} == {"event": "rows", "count": 3}
    assert by_op["SELECT stock"]["duration"] == sent["ok"].durations["SELECT stock"]


def test_services_and_operations(served: Any) -> None:
    _, client, _ = served
    services = client.json("/api/services")
    assert services["data"] == [
        "batch-job",
        "cache",
        "frontend",
        "inventory",
        "payments",
        "reports",
    ]
    assert services["total"] == 6
    ops = client.json("/api/services/frontend/operations")
    assert ops["data"] == [
        "/checkout", "GET inventory/reserve", "GET payments/charge", "price-order", "send-receipt"
    ]  # fmt: skip
    typed = client.json("/api/operations?service=payments")["data"]
    assert typed == [{"name": "/charge", "spanKind": "server"}]
    assert client.json("/api/operations?service=frontend&spanKind=client")["total"] == 2


def test_services_named_dot_and_dot_dot_list_their_operations() -> None:
    """A service name that is a path segment of its own ("." or "..", or one escaping them)
    lists its operations by both routes: percent-encoded (dots too, %2E) in the path, as
    Jaeger's UI builds it, and in the query string, where no client resolves it away."""
    names = [".", "..", "%2E%2E", "a/b", "is ? # &"]
    with DevAgent(
        compact_port=None, binary_port=None, http_port=0, ui_port=0, out=io.StringIO()
    ) as agent:
        assert agent.ui_url is not None
        for trace_id, name in enumerate(names, 0xD07):
            send_http(agent, batch(name, [span(trace_id, 1, 0, f"op of {name}")]))
        assert agent.wait_for_spans(len(names), 10), agent.stats
        client = Client(agent.ui_url)
        assert client.json("/api/services")["data"] == sorted(names)
        for name in names:
            segment = quote(name, safe="").replace(".", "%2E")
            ops = client.json(f"/api/services/{segment}/operations")
            assert ops["data"] == [f"op of {name}"], name
            typed = client.json(f"/api/operations?service={quote(name, safe='')}")["data"]
            assert typed == [{"name": f"op of {name}", "spanKind": ""}], name


def ids(doc: dict[str, Any]) -> list[int]:
    return [int(t["traceID"], 16) for t in doc["data"]]


def test_search_by_service_tags_and_duration(served: Any) -> None:
    _, client, sent = served
    tags = quote(json.dumps({"http.status_code": "500"}))
    assert ids(client.json(f"/api/traces?service=payments&tags={tags}")) == [
        sent["declined"].trace_id
    ]
    assert ids(client.json("/api/traces?service=payments&tag=error:true")) == [
        sent["declined"].trace_id
    ]
    assert ids(client.json("/api/traces?service=reports&minDuration=1s")) == [sent["slow"].trace_id]
    assert ids(client.json("/api/traces?service=reports&minDuration=1.6s")) == []
    fast_selects = "/api/traces?service=inventory&maxDuration=4ms&operation=SELECT%20stock"
    assert ids(client.json(fast_selects)) == [sent["declined"].trace_id, sent["ok"].trace_id]
    recent = client.json("/api/traces?limit=2")
    assert ids(recent) == [sent["orphan"].trace_id, sent["slow"].trace_id]


def test_search_by_time_window_and_lookback(served: Any) -> None:
    _, client, sent = served
    now_us = int(time.time() * 1e6)
    window = f"start={now_us - 40_000_000}&end={now_us - 25_000_000}"
    assert ids(client.json(f"/api/traces?service=frontend&{window}")) == [sent["declined"].trace_id]
    assert ids(client.json("/api/traces?service=frontend&lookback=45s")) == [
        sent["declined"].trace_id
    ]
    assert len(ids(client.json("/api/traces?service=frontend&lookback=2m"))) == 2


def test_search_by_trace_ids_reports_the_missing(served: Any) -> None:
    _, client, sent = served
    doc = client.json(f"/api/traces?traceID={sent['slow'].trace_id:x}&traceID=abc")
    assert ids(doc) == [sent["slow"].trace_id]
    assert doc["errors"] == [{"msg": "trace not found", "traceID": f"{0xABC:016x}"}]


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/api/traces/123", 404, "trace not found"),
        ("/api/traces/xyz", 400, "cannot parse traceID"),
        ("/api/traces/" + "f" * 33, 400, "cannot parse traceID"),
        ("/api/traces?service=a&minDuration=5", 400, "minDuration"),
        ("/api/traces?service=a&maxDuration=1h2x", 400, "maxDuration"),
        ("/api/traces?service=a&minDuration=2s&maxDuration=1s", 400, "greater than"),
        # Past what Go's time.Duration holds (1e400 is infinity as a float): 400, not 500.
        ("/api/traces?minDuration=" + "1" * 400 + "h", 400, "invalid duration"),
        ("/api/traces?lookback=300000d", 400, "invalid duration"),
        ("/api/traces?service=a&tags=%7Bnot%20json", 400, "malformed 'tags'"),
        ("/api/traces?service=a&tags=%5B1%5D", 400, "malformed 'tags'"),
        ("/api/traces?service=a&tag=nocolon", 400, "malformed 'tag'"),
        ("/api/traces?service=a&limit=ten", 400, "limit"),
        ("/api/traces?service=a&limit=-1", 400, "limit"),
        ("/api/traces?service=a&start=yesterday", 400, "start"),
        ("/api/operations", 400, "'service' is required"),
        ("/api/nothing", 404, "no such API endpoint"),
        ("/nothing.html", 404, "not found"),
        ("/../pyproject.toml", 404, "not found"),
        ("/%2e%2e/pyproject.toml", 404, "not found"),
    ],
)
def test_bad_requests_get_a_json_error(served: Any, path: str, status: int, message: str) -> None:
    _, client, _ = served
    doc = client.json(path, status)
    assert doc["data"] is None
    (error,) = doc["errors"]
    assert error["code"] == status and message in error["msg"]
    assert "Traceback" not in error["msg"]


def test_a_wait_too_long_for_a_float_is_the_longest_wait(served: Any) -> None:
    """``wait`` beyond MAX_WAIT is MAX_WAIT, even past what a float holds (it was a 500)."""
    _, client, _ = served
    doc = client.json("/api/ui/changes?since=-1&wait=" + "9" * 400, 200)
    assert doc["errors"] is None and doc["data"]["version"] >= 0


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_the_ui_is_read_only(served: Any, method: str) -> None:
    agent, client, _ = served
    before = len(agent.store)
    status, headers, body = client.request("/api/traces", method, body=b"{}")
    assert status == 405 and headers["Content-Type"].startswith("application/json")
    assert json.loads(body)["errors"][0]["code"] == 405
    assert len(agent.store) == before


def test_a_stalled_client_is_disconnected_and_blocks_nobody(
    served: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client that stops mid-request (slowloris) or idles on a keep-alive connection is
    closed at the request head's deadline instead of holding a thread forever; others are
    served."""
    from jaeger_lite.agent import httplimits

    limits = dataclasses.replace(httplimits.LIMITS, head_timeout=0.5)
    monkeypatch.setattr(httplimits, "LIMITS", limits)
    with web.WebUI(served[0].store) as ui:
        client = Client(ui.url)
        stalled = []
        for partial in (b"GET /api/services HTTP/1.1\r\nHost: localhost\r\n", b"GET /api/ser"):
            conn = socket.create_connection(("127.0.0.1", client.port), timeout=5)
            conn.sendall(partial)
            stalled.append(conn)
        assert client.request("/api/services")[0] == 200  # while the others stall
        for conn in stalled:
            with conn:
                assert conn.recv(65536) == b""


def test_requests_for_other_host_names_are_refused_on_loopback(served: Any) -> None:
    """DNS rebinding: a page of evil.example resolving to 127.0.0.1 gets nothing."""
    _, client, _ = served
    status, _, body = client.request("/api/services", host="evil.example:16686")
    assert status == 403 and b"localhost" in body
    for name in ("localhost", f"localhost:{client.port}", f"[::1]:{client.port}"):
        assert client.request("/api/services", host=name)[0] == 200


def test_pages_are_served_with_a_strict_content_security_policy(served: Any) -> None:
    _, client, _ = served
    status, headers, body = client.request("/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b'<script src="/app.js" defer></script>' in body
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "Access-Control-Allow-Origin" not in headers
    for name, kind in (("/app.js", "text/javascript"), ("/style.css", "text/css")):
        code, h, _ = client.request(name)
        assert code == 200 and h["Content-Type"].startswith(kind)
    assert client.request("/trace/abc")[0] == 200  # Jaeger UI's links open the page


def test_dependencies_count_calls_between_services(served: Any) -> None:
    _, client, _ = served
    links = {
        (d["parent"], d["child"]): d["callCount"] for d in client.json("/api/dependencies")["data"]
    }
    assert links == {
        ("frontend", "inventory"): 2,
        ("frontend", "payments"): 2,
        ("frontend", "cache"): 1,
    }


def test_changes_answer_when_spans_arrive(served: Any) -> None:
    agent, client, _ = served
    version = client.json("/api/ui/changes")["data"]["version"]
    timer = threading.Timer(0.1, lone_span, args=(agent, "late", "op", time.time(), 0.001))
    timer.start()
    began = time.monotonic()
    doc = client.json(f"/api/ui/changes?since={version}&wait=20")
    assert doc["data"]["version"] > version
    assert time.monotonic() - began < 15
    timer.join()


def test_evictions_are_counted_in_the_summary() -> None:
    with DevAgent(
        compact_port=0, binary_port=None, http_port=None, max_traces=2, out=io.StringIO()
    ) as agent:
        for i in range(3):
            lone_span(agent, "svc", f"op{i}", time.time(), 0.001)
        assert agent.wait_for_spans(3, 10)
    assert agent.stats.evicted == 1
    assert "1 trace evicted (--max-traces 2)" in agent.summary()


def test_the_ui_is_off_unless_asked_for() -> None:
    with DevAgent(compact_port=0, binary_port=None, http_port=None, out=io.StringIO()) as agent:
        assert agent.ui_url is None
        assert "web UI" not in agent.banner()


def test_every_ui_file_is_served_and_shipped() -> None:
    """agent/ui/ and the server's list agree, and pyproject ships the folder as package data."""
    ui = Path(web.__file__).parent / "ui"
    assert sorted(p.name for p in ui.iterdir()) == sorted(web.STATIC)
    assert all(web.read_static(name) for name in web.STATIC)
    pyproject = (Path(__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert '"agent/ui/*"' in pyproject


def test_a_malformed_request_gets_a_json_error(served: Any) -> None:
    _, client, _ = served
    with socket.create_connection((client.host, client.port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + b"a" * 70_000 + b"\r\n\r\n")
        reply = sock.makefile("rb").read()
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431") and b"application/json" in head
    assert json.loads(body)["errors"][0]["code"] == 431

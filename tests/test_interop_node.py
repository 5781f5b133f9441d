"""jaeger_lite against jaeger-client for Node: an independent Thrift stack (thriftrw), the
Jaeger IDL as Node ships it, binary UDP on 6832, HTTP, and its ``uber-trace-id`` codec.

The peer runs as one long-lived ``node`` process per module (tests/interop_node/harness.js)
answering JSON lines. It is installed by ``scripts/setup-interop`` into ``.interop/node``;
without node or that install every test here skips, saying so.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import pytest

import jaeger_lite
from jaeger_lite import HTTPSender, RemoteReporter, SpanContext, Tracer, child_of, follows_from
from jaeger_lite.agent import DevAgent
from jaeger_lite.agent.tree import CHILD, FOLLOWS, parent_of
from tests._wire_helpers import Collector

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / ".interop" / "node" / "node_modules"
HARNESS = Path(__file__).resolve().parent / "interop_node" / "harness.js"
IDL = Path(jaeger_lite.__file__).resolve().parent / "idl" / "jaeger.thrift"  # as shipped
WAIT = 10.0
MASK64 = (1 << 64) - 1


class Node:
    """The harness process: one request line in, one answer line out."""

    def __init__(self) -> None:
        env = dict(os.environ, JAEGER_LITE_NODE_MODULES=str(NODE_MODULES), JAEGER_LITE_IDL=str(IDL))
        self.proc = subprocess.Popen(
            ["node", str(HARNESS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self._lock = threading.Lock()
        assert self._read() == "ready"

    def _read(self) -> Any:
        assert self.proc.stdout is not None
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self.proc.stdout.readline()))  # type: ignore[union-attr]
        reader.start()
        reader.join(WAIT)
        if not result or not result[0]:
            self.proc.kill()
            raise AssertionError(f"node harness did not answer: {self.proc.stderr.read()}")  # type: ignore[union-attr]
        answer = json.loads(result[0])
        if not answer["ok"]:
            raise AssertionError(answer["error"])
        return answer["result"]

    def call(self, cmd: str, **args: Any) -> Any:
        assert self.proc.stdin is not None
        with self._lock:
            self.proc.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
            self.proc.stdin.flush()
            return self._read()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def node() -> Iterator[Node]:
    if shutil.which("node") is None:
        pytest.skip("node is not installed (needed for the jaeger-client-node interop tests)")
    if not (NODE_MODULES / "jaeger-client" / "package.json").exists():
        pytest.skip("jaeger-client for Node is not installed: run scripts/setup-interop")
    peer = Node()
    yield peer
    peer.close()


# -- helpers ---------------------------------------------------------------------------------


def u64(hex_value: str) -> int:
    """A thriftrw i64 (8 bytes as hex) as our unsigned id."""
    return int(hex_value, 16)


def node_tags(tags: Optional[list[dict[str, Any]]]) -> dict[str, Any]:
    """thriftrw's decoded tags -> {key: (vType, value)}."""
    out = {}
    for tag in tags or []:
        kind = tag["vType"]
        field = {"STRING": "vStr", "DOUBLE": "vDouble", "BOOL": "vBool", "LONG": "vLong"}.get(
            kind, "vBinary"
        )
        value = tag.get(field)
        if kind == "LONG":
            value = int(value, 16)
            value = value - (1 << 64) if value >> 63 else value
        elif kind == "BINARY":
            value = bytes.fromhex(value["$bytes"])
        elif isinstance(value, dict):
            value = float(value["$double"])
        out[tag["key"]] = (kind, value)
    return out


def post_spans(tracer_factory: Any) -> bytes:
    """Run ``tracer_factory(reporter)`` -> spans finish; return the one HTTP body sent."""
    collector = Collector()
    try:
        reporter = RemoteReporter(HTTPSender(collector.url), flush_interval=60.0)
        tracer = Tracer("py-service", reporter, tags={"region": "eu-west", "pi": 3.14})
        tracer_factory(tracer)
        tracer.close(WAIT)
        assert len(collector.requests) == 1
        body: bytes = collector.requests[0]["body"]
        return body
    finally:
        collector.stop()


class NoStr:
    def __str__(self) -> str:
        raise RuntimeError("no str")


# -- (a) Node decodes what jaeger_lite's HTTPSender posts ----------------------------------


def _make_every_kind_of_span(tracer: Tracer) -> dict[str, Any]:
    made: dict[str, Any] = {}
    # A remote parent with every id at its extreme: a 128-bit trace id with both halves'
    # top bits set, a span id >= 2**63.
    remote = SpanContext((0xFFFF_FFFF_FFFF_FFFE << 64) | 0x8000_0000_0000_0001, MASK64, 0, 1)
    root = tracer.start_span("résumé ☃ 処理", child_of=remote)
    root.set_tag("str", "naïve – ✓")
    root.set_tag("empty", "")
    root.set_tag("true", True)
    root.set_tag("false", False)
    root.set_tag("int", -(1 << 63))
    root.set_tag("int-max", (1 << 63) - 1)
    root.set_tag("big", 1 << 70)
    root.set_tag("float", -2.5)
    root.set_tag("nan", float("nan"))
    root.set_tag("inf", float("-inf"))
    root.set_tag("bytes", b"\x00\xff\x80")
    root.set_tag("obj", {"a": 1})
    root.set_tag("nostr", NoStr())
    root.log_kv({"event": "ünïcode", "n": 7, "ok": True}, timestamp=1_700_000_000.5)
    root.log_kv({"x": 1.5})
    other = SpanContext(0x1234, 0xFEDC_BA98_7654_3210, 0, 1)
    child = tracer.start_span(
        "child", references=[child_of(root), follows_from(other), child_of(other)]
    )
    child.finish()
    made["later"] = tracer.start_span("later", references=[follows_from(root)])
    made["later"].finish()
    root.finish()
    made.update(remote=remote, root=root, child=child, other=other)
    return made


@pytest.mark.parametrize("idl", ["node", "ours"])
def test_node_thriftrw_decodes_http_batch(node: Node, idl: str) -> None:
    """thriftrw reads our HTTP Batch with Node's IDL and ours: every field, exact."""
    made: dict[str, Any] = {}
    body = post_spans(lambda tracer: made.update(_make_every_kind_of_span(tracer)))
    batch = node.call("decode_batch", body=base64.b64encode(body).decode(), idl=idl)

    process = node_tags(batch["process"]["tags"])
    assert batch["process"]["serviceName"] == "py-service"
    assert process["region"] == ("STRING", "eu-west")
    assert process["pi"] == ("DOUBLE", 3.14)
    assert process["jaeger.version"][1].startswith("Python-jaeger_lite-")
    assert {"hostname", "ip", "client-uuid"} <= set(process)

    spans = {s["operationName"]: s for s in batch["spans"]}
    assert set(spans) == {"résumé ☃ 処理", "child", "later"}
    root, child, later = spans["résumé ☃ 処理"], spans["child"], spans["later"]
    trace_id = made["remote"].trace_id
    for span in (root, child, later):
        assert u64(span["traceIdHigh"]) == trace_id >> 64
        assert u64(span["traceIdLow"]) == trace_id & MASK64
        assert span["flags"] == 1
    assert u64(root["spanId"]) == made["root"].context.span_id
    assert u64(root["parentSpanId"]) == MASK64  # the remote parent's id, >= 2**63
    assert "references" not in root  # the parent is parentSpanId; no redundant CHILD_OF
    assert u64(child["parentSpanId"]) == made["root"].context.span_id
    other = made["other"]
    assert [
        (r["refType"], u64(r["traceIdHigh"]), u64(r["traceIdLow"]), u64(r["spanId"]))
        for r in child["references"]
    ] == [("FOLLOWS_FROM", 0, 0x1234, other.span_id), ("CHILD_OF", 0, 0x1234, other.span_id)]
    assert u64(later["parentSpanId"]) == 0
    assert [(r["refType"], u64(r["spanId"])) for r in later["references"]] == [
        ("FOLLOWS_FROM", made["root"].context.span_id)
    ]
    py_root = made["root"]
    # The nearest microsecond (start_time * 1e6 itself is a float, off by up to 0.25 µs).
    assert abs(u64(root["startTime"]) - py_root.start_time * 1e6) <= 0.75
    assert abs(u64(root["duration"]) - py_root.duration * 1e6) <= 0.5 + 1e-6  # type: ignore[operator]

    tags = node_tags(root["tags"])
    assert tags["str"] == ("STRING", "naïve – ✓")
    assert tags["empty"] == ("STRING", "")
    assert tags["true"] == ("BOOL", True) and tags["false"] == ("BOOL", False)
    assert tags["int"] == ("LONG", -(1 << 63)) and tags["int-max"] == ("LONG", (1 << 63) - 1)
    assert tags["big"] == ("STRING", str(1 << 70))
    assert tags["float"] == ("DOUBLE", -2.5)
    assert tags["nan"][0] == "DOUBLE" and math.isnan(tags["nan"][1])
    assert tags["inf"] == ("DOUBLE", float("-inf"))
    assert tags["bytes"] == ("BINARY", b"\x00\xff\x80")
    assert tags["obj"] == ("STRING", "{'a': 1}")
    assert tags["nostr"] == ("STRING", "<unprintable NoStr>")
    first, second = root["logs"]
    assert u64(first["timestamp"]) == 1_700_000_000_500_000
    assert node_tags(first["fields"]) == {
        "event": ("STRING", "ünïcode"),
        "n": ("LONG", 7),
        "ok": ("BOOL", True),
    }
    assert node_tags(second["fields"]) == {"x": ("DOUBLE", 1.5)}


def test_node_thriftrw_decodes_many_spans(node: Node) -> None:
    """A 300-span body (list sizes past the one-byte forms) decodes span for span."""

    def make(tracer: Tracer) -> None:
        for i in range(300):
            with tracer.start_span(f"op{i}") as span:
                span.set_tag("i", i)

    body = post_spans(make)
    batch = node.call("decode_batch", body=base64.b64encode(body).decode(), idl="node")
    assert [s["operationName"] for s in batch["spans"]] == [f"op{i}" for i in range(300)]
    assert [node_tags(s["tags"])["i"] for s in batch["spans"]] == [("LONG", i) for i in range(300)]


# -- (b) jaeger_lite's agent decodes what jaeger-client-node sends ---------------------------


@pytest.fixture
def agent() -> Iterator[DevAgent]:
    with DevAgent(
        compact_port=None, binary_port=0, http_port=0, quiet_after=0.05, out=io.StringIO()
    ) as a:
        yield a


NODE_SPANS = [
    {
        "name": "root ✓",
        "tags": {
            "s": "ünï",
            "n": 42,
            "f": 2.5,
            "b": True,
            "bin": {"$bytes": "00ff"},
            "o": {"k": 1},
        },
        "baggage": {"user id": "a b+c"},
        "logs": [{"event": "started", "count": 3}],
    },
    {
        "name": "child",
        "child_of": 0,
        "tags": {"error": True},
        "logs": [{"event": "error", "message": "boom"}],
    },
    {"name": "later", "follows_from": 0},
]


@pytest.mark.parametrize("transport", ["udp-binary", "http"])
@pytest.mark.parametrize("use_128bit", [False, True])
def test_agent_decodes_jaeger_client_node(
    node: Node, agent: DevAgent, transport: str, use_128bit: bool
) -> None:
    """Node's binary datagrams (6832) and HTTP bodies: ids, links, tag types, logs."""
    args: dict[str, Any] = {"transport": "udp", "port": agent.binary_port}
    if transport == "http":
        args = {"transport": "http", "endpoint": agent.http_url}
    made = node.call(
        "emit",
        service="node-service",
        process_tags={"env": "test", "weight": 1.5},
        trace_id_128bit=use_128bit,
        spans=NODE_SPANS,
        **args,
    )
    assert agent.wait_for_spans(3, WAIT)
    agent.flush()
    assert agent.stats.bad_datagrams == 0 and agent.stats.bad_http_bodies == 0
    spans = {s.operation: s for tr in agent.traces for s in tr.spans}
    root, child, later = spans["root ✓"], spans["child"], spans["later"]
    root_ids, child_ids, later_ids = made
    assert root.trace_id == int(root_ids["trace"], 16)
    assert (root.trace_id >> 64 != 0) == use_128bit
    assert root.span_id == int(root_ids["span"], 16) and root.parent_id == 0
    assert child.span_id == int(child_ids["span"], 16)
    assert parent_of(child) == (root.span_id, CHILD)
    assert parent_of(later) == (root.span_id, FOLLOWS)
    assert child.trace_id == later.trace_id == root.trace_id
    assert child.is_error and child.error_message == "boom"
    tags = {t.key: (t.type, t.value) for t in root.tags}
    assert tags["s"] == ("string", "ünï")
    assert tags["n"] == ("float64", 42.0)  # Node sends every number as a DOUBLE
    assert tags["f"] == ("float64", 2.5)
    assert tags["b"] == ("bool", True)
    assert tags["bin"] == ("binary", b"\x00\xff")
    assert tags["o"] == ("string", '{"k":1}')
    fields = [{f.key: f.value for f in log.fields} for log in root.logs]
    assert {"event": "started", "count": 3.0} in fields
    assert {"event": "baggage", "key": "user id", "value": "a b+c"} in [
        {k: v for k, v in f.items() if k in ("event", "key", "value")} for f in fields
    ]
    assert root.process.service == "node-service"
    process = {t.key: t.value for t in root.process.tags}
    assert process["env"] == "test" and process["weight"] == 1.5
    assert str(process["jaeger.version"]).startswith("Node-")


# -- (c) uber-trace-id / uberctx- between Node's tracer and ours ------------------------------

CONTEXTS = [
    # (trace id, span id, flags, baggage)
    (0x1, 0x2, 1, {}),
    (MASK64, 1 << 63, 1, {"k": "v"}),
    ((0xABCD << 64) | 0x0000_0000_0000_0042, 0x00FF, 3, {"user-id": "a b+c%d", "empty": ""}),
    ((1 << 127) | 5, MASK64, 0, {"uni": "ü ✓"}),
]


@pytest.mark.parametrize("format", ["http_headers", "text_map"])
@pytest.mark.parametrize(("trace_id", "span_id", "flags", "baggage"), CONTEXTS)
def test_node_extracts_what_we_inject(
    node: Node, format: str, trace_id: int, span_id: int, flags: int, baggage: dict[str, str]
) -> None:
    """Node reads our headers: ids (128-bit, >= 2**63), flags, baggage with spaces."""
    tracer = Tracer("py")
    carrier: dict[str, str] = {}
    tracer.inject(SpanContext(trace_id, span_id, 0, flags, baggage), format, carrier)
    got = node.call("extract", format=format, carrier=carrier)
    assert got["valid"]
    width = 32 if trace_id >> 64 else 16
    assert got["trace"] == f"{trace_id:0{width}x}"
    assert got["span"] == f"{span_id:016x}"
    assert got["flags"] == flags
    assert got["sampled"] == bool(flags & 1) and got["debug"] == bool(flags & 2)
    assert got["baggage"] == baggage


@pytest.mark.parametrize("format", ["http_headers", "text_map"])
@pytest.mark.parametrize(("trace_id", "span_id", "flags", "baggage"), CONTEXTS)
def test_we_extract_what_node_injects(
    node: Node, format: str, trace_id: int, span_id: int, flags: int, baggage: dict[str, str]
) -> None:
    """We read Node's headers (unpadded ids, parent '0'): ids, flags, baggage."""
    carrier = node.call(
        "inject",
        format=format,
        trace=f"{trace_id:x}",
        span=f"{span_id:x}",
        flags=flags,
        baggage=baggage,
    )
    context = Tracer("py").extract(format, carrier)
    assert context is not None
    assert (context.trace_id, context.span_id, context.flags) == (trace_id, span_id, flags)
    assert dict(context.baggage) == baggage


def test_node_debug_id_reaches_us(node: Node) -> None:
    """A Node span context round-tripped through us keeps the debug flag."""
    carrier = node.call("inject", format="http_headers", trace="abc", span="def", flags=3)
    tracer = Tracer("py")
    span = tracer.start_span("server", child_of=tracer.extract("http_headers", carrier))
    assert span.context.is_debug and span.context.is_sampled
    out: dict[str, str] = {}
    tracer.inject(span.context, "http_headers", out)
    got = node.call("extract", format="http_headers", carrier=out)
    assert got["debug"] and got["sampled"] and got["trace"] == f"{0xABC:016x}"


def test_node_reads_our_jaeger_debug_id(node: Node) -> None:
    """A jaeger-debug-id context we pass on (no trace yet) is read by Node as one."""
    tracer = Tracer("py")
    context = tracer.extract("http_headers", {"jaeger-debug-id": "dbg-1", "uberctx-k": "v"})
    assert context is not None and context.debug_id == "dbg-1"
    carrier: dict[str, str] = {}
    tracer.inject(context, "http_headers", carrier)
    got = node.call("extract", format="http_headers", carrier=carrier)
    assert got["debug_id"] == "dbg-1"
    assert got["baggage"] == {"k": "v"}


# -- B3 between Node's ZipkinB3TextMapCodec and ours -----------------------------------------


@pytest.mark.parametrize(("trace_id", "span_id", "flags", "baggage"), CONTEXTS)
def test_b3_both_ways(
    node: Node, trace_id: int, span_id: int, flags: int, baggage: dict[str, str]
) -> None:
    """B3 headers cross both ways: Node writes ids without leading zeros (we pad them);
    Node's B3 codec carries baggage as uberctx-*, which "b3,jaeger" reads and writes."""
    tracer = Tracer("py", propagation="b3,jaeger")
    carrier = node.call(
        "inject",
        format="b3_http_headers",
        trace=f"{trace_id:x}",
        span=f"{span_id:x}",
        flags=flags,
        baggage=baggage,
    )
    context = tracer.extract("http_headers", carrier)
    assert context is not None
    assert (context.trace_id, context.span_id, context.flags) == (trace_id, span_id, flags)
    assert dict(context.baggage) == baggage

    out: dict[str, str] = {}
    tracer.inject(SpanContext(trace_id, span_id, 0, flags, baggage), "http_headers", out)
    got = node.call("extract", format="b3_http_headers", carrier=out)
    width = 32 if trace_id >> 64 else 16
    assert (got["trace"], got["span"]) == (f"{trace_id:0{width}x}", f"{span_id:016x}")
    assert (got["sampled"], got["debug"]) == (bool(flags & 1), bool(flags & 2))
    assert got["baggage"] == baggage

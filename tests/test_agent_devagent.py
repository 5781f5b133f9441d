"""Tests for jaeger_lite.agent.devagent: the agent in-process, over real loopback sockets."""

from __future__ import annotations

import dataclasses
import io
import json
import socket
import struct
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

import pytest

from jaeger_lite._gen.jaeger import ttypes as t
from jaeger_lite.agent import DevAgent
from tests.agent_batches import batch, body, message, span

WAIT = 5.0


@pytest.fixture
def out() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def agent(out: io.StringIO) -> Iterator[DevAgent]:
    with DevAgent(
        compact_port=0, binary_port=0, http_port=0, quiet_after=0.05, out=out, width=100
    ) as a:
        yield a


@pytest.fixture
def udp() -> Iterator[socket.socket]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    yield s
    s.close()


def post(
    agent: DevAgent,
    data: bytes,
    content_type: Optional[str] = "application/x-thrift",
    path: str = "/api/traces",
) -> int:
    """POST with urllib; return the status code."""
    headers = {"Content-Type": content_type} if content_type else {}
    url = f"http://127.0.0.1:{agent.http_port}{path}?format=jaeger.thrift"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=WAIT) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_ephemeral_ports_are_bound_and_reported(agent: DevAgent) -> None:
    """Port 0 binds a free port per listener; the banner and properties name them."""
    ports = [agent.compact_port, agent.binary_port, agent.http_port]
    assert all(p for p in ports) and len(set(ports)) == 3
    banner = agent.banner()
    assert f"udp://127.0.0.1:{agent.compact_port}" in banner
    assert f"http://127.0.0.1:{agent.http_port}/api/traces" in banner


def test_listener_set_to_none_is_off(out: io.StringIO) -> None:
    """None turns a listener off: nothing is bound for it."""
    with DevAgent(compact_port=0, binary_port=None, http_port=None, out=out) as a:
        assert (
            a.compact_port and a.binary_port is None and a.http_port is None and a.http_url is None
        )


def test_port_in_use_raises(udp: socket.socket) -> None:
    """Starting on a taken port fails with OSError and leaves nothing running."""
    udp.bind(("127.0.0.1", 0))
    with pytest.raises(OSError):
        DevAgent(compact_port=udp.getsockname()[1], binary_port=None, http_port=None).start()


def test_compact_datagram_prints_a_trace(
    agent: DevAgent, udp: socket.socket, out: io.StringIO
) -> None:
    """A compact emitBatch on UDP becomes a printed tree and time axis."""
    udp.sendto(
        message(batch("shop", [span(9, 1, 0, "checkout"), span(9, 2, 1, "pay", 10, 100)])),
        ("127.0.0.1", agent.compact_port),
    )
    assert agent.wait_for_traces(1, WAIT)
    text = out.getvalue()
    assert "shop: checkout" in text and "└── shop: pay" in text and "█" in text
    assert agent.stats.spans == 2 and agent.stats.batches == 1


def test_binary_datagram_is_decoded(agent: DevAgent, udp: socket.socket) -> None:
    """Binary emitBatch datagrams are accepted on the binary port."""
    udp.sendto(message(batch("node-svc", [span(3, 1)]), "binary"), ("127.0.0.1", agent.binary_port))
    assert agent.wait_for_traces(1, WAIT)
    assert agent.traces[0].spans[0].process.service == "node-svc"


def test_trace_from_several_services_is_printed_once(
    agent: DevAgent, udp: socket.socket, out: io.StringIO
) -> None:
    """Spans of one trace from two processes and two transports form one trace."""
    udp.sendto(message(batch("a", [span(77, 1, 0, "front")])), ("127.0.0.1", agent.compact_port))
    assert post(agent, body(batch("b", [span(77, 2, 1, "back")]))) == 202
    assert agent.wait_for_spans(2, WAIT) and agent.wait_for_traces(1, WAIT)
    assert [len(tr.spans) for tr in agent.traces] == [2]
    assert out.getvalue().count("── trace 000000000000004d") == 1


def test_http_accepts_both_content_types(agent: DevAgent) -> None:
    """application/x-thrift and application/vnd.apache.thrift.binary get 202."""
    data = body(batch("s", [span(1, 1)]))
    assert post(agent, data, "application/x-thrift") == 202
    assert post(agent, data, "application/vnd.apache.thrift.binary; charset=x") == 202


def test_http_wrong_content_type_is_400(agent: DevAgent) -> None:
    """Any other Content-Type is refused, as the Jaeger collector does."""
    assert post(agent, body(batch("s", [span(1, 1)])), "application/json") == 400
    assert post(agent, body(batch("s", [span(1, 1)])), None) == 400


def test_http_undecodable_body_is_400_and_counted(agent: DevAgent) -> None:
    """A body that is not a Batch gets 400 and is counted."""
    assert post(agent, b"\x00\x01garbage") == 400
    assert agent.stats.bad_http_bodies == 1


def post_chunked(agent: DevAgent, chunks: list[bytes]) -> int:
    """POST ``chunks`` with ``Transfer-Encoding: chunked`` (no Content-Length), as
    jaeger-client for Node does; return the status code."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", agent.http_port, timeout=WAIT)
    try:
        conn.request(
            "POST",
            "/api/traces",
            iter(chunks),
            {"Content-Type": "application/x-thrift"},
            encode_chunked=True,
        )
        return conn.getresponse().status
    finally:
        conn.close()


def post_encoded(agent: DevAgent, data: bytes, encoding: str) -> tuple[int, bytes]:
    """POST a Thrift body with this Content-Encoding over http.client; (status, answer)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", agent.http_port, timeout=WAIT)
    try:
        headers = {"Content-Type": "application/x-thrift", "Content-Encoding": encoding}
        conn.request("POST", "/api/traces", data, headers)
        reply = conn.getresponse()
        return reply.status, reply.read()
    finally:
        conn.close()


def test_http_gzip_and_deflate_bodies_are_inflated(agent: DevAgent) -> None:
    """Jaeger's collector takes gzip'd batches on /api/traces; so does the agent (and
    deflate, as its OTLP port): the Batch, written by thrift's own classes, is decoded."""
    import gzip
    import zlib

    packed = {
        "gzip": gzip.compress(body(batch("zipped", [span(8, 1, 0, "gz-op")]))),
        "deflate": zlib.compress(body(batch("deflated", [span(9, 1, 0, "zlib-op")]))),
    }
    for encoding, data in packed.items():
        assert post_encoded(agent, data, encoding)[0] == 202, encoding
    assert agent.wait_for_spans(2, WAIT)
    assert agent.store.services() == ["deflated", "zipped"]
    assert agent.store.operations("zipped") == [("gz-op", "")]
    assert agent.stats.bad_http_bodies == 0
    status, answer = post_encoded(agent, packed["gzip"], "br")
    assert status == 415 and b"br" in answer


def test_http_gzip_bomb_gets_413_in_bounded_time_and_memory(agent: DevAgent) -> None:
    """256 MiB of zeros in a 256 KiB gzip body: inflated no further than the 32 MiB body
    limit (zlib's output blocks and the bytes joined from them: the peak allocation stays
    under three times that, not the 256 MiB) and refused with 413 at once."""
    import time
    import tracemalloc
    import zlib

    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = b"\0" * (1 << 20)
    bomb = b"".join(packer.compress(zeros) for _ in range(256)) + packer.flush()
    assert len(bomb) < 512 << 10
    del zeros
    tracemalloc.start()
    try:
        began = time.monotonic()
        status, answer = post_encoded(agent, bomb, "gzip")
        took = time.monotonic() - began
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert status == 413 and b"body over" in answer
    assert took < 3.0 and peak < 3 * (32 << 20), (took, peak)
    assert post(agent, body(batch("s", [span(1, 1)]))) == 202  # still serving


def test_http_chunked_body_is_accepted(agent: DevAgent) -> None:
    """A chunked body (jaeger-client-node's HTTPSender sends one) is decoded like any other."""
    data = body(batch("node-svc", [span(5, 1), span(5, 2, 1)]))
    assert post_chunked(agent, [data[:7], data[7:30], data[30:]]) == 202
    assert agent.wait_for_spans(2, WAIT)
    assert agent.stats.bad_http_bodies == 0


def test_http_chunked_garbage_is_400(agent: DevAgent) -> None:
    """A chunked body that is not a Batch gets 400; the agent keeps serving."""
    assert post_chunked(agent, [b"\x00\x01garbage"]) == 400
    assert post(agent, body(batch("s", [span(1, 1)]))) == 202


def test_http_chunked_over_the_limit_is_413(
    agent: DevAgent, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunked body longer than MAX_HTTP_BODY is refused, not buffered."""
    from jaeger_lite.agent import server

    monkeypatch.setattr(server, "MAX_HTTP_BODY", 1000)
    assert post_chunked(agent, [b"x" * 600, b"y" * 600]) == 413


def test_http_sender_hanging_up_mid_body_leaves_no_traceback(
    agent: DevAgent, capfd: pytest.CaptureFixture[str]
) -> None:
    """A sender that resets its connection halfway through a body (a client timing out and
    giving up) costs that request only: no traceback on the agent's terminal, and the next
    sender's batch is taken."""
    data = body(batch("s", [span(1, 1)]))
    for _ in range(3):
        conn = socket.create_connection(("127.0.0.1", agent.http_port), timeout=WAIT)
        head = "POST /api/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-thrift\r\n"
        conn.sendall(f"{head}Content-Length: {len(data)}\r\n\r\n".encode() + data[:10])
        # SO_LINGER 0: close() resets the connection, as a killed client's kernel does.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
    assert post(agent, data) == 202
    assert agent.wait_for_spans(1, WAIT)
    assert "Traceback" not in capfd.readouterr().err


def test_http_stalled_sender_is_disconnected_and_blocks_nobody(
    out: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sender that stops mid-headers or mid-body is cut off at the request's deadline, so
    it does not hold a thread forever; other senders are served meanwhile."""
    from jaeger_lite.agent import httplimits

    limits = dataclasses.replace(httplimits.LIMITS, head_timeout=0.5, body_floor=0.5)
    monkeypatch.setattr(httplimits, "LIMITS", limits)
    with DevAgent(compact_port=None, binary_port=None, http_port=0, out=out) as agent:
        stalled_sender_is_cut(agent)


def stalled_sender_is_cut(agent: DevAgent) -> None:
    stalled = []
    for partial in (b"POST /api/traces HTTP/1.1\r\nHost: x\r\n", b"POST /api/tr"):
        conn = socket.create_connection(("127.0.0.1", agent.http_port), timeout=WAIT)
        conn.sendall(partial)
        stalled.append(conn)
    conn = socket.create_connection(("127.0.0.1", agent.http_port), timeout=WAIT)
    conn.sendall(
        b"POST /api/traces HTTP/1.1\r\nContent-Type: application/x-thrift\r\n"
        b"Content-Length: 100\r\n\r\n0123456789"
    )
    stalled.append(conn)
    assert post(agent, body(batch("s", [span(1, 1)]))) == 202  # while the others stall
    for conn in stalled:
        with conn:
            assert conn.recv(1024) == b""  # closed by the agent, well before WAIT
    assert agent.wait_for_spans(1, WAIT) and agent.stats.spans == 1


def test_http_other_path_is_404(agent: DevAgent) -> None:
    """Only /api/traces is served."""
    assert post(agent, body(batch("s", [span(1, 1)])), path="/api/spans") == 404


def test_malformed_datagram_is_reported_counted_and_survived(
    agent: DevAgent, udp: socket.socket, out: io.StringIO
) -> None:
    """Garbage gives one line and a count; the next good datagram still decodes."""
    udp.sendto(b"\x82\x21garbage", ("127.0.0.1", agent.compact_port))
    assert agent.wait_for_payloads(1, WAIT)
    (line,) = [x for x in out.getvalue().splitlines() if x.startswith("! bad")]
    assert "compact datagram from 127.0.0.1:" in line and "(9 bytes)" in line
    udp.sendto(message(batch("s", [span(1, 1)])), ("127.0.0.1", agent.compact_port))
    assert agent.wait_for_traces(1, WAIT)
    assert agent.stats.bad_datagrams == 1 and agent.stats.spans == 1


def test_forward_relays_datagrams_unchanged(out: io.StringIO, udp: socket.socket) -> None:
    """Every compact datagram, good or bad, reaches the real agent byte for byte."""
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(WAIT)
    good = message(batch("s", [span(1, 1)]))
    with DevAgent(
        compact_port=0, binary_port=None, http_port=None, out=out, forward=udp.getsockname()
    ) as a:
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sender.sendto(good, ("127.0.0.1", a.compact_port))
        sender.sendto(b"not thrift", ("127.0.0.1", a.compact_port))
        sender.close()
        assert udp.recvfrom(65536)[0] == good
        assert udp.recvfrom(65536)[0] == b"not thrift"
    assert a.stats.forwarded == 2 and "2 forwarded" in a.summary()


def test_stop_prints_traces_that_are_not_quiet_yet(out: io.StringIO, udp: socket.socket) -> None:
    """Stopping flushes pending traces instead of losing them."""
    a = DevAgent(
        compact_port=0, binary_port=None, http_port=None, quiet_after=3600, out=out
    ).start()
    udp.sendto(message(batch("s", [span(1, 1, 0, "pending-op")])), ("127.0.0.1", a.compact_port))
    assert a.wait_for_spans(1, WAIT)
    assert "pending-op" not in out.getvalue()
    stats = a.stop()
    assert "pending-op" in out.getvalue() and stats.traces == 1


def test_json_file_gets_each_trace(tmp_path: Path, out: io.StringIO, udp: socket.socket) -> None:
    """--json writes a loadable Jaeger UI document."""
    path = tmp_path / "t.json"
    with DevAgent(
        compact_port=0,
        binary_port=None,
        http_port=None,
        quiet_after=0.01,
        out=out,
        json_path=str(path),
    ) as a:
        udp.sendto(message(batch("s", [span(1, 1), span(2, 1)])), ("127.0.0.1", a.compact_port))
        assert a.wait_for_traces(2, WAIT)
    assert sorted(tr["traceID"] for tr in json.loads(path.read_text())["data"]) == [
        "0000000000000001",
        "0000000000000002",
    ]


def test_summary_counts_everything(agent: DevAgent, udp: socket.socket) -> None:
    """The summary names traces, spans, bytes and bad datagrams."""
    good = message(batch("s", [span(1, 1)]))
    udp.sendto(good, ("127.0.0.1", agent.compact_port))
    udp.sendto(b"bad", ("127.0.0.1", agent.compact_port))
    assert agent.wait_for_traces(1, WAIT) and agent.wait_for_payloads(2, WAIT)
    summary = agent.summary()
    assert "1 trace," in summary and "1 span in 1 batch" in summary
    assert f"{len(good) + 3} B received" in summary and "1 bad datagram" in summary


def test_output_to_a_non_terminal_is_plain(
    agent: DevAgent, udp: socket.socket, out: io.StringIO
) -> None:
    """Without a terminal there are no colour codes."""
    udp.sendto(
        message(batch("s", [span(1, 1, tags={"error": True})])), ("127.0.0.1", agent.compact_port)
    )
    assert agent.wait_for_traces(1, WAIT)
    assert "\x1b" not in out.getvalue() and "✗ error" in out.getvalue()


def test_required_field_missing_is_a_bad_datagram(
    agent: DevAgent, udp: socket.socket, out: io.StringIO
) -> None:
    """A batch Jaeger would reject is reported with the missing field's name."""
    s = span(1, 1)
    s.duration = None
    udp.sendto(message(batch("s", [s])), ("127.0.0.1", agent.compact_port))
    assert agent.wait_for_payloads(1, WAIT)
    assert "duration" in out.getvalue() and agent.stats.bad_datagrams == 1


def test_stats_process_tags_do_not_break_grouping(agent: DevAgent, udp: socket.socket) -> None:
    """Batches carrying seqNo and stats (as Go and Java send) are accepted."""
    b = batch("s", [span(1, 1)], **{"client-uuid": "abc"})
    b.seqNo = 1
    b.stats = t.ClientStats(fullQueueDroppedSpans=0, tooLargeDroppedSpans=0, failedToEmitSpans=0)
    udp.sendto(message(b), ("127.0.0.1", agent.compact_port))
    assert agent.wait_for_traces(1, WAIT)


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback")
def test_ipv6_loopback_host(out: io.StringIO) -> None:
    """--host ::1 binds IPv6 sockets for UDP and HTTP, and the URLs bracket the address."""
    with DevAgent(
        host="::1", compact_port=0, binary_port=None, http_port=0, quiet_after=0.01, out=out
    ) as a:
        assert a.http_url == f"http://[::1]:{a.http_port}/api/traces"
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.sendto(message(batch("v6", [span(1, 1)])), ("::1", a.compact_port))
        request = urllib.request.Request(
            a.http_url,
            data=body(batch("v6", [span(2, 1)])),
            headers={"Content-Type": "application/x-thrift"},
        )
        with urllib.request.urlopen(request, timeout=WAIT) as response:
            assert response.status == 202
        assert a.wait_for_traces(2, WAIT)


def test_stop_is_idempotent(out: io.StringIO) -> None:
    """stop() twice, or on an agent never started, returns the counters and does not hang."""
    assert DevAgent(compact_port=0, out=out).stop().traces == 0
    a = DevAgent(compact_port=0, binary_port=None, http_port=None, out=out).start()
    first = a.stop()
    assert a.stop() == first


def _free_udp_ports(count: int) -> list[int]:
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def test_two_agents_forwarding_to_each_other_stop() -> None:
    """A forwards to B and B to A: each shows the datagram once, and when it comes back to
    A (the agent that forwarded it) it is dropped and counted, not forwarded again."""
    port_a, port_b = _free_udp_ports(2)
    quiet = {"binary_port": None, "http_port": None, "out": io.StringIO(), "color": False}
    a = DevAgent(compact_port=port_a, forward=("127.0.0.1", port_b), **quiet)
    b = DevAgent(compact_port=port_b, forward=("127.0.0.1", port_a), **quiet)
    with a, b:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.sendto(message(batch("svc", [span(1, 1)])), ("127.0.0.1", port_a))
        with a._changed:  # notified on every count (it holds the lock stats takes)
            assert a._changed.wait_for(lambda: a._counts["forward_loops"] >= 1, 10)
        with b._changed:  # B relays before it counts: A may see the loop first
            assert b._changed.wait_for(lambda: b._counts["spans"] >= 1, 10)
        stats_a, stats_b = a.stats, b.stats
    assert (stats_a.spans, stats_a.forwarded, stats_a.forward_loops) == (1, 1, 1)
    assert (stats_b.spans, stats_b.forwarded, stats_b.forward_loops) == (1, 1, 0)
    assert "forwarding loop" in a._out.getvalue()  # type: ignore[union-attr]


def test_forwarding_to_its_own_listener_is_refused() -> None:
    """An agent whose forward target is one of its own UDP listeners does not start."""
    (port,) = _free_udp_ports(1)
    for host in ("localhost", "127.0.0.1"):
        agent = DevAgent(compact_port=port, binary_port=None, http_port=None,
                         forward=(host, port), out=io.StringIO())  # fmt: skip
        with pytest.raises(ValueError, match="own compact listener"):
            agent.start()


def test_forwarding_to_an_agent_that_is_down_counts_errors() -> None:
    """Nothing listens at the forward target: every datagram counts as not forwarded (an
    unconnected socket heard of no refusal and counted them all as forwarded)."""
    (dead,) = _free_udp_ports(1)
    agent = DevAgent(compact_port=0, binary_port=None, http_port=None,
                     forward=("127.0.0.1", dead), out=io.StringIO())  # fmt: skip
    with agent:
        assert agent.compact_port is not None
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            for trace_id in range(1, 4):
                client.sendto(message(batch("svc", [span(trace_id, 1)])),
                              ("127.0.0.1", agent.compact_port))  # fmt: skip
        assert agent.wait_for_spans(3, 10)
        stats = agent.stats
    assert (stats.forwarded, stats.forward_errors) == (0, 3)
    assert "cannot forward" in agent._out.getvalue()  # type: ignore[union-attr]

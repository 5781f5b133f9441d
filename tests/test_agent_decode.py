"""Tests for jaeger_lite.agent.decode: datagrams and bodies written by thrift's own writers."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from thrift.protocol.TCompactProtocol import TCompactProtocol
from thrift.Thrift import TMessageType
from thrift.transport.TTransport import TMemoryBuffer

from jaeger_lite._gen.jaeger import ttypes as t
from jaeger_lite.agent.decode import DecodeError, decode_batch_body, decode_datagram
from jaeger_lite.agent.model import CHILD_OF, FOLLOWS_FROM
from tests.agent_batches import NOW_US, batch, body, message, span

TRACE_128 = 0xF0E1D2C3B4A5968778695A4B3C2D1E0F
BIG_SPAN = 0xFFFF_FFFF_FFFF_FFFE  # >= 2**63: negative as an i64 on the wire


def full_batch() -> t.Batch:
    root = span(
        TRACE_128, BIG_SPAN, 0, "root", 0, 5000,
        tags={"s": "x", "l": -(1 << 63), "d": 2.5, "b": True, "bin": b"\x00\xff"},
        logs=[(10, {"event": "error", "message": "boom"})],
    )  # fmt: skip
    child = span(
        TRACE_128, 7, BIG_SPAN, "child", 100, 200, refs=[(t.SpanRefType.FOLLOWS_FROM, BIG_SPAN)]
    )
    b = batch("svc", [root, child], hostname="h", pid=42)
    b.seqNo = 3
    b.stats = t.ClientStats(fullQueueDroppedSpans=1, tooLargeDroppedSpans=2, failedToEmitSpans=3)
    return b


@pytest.mark.parametrize("protocol", ["compact", "binary"])
def test_decodes_every_field_of_a_batch(protocol: str) -> None:
    """Ids come back unsigned (128-bit trace, span id >= 2**63), with tags, logs and refs."""
    got = decode_datagram(message(full_batch(), protocol), protocol)
    root, child = got.spans
    assert root.trace_id == TRACE_128 and root.span_id == BIG_SPAN and root.parent_id == 0
    assert root.operation == "root" and root.start == NOW_US and root.duration == 5000
    assert [(x.key, x.type, x.value) for x in root.tags] == [
        ("s", "string", "x"),
        ("l", "int64", -(1 << 63)),
        ("d", "float64", 2.5),
        ("b", "bool", True),
        ("bin", "binary", b"\x00\xff"),
    ]
    assert root.logs[0].timestamp == NOW_US + 10
    assert root.is_error is False and root.error_message == "boom"
    assert child.parent_id == BIG_SPAN
    assert [(r.kind, r.trace_id, r.span_id) for r in child.refs] == [
        (FOLLOWS_FROM, TRACE_128, BIG_SPAN)
    ]
    assert got.process.service == "svc"
    assert {x.key: x.value for x in got.process.tags} == {"hostname": "h", "pid": 42}
    assert got.seq_no == 3
    assert got.stats == {
        "fullQueueDroppedSpans": 1,
        "tooLargeDroppedSpans": 2,
        "failedToEmitSpans": 3,
    }


@pytest.mark.parametrize("kind", [TMessageType.CALL, TMessageType.ONEWAY])
def test_message_type_and_seqid_are_ignored(kind: int) -> None:
    """CALL with seqid 9 (as Go sends) decodes like ONEWAY with seqid 0 (as Python sends)."""
    data = message(batch("s", [span(1, 2)]), "compact", kind=kind, seqid=9)
    assert decode_datagram(data, "compact").spans[0].span_id == 2


def test_http_body_is_a_bare_binary_batch() -> None:
    """The collector body has no message envelope."""
    got = decode_batch_body(body(batch("web", [span(5, 6, 0, "GET")])))
    assert got.process.service == "web" and got.spans[0].operation == "GET"


def test_child_of_reference_is_kept() -> None:
    """A CHILD_OF reference decodes with its kind."""
    data = message(batch("s", [span(1, 2, 3, refs=[(t.SpanRefType.CHILD_OF, 3)])]))
    assert decode_datagram(data, "compact").spans[0].refs[0].kind == CHILD_OF


@pytest.mark.parametrize(
    ("data", "protocol", "reason"),
    [
        pytest.param(b"hello world", "compact", "protocol id", id="not-thrift"),
        pytest.param(b"", "binary", "empty", id="empty"),
    ],
)
def test_unreadable_datagrams_are_decode_errors(data: bytes, protocol: str, reason: str) -> None:
    """Bytes that are not Thrift, or none, raise DecodeError naming why, nothing else."""
    with pytest.raises(DecodeError, match=reason):
        decode_datagram(data, protocol)


def test_truncated_datagram_is_a_decode_error() -> None:
    """A datagram cut short does not decode."""
    data = message(full_batch())
    with pytest.raises(DecodeError):
        decode_datagram(data[: len(data) // 2], "compact")


def test_missing_required_field_rejects_the_batch() -> None:
    """Like Jaeger's decoder, a span without a required field fails the whole batch."""
    bad = span(1, 2)
    bad.parentSpanId = None
    with pytest.raises(DecodeError, match=r"spans\[1\].*parentSpanId"):
        decode_datagram(message(batch("s", [span(1, 3), bad])), "compact")


def test_missing_process_rejects_the_batch() -> None:
    """A batch without its process is invalid."""
    with pytest.raises(DecodeError, match="process"):
        decode_batch_body(body(t.Batch(spans=[span(1, 2)])))


def test_other_method_is_rejected() -> None:
    """Only emitBatch is accepted; the name is quoted back."""
    buf = TMemoryBuffer()
    prot = TCompactProtocol(buf)
    prot.writeMessageBegin("getSamplingStrategy", TMessageType.CALL, 1)
    prot.writeStructBegin("x")
    prot.writeFieldStop()
    prot.writeStructEnd()
    with pytest.raises(DecodeError, match="getSamplingStrategy"):
        decode_datagram(buf.getvalue(), "compact")


def test_zipkin_batch_is_named_as_unsupported() -> None:
    """emitZipkinBatch gets its own explanation."""
    buf = TMemoryBuffer()
    TCompactProtocol(buf).writeMessageBegin("emitZipkinBatch", TMessageType.ONEWAY, 0)
    with pytest.raises(DecodeError, match="Zipkin"):
        decode_datagram(buf.getvalue(), "compact")


def test_compact_datagram_on_binary_port_gets_a_hint() -> None:
    """The error names the likely mix-up of ports."""
    with pytest.raises(DecodeError, match="compact port|binary port"):
        decode_datagram(message(batch("s", [span(1, 2)]), "compact"), "binary")


def test_invalid_utf8_is_replaced_not_rejected() -> None:
    """A non-UTF-8 operation name decodes with replacement characters, as Jaeger accepts it."""
    data = message(batch("svc", [span(1, 2, 0, "op-MARK")]))
    data = data.replace(b"op-MARK", b"op-\xff\xfeRK")
    assert decode_datagram(data, "compact").spans[0].operation == "op-\ufffd\ufffdRK"


def test_forged_list_length_fails_fast() -> None:
    """A list claiming two billion spans is rejected without allocating for them."""
    buf = TMemoryBuffer()
    prot = TCompactProtocol(buf)
    prot.writeMessageBegin("emitBatch", TMessageType.ONEWAY, 0)
    prot.writeStructBegin("args")
    prot.writeFieldBegin("batch", 12, 1)
    prot.writeStructBegin("Batch")
    prot.writeFieldBegin("spans", 15, 2)
    prot.writeListBegin(12, 2_000_000_000)
    with pytest.raises(DecodeError):
        decode_datagram(buf.getvalue(), "compact")


def test_unknown_tag_type_becomes_a_warning() -> None:
    """A tag type outside the enum keeps the span and says so in its warnings."""
    s = span(1, 2)
    s.tags = [t.Tag(key="odd", vType=9)]
    got = decode_datagram(message(batch("s", [s])), "compact").spans[0]
    assert any("unknown tag type 9" in w for w in got.warnings)


def test_negative_duration_is_clamped_with_a_warning() -> None:
    """A negative duration is shown as zero and flagged."""
    got = decode_datagram(message(batch("s", [span(1, 2, duration=-5)])), "compact").spans[0]
    assert got.duration == 0 and any("negative duration" in w for w in got.warnings)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["compact", "binary"]))
def test_random_bytes_only_ever_raise_decode_error(data: bytes, protocol: str) -> None:
    """Whatever arrives, decoding either succeeds or raises DecodeError."""
    with contextlib.suppress(DecodeError):
        decode_datagram(data, protocol)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=400), st.integers(min_value=0, max_value=255))
def test_corrupted_valid_datagrams_only_raise_decode_error(position: int, value: int) -> None:
    """Flipping one byte of a valid datagram never escapes as another exception."""
    data = bytearray(message(full_batch()))
    data[position % len(data)] = value
    with contextlib.suppress(DecodeError):
        decode_datagram(bytes(data), "compact")


def test_invalid_utf8_without_the_c_extension(monkeypatch: pytest.MonkeyPatch) -> None:
    """With thrift's pure protocols only, bad UTF-8 still decodes, via the lenient reader."""
    from thrift.protocol.TBinaryProtocol import TBinaryProtocol

    from jaeger_lite.agent import decode

    monkeypatch.setattr(decode, "_FAST", {"compact": TCompactProtocol, "binary": TBinaryProtocol})
    data = message(batch("svc", [span(1, 2, 0, "op-MARK")]), "binary")
    data = data.replace(b"op-MARK", b"op-\xff\xfeRK")
    assert decode_datagram(data, "binary").spans[0].operation == "op-\ufffd\ufffdRK"

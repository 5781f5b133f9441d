"""Jaeger Thrift encoding, checked with thrift's own pure-Python protocol readers."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from typing import Any

import pytest
from thrift.protocol.TBinaryProtocol import TBinaryProtocol
from thrift.protocol.TCompactProtocol import TCompactProtocol
from thrift.transport.TTransport import TMemoryBuffer

from jaeger_lite import (
    InMemoryReporter,
    SpanContext,
    Tracer,
    __version__,
    child_of,
    follows_from,
)
from jaeger_lite._encoding.thrift_batch import (
    ACCELERATOR_AVAILABLE,
    EMIT_BATCH_OVERHEAD,
    JAEGER_VERSION,
    BinaryEncoder,
    CompactEncoder,
    compact_process,
    emit_batch,
    local_ip,
    process_tags,
)
from jaeger_lite._gen.jaeger import ttypes
from jaeger_lite.span import Span
from tests._wire_helpers import (
    decode_binary_batch,
    decode_compact_span,
    decode_emit_batch,
    tag_dict,
    unsigned,
)

START = 1_700_000_000.123456


def finished_span(
    operation_name: str = "op",
    tags: dict[str, Any] | None = None,
    logs: list[tuple[float, dict[str, Any]]] | None = None,
    duration: float = 0.25,
    trace_id_128bit: bool = False,
    **start: Any,
) -> Span:
    tracer = Tracer("svc", InMemoryReporter(), trace_id_128bit=trace_id_128bit)
    span = tracer.start_span(operation_name, start_time=START, **start)
    for key, value in (tags or {}).items():
        span.set_tag(key, value)
    for timestamp, fields in logs or []:
        span.log_kv(fields, timestamp)
    span.finish(START + duration)
    return span


def user_tags(wire: ttypes.Span) -> dict[str, Any]:
    """The span's tags without the sampler's."""
    return {k: v for k, v in tag_dict(wire.tags).items() if not k.startswith("sampler.")}


def both_ways(span: Span) -> list[ttypes.Span]:
    """The span through the compact (pure and, if present, accelerated) and binary encoders."""
    encoders = [CompactEncoder(accelerated=False)]
    if ACCELERATOR_AVAILABLE:
        encoders.append(CompactEncoder(accelerated=True))
    decoded = [decode_compact_span(encoder.span(span)) for encoder in encoders]
    binary = BinaryEncoder()
    body = BinaryEncoder.batch(binary.process("svc", {}), [binary.span(span)])
    decoded.append(decode_binary_batch(body).spans[0])
    return decoded


def test_every_span_field_round_trips() -> None:
    """Ids, name, flags, start and duration (µs) arrive as set."""
    parent = SpanContext(0x1234, 0x5678, flags=1)
    span = finished_span("GET /x", child_of=parent, duration=0.0015)
    for wire in both_ways(span):
        assert unsigned(wire.traceIdLow) == 0x1234
        assert wire.traceIdHigh == 0
        assert unsigned(wire.spanId) == span.context.span_id
        assert unsigned(wire.parentSpanId) == 0x5678
        assert wire.operationName == "GET /x"
        assert wire.flags == 1
        assert wire.startTime == round(START * 1e6)
        assert wire.duration == 1500
        assert wire.references is None
        assert wire.logs is None


@pytest.mark.parametrize(
    ("trace_id", "span_id", "parent_id"),
    [
        (1, 1, 0),
        ((1 << 63) - 1, 1 << 63, (1 << 64) - 1),
        ((1 << 64) - 1, (1 << 63) + 5, 1 << 63),
    ],
)
def test_64_bit_ids_survive_including_high_bit(trace_id: int, span_id: int, parent_id: int) -> None:
    """Ids >= 2**63 are sent as negative i64 and read back as the same unsigned value."""
    span = finished_span(child_of=SpanContext(trace_id, parent_id or 7, flags=1))
    span._span_id = span_id
    span._parent_id = parent_id
    for wire in both_ways(span):
        assert unsigned(wire.traceIdLow) == trace_id
        assert unsigned(wire.spanId) == span_id
        assert unsigned(wire.parentSpanId) == parent_id


def test_128_bit_trace_id_is_split_high_and_low() -> None:
    """A 128-bit trace id goes out as traceIdHigh:traceIdLow, high bits included."""
    trace_id = (0xFEDC_BA98_7654_3210 << 64) | 0x8000_0000_0000_0001
    span = finished_span(child_of=SpanContext(trace_id, 9, flags=1))
    for wire in both_ways(span):
        assert unsigned(wire.traceIdHigh) == 0xFEDC_BA98_7654_3210
        assert unsigned(wire.traceIdLow) == 0x8000_0000_0000_0001


def test_references_skip_only_the_parent_child_of() -> None:
    """FOLLOWS_FROM and a second CHILD_OF go out; the parent's CHILD_OF is parentSpanId."""
    high = 1 << 64
    parent = SpanContext(high | 1, 2, flags=1)
    other = SpanContext(3, (1 << 63) + 4, flags=1)
    linked = SpanContext(5, 6, flags=1)
    span = finished_span(references=[child_of(parent), child_of(other), follows_from(linked)])
    for wire in both_ways(span):
        assert unsigned(wire.parentSpanId) == 2
        refs = [
            (r.refType, unsigned(r.traceIdHigh), unsigned(r.traceIdLow), unsigned(r.spanId))
            for r in wire.references
        ]
        assert refs == [
            (ttypes.SpanRefType.CHILD_OF, 0, 3, (1 << 63) + 4),
            (ttypes.SpanRefType.FOLLOWS_FROM, 0, 5, 6),
        ]


def test_follows_from_only_span_keeps_its_reference() -> None:
    """A FOLLOWS_FROM-only span has no parentSpanId but its reference goes out."""
    span = finished_span(references=[follows_from(SpanContext(7, 8, flags=1))])
    for wire in both_ways(span):
        assert wire.parentSpanId == 0
        assert [(r.refType, r.traceIdLow, r.spanId) for r in wire.references] == [
            (ttypes.SpanRefType.FOLLOWS_FROM, 7, 8)
        ]


def test_every_tag_type_keeps_its_type() -> None:
    """str, bool, int (i64 bounds), float and bytes map to STRING/BOOL/LONG/DOUBLE/BINARY."""
    tags = {
        "s": "text",
        "t": True,
        "f": False,
        "i": -42,
        "min": -(1 << 63),
        "max": (1 << 63) - 1,
        "d": 2.5,
        "inf": float("inf"),
        "b": b"\x00\xff",
        "empty": "",
    }
    for wire in both_ways(finished_span(tags=tags)):
        assert user_tags(wire) == tags
        types = {t.key: t.vType for t in wire.tags}
        assert types["t"] == ttypes.TagType.BOOL
        assert types["i"] == ttypes.TagType.LONG
        assert types["d"] == ttypes.TagType.DOUBLE
        assert types["b"] == ttypes.TagType.BINARY


def test_int_beyond_i64_is_sent_as_decimal_string() -> None:
    """An int LONG cannot hold becomes its decimal STRING."""
    tags = {"big": 1 << 64, "neg": -(1 << 63) - 1}
    for wire in both_ways(finished_span(tags=tags)):
        got = tag_dict(wire.tags)
        assert got["big"] == str(1 << 64)
        assert got["neg"] == str(-(1 << 63) - 1)


def test_int_too_long_for_decimal_is_sent_as_a_description() -> None:
    """An int past str()'s digit limit (3.11+) becomes a short STRING, not a lost span."""
    tags = {"huge": 10**5000, "neg": -(10**5000)}
    for wire in both_ways(finished_span(tags=tags)):
        got = tag_dict(wire.tags)
        assert got["huge"] == got["neg"] == "<int of 16610 bits>"


def test_process_tags_of_any_type_encode() -> None:
    """Process tags are raw user values: subclasses whose conversions raise and keys whose
    str() raises still give a decodable Process (placeholders, not an exception)."""

    class BadStr(str):
        def __str__(self) -> str:
            return 42  # type: ignore[return-value]  # noqa: PLE0307  (hostile on purpose)

    class BadInt(int):
        def __int__(self) -> int:
            raise RuntimeError("no")

    class BadKey:
        def __str__(self) -> str:
            raise RuntimeError("no")

    tags = {"s": BadStr("abc"), "i": BadInt(5), "big": 10**5000, BadKey(): 1}
    compact = CompactEncoder()
    process = ttypes.Process()
    process.read(TCompactProtocol(TMemoryBuffer(compact_process(compact, "svc", tags))))
    binary = ttypes.Batch()
    body = BinaryEncoder.batch(BinaryEncoder().process("svc", tags), [])
    binary.read(TBinaryProtocol(TMemoryBuffer(body)))
    for decoded in (process, binary.process):
        got = tag_dict(decoded.tags)
        assert got["big"] == "<int of 16610 bits>"
        assert got["<unprintable BadKey>"] == 1
        assert set(got) == {"s", "i", "big", "<unprintable BadKey>"}


def test_nan_double_is_sent() -> None:
    """NaN is a valid DOUBLE."""
    for wire in both_ways(finished_span(tags={"x": math.nan})):
        assert math.isnan(tag_dict(wire.tags)["x"])


def test_logs_keep_timestamps_and_typed_fields() -> None:
    """Each log: µs timestamp and its fields as typed tags, in order."""
    logs = [(START + 0.1, {"event": "a", "n": 3}), (START + 0.2, {"ok": True, "x": 0.5})]
    for wire in both_ways(finished_span(logs=logs)):
        assert [log.timestamp for log in wire.logs] == [
            round((START + 0.1) * 1e6),
            round((START + 0.2) * 1e6),
        ]
        assert [tag_dict(log.fields) for log in wire.logs] == [fields for _, fields in logs]


def test_log_without_tags_on_an_unsampled_root_tracer() -> None:
    """Logs are encoded right when the span has no tags (field-id delta of 2)."""
    span = finished_span(logs=[(START, {"event": "e"})])
    span._tags = {}
    for wire in both_ways(span):
        assert wire.tags is None
        assert tag_dict(wire.logs[0].fields) == {"event": "e"}


def test_many_tags_use_the_long_list_header() -> None:
    """Lists of 15 or more elements (long compact list header) decode."""
    tags = {f"k{i}": i for i in range(40)}
    for wire in both_ways(finished_span(tags=tags)):
        assert user_tags(wire) == tags


def test_non_ascii_strings_round_trip() -> None:
    """Operation names, keys and values in UTF-8."""
    tags = {"ключ": "значение ✓", "emoji": "🚀"}
    span = finished_span("résumé/日本", tags=tags, logs=[(START, {"événement": "ß"})])
    for wire in both_ways(span):
        assert wire.operationName == "résumé/日本"
        assert user_tags(wire) == tags
        assert tag_dict(wire.logs[0].fields) == {"événement": "ß"}


def test_lone_surrogate_becomes_question_mark() -> None:
    """Text that is not valid Unicode is sent with '?' rather than dropped."""
    for wire in both_ways(finished_span("a\ud800b", tags={"k": "x\udfffy"})):
        assert wire.operationName == "a?b"
        assert tag_dict(wire.tags)["k"] == "x?y"


@pytest.mark.skipif(not ACCELERATOR_AVAILABLE, reason="thrift built without fastbinary")
def test_accelerated_and_pure_bytes_are_identical() -> None:
    """The C-accelerated and pure-Python compact paths write the same bytes."""
    fast, pure = CompactEncoder(accelerated=True), CompactEncoder(accelerated=False)
    assert fast.accelerated and not pure.accelerated
    parent = SpanContext((1 << 127) | 5, (1 << 64) - 1, flags=3)
    spans = [
        finished_span("a", {"x": 1, "y": "z"}, [(START, {"e": b"b"})]),
        finished_span("b", child_of=parent, duration=12345.678),
        finished_span(
            references=[child_of(parent), follows_from(SpanContext(1, 1 << 63, flags=1))]
        ),
        finished_span(tags={f"t{i}": float(i) for i in range(20)}, trace_id_128bit=True),
        finished_span(logs=[(1.5, {"old": 1}), (START, {"now": 2})]),  # 1970: short varint
        finished_span(
            logs=[(START, {"a": 1}), (START + 1, {})],
            references=[child_of(parent), follows_from(SpanContext(3, 4, flags=1))],
        ),
    ]
    for span in spans:
        assert fast.span(span) == pure.span(span)
    # The accelerated encoder reuses fields of the previous span when they are the very
    # same objects (same trace, parent, name): switching back and forth must not leak.
    siblings = [finished_span(f"s{i % 2}", child_of=parent) for i in range(4)]
    for span in [spans[0], *siblings, spans[1], siblings[0], spans[3], siblings[1]]:
        assert fast.span(span) == pure.span(span)


def test_a_batch_encodes_as_its_spans_do_one_by_one() -> None:
    """``spans()`` (the reporter's path) writes each span exactly as ``span()`` does, also
    when consecutive spans share or switch trace, parent and name, with 0, 1 and many logs."""
    parent = SpanContext((1 << 127) | 5, (1 << 64) - 1, flags=3)
    many_logs = [(START + i / 10, {"i": i, "event": "tick"}) for i in range(17)]
    spans = [
        finished_span("a", {"x": 1, "y": "z"}, [(START, {"e": b"b"})]),
        finished_span("a", {"x": 1}, child_of=parent),
        finished_span("b", child_of=parent, logs=many_logs),
        finished_span("b", logs=[(1.5, {"old": 1}), (START, {"now": 2}), (START, {})]),
        finished_span(references=[child_of(parent), follows_from(SpanContext(3, 4, flags=1))]),
        finished_span("c", trace_id_128bit=True),
    ]
    for accelerated in {False, ACCELERATOR_AVAILABLE}:
        one_by_one = [CompactEncoder(accelerated).span(span) for span in spans]
        assert CompactEncoder(accelerated).spans(spans * 2) == one_by_one * 2
    wire = decode_compact_span(CompactEncoder().spans(spans)[2])
    assert [tag_dict(log.fields)["i"] for log in wire.logs] == list(range(17))
    assert [log.timestamp for log in wire.logs] == [round(t * 1e6) for t, _ in many_logs]


def test_env_var_forces_the_pure_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """JAEGER_LITE_NO_ACCELERATOR=1 selects the pure-Python path."""
    monkeypatch.setenv("JAEGER_LITE_NO_ACCELERATOR", "1")
    assert not CompactEncoder().accelerated


def test_small_caches_still_encode_correctly() -> None:
    """Trimming the caches never changes what is written."""
    encoder = CompactEncoder(accelerated=False, cache_size=4)
    for i in range(50):
        tags = {f"k{i % 7}": f"v{i}", "n": i, "flag": i % 2 == 0}
        wire = decode_compact_span(encoder.span(finished_span(f"op{i}", tags)))
        assert wire.operationName == f"op{i}"
        assert user_tags(wire) == tags


def test_emit_batch_message_carries_process_seq_no_and_stats() -> None:
    """emitBatch: ONEWAY message, Batch with Process, spans, seqNo and ClientStats."""
    encoder = CompactEncoder()
    process = compact_process(encoder, "svc ✓", {"a": 1, "b": "c"})
    spans = [encoder.span(finished_span(f"op{i}")) for i in range(20)]
    batch = decode_emit_batch(emit_batch(process, spans, 7, (1, 2, 3)))
    assert batch.process.serviceName == "svc ✓"
    assert tag_dict(batch.process.tags) == {"a": 1, "b": "c"}
    assert [s.operationName for s in batch.spans] == [f"op{i}" for i in range(20)]
    assert batch.seqNo == 7
    assert (
        batch.stats.fullQueueDroppedSpans,
        batch.stats.tooLargeDroppedSpans,
        batch.stats.failedToEmitSpans,
    ) == (1, 2, 3)


def test_emit_batch_overhead_is_an_upper_bound() -> None:
    """With the largest seqNo and stats the envelope still fits EMIT_BATCH_OVERHEAD."""
    process = compact_process(CompactEncoder(), "svc", {})
    spans = [b"\x00"] * 100_000
    big = (1 << 63) - 1
    message = emit_batch(process, spans, big, (big, big, big))
    assert len(message) - len(process) - len(spans) <= EMIT_BATCH_OVERHEAD


def test_binary_batch_is_a_bare_batch() -> None:
    """The HTTP body decodes as a Batch with no message envelope."""
    encoder = BinaryEncoder()
    process = encoder.process("svc", {"ip": "10.0.0.1", "n": 5, "ok": True})
    body = BinaryEncoder.batch(process, [encoder.span(finished_span("op"))])
    batch = decode_binary_batch(body)
    assert batch.process.serviceName == "svc"
    assert tag_dict(batch.process.tags) == {"ip": "10.0.0.1", "n": 5, "ok": True}
    assert batch.spans[0].operationName == "op"
    assert batch.seqNo is None and batch.stats is None


def test_process_tags_defaults_and_user_override() -> None:
    """jaeger.version, hostname, ip, client-uuid; a user-set ip wins; tracer tags follow."""
    tags = process_tags({"ip": "10.1.2.3", "team": "core"})
    assert tags["jaeger.version"] == JAEGER_VERSION == f"Python-jaeger_lite-{__version__}"
    assert tags["hostname"]
    assert tags["ip"] == "10.1.2.3"
    assert re.fullmatch(r"[0-9a-f]{16}", tags["client-uuid"])
    assert tags["team"] == "core"
    assert process_tags({})["client-uuid"] != tags["client-uuid"]


def test_local_ip_is_an_ipv4_address() -> None:
    """The ip tag is dotted-quad IPv4."""
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", local_ip())


def test_without_the_c_extension_the_pure_path_is_used() -> None:
    """With thrift.protocol.fastbinary missing, jaeger_lite still imports and encodes."""
    script = (
        "import sys; sys.modules['thrift.protocol.fastbinary'] = None\n"
        "import jaeger_lite\n"
        "from jaeger_lite._encoding.thrift_batch import ACCELERATOR_AVAILABLE, CompactEncoder\n"
        "assert not ACCELERATOR_AVAILABLE and not CompactEncoder().accelerated\n"
        "tracer = jaeger_lite.Tracer('svc', jaeger_lite.InMemoryReporter())\n"
        "span = tracer.start_span('op'); span.finish()\n"
        "sys.stdout.buffer.write(CompactEncoder().span(span))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert decode_compact_span(result.stdout).operationName == "op"

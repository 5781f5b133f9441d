"""The compact span encoder against thrift's own: random spans and batches, byte for byte.

``CompactEncoder.spans`` writes a batch's span ids, times and log timestamps as varints in
one go and splits them again, and caches pieces by the previous span's objects; here its
bytes are compared with thrift's pure-Python ``TCompactProtocol`` writing the generated
``ttypes.Span`` of the same span, over many random spans in batches of random sizes.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from thrift.protocol.TCompactProtocol import TCompactProtocol
from thrift.transport.TTransport import TMemoryBuffer

from jaeger_lite import InMemoryReporter, SpanContext, Tracer, child_of, follows_from
from jaeger_lite._encoding.common import wire_references
from jaeger_lite._encoding.thrift_batch import ACCELERATOR_AVAILABLE, CompactEncoder
from jaeger_lite._gen.jaeger import ttypes
from jaeger_lite.span import Span, log_entries

MASK64 = (1 << 64) - 1
I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1
MODES = [False, True] if ACCELERATOR_AVAILABLE else [False]


def signed64(value: int) -> int:
    value &= MASK64
    return value - (1 << 64) if value >> 63 else value


def signed32(value: int) -> int:
    value &= 0xFFFF_FFFF
    return value - (1 << 32) if value >> 31 else value


def text(value: str) -> str:
    """What reaches the wire for a str (lone surrogates become '?')."""
    return value.encode("utf-8", "replace").decode("utf-8")


def thrift_tag(key: str, value: Any) -> ttypes.Tag:
    if isinstance(value, bool):
        return ttypes.Tag(text(key), ttypes.TagType.BOOL, vBool=value)
    if isinstance(value, str):
        return ttypes.Tag(text(key), ttypes.TagType.STRING, vStr=text(value))
    if isinstance(value, int):
        if I64_MIN <= value <= I64_MAX:
            return ttypes.Tag(text(key), ttypes.TagType.LONG, vLong=value)
        return ttypes.Tag(text(key), ttypes.TagType.STRING, vStr=str(value))
    if isinstance(value, float):
        return ttypes.Tag(text(key), ttypes.TagType.DOUBLE, vDouble=value)
    assert isinstance(value, bytes)
    return ttypes.Tag(text(key), ttypes.TagType.BINARY, vBinary=value)


def thrift_bytes(span: Span) -> bytes:
    """The span as thrift's generated class and pure-Python compact protocol write it."""
    refs = [
        ttypes.SpanRef(kind, low, high, span_id)
        for kind, low, high, span_id in wire_references(span)
    ]
    logs = [
        ttypes.Log((ns + 500) // 1000, [thrift_tag(k, v) for k, v in fields.items()])
        for ns, fields in log_entries(span)
    ]
    wire = ttypes.Span(
        traceIdLow=signed64(span._trace_id),
        traceIdHigh=signed64(span._trace_id >> 64),
        spanId=signed64(span._span_id),
        parentSpanId=signed64(span._parent_id),
        operationName=text(span._operation_name),
        references=refs or None,
        flags=signed32(span._flags),
        startTime=(span._start_ns + 500) // 1000,
        duration=((span._duration_ns or 0) + 500) // 1000,
        tags=[thrift_tag(k, v) for k, v in (span._tags or {}).items()] or None,
        logs=logs or None,
    )
    buffer = TMemoryBuffer()
    wire.write(TCompactProtocol(buffer))
    return buffer.getvalue()


NAMES = ["GET /users/{id}", "op", "", "résumé/日本", "🚀 launch", "a\ud800b", "x" * 300]
KEYS = ["component", "http.status_code", "error", "ключ", "k", "event", "a\udfffb"]


def random_id(rng: random.Random) -> int:
    return rng.choice(
        [1, 2, 127, 128, 1 << 62, (1 << 63) - 1, 1 << 63, MASK64, rng.getrandbits(64) or 1]
    )


def random_value(rng: random.Random) -> Any:
    return rng.choice(
        [
            lambda: rng.choice(["bench", "", "значение ✓", "x\udfffy", "v" * 200]),
            lambda: rng.choice([True, False]),
            lambda: rng.choice([0, -1, 1, 63, 64, -65, I64_MAX, I64_MIN, 1 << 70, -(1 << 64)]),
            lambda: rng.choice([0.0, -1.5, 1e300, float("inf")]),
            lambda: rng.choice([b"", b"\x00\xff", bytes(range(256))]),
            lambda: rng.getrandbits(40) - (1 << 39),
        ]
    )()


def random_spans(rng: random.Random, count: int) -> list[Span]:
    """Spans with random ids, times, flags, references, tags and logs; names, parents and
    tag values drawn from small pools, so consecutive spans often share those objects."""
    tracers = [Tracer("svc", InMemoryReporter(), trace_id_128bit=wide) for wide in (False, True)]
    parents = [SpanContext(random_id(rng) | (rng.getrandbits(64) << 64), random_id(rng), 1)]
    parents += [SpanContext(random_id(rng), random_id(rng), flags=1) for _ in range(3)]
    values = [random_value(rng) for _ in range(8)]
    spans = []
    for _ in range(count):
        start: dict[str, Any] = {}
        roll = rng.random()
        if roll < 0.6:
            start["child_of"] = rng.choice(parents)
        elif roll < 0.8:
            refs = [child_of(rng.choice(parents)), follows_from(rng.choice(parents))]
            start["references"] = rng.sample(refs, rng.randint(1, 2))
            if rng.random() < 0.3:
                start["references"].append(child_of(SpanContext(5, random_id(rng), 1)))
        # Zero start times, durations and log times are rare (some batches have none):
        # the encoder takes another way to split its varints when a value is zero.
        rare = rng.random() < 0.02
        when = rng.choice([0.0, 1.5] if rare else [1_700_000_000.123456, 4_000_000_000.0])
        span = rng.choice(tracers).start_span(rng.choice(NAMES), start_time=when, **start)
        if rng.random() < 0.5:
            span._span_id = random_id(rng)
        if rng.random() < 0.2:
            span._parent_id = rng.choice([0, random_id(rng)])
        if rng.random() < 0.2:
            span._flags = rng.choice([0, 2, 3, 0x7FFF_FFFF, 0x8000_0000, 1 << 40])
        for i in range(rng.choice([0, 0, 1, 1, 2, 5, 20, 150])):  # short and long list headers
            key = rng.choice(KEYS) if rng.random() < 0.5 else f"t{i}"
            span.set_tag(key, rng.choice(values + [random_value(rng)]))
        for i in range(rng.choice([0, 0, 0, 1, 2, 16])):
            keys = [rng.choice(KEYS) for _ in range(rng.choice([0, 1, 3]))]
            keys += [f"f{j}" for j in range(rng.choice([0, 0, 0, 16, 70]))]
            fields = {key: rng.choice(values) for key in keys}
            span.log_kv(fields, when + rng.choice([0.0, 0.0000006, 1.0, 1e-3 * (i + 1)]))
        rare = rng.random() < 0.01
        span.finish(when + rng.choice([0.0, 0.0000004] if rare else [0.0000006, 0.25, 86_400.0]))
        spans.append(span)
    return spans


@pytest.mark.parametrize("accelerated", MODES)
@pytest.mark.parametrize("seed", range(6))
def test_random_batches_encode_as_thrift_does(accelerated: bool, seed: int) -> None:
    """Batches of 1 to 200 random spans, one encoder throughout (its caches carry over
    from batch to batch): every span's bytes are thrift's own."""
    rng = random.Random(seed)
    spans = random_spans(rng, 400)
    expected = [thrift_bytes(span) for span in spans]
    encoder = CompactEncoder(accelerated=accelerated)
    assert encoder.accelerated == accelerated
    done = 0
    while done < len(spans):
        size = rng.choice([1, 2, 4, 5, 14, 15, 42, 43, 128, 200])
        assert encoder.spans(spans[done : done + size]) == expected[done : done + size]
        done += size
    assert encoder.spans(iter(spans[:50])) == expected[:50]  # any iterable
    assert encoder.spans([]) == []


@pytest.mark.parametrize("accelerated", MODES)
def test_benchmark_spans_encode_as_thrift_does(accelerated: bool) -> None:
    """The benchmark's workload (children of one active root, one tag): the cached path."""
    reporter = InMemoryReporter()
    tracer = Tracer("bench", reporter)
    with tracer.start_active_span("root"):
        for _ in range(300):
            with tracer.start_active_span("GET /users/{id}") as scope:
                scope.span.set_tag("component", "bench")
    spans = reporter.get_spans()
    encoder = CompactEncoder(accelerated=accelerated)
    for i in range(0, len(spans), 128):
        batch = spans[i : i + 128]
        assert encoder.spans(batch) == [thrift_bytes(span) for span in batch]

"""W3C Trace Context: traceparent and tracestate (docs/protocol.md#w3c-trace-context)."""

from __future__ import annotations

from typing import Any, Optional

import pytest

from jaeger_lite import FLAG_DEBUG, FLAG_SAMPLED, SpanContext
from jaeger_lite.propagation.w3c import TraceContextCodec, parse_traceparent, parse_tracestate

CODEC = TraceContextCodec()
TRACE = "0af7651916cd43dd8448eb211c80319c"
SPAN = "b7ad6b7169203331"
VALID = f"00-{TRACE}-{SPAN}-01"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (VALID, (int(TRACE, 16), int(SPAN, 16), 1)),
        (f"00-{TRACE}-{SPAN}-00", (int(TRACE, 16), int(SPAN, 16), 0)),
        (f"00-{TRACE}-{SPAN}-03", (int(TRACE, 16), int(SPAN, 16), 1)),  # bit 1: random id
        (f"00-{TRACE}-{SPAN}-fe", (int(TRACE, 16), int(SPAN, 16), 0)),
        (f" \t{VALID}\t ", (int(TRACE, 16), int(SPAN, 16), 1)),  # surrounding OWS
        (f"01-{TRACE}-{SPAN}-01", (int(TRACE, 16), int(SPAN, 16), 1)),  # a higher version
        (f"cc-{TRACE}-{SPAN}-01-what-the-future-holds", (int(TRACE, 16), int(SPAN, 16), 1)),
        (f"cc-{TRACE}-{SPAN}-01-", (int(TRACE, 16), int(SPAN, 16), 1)),
    ],
)
def test_valid_traceparent(value: str, expected: tuple[int, int, int]) -> None:
    """Version 00 and higher versions, flags bit 0 only, blanks around the value."""
    assert parse_traceparent(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        VALID[:-1],  # too short
        VALID + "0",  # version 00 with extra characters
        VALID + "-",
        f"ff-{TRACE}-{SPAN}-01",  # version ff is invalid
        f"cc-{TRACE}-{SPAN}-01x",  # higher version: '-' or the end after the flags
        f"0-{TRACE}-{SPAN}-01",
        f"00-{TRACE.upper()}-{SPAN}-01",  # upper case
        f"00-{TRACE}-{SPAN.upper()}-01",
        f"0A-{TRACE}-{SPAN}-01",
        f"00-{TRACE}-{SPAN}-0A",
        f"00-{'0' * 32}-{SPAN}-01",  # all-zero ids
        f"00-{TRACE}-{'0' * 16}-01",
        f"00-{TRACE[:-1]}g-{SPAN}-01",
        f"00-{TRACE}-{SPAN}-g1",
        f"00_{TRACE}_{SPAN}_01",
        f"00-{TRACE}0-{SPAN[1:]}-01",  # right length, wrong field lengths
        f"00-{TRACE}-{SPAN}-01,00-{TRACE}-{SPAN}-01",  # two values folded into one
        f"\u0660\u0660-{TRACE}-{SPAN}-01",
        f"cc-{TRACE}-{SPAN}-01-" + "x" * 5000,
    ],
)
def test_invalid_traceparent(value: str) -> None:
    """Every restart rule: lengths, case, non-hex, zero ids, version ff, extra characters."""
    assert parse_traceparent(value) is None


def test_duplicate_traceparent_headers_restart_the_trace() -> None:
    """Two traceparent headers (and their tracestate) are ignored."""
    carrier = [("traceparent", VALID), ("Traceparent", VALID), ("tracestate", "a=1")]
    assert CODEC.extract(carrier) is None


def test_baggage_survives_a_restarted_trace() -> None:
    """With baggage=True, duplicate traceparents restart the trace but baggage still counts."""
    codec = TraceContextCodec(baggage=True)
    carrier = [("traceparent", VALID), ("traceparent", VALID), ("baggage", "k=v")]
    context = codec.extract(carrier)
    assert context is not None and not context.has_trace and context.baggage == {"k": "v"}


def test_combined_codec_writes_and_reads_baggage() -> None:
    """TraceContextCodec(baggage=True) is what propagation="w3c" uses: one pass for all."""
    codec = TraceContextCodec(baggage=True)
    carrier: dict[str, str] = {}
    codec.inject(SpanContext(int(TRACE, 16), int(SPAN, 16), 0, 1, {"k": "a b"}), carrier)
    assert carrier == {"traceparent": VALID, "baggage": "k=a%20b"}
    assert codec.extract(carrier) == SpanContext(int(TRACE, 16), int(SPAN, 16), 0, 1, {"k": "a b"})


def test_extract_keeps_tracestate() -> None:
    """tracestate is kept with the trace; sampling is the upstream decision."""
    context = CODEC.extract({"traceparent": VALID, "tracestate": "congo=t61rcWkgMzE,rojo=00f0"})
    assert context is not None and context.trace_state == "congo=t61rcWkgMzE,rojo=00f0"
    assert context.is_sampled and not context.sampling_deferred and context.parent_id == 0


def test_tracestate_is_ignored_without_a_valid_traceparent() -> None:
    """No (valid) traceparent: no context, whatever tracestate holds."""
    assert CODEC.extract({"tracestate": "a=1"}) is None
    assert CODEC.extract({"traceparent": "00-bad", "tracestate": "a=1"}) is None


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["a=1"], "a=1"),
        (["a=1,b=2"], "a=1,b=2"),
        (["a=1 , b=2\t,,  "], "a=1,b=2"),  # OWS and empty members
        (["a=1", "b=2"], "a=1,b=2"),  # several headers are concatenated
        (["tenant@vendor=x"], "tenant@vendor=x"),
        (["0tenant@vendor=x"], "0tenant@vendor=x"),
        (["a_*/-9=v a l"], "a_*/-9=v a l"),
        (["a= leading"], "a= leading"),
        (["a=" + "v" * 256], "a=" + "v" * 256),
        ([",".join(f"k{i}=v" for i in range(32))], ",".join(f"k{i}=v" for i in range(32))),
        ([",".join(f"k{i}=v" for i in range(33))], None),  # more than 32 members
        (["a=1,a=2"], None),  # duplicate keys
        (["A=1"], None),  # upper-case key
        (["a=1,=2"], None),
        (["a="], None),
        (["a=trailing \t"], "a=trailing"),  # blanks after a member are OWS
        (["a=1=2"], None),
        (["a=\u00e9"], None),
        (["a=" + "v" * 257], None),
        (["k" * 257 + "=v"], None),
        ([""], None),
        ([" , "], None),
    ],
)
def test_tracestate_parsing(values: list[str], expected: Optional[str]) -> None:
    """Members, OWS, concatenation, the 32-member limit, key and value syntax."""
    assert parse_tracestate(values) == expected


def test_tracestate_is_truncated_as_the_spec_says() -> None:
    """Past 512 characters: members over 128 characters go first, then from the right."""
    big = "big=" + "x" * 200
    small = [f"k{i}=" + "v" * 40 for i in range(20)]
    state = parse_tracestate([",".join([small[0], big, *small[1:]])])
    assert state is not None and len(state) <= 512 and "big=" not in state
    assert state.startswith(small[0] + "," + small[1]) and small[-1] not in state


def test_inject_writes_version_00_and_only_the_sampled_bit() -> None:
    """00-{32 hex}-{16 hex}-{01|00}; Jaeger's debug bit is not a W3C bit."""
    carrier: dict[str, str] = {}
    CODEC.inject(SpanContext(0xABC, 0x12, 0x34, FLAG_SAMPLED | FLAG_DEBUG), carrier)
    assert carrier == {"traceparent": f"00-{0xABC:032x}-{0x12:016x}-01"}
    carrier = {}
    CODEC.inject(SpanContext(int(TRACE, 16), int(SPAN, 16), 0, 0, trace_state="a=1"), carrier)
    assert carrier == {"traceparent": f"00-{TRACE}-{SPAN}-00", "tracestate": "a=1"}


def test_inject_writes_nothing_without_a_trace() -> None:
    """W3C cannot carry a trace-less context."""
    carrier: dict[str, Any] = {}
    CODEC.inject(SpanContext(0, 0, baggage={"k": "v"}), carrier)
    assert carrier == {}


def test_inject_never_writes_a_tracestate_with_control_characters() -> None:
    """A hand-made trace_state holding CR/LF is not written."""
    carrier: dict[str, str] = {}
    CODEC.inject(SpanContext(1, 2, trace_state="a=1\r\nX: y"), carrier)
    assert "tracestate" not in carrier


def test_round_trip_keeps_tracestate_unchanged() -> None:
    """What comes in as tracestate goes out unchanged on the next hop."""
    carrier = {"traceparent": VALID, "tracestate": "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"}
    context = CODEC.extract(carrier)
    assert context is not None
    out: dict[str, str] = {}
    CODEC.inject(context, out)
    assert out == carrier

"""Tests for jaeger_lite.agent.render: the span tree and the time axis as text."""

from __future__ import annotations

import re

import pytest

from jaeger_lite.agent.collect import Trace
from jaeger_lite.agent.model import FOLLOWS_FROM
from jaeger_lite.agent.render import format_duration, render_trace
from tests.agent_batches import record

ANSI = re.compile(r"\x1b\[[0-9;]*m")
TRACE = 0x4BF92F3577B34DA6A3CE929D0E0E4736


def sample() -> Trace:
    """frontend -> (inventory child, failing payments child, worker follows-from)."""
    return Trace(
        TRACE,
        [
            record(TRACE, 1, 0, "GET /checkout", 0, 100_000, service="frontend"),
            record(TRACE, 2, 1, "GET /stock", 10_000, 20_000, service="inventory"),
            record(TRACE, 3, 1, "POST /charge", 40_000, 50_000, service="payments", error=True),
            record(
                TRACE,
                4,
                1,
                "send-receipt",
                90_000,
                10_000,
                service="worker",
                refs=((FOLLOWS_FROM, 1),),
            ),
        ],
    )


def lines_of(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line]


def test_header_names_the_full_128_bit_trace_id() -> None:
    """The first line carries the 32-digit trace id, span count and errors."""
    first = render_trace(sample(), width=120).splitlines()[0]
    assert "4bf92f3577b34da6a3ce929d0e0e4736" in first
    assert "4 spans" in first and "1 error" in first and "100.0ms" in first


def test_tree_shows_service_operation_and_duration() -> None:
    """Each tree line names service, operation and duration."""
    text = render_trace(sample(), width=100)
    (line,) = lines_of(text, "inventory: GET /stock")
    assert "20.0ms" in line


def test_follows_from_is_drawn_differently_from_child_of() -> None:
    """The FollowsFrom span gets a dotted connector and a label; ChildOf ones do not."""
    text = render_trace(sample(), width=100)
    (follows,) = lines_of(text, "worker: send-receipt")
    (child,) = lines_of(text, "inventory: GET /stock")
    assert "┄┄" in follows and "(follows from)" in follows
    assert "┄" not in child and "follows" not in child and "├── " in child


def test_error_is_marked_in_tree_and_timeline() -> None:
    """The failing span is flagged on its tree line and its bar."""
    text = render_trace(sample(), width=100)
    tree_line, bar_line = lines_of(text, "POST /charge")
    assert "✗ error" in tree_line
    assert "▓" in bar_line and bar_line.rstrip().endswith("✗")
    (ok_bar,) = [line for line in lines_of(text, "GET /stock") if "█" in line]
    assert "✗" not in ok_bar


def test_bars_share_one_scale() -> None:
    """The root bar spans the axis; a child's bar starts and ends where its times say."""
    text = render_trace(sample(), width=100)
    root_bar = next(line for line in lines_of(text, "GET /checkout") if "█" in line)
    stock_bar = next(line for line in lines_of(text, "GET /stock") if "█" in line)
    axis = next(line for line in text.splitlines() if "├" in line and "┤" in line)
    left, right = axis.index("├"), axis.index("┤")
    assert root_bar.index("█") == left and root_bar.rindex("█") == right
    span = right - left
    assert abs(stock_bar.index("█") - (left + 0.1 * span)) <= 1
    assert abs(stock_bar.rindex("█") - (left + 0.3 * span)) <= 1


def test_axis_labels_start_at_zero_and_end_at_total() -> None:
    """The tick line starts with 0 and ends with the trace duration."""
    text = render_trace(sample(), width=100)
    ticks = next(line for line in text.splitlines() if line.strip().startswith("0 "))
    assert ticks.rstrip().endswith("100.0ms") and " 40ms " in ticks


def test_orphan_names_its_missing_parent() -> None:
    """A span whose parent was not received is shown with the parent's id."""
    trace = Trace(1, [record(1, 1), record(1, 9, 0xFEDCBA9876543210, "lost", 5)])
    (line,) = lines_of(render_trace(trace, width=100), "svc: lost")
    assert "parent fedcba9876543210 not received" in line


def test_skewed_child_is_flagged_and_still_drawn() -> None:
    """A child from another service starting before its parent is flagged as clock skew."""
    trace = Trace(
        1,
        [
            record(1, 1, 0, "parent", 0, 1000, service="a"),
            record(1, 2, 1, "early", -5000, 500, service="b"),
        ],
    )
    text = render_trace(trace, width=80)
    (tree_line,) = [line for line in lines_of(text, "early") if "b: " in line]
    assert "clock skew? starts 5.00ms early" in tree_line
    early_bar = next(line for line in lines_of(text, "early") if "█" in line)
    parent_bar = next(line for line in lines_of(text, "parent") if "█" in line)
    assert early_bar.index("█") < parent_bar.index("█")


def test_plain_output_has_no_escape_codes() -> None:
    """color=False writes no ANSI sequences at all."""
    assert "\x1b" not in render_trace(sample(), width=100, color=False)


def test_color_output_differs_only_by_escape_codes() -> None:
    """color=True adds ANSI codes (red for errors) around the same text."""
    colored = render_trace(sample(), width=100, color=True)
    assert "\x1b[1;31m" in colored
    assert ANSI.sub("", colored) == render_trace(sample(), width=100, color=False)


def test_ascii_mode_uses_only_ascii() -> None:
    """unicode=False keeps to ASCII, with its own follows-from and error marks."""
    text = render_trace(sample(), width=100, unicode=False)
    text.encode("ascii")
    assert "`.. worker: send-receipt" in text and "x error" in text


@pytest.mark.parametrize("width", [60, 80, 100, 200])
def test_no_line_is_wider_than_the_terminal(width: int) -> None:
    """Every line fits the width, even with long names."""
    trace = sample()
    trace.spans.append(record(TRACE, 5, 2, "x" * 300, 20_000, 10, service="s" * 50, error=True))
    for line in render_trace(trace, width=width).splitlines():
        assert len(line) <= width, line


def test_width_is_clamped_to_a_sane_range() -> None:
    """Widths below 60 or above 200 are clamped."""
    assert max(len(x) for x in render_trace(sample(), width=10).splitlines()) <= 60
    assert max(len(x) for x in render_trace(sample(), width=10_000).splitlines()) <= 200


def test_control_characters_from_the_wire_are_neutralised() -> None:
    """Escape sequences or newlines in names cannot reach the terminal."""
    trace = Trace(1, [record(1, 1, 0, "evil\x1b[2J\nname", service="s\rx")])
    text = render_trace(trace, width=100)
    assert "\x1b" not in text and "\r" not in text
    assert len(lines_of(text, "evil")) == 2  # one tree line, one bar line: no injected newline


def test_absurd_timestamps_do_not_crash() -> None:
    """Spans at the epoch and far in the future still render on one axis."""
    trace = Trace(
        1, [record(1, 1, 0, "a", -record(1, 1).start, 1), record(1, 2, 1, "b", 1 << 60, 1)]
    )
    text = render_trace(trace, width=80)
    assert "a" in text and "b" in text


def test_zero_duration_trace_renders() -> None:
    """A single instantaneous span gets a one-character bar."""
    text = render_trace(Trace(1, [record(1, 1, duration=0)]), width=80)
    assert "0µs" in text and text.count("█") == 1


def test_decode_warnings_are_listed_under_the_span() -> None:
    """Warnings from decoding appear right below the span's tree line."""
    text = render_trace(
        Trace(1, [record(1, 1, warnings=("tags[0] 'x': unknown tag type 9",))]), width=100
    )
    lines = text.splitlines()
    assert "unknown tag type 9" in lines[2] and "svc: op" in lines[1]


def test_deep_trace_renders() -> None:
    """A 3000-deep chain renders with bounded indentation."""
    trace = Trace(1, [record(1, i + 1, i, f"op{i}", i, 1) for i in range(3000)])
    text = render_trace(trace, width=100)
    assert "op2999" in text and max(len(x) for x in text.splitlines()) <= 100


@pytest.mark.parametrize(
    ("us", "text"),
    [
        (0, "0µs"),
        (999, "999µs"),
        (1500, "1.50ms"),
        (41_000, "41.0ms"),
        (2_500_000, "2.50s"),
        (125_000_000, "2m05s"),
        (3_700_000_000, "1h01m"),
    ],
)
def test_format_duration(us: int, text: str) -> None:
    """Durations read naturally at every scale."""
    assert format_duration(us) == text

"""Text rendering of a trace: the causal tree of spans and the same spans on a time axis.

Output is built from (text, style) segments so that widths are measured before any ANSI
colour code is added; ``color=False`` gives plain text and ``unicode=False`` keeps to ASCII
(for streams whose encoding cannot carry box-drawing characters). Every string that came
over the wire is stripped of control characters before it reaches the terminal.
"""

from __future__ import annotations

import datetime
import os
from typing import NamedTuple, TextIO

from .._ids import format_id, format_trace_id
from .collect import Trace
from .tree import CHILD, CYCLE, FOLLOWS, ORPHAN, Node, build_tree

Seg = tuple[str, str]  # (text, style)

_ANSI = {
    "bold": "1",
    "dim": "2",
    "red": "1;31",
    "warn": "33",
    "rule": "2",
}
_SERVICE_COLOURS = ("36", "35", "34", "32", "33", "96", "95", "94", "92", "93")

MIN_WIDTH = 60
_MAX_PREFIX = 4 * 16
MAX_WIDTH = 200


class Glyphs(NamedTuple):
    """The characters used to draw: box-drawing ones, or an ASCII fallback."""

    tee: str
    elbow: str
    pipe: str
    follow_tee: str
    follow_elbow: str
    bar: str
    error_bar: str
    error: str
    warn: str
    rule: str
    dot: str
    ellipsis: str
    axis_start: str
    axis_tick: str
    axis_end: str


UNICODE = Glyphs(
    "├── ", "└── ", "│   ", "├┄┄ ", "└┄┄ ", "█", "▓", "✗", "⚠", "─", "·", "…", "├", "┬", "┤"
)  # fmt: skip
ASCII = Glyphs(
    "|-- ", "`-- ", "|   ", "|.. ", "`.. ", "=", "X", "x", "!", "-", "-", "~", "+", "+", "+"
)  # fmt: skip


def clamp_width(columns: int) -> int:
    """Keep a terminal width within what the layout can use."""
    return max(MIN_WIDTH, min(MAX_WIDTH, columns))


def format_duration(us: int) -> str:
    """A short human duration: 850µs, 12.3ms, 1.25s, 2m03s, 3h05m."""
    if us < 1000:
        return f"{us}µs"
    if us < 10_000:
        return f"{us / 1000:.2f}ms"
    if us < 1_000_000:
        return f"{us / 1000:.1f}ms"
    if us < 60_000_000:
        return f"{us / 1_000_000:.2f}s"
    minutes, seconds = divmod(us // 1_000_000, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def clean(text: str) -> str:
    """Replace control characters (newlines, escapes) so wire data cannot garble the screen."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else "\N{REPLACEMENT CHARACTER}" for c in text)


def _wall_clock(us: int) -> str:
    try:
        moment = datetime.datetime.fromtimestamp(us / 1_000_000)
    except (ValueError, OverflowError, OSError):
        return f"t={us}µs"
    return moment.strftime("%H:%M:%S.%f")[:-3]


def _seg_len(segs: list[Seg]) -> int:
    return sum(len(text) for text, _ in segs)


def _truncate(segs: list[Seg], width: int, ellipsis: str) -> list[Seg]:
    """Cut segments to ``width`` visible characters, ending with ``ellipsis`` if cut."""
    if _seg_len(segs) <= width:
        return segs
    out: list[Seg] = []
    room = width - len(ellipsis)
    for text, style in segs:
        if room <= 0:
            break
        out.append((text[:room], style))
        room -= len(text[:room])
    out.append((ellipsis, "dim"))
    return out


def _paint(segs: list[Seg], color: bool) -> str:
    if not color:
        return "".join(text for text, _ in segs)
    parts = []
    for text, style in segs:
        code = _ANSI.get(style) or (
            _SERVICE_COLOURS[int(style[3:]) % len(_SERVICE_COLOURS)] if style[:3] == "svc" else ""
        )
        parts.append(f"\x1b[{code}m{text}\x1b[0m" if code and text else text)
    return "".join(parts).rstrip()


class _Row(NamedTuple):
    node: Node
    prefix: str
    label: str


def _rows(tops: list[Node], g: Glyphs) -> list[_Row]:
    """Depth-first rows with their tree prefixes (iterative: traces may be deep)."""
    rows: list[_Row] = []
    stack: list[tuple[Node, str, str]] = [(top, "", "") for top in reversed(tops)]
    while stack:
        node, inherited, connector = stack.pop()
        rows.append(_Row(node, inherited + connector, clean(node.span.operation)))
        kids = node.children
        below = inherited + (g.pipe if connector in (g.tee, g.follow_tee) else "    ")
        if not connector:
            below = ""
        elif len(below) > _MAX_PREFIX:  # very deep traces: keep the nearest levels only
            below = g.ellipsis + below[-_MAX_PREFIX:]
        for i in range(len(kids) - 1, -1, -1):
            last = i == len(kids) - 1
            if kids[i].link == FOLLOWS:
                conn = g.follow_elbow if last else g.follow_tee
            else:
                conn = g.elbow if last else g.tee
            stack.append((kids[i], below, conn))
    return rows


def _markers(node: Node, g: Glyphs) -> list[Seg]:
    span = node.span
    out: list[Seg] = []
    if span.is_error:
        message = clean(span.error_message)
        out.append((f"{g.error} error" + (f": {message}" if message else ""), "red"))
    if node.link == FOLLOWS:
        out.append(("(follows from)", "dim"))
    elif node.link == ORPHAN:
        out.append((f"{g.warn} parent {format_id(node.parent_id)} not received", "warn"))
    elif node.link == CYCLE:
        out.append((f"{g.warn} reference cycle", "warn"))
    parent = node.parent
    if parent is not None and parent.span.process != span.process:
        early = parent.span.start - span.start
        late = (span.start + span.duration) - (parent.span.start + parent.span.duration)
        if early > 0:
            out.append((f"{g.warn} clock skew? starts {format_duration(early)} early", "warn"))
        elif late > 0 and node.link == CHILD:
            out.append((f"{g.warn} clock skew? ends {format_duration(late)} late", "warn"))
    return out


def _service_styles(rows: list[_Row]) -> dict[str, str]:
    styles: dict[str, str] = {}
    for row in rows:
        styles.setdefault(row.node.span.process.service, f"svc{len(styles)}")
    return styles


def _header(trace: Trace, width: int, g: Glyphs) -> list[Seg]:
    spans = trace.spans
    t0 = min(s.start for s in spans)
    t1 = max(s.start + s.duration for s in spans)
    services = {s.process.service for s in spans}
    errors = sum(1 for s in spans if s.is_error)
    # (priority, text, style): when the line is too narrow the lowest priorities go first.
    facts: list[tuple[int, str, str]] = [
        (5, format_duration(t1 - t0), ""),
        (3, f"{len(spans)} span{'s' * (len(spans) != 1)}", ""),
        (2, f"{len(services)} service{'s' * (len(services) != 1)}", ""),
    ]
    if errors:
        facts.append((4, f"{errors} error{'s' * (errors != 1)}", "red"))
    if trace.late:
        facts.append((4, "late spans of a trace already shown", "warn"))
    if trace.dropped:
        facts.append((4, f"{trace.dropped} more spans not kept", "warn"))
    facts.append((1, _wall_clock(t0), "dim"))
    head: list[Seg] = [(g.rule * 2 + " trace ", "rule"), (format_trace_id(trace.trace_id), "bold")]
    while True:
        segs = list(head)
        for _, text, style in facts:
            segs += [(f" {g.dot} ", ""), (text, style)]
        if _seg_len(segs) < width or len(facts) == 1:
            break
        facts.remove(min(facts, key=lambda fact: fact[0]))
    fill = width - _seg_len(segs) - 1
    if fill > 0:
        segs.append((" " + g.rule * fill, "rule"))
    return _truncate(segs, width, g.ellipsis)


def _tree_lines(rows: list[_Row], styles: dict[str, str], width: int, g: Glyphs) -> list[list[Seg]]:
    lefts = []
    for row in rows:
        service = clean(row.node.span.process.service) or "?"
        left: list[Seg] = [(row.prefix, "dim"), (service, styles[row.node.span.process.service])]
        left.append((": ", "dim"))
        left.append((row.label, "bold"))
        lefts.append(left)
    durations = [format_duration(row.node.span.duration) for row in rows]
    dur_width = max(len(d) for d in durations)
    column = min(max(_seg_len(left) for left in lefts) + 2, max(24, width - dur_width - 24))
    lines = []
    for row, left, duration in zip(rows, lefts, durations):
        left = _truncate(left, column - 2, g.ellipsis)
        line = [*left, (" " * (column - _seg_len(left)), ""), (duration.rjust(dur_width), "dim")]
        for marker in _markers(row.node, g):
            line += [("  ", ""), marker]
        lines.append(_truncate(line, width, g.ellipsis))
        for warning in row.node.span.warnings:
            indent = row.prefix.replace(g.tee, g.pipe).replace(g.follow_tee, g.pipe)
            indent = indent.replace(g.elbow, "    ").replace(g.follow_elbow, "    ")
            note = [(indent + "    ", "dim"), (f"{g.warn} {clean(warning)}", "warn")]
            lines.append(_truncate(note, width, g.ellipsis))
    return lines


def _nice_step(total: int, slots: int) -> int:
    """The smallest 1/2/5 x 10^k µs step that fits ``total`` in at most ``slots`` steps."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if total / (step * factor) <= slots:
                return step * factor
        step *= 10


def _tick_label(us: int) -> str:
    """A tick value without useless decimals: 0, 250µs, 50ms, 1.5s."""
    for unit, size in (("s", 1_000_000), ("ms", 1000)):
        if us >= size:
            return f"{us / size:g}{unit}"
    return f"{us}µs" if us else "0"


def _axis(t_total: int, bar_width: int, g: Glyphs) -> tuple[str, str]:
    """The tick labels line and the ruler line, both ``bar_width`` wide."""
    step = _nice_step(t_total, max(1, bar_width // 14))
    labels = [" "] * bar_width
    ruler = [g.rule] * bar_width
    end_label = format_duration(t_total)
    free_from = 0
    tick = 0
    while tick <= t_total:
        col = round(tick * (bar_width - 1) / t_total)
        text = _tick_label(tick)
        ruler[col] = g.axis_tick
        if col >= free_from and col + len(text) <= bar_width - len(end_label) - 1:
            labels[col : col + len(text)] = text
            free_from = col + len(text) + 1
        tick += step
    ruler[0], ruler[-1] = g.axis_start, g.axis_end
    labels[bar_width - len(end_label) :] = end_label
    return "".join(labels), "".join(ruler)


def _timeline_lines(
    rows: list[_Row], styles: dict[str, str], width: int, g: Glyphs
) -> list[list[Seg]]:
    spans = [row.node.span for row in rows]
    t0 = min(s.start for s in spans)
    t_total = max(1, max(s.start + s.duration for s in spans) - t0)
    labels = [" " * min(row.node.depth, 8) + row.label for row in rows]
    label_width = min(max(len(label) for label in labels), max(10, width // 3))
    bar_width = max(10, width - label_width - 3)
    tick_labels, ruler = _axis(t_total, bar_width, g)
    pad = " " * (label_width + 1)
    lines: list[list[Seg]] = [[(pad + tick_labels, "dim")], [(pad + ruler, "dim")]]
    scale = (bar_width - 1) / t_total
    for row, label in zip(rows, labels):
        span = row.node.span
        first = round((span.start - t0) * scale)
        last = max(first, round((span.start + span.duration - t0) * scale))
        error = span.is_error
        bar = (g.error_bar if error else g.bar) * (last - first + 1)
        style = "red" if error else styles[span.process.service]
        label = label if len(label) <= label_width else label[: label_width - 1] + g.ellipsis
        line = [(label.ljust(label_width) + " " + " " * first, ""), (bar, style)]
        if error:
            line.append((" " + g.error, "red"))
        lines.append(line)
    return lines


def render_trace(
    trace: Trace, *, width: int = 100, color: bool = False, unicode: bool = True
) -> str:
    """Render ``trace`` as a header, the span tree and the time axis, ending with a newline."""
    g = UNICODE if unicode else ASCII
    width = clamp_width(width)
    if not trace.spans:
        return ""
    rows = _rows(build_tree(trace.spans), g)
    styles = _service_styles(rows)
    lines = [_header(trace, width, g)]
    lines += _tree_lines(rows, styles, width, g)
    lines.append([("", "")])
    lines += _timeline_lines(rows, styles, width, g)
    return "\n".join(_paint(line, color).rstrip() for line in lines) + "\n"


__all__ = [
    "ASCII",
    "UNICODE",
    "Glyphs",
    "clamp_width",
    "clean",
    "format_bytes",
    "format_duration",
    "plural",
    "render_trace",
    "stream_can_draw",
    "use_color",
]


def stream_can_draw(stream: TextIO) -> bool:
    encoding = getattr(stream, "encoding", None)
    if not encoding:  # e.g. io.StringIO: it holds str, any character will do
        return True
    try:
        "".join(UNICODE).encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def use_color(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):  # https://no-color.org
        return False
    try:
        return bool(stream.isatty()) and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


def format_bytes(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n / (1024 * 1024):.1f} MiB"


def plural(n: int, word: str, words: str = "") -> str:
    return f"{n} {word if n == 1 else (words or word + 's')}"

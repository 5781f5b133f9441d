"""The causal tree of a trace: who is whose parent, and by which kind of reference.

The parent is ``parentSpanId`` when it is set (the Jaeger rule; a CHILD_OF reference is
optional) and it is a FollowsFrom edge when a FOLLOWS_FROM reference, and no CHILD_OF one,
names that parent. Without ``parentSpanId`` the first CHILD_OF reference, else the first
FOLLOWS_FROM one, within the same trace decides. Spans whose parent was not received are
orphans and become extra roots; so do spans caught in a reference cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from .model import CHILD_OF, FOLLOWS_FROM, SpanRecord

ROOT = "root"
CHILD = "child"
FOLLOWS = "follows"
ORPHAN = "orphan"
CYCLE = "cycle"


@dataclass
class Node:
    """A span in the tree: how it hangs from its parent, its children and its depth."""

    span: SpanRecord
    link: str
    parent_id: int = 0
    parent: Optional[Node] = None
    children: list[Node] = field(default_factory=list)
    #: -1 until the node is reached from a top-level node.
    depth: int = -1


def parent_of(span: SpanRecord) -> tuple[int, str]:
    """The span's parent id (0 for none) and the link kind (CHILD or FOLLOWS)."""
    same_trace = [r for r in span.refs if r.trace_id == span.trace_id]
    if span.parent_id:
        kinds = {r.kind for r in same_trace if r.span_id == span.parent_id}
        if FOLLOWS_FROM in kinds and CHILD_OF not in kinds:
            return span.parent_id, FOLLOWS
        return span.parent_id, CHILD
    for wanted, link in ((CHILD_OF, CHILD), (FOLLOWS_FROM, FOLLOWS)):
        for ref in same_trace:
            if ref.kind == wanted and ref.span_id:
                return ref.span_id, link
    return 0, ROOT


def build_tree(spans: list[SpanRecord]) -> list[Node]:
    """Return the top-level nodes (roots, orphans, cycle breakers) sorted by start time.

    Children are sorted by start time too, and every span appears exactly once. Spans that
    share a span id (a client bug, or a span sent twice) each appear; children hang from the
    first of them.
    """
    nodes = []
    by_id: dict[int, Node] = {}
    for span in spans:
        parent_id, link = parent_of(span)
        node = Node(span, link, parent_id)
        nodes.append(node)
        by_id.setdefault(span.span_id, node)
    tops: list[Node] = []
    for node in nodes:
        parent = by_id.get(node.parent_id) if node.parent_id else None
        if parent is None or parent is node:
            if node.link != ROOT:
                node.link = ORPHAN
            tops.append(node)
        else:
            node.parent = parent
            parent.children.append(node)
    placed = _walk_depths(tops)
    if placed < len(nodes):
        # Whatever was not reached from a top-level node sits on a reference cycle: cut it at
        # the earliest span, one cycle at a time, until everything is placed.
        for node in sorted(nodes, key=lambda n: n.span.start):
            if node.depth < 0 and node.parent is not None:
                node.parent.children.remove(node)
                node.parent = None
                node.link = CYCLE
                tops.append(node)
                placed += _walk_depths([node])
    tops.sort(key=_start_key)
    return tops


def _start_key(node: Node) -> tuple[int, int]:
    return node.span.start, node.span.span_id


def _walk_depths(tops: list[Node]) -> int:
    """Set depths below ``tops`` (iteratively: traces may be deep), sort children; count."""
    count = 0
    stack = [(top, 0) for top in tops]
    while stack:
        node, depth = stack.pop()
        node.depth = depth
        count += 1
        node.children.sort(key=_start_key)
        stack.extend((child, depth + 1) for child in node.children)
    return count

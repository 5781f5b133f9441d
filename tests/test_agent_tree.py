"""Tests for jaeger_lite.agent.tree: parents, reference kinds, orphans and cycles."""

from __future__ import annotations

from jaeger_lite.agent.model import CHILD_OF, FOLLOWS_FROM
from jaeger_lite.agent.tree import CHILD, CYCLE, FOLLOWS, ORPHAN, ROOT, build_tree, parent_of
from tests.agent_batches import record


def test_parent_span_id_makes_a_child() -> None:
    """parentSpanId alone is a ChildOf edge."""
    assert parent_of(record(1, 2, 1)) == (1, CHILD)


def test_follows_from_reference_to_the_parent_is_follows() -> None:
    """parentSpanId plus a FOLLOWS_FROM ref to it (as jaeger-client sends) is FollowsFrom."""
    assert parent_of(record(1, 2, 1, refs=((FOLLOWS_FROM, 1),))) == (1, FOLLOWS)


def test_child_of_reference_without_parent_span_id() -> None:
    """A CHILD_OF reference stands in for a zero parentSpanId."""
    assert parent_of(record(1, 2, 0, refs=((FOLLOWS_FROM, 7), (CHILD_OF, 9)))) == (9, CHILD)


def test_follows_from_reference_alone() -> None:
    """With no parent and no CHILD_OF, a FOLLOWS_FROM reference decides."""
    assert parent_of(record(1, 2, 0, refs=((FOLLOWS_FROM, 7),))) == (7, FOLLOWS)


def test_no_parent_is_a_root() -> None:
    """No parent and no references: a root."""
    assert parent_of(record(1, 2)) == (0, ROOT)


def test_children_sorted_by_start() -> None:
    """Children appear in start order whatever the arrival order."""
    (root,) = build_tree([record(1, 3, 1, start=50), record(1, 1), record(1, 2, 1, start=10)])
    assert [c.span.span_id for c in root.children] == [2, 3]
    assert [c.depth for c in root.children] == [1, 1]


def test_missing_parent_makes_an_orphan() -> None:
    """A span whose parent never arrived is a top-level orphan that remembers the parent id."""
    tops = build_tree([record(1, 1), record(1, 5, 4, start=1)])
    assert [(n.span.span_id, n.link, n.parent_id) for n in tops] == [(1, ROOT, 0), (5, ORPHAN, 4)]


def test_reference_cycle_still_places_every_span() -> None:
    """Two spans naming each other as parent are both shown, the cycle cut once."""
    tops = build_tree([record(1, 1, 2), record(1, 2, 1, start=5)])
    assert [(n.span.span_id, n.link) for n in tops] == [(1, CYCLE)]
    assert [c.span.span_id for c in tops[0].children] == [2]


def test_self_parent_is_an_orphan() -> None:
    """A span naming itself as parent is not its own child."""
    (top,) = build_tree([record(1, 1, 1)])
    assert top.link == ORPHAN and top.children == []


def test_deep_trace_does_not_recurse() -> None:
    """A chain of 5000 spans is built without hitting the recursion limit."""
    spans = [record(1, i + 1, i, start=i) for i in range(5000)]
    (top,) = build_tree(spans)
    node = top
    while node.children:
        node = node.children[0]
    assert node.depth == 4999

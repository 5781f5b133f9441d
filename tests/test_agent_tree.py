"""Tests for jaeger_lite.agent.tree: parents, reference kinds, orphans and cycles."""

from __future__ import annotations

import pytest

from jaeger_lite.agent.model import CHILD_OF, FOLLOWS_FROM
from jaeger_lite.agent.tree import CHILD, CYCLE, FOLLOWS, ORPHAN, ROOT, build_tree, parent_of
from tests.agent_batches import record


@pytest.mark.parametrize(
    ("parent_span_id", "refs", "expected"),
    [
        # parentSpanId alone is a ChildOf edge
        pytest.param(1, (), (1, CHILD), id="parent-span-id"),
        # plus a FOLLOWS_FROM reference to that parent (as jaeger-client sends it)
        pytest.param(1, ((FOLLOWS_FROM, 1),), (1, FOLLOWS), id="follows-from-the-parent"),
        # a CHILD_OF reference stands in for a zero parentSpanId
        pytest.param(0, ((FOLLOWS_FROM, 7), (CHILD_OF, 9)), (9, CHILD), id="child-of-ref"),
        # with no parent and no CHILD_OF, a FOLLOWS_FROM reference decides
        pytest.param(0, ((FOLLOWS_FROM, 7),), (7, FOLLOWS), id="follows-from-alone"),
        # no parent and no references: a root
        pytest.param(0, (), (0, ROOT), id="root"),
    ],
)
def test_parent_and_link_kind(
    parent_span_id: int, refs: tuple[tuple[int, int], ...], expected: tuple[int, str]
) -> None:
    """The parent and edge kind come from parentSpanId and the references, in that order."""
    assert parent_of(record(1, 2, parent_span_id, refs=refs)) == expected


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

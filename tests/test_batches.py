"""``Batches``: encoded spans cut into batches of at most ``limit`` bytes, in order."""

from __future__ import annotations

import random

from jaeger_lite.reporting._batches import Batches


def greedy(chunks: list[list[bytes]], limit: int) -> list[list[bytes]]:
    """The reference cut: spans in order, a batch closed when the next span would not fit;
    a span over the limit on its own goes alone."""
    batches: list[list[bytes]] = []
    batch: list[bytes] = []
    size = 0
    for span in (span for chunk in chunks for span in chunk):
        if batch and size + len(span) > limit:
            batches.append(batch)
            batch, size = [], 0
        batch.append(span)
        size += len(span)
    if batch:
        batches.append(batch)
    return batches


def test_chunks_are_cut_as_a_greedy_packing_would() -> None:
    rng = random.Random(18)
    for _ in range(300):
        limit = rng.choice([50, 200, 1000, 5000])
        chunks = [
            [
                bytes(rng.choice([1, 10, 60, 150, limit, limit + 7]))
                for _ in range(rng.randint(0, 40))
            ]
            for _ in range(rng.randint(1, 12))
        ]
        out = Batches()
        total = 0
        for chunk in chunks:
            total += out.add(chunk, limit)
        out.close_open()
        assert list(out.full) == greedy(chunks, limit)
        assert total == sum(len(span) for chunk in chunks for span in chunk)
        for batch in out.full:
            assert len(batch) == 1 or sum(map(len, batch)) <= limit

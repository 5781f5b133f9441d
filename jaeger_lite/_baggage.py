"""Baggage limits: how many items, how long a value, how many bytes in all.

The defaults follow the W3C Baggage spec (64 members, 8192 bytes) and Jaeger's default
value length (2048). They apply both to ``Span.set_baggage_item`` and to contexts read by
``Tracer.extract``, whatever the format; every dropped item is counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from ._log import LOG as _log
from ._metrics import Counter

__all__ = ["BaggageLimits"]


def utf8_len(text: str) -> int:
    """Bytes of ``text`` in UTF-8 (its length when ASCII, the common case, without encoding)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


class BaggageLimits:
    """Checks baggage against the limits; ``dropped`` counts the items refused."""

    __slots__ = ("max_items", "max_value_length", "max_bytes", "dropped")

    def __init__(
        self,
        max_items: int = 64,
        max_value_length: int = 2048,
        max_bytes: int = 8192,
        dropped: Optional[Counter] = None,
    ) -> None:
        self.max_items = max_items
        self.max_value_length = max_value_length
        self.max_bytes = max_bytes
        self.dropped = dropped if dropped is not None else Counter()

    def within(self, count: int, chars: int, longest: int) -> bool:
        """A quick sufficient test: ``count`` items of ``chars`` characters in all (UTF-8
        needs at most 4 bytes each), the longest value ``longest`` long, fit."""
        return (
            count <= self.max_items
            and 4 * chars <= self.max_bytes
            and longest <= self.max_value_length
        )

    def check(self, baggage: Mapping[str, str], key: Any, value: Any) -> Optional[tuple[str, str]]:
        """The ``(key, value)`` to add to ``baggage`` as strings, or None (dropped, counted)."""
        try:
            key = key if key.__class__ is str else str(key)
            value = value if value.__class__ is str else str(value)
        except Exception:  # a user __str__ that fails: the item cannot be baggage
            self._drop(f"<unprintable {type(key).__name__}>")
            return None
        if len(value) > self.max_value_length or (
            key not in baggage and len(baggage) >= self.max_items
        ):
            self._drop(key)
            return None
        size = utf8_len(key) + utf8_len(value)
        for other, other_value in baggage.items():
            if other != key:
                size += utf8_len(other) + utf8_len(other_value)
        if size > self.max_bytes:
            self._drop(key)
            return None
        return key, value

    def limit(self, baggage: Mapping[str, str]) -> Optional[dict[str, str]]:
        """None when ``baggage`` is within the limits, else the items kept (first ones
        first, whole items only)."""
        if len(baggage) <= self.max_items:
            chars = 0
            longest = 0
            for key, value in baggage.items():
                chars += len(key) + len(value)
                if len(value) > longest:
                    longest = len(value)
            if self.within(len(baggage), chars, longest):
                return None
        kept: dict[str, str] = {}
        size = 0
        for key, value in baggage.items():
            cost = utf8_len(key) + utf8_len(value)
            if (
                len(kept) >= self.max_items
                or len(value) > self.max_value_length
                or size + cost > self.max_bytes
            ):
                self._drop(key)
                continue
            kept[key] = value
            size += cost
        return None if len(kept) == len(baggage) else kept

    def fit(self, baggage: dict[str, str], chars: int, longest: int) -> dict[str, str]:
        """Extracted ``baggage`` held to the limits: itself when the extractor's counts pass
        the quick test (``chars`` characters in all, the longest value ``longest``; see
        :meth:`within`, written out here as this runs on every extract), else what
        :meth:`limit` keeps."""
        if (
            4 * chars <= self.max_bytes
            and longest <= self.max_value_length
            and len(baggage) <= self.max_items
        ):
            return baggage
        kept = self.limit(baggage)
        return baggage if kept is None else kept

    def _drop(self, key: str) -> None:
        self.dropped.inc()
        _log.debug("baggage item %.50r over the limits; dropped", key)

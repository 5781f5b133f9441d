"""Replacing a library's method by a traced one, and putting the original back."""

from __future__ import annotations

from typing import Any, Callable, Optional

__all__ = ["Patch"]


class Patch:
    """``owner.name`` replaced by ``make(original)`` while applied. Removing it restores
    the original only if our function is still there: when another instrumentation has
    wrapped ours since, it stays (and does nothing once its :class:`Switch` is off)."""

    __slots__ = ("_make", "_original", "_wrapper", "name", "owner")

    def __init__(self, owner: Any, name: str, make: Callable[[Any], Callable[..., Any]]) -> None:
        self.owner = owner
        self.name = name
        self._make = make
        self._original: Any = None
        self._wrapper: Optional[Callable[..., Any]] = None

    @property
    def applied(self) -> bool:
        return self._wrapper is not None and getattr(self.owner, self.name, None) is self._wrapper

    def apply(self) -> None:
        if self.applied:
            return
        # The class's own attribute (not an inherited one), so removing puts back exactly it.
        original = self.owner.__dict__.get(self.name, getattr(self.owner, self.name))
        wrapper = self._make(original)
        wrapper.__wrapped__ = original  # type: ignore[attr-defined]
        self._original, self._wrapper = original, wrapper
        setattr(self.owner, self.name, wrapper)

    def remove(self) -> None:
        if self.applied:
            setattr(self.owner, self.name, self._original)
        self._original = self._wrapper = None

"""Reading and writing the carriers users hand us: dicts, header objects, ASGI pairs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import InvalidCarrierException


def iter_str_items(carrier: Any) -> Iterator[tuple[str, str]]:
    """Yield ``(key, value)`` string pairs from a mapping, a headers object with ``items()``
    (``requests``, ``http.client``, ``email.message``) or a sequence of pairs (ASGI).
    Bytes keys/values are decoded as Latin-1 (HTTP's octet rule); other types are skipped.
    """
    items = getattr(carrier, "items", None)
    try:
        pairs = items() if callable(items) else iter(carrier)
        for pair in pairs:
            try:
                key, value = pair
            except (TypeError, ValueError):
                continue
            if key.__class__ is not str:
                if not isinstance(key, (bytes, bytearray, str)):
                    continue
                key = key.decode("latin-1") if isinstance(key, (bytes, bytearray)) else str(key)
            if value.__class__ is not str:
                if isinstance(value, (bytes, bytearray)):
                    value = value.decode("latin-1")
                elif isinstance(value, str):
                    value = str(value)
                else:
                    continue
            yield key, value
    except TypeError:  # not iterable at all: no context
        return


def set_item(carrier: Any, key: str, value: str) -> None:
    """``carrier[key] = value``, or InvalidCarrierException when the carrier cannot take it."""
    try:
        carrier[key] = value
    except TypeError as exc:
        raise InvalidCarrierException(
            f"carrier {type(carrier).__name__} does not support item assignment"
        ) from exc

"""Reading and writing the carriers users hand us: dicts, header objects, ASGI pairs.

A codec's ``extract(carrier)`` loops over :func:`carrier_pairs`: a plain dict's own items
(the hot path) or :func:`pair_list` of anything else; a multi-format codec builds the
:class:`PairList` once and hands it to each built-in format. Supported carriers:

* a ``dict``, or anything with ``items()`` (``requests``' ``CaseInsensitiveDict``,
  ``http.client``/``email.message.Message`` headers, ``wsgiref.headers.Headers``,
  multidicts): every pair is seen, duplicates included;
* a list or tuple of ``(name, value)`` pairs, e.g. ASGI's ``[(b"name", b"value")]``;
* a value that is a list or tuple (``{"uber-trace-id": ["..."]}``, as jaeger-client read,
  and AWS API Gateway's ``multiValueHeaders``) counts as the header repeated with each item;
* an object with only ``get(name)``: the codec's fixed header names are looked up (in
  lower case, then as the spec writes them); prefixed baggage (``uberctx-*``) cannot be
  enumerated there.

``bytes`` names and values are decoded as Latin-1 (HTTP's octet rule, as ASGI servers
deliver them); pairs of any other type are skipped, as are carriers of any other type.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any, Optional

from ..context import SpanContext
from ..errors import InvalidCarrierException

_BYTES = (bytes, bytearray)


class PairList(list):  # type: ignore[type-arg]
    """The ``(name, value)`` string pairs already read from a carrier (by :func:`pair_list`)."""

    __slots__ = ()


def carrier_pairs(carrier: Any, names: Iterable[str]) -> Iterable[tuple[Any, Any]]:
    """The pairs a codec's extract loops over: a dict's own items, a PairList as it is,
    or :func:`pair_list` of anything else. Only a dict's items can hold a name or value
    that is not a ``str``: a codec that meets one reads the carrier again as
    ``pair_list(carrier)``, which converts or drops every such pair once.

    Why the dict is not checked here: a scan of its names and values ahead of the codec's
    loop cost a B3 extract of a 4-header dict ~2,400 instructions more (+7%, callgrind),
    while the same check inside the loop, which touches every pair anyway, costs nothing.
    """
    if carrier.__class__ is dict:
        return carrier.items()
    if carrier.__class__ is PairList:
        return carrier
    return pair_list(carrier, names)


def pair_list(carrier: Any, names: Iterable[str] = ()) -> PairList:
    """Every ``(name, value)`` string pair of ``carrier``; ``names`` are probed on carriers
    that only have ``get``. A carrier of no known shape holds nothing; one whose
    ``items()``, iteration or ``get()`` raises lets that exception through, for
    ``Tracer.extract`` to count (``propagation_errors``) and answer None."""
    items = getattr(carrier, "items", None)
    if callable(items):
        pairs = items()
    elif isinstance(carrier, (list, tuple)):
        pairs = carrier
    else:
        return _probe(carrier, names)
    out = PairList()
    for pair in pairs:
        try:
            key, value = pair
        except (TypeError, ValueError):  # not a pair: skipped, like a pair of odd types
            continue
        if key.__class__ is str and value.__class__ is str:
            out.append((key, value))
        elif isinstance(value, (list, tuple)):  # a header's values as a list: each in turn
            for item in value:
                converted = str_pair(key, item)
                if converted is not None:
                    out.append(converted)
        else:
            converted = str_pair(key, value)
            if converted is not None:
                out.append(converted)
    return out


def str_pair(key: Any, value: Any) -> Optional[tuple[str, str]]:
    """``(key, value)`` as plain strings (bytes decoded as Latin-1), or None."""
    if isinstance(key, _BYTES):
        key = bytes(key).decode("latin-1")
    elif isinstance(key, str):
        key = str(key)
    else:
        return None
    if isinstance(value, _BYTES):
        value = bytes(value).decode("latin-1")
    elif isinstance(value, str):
        value = str(value)
    else:
        return None
    return key, value


def _probe(carrier: Any, names: Iterable[str]) -> PairList:
    get = getattr(carrier, "get", None)
    if not callable(get):
        return PairList()
    out = PairList()
    for name in names:
        lower = name.lower()
        for candidate in (lower, name) if name != lower else (lower,):
            pair = str_pair(candidate, get(candidate))
            if pair is not None:
                out.append(pair)
                break
    return out


def copy_into(carrier: Any, headers: dict[str, str]) -> None:
    """Write the headers a codec prepared in a dict into another kind of carrier."""
    for key, value in headers.items():
        set_item(carrier, key, value)


def set_item(carrier: Any, key: str, value: str) -> None:
    """``carrier[key] = value``, or InvalidCarrierException when the carrier cannot take it.

    ``email.message.Message`` (and so ``http.client.HTTPMessage``) *adds* a header on
    assignment; the old value is deleted first so a re-injected carrier holds one value.
    """
    try:
        # No import of email.message (~6 ms at start-up): a carrier can only be a
        # Message if the application has loaded that module already.
        email_message = sys.modules.get("email.message")
        if email_message is not None and isinstance(carrier, email_message.Message):
            del carrier[key]
        carrier[key] = value
    except (TypeError, AttributeError) as exc:
        raise InvalidCarrierException(
            f"carrier {type(carrier).__name__} does not support item assignment"
        ) from exc


def inject_through_dict(
    inject: Callable[[SpanContext, Any], None], span_context: SpanContext, carrier: Any
) -> None:
    """Inject into a plain dict, then copy it into ``carrier``: codecs write dicts on their
    fast path and route every other carrier (header objects, multidicts) through here."""
    headers: dict[str, str] = {}
    inject(span_context, headers)
    copy_into(carrier, headers)

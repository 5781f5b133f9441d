"""W3C Baggage: the ``baggage`` header (docs/protocol.md#w3c-baggage).

Send: ``key=value`` members joined with ``,``. Keys must be RFC 7230 tokens (others are
dropped); values are percent-encoded as UTF-8 except the baggage octets the spec allows
unencoded (``+`` is encoded too, because some decoders, OpenTelemetry-Python's among them,
read it as a space). At most 64 members and 8192 bytes are written, as the current spec
requires receivers to accept; members that do not fit are dropped whole and counted.

Receive: all ``baggage`` headers count together (joined with ``,``). Members are split on
commas, blanks around members, keys, ``=`` and values are ignored, ``;properties`` are
tolerated and discarded, and a malformed member is skipped. Values are percent-decoded as
UTF-8; invalid UTF-8 becomes U+FFFD and a ``%`` not followed by two hex digits stays as it
is. The first 64 members within 8192 bytes are kept, never part of one; the rest is
dropped (counted). The first value of a repeated key wins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Optional

from .._baggage import BaggageLimits
from .._metrics import Counter
from ..context import SpanContext
from ._carriers import carrier_pairs, pair_list, set_item
from ._text import TOKEN_RE

__all__ = ["W3CBaggageCodec"]

BAGGAGE = "baggage"
MAX_MEMBERS = 64
MAX_BYTES = 8192

#: Baggage octets allowed unencoded, minus ``%`` (an escape) and ``+`` (see above).
_SAFE = "!#$&'()*-./:<=>?@[]^_`{|}~"
_SAFE_RE = re.compile(r"[A-Za-z0-9!#$&'()*\-./:<=>?@\[\]^_`{|}~]*")
#: A received value: baggage octets, ``%`` included (decoded afterwards).
_VALUE_RE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")
_OWS = " \t"


def encode_value(value: str) -> str:
    """Percent-encode a baggage value as the module docstring says."""
    if _SAFE_RE.fullmatch(value):
        return value
    from urllib.parse import quote  # urllib.parse loads when a value needs escaping

    return quote(value, safe=_SAFE, errors="surrogatepass")  # as url_encode: never raises


def parse_baggage(values: list[str], dropped: Optional[Counter] = None) -> dict[str, str]:
    """The items of one or more ``baggage`` header values, within the W3C limits."""
    joined = ",".join(values)
    # Members past the limit are dropped anyway: bound the split so a huge header costs
    # no more than the limit (empty members between commas are allowed, hence the slack).
    parts = joined.split(",", 4 * MAX_MEMBERS)
    baggage: dict[str, str] = {}
    size = 0
    kept = 0
    for index, part in enumerate(parts):
        if len(part) > 2 * MAX_BYTES:  # cannot fit, blanks or not: judged unstripped
            if dropped is not None:  # (strip(" \t") of 10 MB of blanks takes 0.15 s)
                dropped.inc()
            continue
        member = part.strip(_OWS)
        if not member:
            continue
        if index == 4 * MAX_MEMBERS:  # the unsplit rest of the header
            if dropped is not None:
                dropped.inc()
            break
        cost = len(member) + (1 if kept else 0)
        if kept == MAX_MEMBERS or size + cost > MAX_BYTES:
            if dropped is not None:
                dropped.inc()
            continue
        pair = member.split(";", 1)[0]
        key, eq, value = pair.partition("=")
        key, value = key.strip(_OWS), value.strip(_OWS)
        if not eq or not TOKEN_RE.fullmatch(key) or not _VALUE_RE.fullmatch(value):
            continue  # malformed: skipped, not counted against the limits
        if "%" in value:
            from urllib.parse import unquote  # loads when a value has escapes

            value = unquote(value, errors="replace")
        size += cost
        kept += 1
        baggage.setdefault(key, value)
    return baggage


def format_baggage(baggage: Mapping[str, str], dropped: Counter) -> str:
    """The ``baggage`` header value ("" when nothing can be sent); drops are counted."""
    members: list[str] = []
    size = 0
    for key, value in baggage.items():
        if key.__class__ is not str or value.__class__ is not str or not TOKEN_RE.fullmatch(key):
            dropped.inc()
            continue
        member = f"{key}={value if _SAFE_RE.fullmatch(value) else encode_value(value)}"
        cost = len(member) + (1 if members else 0)
        if len(members) == MAX_MEMBERS or size + cost > MAX_BYTES:
            dropped.inc()
            continue
        members.append(member)
        size += cost
    return ",".join(members)


class W3CBaggageCodec:
    """The W3C ``baggage`` header; the same in the text-map and HTTP-headers formats."""

    #: ``extract`` also takes the PairList a CompositeCodec reads once for all formats
    reads_pair_lists = True

    __slots__ = ("limits", "dropped")

    fields: tuple[str, ...] = (BAGGAGE,)

    def __init__(self, *, limits: Optional[BaggageLimits] = None) -> None:
        self.limits = limits if limits is not None else BaggageLimits()
        self.dropped = self.limits.dropped

    def inject(self, span_context: SpanContext, carrier: Any) -> None:
        if span_context._baggage:
            header = format_baggage(span_context._baggage, self.dropped)
            if header:
                set_item(carrier, BAGGAGE, header)

    def extract(self, carrier: Any) -> Optional[SpanContext]:
        values = []
        for key, value in carrier_pairs(carrier, self.fields):
            if key.__class__ is not str or value.__class__ is not str:  # in a dict's items
                return self.extract(pair_list(carrier, self.fields))  # converted, once
            if key.lower() == BAGGAGE:
                values.append(value)
        if not values:
            return None
        baggage = parse_baggage(values, self.dropped)
        kept = self.limits.limit(baggage)
        if kept is not None:
            baggage = kept
        return SpanContext(0, 0, baggage=baggage) if baggage else None
